#!/usr/bin/python3
"""Plots a splat train run: WORK_DIR/log.jsonl -> WORK_DIR/curves.png (the losses and the
learning rate over iterations; AP over epochs once the log has evaluation lines, keys starting
with "coco/bbox_" or "coco/segm_" as MMDetection's CocoMetric names them).

    /usr/bin/python3 scripts/plot_log.py WORK_DIR [--out FILE]

Uses Debian's python3-matplotlib (scripts/setup.sh installs it), without a display."""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


EVAL_KEYS = ("coco/bbox_", "coco/segm_")


def read_log(path):
    train, evals = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"plot_log: {path}:{n}: not a JSON line ({e})")
            (evals if any(k.startswith(EVAL_KEYS) for k in row) else train).append(row)
    return train, evals


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("work_dir")
    p.add_argument("--out", help="PNG to write (default WORK_DIR/curves.png)")
    args = p.parse_args()
    log = os.path.join(args.work_dir, "log.jsonl")
    if not os.path.isfile(log):
        sys.exit(f"plot_log: {log}: no such file (is {args.work_dir} a splat train work dir?)")
    train, evals = read_log(log)
    if not train:
        sys.exit(f"plot_log: {log}: no training lines yet")
    losses = [k for k in train[-1] if k == "loss" or k.startswith("loss_")]
    panels = 3 if evals else 2
    fig, axes = plt.subplots(panels, 1, figsize=(8, 3.2 * panels), constrained_layout=True)
    iters = [r["iter"] for r in train]
    for k in losses:
        axes[0].plot(iters, [r.get(k, float("nan")) for r in train], label=k, lw=2 if k == "loss" else 1)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("loss (window mean)")
    axes[0].legend(fontsize=8)
    axes[1].plot(iters, [r["lr"] for r in train])
    axes[1].set_ylabel("learning rate")
    axes[1].set_xlabel("iteration")
    if evals:
        keys = [k for k in evals[-1] if k.startswith(EVAL_KEYS) and k.endswith(("mAP", "mAP_50"))]
        for k in keys:
            axes[2].plot([r["epoch"] for r in evals], [r[k] for r in evals], marker="o", label=k)
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("AP")
        axes[2].legend(fontsize=8)
    fig.suptitle(os.path.basename(os.path.abspath(args.work_dir)))
    out = args.out or os.path.join(args.work_dir, "curves.png")
    fig.savefig(out, dpi=100)
    print(f"plot_log: {len(train)} training lines, {len(evals)} evaluations -> {out}")


if __name__ == "__main__":
    main()
