#!/usr/bin/python3
"""Runs a splat benchmark and the same workload in PyTorch on the same thread count, and prints
both with the ratio splat/torch.

    scripts/bench_vs_torch.py matmul [--threads N] [--sizes 512 1024 2048]

PyTorch is Debian's python3-torch. Its matmul uses the system BLAS, which is the slow reference
BLAS unless libopenblas0-pthread is installed; this script installs it (as design.md section 9
asks: compare against PyTorch at its best). Build splat first (scripts/setup.sh).
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLAT = os.path.join(ROOT, "build", "train", "splat")


def ensure_openblas():
    ok = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "libopenblas0-pthread"],
                        capture_output=True, text=True).stdout
    if "install ok installed" in ok:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "libopenblas0-pthread"], check=True)


def best_seconds(fn, min_seconds):
    """Fastest of at least 3 runs lasting min_seconds in total, after one warm-up (as splat)."""
    fn()
    best, total, reps = float("inf"), 0.0, 0
    while reps < 3 or total < min_seconds:
        t0 = time.perf_counter()
        fn()
        s = time.perf_counter() - t0
        best, total, reps = min(best, s), total + s, reps + 1
    return best


def torch_matmul(sizes, threads, min_seconds):
    # OpenBLAS reads its thread count when torch loads it; torch.set_num_threads alone does not
    # reach it, so a 1-thread comparison would silently use every core.
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch
    torch.set_num_threads(threads)
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bench", choices=["matmul"])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    p.add_argument("--min-seconds", type=float, default=1.0)
    args = p.parse_args()
    ensure_openblas()
    ours = splat_matmul(args.sizes, args.threads, args.min_seconds)
    theirs = torch_matmul(args.sizes, args.threads, args.min_seconds)
    print(f"matmul f32, {args.threads} threads (GFLOP/s)")
    print(f"{'n':>6} {'splat':>8} {'torch':>8} {'ratio':>6}")
    for n in args.sizes:
        print(f"{n:>6} {ours[n]:>8.1f} {theirs[n]:>8.1f} {ours[n] / theirs[n]:>6.2f}")


if __name__ == "__main__":
    main()
