#!/usr/bin/python3
"""Generates the PyTorch parity fixtures the C++ tests compare against.

    /usr/bin/python3 scripts/gen_fixtures.py      # needs Debian's python3-torch

Writes tests/fixtures/torch_ops.safetensors: for every case below, its inputs (`NAME.inI`),
outputs (`NAME.outJ`) and, for differentiable cases, the output gradients fed to backward
(`NAME.goutJ`) and the resulting input gradients (`NAME.ginI`). tests/ops/test_torch_parity.cpp
holds the same case names with the splat calls; it fails if either side has a case the other
lacks. The tests never run Python: the generated file is committed.
"""
import json
import os
import struct

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "torch_ops.safetensors")

DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64", torch.int32: "I32",
          torch.uint8: "U8", torch.bool: "BOOL"}


def save_safetensors(path, tensors):
    """A minimal writer of the safetensors format (8-byte header length, JSON header, data)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"generator": "scripts/gen_fixtures.py", "torch": torch.__version__}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def positive(*shape):
    return torch.rand(*shape, dtype=torch.float64) + 0.5


# name -> (input factories, function, differentiable)
CASES = {
    # pointwise
    "neg": ([lambda: randn(2, 3)], torch.neg, True),
    "abs": ([lambda: randn(2, 3)], torch.abs, True),
    "exp": ([lambda: randn(2, 3)], torch.exp, True),
    "log": ([lambda: positive(2, 3)], torch.log, True),
    "sqrt": ([lambda: positive(2, 3)], torch.sqrt, True),
    "rsqrt": ([lambda: positive(2, 3)], torch.rsqrt, True),
    "square": ([lambda: randn(2, 3)], torch.square, True),
    "relu": ([lambda: randn(2, 3)], torch.relu, True),
    "sigmoid": ([lambda: randn(2, 3)], torch.sigmoid, True),
    "tanh": ([lambda: randn(2, 3)], torch.tanh, True),
    "add": ([lambda: randn(2, 3, 4), lambda: randn(3, 1)], torch.add, True),
    "sub": ([lambda: randn(2, 3, 4), lambda: randn(3, 1)], torch.sub, True),
    "mul": ([lambda: randn(2, 3, 4), lambda: randn(3, 1)], torch.mul, True),
    "div": ([lambda: randn(2, 3, 4), lambda: positive(3, 1)], torch.div, True),
    "pow": ([lambda: positive(2, 3), lambda: randn(3)], torch.pow, True),
    "maximum": ([lambda: randn(2, 3), lambda: randn(3)], torch.maximum, True),
    "minimum": ([lambda: randn(2, 3), lambda: randn(3)], torch.minimum, True),
    "clamp": ([lambda: randn(4, 5)], lambda x: torch.clamp(x, -0.5, 0.5), True),
    "where": ([lambda: randn(3, 4) > 0, lambda: randn(3, 4), lambda: randn(4)], torch.where, True),
    "masked_fill": ([lambda: randn(3, 4), lambda: randn(1, 4) > 0],
                    lambda x, m: x.masked_fill(m, 2.5), True),
    # reductions
    "sum": ([lambda: randn(2, 3, 4)], lambda x: x.sum(dim=(0, 2), keepdim=True), True),
    "mean": ([lambda: randn(2, 3, 4)], lambda x: x.mean(dim=1), True),
    "var": ([lambda: randn(3, 4, 2)], lambda x: x.var(dim=(0, 1)), True),
    "var_biased": ([lambda: randn(3, 4)], lambda x: x.var(dim=1, unbiased=False), True),
    "prod": ([lambda: randn(3, 4)], lambda x: x.prod(dim=1), True),
    "amax": ([lambda: randn(3, 4, 2)], lambda x: x.amax(dim=(1, 2)), True),
    "max_dim": ([lambda: randn(3, 4)], lambda x: tuple(x.max(dim=0)), True),
    "min_dim": ([lambda: randn(3, 4)], lambda x: tuple(x.min(dim=1, keepdim=True)), True),
    "argmax": ([lambda: randn(3, 4)], lambda x: x.argmax(dim=1), False),
    # matrix products
    "mm": ([lambda: randn(3, 4), lambda: randn(4, 5)], torch.mm, True),
    "bmm": ([lambda: randn(2, 3, 4), lambda: randn(2, 4, 2)], torch.bmm, True),
    "matmul": ([lambda: randn(2, 1, 3, 4), lambda: randn(3, 4, 2)], torch.matmul, True),
    "matmul_vec": ([lambda: randn(4), lambda: randn(2, 4, 3)], torch.matmul, True),
    # joining and indexing
    "cat": ([lambda: randn(2, 3), lambda: randn(2, 1)], lambda a, b: torch.cat([a, b], 1), True),
    "stack": ([lambda: randn(2, 3), lambda: randn(2, 3)], lambda a, b: torch.stack([a, b], 1), True),
    "index_select": ([lambda: randn(4, 3), lambda: torch.tensor([2, 0, 2])],
                     lambda x, i: x.index_select(0, i), True),
    "gather": ([lambda: randn(3, 4), lambda: torch.tensor([[0, 3], [1, 1], [2, 0]])],
               lambda x, i: x.gather(1, i), True),
    "scatter_add": ([lambda: randn(3, 4), lambda: torch.tensor([[0, 2, 2], [1, 1, 0]]),
                     lambda: randn(2, 3)], lambda s, i, src: s.scatter_add(0, i, src), True),
    "flip": ([lambda: randn(2, 3, 4)], lambda x: torch.flip(x, [0, 2]), False),
    # sorting and scans
    "sort": ([lambda: torch.tensor([[3., 1., 2., 1.], [0., 5., 5., -1.]], dtype=torch.float64)],
             lambda x: tuple(torch.sort(x, dim=1, descending=True, stable=True)), False),
    "topk": ([lambda: randn(3, 6)], lambda x: tuple(torch.topk(x, 2, dim=1)), False),
    "cumsum": ([lambda: randn(3, 4)], lambda x: torch.cumsum(x, 0), False),
    "unique": ([lambda: torch.tensor([3, 1, 3, 2, 1, 7])],
               lambda x: tuple(torch.unique(x, sorted=True, return_inverse=True, return_counts=True)), False),
    "nonzero": ([lambda: torch.tensor([[0, 1, 0], [2, 0, 3]])], torch.nonzero, False),
}


def main():
    torch.manual_seed(0)
    tensors = {}
    for name, (factories, fn, differentiable) in CASES.items():
        inputs = [f() for f in factories]
        for x in inputs:
            if differentiable and x.is_floating_point():
                x.requires_grad_(True)
        outs = fn(*inputs)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        for i, x in enumerate(inputs):
            tensors[f"{name}.in{i}"] = x
        for j, o in enumerate(outs):
            tensors[f"{name}.out{j}"] = o
        if differentiable:
            float_outs = [o for o in outs if o.is_floating_point()]
            gouts = [randn(*o.shape) for o in float_outs]
            torch.autograd.backward(float_outs, gouts)
            for j, g in enumerate(gouts):
                tensors[f"{name}.gout{j}"] = g
            for i, x in enumerate(inputs):
                if x.is_floating_point():
                    tensors[f"{name}.gin{i}"] = x.grad if x.grad is not None else torch.zeros_like(x)
    save_safetensors(OUT, tensors)
    print(f"wrote {len(CASES)} cases, {len(tensors)} tensors to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
