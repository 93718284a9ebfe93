#!/usr/bin/python3
"""Generates the parity fixtures the C++ tests compare against.

    /usr/bin/python3 scripts/gen_fixtures.py [MODULE ...]    # default: every module

Each module scripts/fixtures/NAME.py defines tensors() -> {name: torch.Tensor} and is written to
tests/fixtures/NAME.safetensors. Modules named torch_* record cases with Debian's python3-torch
(see fixtures/common.py for the naming the C++ side reads). The tests never run Python: the
generated files are committed.
"""
import glob
import importlib
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "scripts", "fixtures")
sys.path.insert(0, FIXTURES)

from common import save_safetensors  # noqa: E402


def main():
    names = sys.argv[1:] or sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(FIXTURES, "*.py"))
                                   if not p.endswith("common.py"))
    for name in names:
        torch.manual_seed(0)
        tensors = importlib.import_module(name).tensors()
        out = os.path.join(ROOT, "tests", "fixtures", name + ".safetensors")
        save_safetensors(out, tensors, f"scripts/fixtures/{name}.py")
        print(f"{name}: {len(tensors)} tensors -> {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    main()
