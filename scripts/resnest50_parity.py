#!/usr/bin/python3
"""Checks splat's ResNeSt-50 against PyTorch end to end: builds the spec's ResNeSt-50 in torch.nn
(scripts/fixtures/torch_resnest.py) with random weights and non-trivial BN statistics, saves it
with the official ResNeSt key names in the legacy .pth container, runs `splat classify --input`
on a random batch and compares the logits. Run by the test suite when Debian's python3-torch is
present (the weights are 110 MB, too large to commit); exits 77 (meson's "skipped") without it.

    /usr/bin/python3 scripts/resnest50_parity.py SPLAT_BINARY
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError:
    print("SKIP: PyTorch (python3-torch) is not installed")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import torch_resnest  # noqa: E402
from common import save_safetensors  # noqa: E402


def read_tensor(path, name):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    entry = json.loads(data[8:8 + n])[name]
    begin, end = entry["data_offsets"]
    return torch.from_numpy(np.frombuffer(data[8 + n + begin:8 + n + end], dtype=np.float32)
                            .reshape(entry["shape"]).copy())


def main():
    splat = sys.argv[1]
    torch.manual_seed(0)
    model = torch_resnest.ResNeSt(**torch_resnest.RESNEST50)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    official = {}
    for key, value in model.state_dict().items():  # the ResNeSt repo's names for the deep stem
        if key.startswith("stem.7."):
            key = "bn1." + key[len("stem.7."):]
        elif key.startswith("stem."):
            key = "conv1." + key[len("stem."):]
        official[key] = value
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected = model(x)
    with tempfile.TemporaryDirectory() as tmp:
        weights, inp, out = (os.path.join(tmp, f) for f in ("r50.pth", "in.safetensors", "out.safetensors"))
        torch.save(official, weights, _use_new_zipfile_serialization=False)
        save_safetensors(inp, {"input": x}, "scripts/resnest50_parity.py")
        subprocess.run([splat, "classify", "--model", "resnest50", "--weights", weights, "--input", inp,
                        "--output", out], check=True)
        got = read_tensor(out, "logits")
    diff = (got - expected).abs().max().item()
    scale = expected.abs().max().item()
    print(f"resnest50 logits: max |splat - torch| = {diff:.3g} (max |logit| {scale:.3g})")
    if not diff <= 1e-5 * max(1.0, scale) or not bool((got.argmax(1) == expected.argmax(1)).all()):
        print("FAIL")
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
