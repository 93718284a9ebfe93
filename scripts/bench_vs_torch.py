#!/usr/bin/python3
"""Runs a splat benchmark and the same workload in PyTorch on the same thread count, and prints
both with the ratio splat/torch.

    scripts/bench_vs_torch.py matmul [--threads N] [--sizes 512 1024 2048]
    scripts/bench_vs_torch.py conv [--threads N] [--batch 8] [--backward] [--min-seconds S]
    scripts/bench_vs_torch.py model [--model resnest50] [--threads N] [--batch 8] [--size 224] [--iters 3]

The conv mode replays, in torch.nn.functional.conv2d, every shape `splat bench conv` prints (the
distinct convolutions of ResNeSt-50), and prints per shape and in total (each shape weighted by
its count in the network) the times and the throughput ratio splat/torch. The model mode
compares a classifier's training step (forward, cross-entropy, backward, SGD) and inference in
images/s, PyTorch running the spec's ResNeSt as written in scripts/fixtures/torch_resnest.py.

PyTorch is Debian's python3-torch. Its matmul uses the system BLAS, which is the slow reference
BLAS unless libopenblas0-pthread is installed; this script installs it (as design.md section 9
asks: compare against PyTorch at its best). Build splat first (scripts/setup.sh).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# SPLAT_BIN overrides the binary (e.g. a build directory other than build/).
SPLAT = os.environ.get("SPLAT_BIN", os.path.join(ROOT, "build", "train", "splat"))


def ensure_openblas():
    ok = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "libopenblas0-pthread"],
                        capture_output=True, text=True).stdout
    if "install ok installed" in ok:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "libopenblas0-pthread"], check=True)


def best_seconds(fn, min_seconds, min_reps=3):
    """Fastest of at least min_reps runs lasting min_seconds in total, after one warm-up (as
    splat)."""
    fn()
    best, total, reps = float("inf"), 0.0, 0
    while reps < min_reps or total < min_seconds:
        t0 = time.perf_counter()
        fn()
        s = time.perf_counter() - t0
        best, total, reps = min(best, s), total + s, reps + 1
    return best


def torch_set_threads(threads):
    # OpenBLAS reads its thread count when torch loads it; torch.set_num_threads alone does not
    # reach it, so a 1-thread comparison would silently use every core.
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch
    torch.set_num_threads(threads)
    return torch


def torch_matmul(sizes, threads, min_seconds):
    torch = torch_set_threads(threads)
    out = {}
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        out[n] = 2.0 * n ** 3 / best_seconds(lambda: torch.mm(a, b), min_seconds) / 1e9
    return out


def splat_matmul(sizes, threads, min_seconds):
    if not os.path.exists(SPLAT):
        sys.exit(f"bench_vs_torch: {SPLAT} not found; run scripts/setup.sh first")
    cmd = [SPLAT, "--threads", str(threads), "bench", "matmul", "--min-seconds", str(min_seconds),
           "--sizes"] + [str(n) for n in sizes]
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {int(m.group(1)): float(m.group(2))
            for m in re.finditer(r"matmul n=(\d+) gflops=([\d.]+)", text)}


CONV_LINE = re.compile(r"conv (\S+) x=([\d,]+) w=([\d,]+) stride=(\d+) pad=(\d+) groups=(\d+) "
                       r"bias=(\d) count=(\d+) fwd_ms=([\d.]+) \S+(?: fwdbwd_ms=([\d.]+))?")


def splat_conv(threads, batch, backward, min_seconds):
    if not os.path.exists(SPLAT):
        sys.exit(f"bench_vs_torch: {SPLAT} not found; run scripts/setup.sh first")
    cmd = [SPLAT, "--threads", str(threads), "bench", "conv", "--batch", str(batch),
           "--min-seconds", str(min_seconds)] + (["--backward"] if backward else [])
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    shapes = []
    for m in CONV_LINE.finditer(text):
        shapes.append({"name": m.group(1), "x": [int(v) for v in m.group(2).split(",")],
                       "w": [int(v) for v in m.group(3).split(",")], "stride": int(m.group(4)),
                       "pad": int(m.group(5)), "groups": int(m.group(6)), "bias": m.group(7) == "1",
                       "count": int(m.group(8)), "fwd": float(m.group(9)),
                       "fwdbwd": float(m.group(10)) if m.group(10) else None})
    if not shapes:
        sys.exit("bench_vs_torch: `splat bench conv` printed no shapes:\n" + text)
    return shapes


def torch_conv(shapes, threads, backward, min_seconds):
    """Milliseconds (forward, forward+backward) per shape, timed as splat times them."""
    torch = torch_set_threads(threads)
    F = torch.nn.functional
    out = []
    for s in shapes:
        x = torch.randn(*s["x"], requires_grad=backward)
        w = torch.randn(*s["w"], requires_grad=backward)
        b = torch.randn(s["w"][0], requires_grad=backward) if s["bias"] else None
        args = dict(stride=s["stride"], padding=s["pad"], groups=s["groups"])
        with torch.no_grad():
            fwd = best_seconds(lambda: F.conv2d(x, w, b, **args), min_seconds) * 1e3
        fwdbwd = None
        if backward:
            gy = torch.randn(*F.conv2d(x.detach(), w.detach(), None, **args).shape)
            leaves = [t for t in (x, w, b) if t is not None]

            def step():
                for t in leaves:
                    t.grad = None
                F.conv2d(x, w, b, **args).backward(gy)
            fwdbwd = best_seconds(step, min_seconds) * 1e3
        out.append((fwd, fwdbwd))
    return out


def compare_conv(args):
    shapes = splat_conv(args.threads, args.batch, args.backward, args.min_seconds)
    theirs = torch_conv(shapes, args.threads, args.backward, args.min_seconds)
    print(f"ResNeSt-50 conv2d shapes, batch {args.batch}, f32, {args.threads} threads "
          f"(ms; ratio = torch time / splat time, above 1 means splat is faster)")
    cols = ["fwd"] + (["fwdbwd"] if args.backward else [])
    print(f"{'shape':<44} {'count':>5}" + "".join(f" {c + ' splat':>13} {c + ' torch':>13} {'ratio':>6}" for c in cols))
    totals = {c: [0.0, 0.0] for c in cols}
    for s, t in zip(shapes, theirs):
        line = f"{s['name'][:44]:<44} {s['count']:>5}"
        for c, theirs_ms in zip(cols, t):
            ours_ms = s[c]
            totals[c][0] += s["count"] * ours_ms
            totals[c][1] += s["count"] * theirs_ms
            line += f" {ours_ms:>13.2f} {theirs_ms:>13.2f} {theirs_ms / ours_ms:>6.2f}"
        print(line)
    line = f"{'total (weighted by count)':<44} {'':>5}"
    for c in cols:
        line += f" {totals[c][0]:>13.1f} {totals[c][1]:>13.1f} {totals[c][1] / totals[c][0]:>6.2f}"
    print(line)


def splat_model(args):
    if not os.path.exists(SPLAT):
        sys.exit(f"bench_vs_torch: {SPLAT} not found; run scripts/setup.sh first")
    cmd = [SPLAT, "--threads", str(args.threads), "bench", "model", "--model", args.model, "--batch",
           str(args.batch), "--size", str(args.size), "--iters", str(args.iters), "--json"]
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(text.strip().splitlines()[-1])


def torch_model(args):
    """The same workload in PyTorch: the spec's ResNeSt written with torch.nn
    (scripts/fixtures/torch_resnest.py), a training step of forward, cross-entropy, backward and
    SGD update, and an eval forward without autograd; best of --iters after one warm-up."""
    torch = torch_set_threads(args.threads)
    sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
    import torch_resnest
    config = {"resnest50": torch_resnest.RESNEST50}.get(args.model)
    if config is None:
        sys.exit(f"bench_vs_torch: no torch definition of {args.model} (resnest50 only)")
    model = torch_resnest.ResNeSt(**config)
    x = torch.randn(args.batch, 3, args.size, args.size)
    labels = torch.randint(0, config["num_classes"], (args.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), labels).backward()
        opt.step()
    train_s = best_seconds(step, 0, args.iters)
    model.eval()
    with torch.no_grad():
        infer_s = best_seconds(lambda: model(x), 0, args.iters)
    return {"train_images_per_s": args.batch / train_s, "infer_images_per_s": args.batch / infer_s}


def compare_model(args):
    ours, theirs = splat_model(args), torch_model(args)
    print(f"{args.model}, batch {args.batch}, {args.size}x{args.size}, f32, {args.threads} threads (images/s)")
    print(f"{'':<10} {'splat':>8} {'torch':>8} {'ratio':>6}")
    for key, name in (("train_images_per_s", "train"), ("infer_images_per_s", "inference")):
        print(f"{name:<10} {ours[key]:>8.2f} {theirs[key]:>8.2f} {ours[key] / theirs[key]:>6.2f}")
    print(f"splat peak tensor memory {ours['peak_memory_bytes'] / 2**20:.0f} MiB")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bench", choices=["matmul", "conv", "model"])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=8, help="conv: images per batch")
    p.add_argument("--backward", action="store_true", help="conv: also time forward+backward")
    p.add_argument("--model", default="resnest50", help="model: the classifier")
    p.add_argument("--size", type=int, default=224, help="model: image height and width")
    p.add_argument("--iters", type=int, default=3, help="model: timed steps after one warm-up")
    args = p.parse_args()
    ensure_openblas()
    if args.bench == "conv":
        compare_conv(args)
        return
    if args.bench == "model":
        compare_model(args)
        return
    ours = splat_matmul(args.sizes, args.threads, args.min_seconds)
    theirs = torch_matmul(args.sizes, args.threads, args.min_seconds)
    print(f"matmul f32, {args.threads} threads (GFLOP/s)")
    print(f"{'n':>6} {'splat':>8} {'torch':>8} {'ratio':>6}")
    for n in args.sizes:
        print(f"{n:>6} {ours[n]:>8.1f} {theirs[n]:>8.1f} {ours[n] / theirs[n]:>6.2f}")


if __name__ == "__main__":
    main()
