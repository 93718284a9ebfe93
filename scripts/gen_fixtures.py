#!/usr/bin/python3
"""Generates the parity fixtures the C++ tests compare against.

    /usr/bin/python3 scripts/gen_fixtures.py [MODULE ...]    # default: every module

Each module scripts/fixtures/NAME.py that defines tensors() -> {name: torch.Tensor} is written to
tests/fixtures/NAME.safetensors (files there without tensors(), such as common.py or
mmcv_ops_standin.py, are helpers). Modules named torch_* record cases with Debian's python3-torch
(see fixtures/common.py for the naming the C++ side reads). The tests never run Python: the
generated files are committed.

Modules named mmdet_* run the real MMDetection 3.3 and need the venv that
scripts/fixtures/mmdet_env.sh creates (/opt/mmdet-venv, or $MMDET_VENV): when this script runs on
another interpreter it re-executes itself with that venv's python for the mmdet_* modules (one
subprocess for all of them, with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1: the modules also
set torch to one thread, so the files are bit-reproducible) and keeps every other module on the
current interpreter; when the venv is absent it skips them with a message saying how to create it.
"""
import glob
import importlib
import os
import subprocess
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "scripts", "fixtures")
MMDET_VENV = os.environ.get("MMDET_VENV", "/opt/mmdet-venv")
sys.path.insert(0, FIXTURES)

from common import save_safetensors  # noqa: E402


def fixture_modules():
    names = []
    for p in sorted(glob.glob(os.path.join(FIXTURES, "*.py"))):
        with open(p) as f:
            if "\ndef tensors(" in f.read():
                names.append(os.path.basename(p)[:-3])
    return names


def in_mmdet_venv():
    """True when this process can run the mmdet_* modules itself: the venv's python, with the
    single-threaded BLAS that must be chosen before torch is loaded."""
    return (os.path.realpath(sys.prefix) == os.path.realpath(MMDET_VENV)
            and os.environ.get("OPENBLAS_NUM_THREADS") == "1")


def generate(name):
    torch.manual_seed(0)
    tensors = importlib.import_module(name).tensors()
    out = os.path.join(ROOT, "tests", "fixtures", name + ".safetensors")
    save_safetensors(out, tensors, f"scripts/fixtures/{name}.py")
    print(f"{name}: {len(tensors)} tensors -> {os.path.relpath(out, ROOT)}")


def main():
    names = sys.argv[1:] or fixture_modules()
    mmdet = [n for n in names if n.startswith("mmdet_")]
    for name in names:
        if name not in mmdet or in_mmdet_venv():
            generate(name)
    if mmdet and not in_mmdet_venv():
        python = os.path.join(MMDET_VENV, "bin", "python")
        if not os.path.exists(python):
            print(f"skipped {' '.join(mmdet)}: needs the MMDetection venv {MMDET_VENV} "
                  f"(create it with: bash scripts/fixtures/mmdet_env.sh)")
            return
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        subprocess.run([python, os.path.abspath(__file__)] + mmdet, check=True, env=env)


if __name__ == "__main__":
    main()
