#!/opt/mmdet-venv/bin/python
"""Benchmarks MMDetection 3.3's Faster R-CNN S-50 (or Mask / Cascade Mask R-CNN S-50) on CPU and,
when the binary has it, `splat bench detector` on the same workload, and prints both with the
ratio splat/mmdet.

    /opt/mmdet-venv/bin/python scripts/bench_detector_vs_mmdet.py [--threads T] [--batch B]
        [--size S] [--iters N] [--config faster_s50|mask_s50|cascade_mask_s50]
        [--mmdet-only | --splat-only]

(venv: bash scripts/fixtures/mmdet_env.sh; the style follows scripts/bench_vs_torch.py.)

Workload: B images (default 2) of short side S (default 512) and long side S * 1.375 rounded to
a multiple of 32 (512 -> 704), landscape, random normal (already normalised), with 4 random GT
boxes per image (for the mask models each box's GT mask is the filled box, pixels
[round(x1), round(x2)) x [round(y1), round(y2)), as BitmapMasks, as splat's bench makes them);
metainfo as mmdet's data preprocessor sets it (img_shape = pad_shape = batch_input_shape =
(S, L), scale factor 1). The mmdet side builds the model from mmdet's own config (CONFIGS below,
under the mmdet package's configs/resnest/; SyncBN -> BN, pretrained init removed, mmdet's
default random init), and times with T torch threads:
  inference      model.eval(), torch.no_grad(), model.predict(images, samples, rescale=True)
  training step  model.train(), model.loss(images, samples), mmengine's parse_losses, backward,
                 SGD step (lr 0.02, momentum 0.9, weight decay 1e-4; no warm-up)
each over --iters timed runs after one warm-up; images/s are from the fastest run (as splat's
bench commands report), the mean is printed too. Inference runs first so that the process peak
RSS measured after it is inference's own; the peak after training is the overall one. RSS
includes the Python interpreter and the torch libraries (the RSS before the model is built is
printed as the baseline).

The splat side: `$SPLAT_BIN --threads T bench detector --config CONFIG.toml --batch B --size S
--iters N --json` (SPLAT_BIN defaults to build/train/splat; CONFIG.toml is the splat config of
the same seed row, CONFIGS below), skipped with a message when the
binary is missing or has no `bench detector`. Its last stdout line must be a JSON object with at
least
  train_images_per_s      float, training step images/s (fastest run after a warm-up)
  inference_images_per_s  float, inference images/s (`infer_images_per_s` is accepted too, the
                          name `splat bench model` uses)
  peak_memory_bytes       int, peak tensor memory of the device (not an RSS)
As in bench_vs_torch.py, OpenBLAS and OpenMP are limited to T threads before torch loads.
"""
import argparse
import json
import logging
import math
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLAT = os.environ.get("SPLAT_BIN", os.path.join(ROOT, "build", "train", "splat"))
# --config name -> (MMDetection's config file, splat's config file): the same seed row.
CONFIGS = {"faster_s50": ("faster-rcnn_s50_fpn_syncbn-backbone+head_ms-range-1x_coco.py",
                          "configs/resnest/faster_rcnn_s50_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml"),
           "mask_s50": ("mask-rcnn_s50_fpn_syncbn-backbone+head_ms-1x_coco.py",
                        "configs/resnest/mask_rcnn_s50_fpn_syncbn-backbone+head_mstrain_1x_coco.toml"),
           "cascade_mask_s50": ("cascade-mask-rcnn_s50_fpn_syncbn-backbone+head_ms-1x_coco.py",
                                "configs/resnest/cascade_mask_rcnn_s50_fpn_syncbn-backbone+head_mstrain_1x_coco.toml")}


def long_side(short):
    return int(round(short * 1.375 / 32.0)) * 32


def rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def timed(fn, iters):
    fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), sum(times) / len(times)


def box_bitmaps(boxes, h, w):
    """(G, h, w) u8 numpy bitmaps of the filled boxes, rounded half away from zero (C's lround)."""
    import numpy as np
    out = np.zeros((len(boxes), h, w), dtype=np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        r = [int(math.floor(v + 0.5)) for v in (x1, y1, x2, y2)]
        out[i, r[1]:r[3], r[0]:r[2]] = 1
    return out


def mmdet_bench(args):
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    baseline = current_rss_bytes()
    sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
    import mmcv_ops_standin
    mmcv_ops_standin.install()
    import mmdet
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmdet.utils import register_all_modules
    from mmengine.config import Config, ConfigDict
    from mmengine.logging import MMLogger
    from mmengine.structures import InstanceData

    register_all_modules()
    cfg = Config.fromfile(os.path.join(os.path.dirname(mmdet.__file__), ".mim", "configs",
                                       "resnest", CONFIGS[args.config][0]))
    model_cfg = mmcv_ops_standin.sync_bn_to_bn(cfg.model.to_dict())
    model_cfg["backbone"].pop("init_cfg", None)
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(model_cfg))
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # init_weights logs every tensor
    model.init_weights()

    h, w = args.size, long_side(args.size)
    g = torch.Generator().manual_seed(1)
    images = torch.randn(args.batch, 3, h, w, generator=g)

    def samples(with_gt):
        out = []
        for _ in range(args.batch):
            s = DetDataSample(metainfo=dict(img_shape=(h, w), pad_shape=(h, w),
                                            batch_input_shape=(h, w), ori_shape=(h, w),
                                            scale_factor=(1.0, 1.0)))
            if with_gt:
                xy = torch.rand(4, 2, generator=g) * torch.tensor([w * 0.7, h * 0.7])
                wh = (torch.rand(4, 2, generator=g) * 0.25 + 0.05) * torch.tensor([w, h])
                gt = InstanceData()
                gt.bboxes = torch.cat([xy, (xy + wh).minimum(torch.tensor([w - 1.0, h - 1.0]))], 1)
                gt.labels = torch.randint(0, 80, (4,), generator=g)
                if model.roi_head.with_mask:
                    gt.masks = BitmapMasks(box_bitmaps(gt.bboxes, h, w), h, w)
                s.gt_instances = gt
            out.append(s)
        return out

    test_samples, train_samples = samples(False), samples(True)
    model.eval()
    with torch.no_grad():
        infer_best, infer_mean = timed(lambda: model.predict(images, test_samples, rescale=True),
                                       args.iters)
    infer_peak = rss_bytes()

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.02, momentum=0.9, weight_decay=1e-4)
    model.train()
    finite = [True]

    def step():
        opt.zero_grad(set_to_none=True)
        loss, _ = model.parse_losses(model.loss(images, train_samples))
        finite[0] &= bool(torch.isfinite(loss))
        loss.backward()
        opt.step()
    train_best, train_mean = timed(step, args.iters)
    return {
        "train_images_per_s": args.batch / train_best, "train_mean_images_per_s": args.batch / train_mean,
        "inference_images_per_s": args.batch / infer_best,
        "inference_mean_images_per_s": args.batch / infer_mean,
        "peak_rss_bytes": rss_bytes(), "inference_peak_rss_bytes": infer_peak,
        "baseline_rss_bytes": baseline, "losses_finite": finite[0],
        "versions": f"mmdet {mmdet.__version__}, torch {torch.__version__}",
    }


def splat_has_detector_bench():
    if not os.path.exists(SPLAT):
        return f"{SPLAT} not found (build it with scripts/setup.sh, or set SPLAT_BIN)"
    # `bench detector --help` is no test: CLI11 answers an unknown subcommand with bench's help.
    r = subprocess.run([SPLAT, "bench", "--help"], capture_output=True, text=True)
    listed = r.stdout.split("Subcommands:", 1)[-1] if "Subcommands:" in r.stdout else ""
    if not any(line.split()[:1] == ["detector"] for line in listed.splitlines()):
        return f"{SPLAT} has no `bench detector` subcommand"
    return None


def splat_bench(args):
    cmd = [SPLAT, "--threads", str(args.threads), "bench", "detector", "--config",
           os.path.join(ROOT, CONFIGS[args.config][1]),
           "--batch", str(args.batch), "--size", str(args.size), "--iters", str(args.iters), "--json"]
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    out = json.loads(text.strip().splitlines()[-1])
    if "inference_images_per_s" not in out and "infer_images_per_s" in out:
        out["inference_images_per_s"] = out["infer_images_per_s"]
    return out


def mib(b):
    return f"{b / 2**20:.0f} MiB"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=2, help="images per batch")
    p.add_argument("--size", type=int, default=512, help="short side (long side = 1.375x, /32)")
    p.add_argument("--iters", type=int, default=3, help="timed runs after one warm-up")
    p.add_argument("--config", default="faster_s50", choices=sorted(CONFIGS))
    only = p.add_mutually_exclusive_group()
    only.add_argument("--mmdet-only", action="store_true")
    only.add_argument("--splat-only", action="store_true")
    args = p.parse_args()
    if args.batch < 2:
        # The split-attention BN (conv2.bn1) normalises pooled (B, C, 1, 1) features: with plain BN
        # in training mode it needs B >= 2 (the real configs' SyncBN pools over all GPUs).
        p.error("--batch must be at least 2 (training-mode BN over pooled split-attention features)")

    ours = None
    if not args.mmdet_only:
        missing = splat_has_detector_bench()
        if missing:
            print(f"bench_detector_vs_mmdet: skipping the splat side: {missing}")
        else:
            ours = splat_bench(args)
    theirs = None if args.splat_only else mmdet_bench(args)

    h, w = args.size, long_side(args.size)
    print(f"{args.config}, batch {args.batch}, {h}x{w}, f32, CPU, {args.threads} threads "
          f"(images/s, fastest of {args.iters} after a warm-up)")
    print(f"{'':<10} {'splat':>8} {'mmdet':>8} {'ratio':>6}")
    for key, name in (("train_images_per_s", "train"), ("inference_images_per_s", "inference")):
        a = ours[key] if ours else None
        b = theirs[key] if theirs else None
        print(f"{name:<10} {a if a is not None else float('nan'):>8.3f} "
              f"{b if b is not None else float('nan'):>8.3f} "
              f"{(a / b) if a is not None and b is not None else float('nan'):>6.2f}")
    if theirs:
        print(f"mmdet: mean train {theirs['train_mean_images_per_s']:.3f} images/s, mean inference "
              f"{theirs['inference_mean_images_per_s']:.3f} images/s; peak RSS {mib(theirs['peak_rss_bytes'])} "
              f"(after inference {mib(theirs['inference_peak_rss_bytes'])}, baseline before the model "
              f"{mib(theirs['baseline_rss_bytes'])}); losses finite: {theirs['losses_finite']}; "
              f"{theirs['versions']}")
    if ours:
        print(f"splat: peak tensor memory {mib(ours['peak_memory_bytes'])}, peak RSS "
              f"{mib(ours['peak_rss_bytes'])} (after inference {mib(ours['inference_peak_rss_bytes'])})")


if __name__ == "__main__":
    main()
