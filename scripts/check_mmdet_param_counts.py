#!/opt/mmdet-venv/bin/python
"""Builds the eight ResNeSt seed detectors with the real MMDetection 3.3 and checks them against
the spec (resnest-detectors.md 6.4 parameter counts, 7.1 / tests/fixtures/spec_keys.tsv keys).

    /opt/mmdet-venv/bin/python scripts/check_mmdet_param_counts.py [--dump-dir DIR] [MODEL ...]

(venv: bash scripts/fixtures/mmdet_env.sh). MODEL is one of faster_s50, faster_s101, mask_s50,
mask_s101, cascade_s50, cascade_s101, cascade_mask_s50, cascade_mask_s101 (default: all).

Each model is built through mmdet's registry from mmdet's own config file in the installed
package (mmdet/.mim/configs/resnest/*.py, which inherit faster/mask/cascade(-mask) r50 FPN and
the COCO settings), with SyncBN rewritten to BN (same parameters and buffers) and the pretrained
init_cfg removed (no download; weights are never loaded). Printed per model: total parameters and
state-dict entries (incl. num_batches_tracked) next to the spec's, and whether the state dict
(key, shape, dtype, in order) equals the TSV rows of its components (backbone_s50|backbone_s101 +
neck + rpn_head + roi_head_{faster,mask,cascade,cascade_mask}); the key lists are written to
DIR/MODEL.tsv (default build/mmdet-state-dicts/) in the TSV's format. Exits 1 on any mismatch.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import mmcv_ops_standin  # noqa: E402

mmcv_ops_standin.install()

import mmdet  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.utils import register_all_modules  # noqa: E402
from mmengine.config import Config, ConfigDict  # noqa: E402

CONFIG_DIR = os.path.join(os.path.dirname(mmdet.__file__), ".mim", "configs", "resnest")
# name: (config file, roi-head component of spec_keys.tsv, spec 6.4 params, spec 6.4 entries)
MODELS_SPEC = {
    "faster_s50": ("faster-rcnn_s50_fpn_syncbn-backbone+head_ms-range-1x_coco.py", "faster", 44_991_008, 526),
    "faster_s101": ("faster-rcnn_s101_fpn_syncbn-backbone+head_ms-range-1x_coco.py", "faster", 65_782_784, 985),
    "mask_s50": ("mask-rcnn_s50_fpn_syncbn-backbone+head_ms-1x_coco.py", "mask", 47_635_312, 554),
    "mask_s101": ("mask-rcnn_s101_fpn_syncbn-backbone+head_ms-1x_coco.py", "mask", 68_427_088, 1013),
    "cascade_s50": ("cascade-rcnn_s50_fpn_syncbn-backbone+head_ms-range-1x_coco.py", "cascade", 75_256_206, 586),
    "cascade_s101": ("cascade-rcnn_s101_fpn_syncbn-backbone+head_ms-range-1x_coco.py", "cascade", 96_047_982, 1045),
    "cascade_mask_s50": ("cascade-mask-rcnn_s50_fpn_syncbn-backbone+head_ms-1x_coco.py", "cascade_mask", 83_189_118, 670),
    "cascade_mask_s101": ("cascade-mask-rcnn_s101_fpn_syncbn-backbone+head_ms-1x_coco.py", "cascade_mask", 103_980_894, 1129),
}
TSV = os.path.join(ROOT, "tests", "fixtures", "spec_keys.tsv")


def read_tsv():
    rows = {}
    with open(TSV) as f:
        for line in f:
            if line.startswith("#") or line.startswith("component\t") or not line.strip():
                continue
            component, key, shape, dtype = line.rstrip("\n").split("\t")
            rows.setdefault(component, []).append((key, shape, dtype))
    return rows


def shape_text(t):
    return "x".join(str(d) for d in t.shape) if t.dim() else "scalar"


def strip_pretrained(cfg):
    """Drops init_cfg of type Pretrained anywhere in the model config (no checkpoint download)."""
    if isinstance(cfg, dict):
        init = cfg.get("init_cfg")
        if isinstance(init, dict) and init.get("type") == "Pretrained":
            cfg = {k: v for k, v in cfg.items() if k != "init_cfg"}
        return {k: strip_pretrained(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(strip_pretrained(v) for v in cfg)
    return cfg


def build(config_file):
    cfg = Config.fromfile(os.path.join(CONFIG_DIR, config_file))
    model_cfg = strip_pretrained(mmcv_ops_standin.sync_bn_to_bn(cfg.model.to_dict()))
    return MODELS.build(ConfigDict(model_cfg))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", choices=[[]] + list(MODELS_SPEC), default=[])
    p.add_argument("--dump-dir", default=os.path.join(ROOT, "build", "mmdet-state-dicts"))
    args = p.parse_args()
    names = args.models or list(MODELS_SPEC)
    register_all_modules()
    tsv = read_tsv()
    os.makedirs(args.dump_dir, exist_ok=True)
    failed = False
    print(f"mmdet {mmdet.__version__}; configs from {CONFIG_DIR}")
    print(f"{'model':<18} {'params':>12} {'spec':>12} {'entries':>7} {'spec':>5}  keys vs spec_keys.tsv")
    for name in names:
        config_file, roi, spec_params, spec_entries = MODELS_SPEC[name]
        model = build(config_file)
        sd = model.state_dict()
        params = sum(p.numel() for p in model.parameters())
        depth = "s101" if name.endswith("s101") else "s50"
        expected = []
        for component in (f"backbone_{depth}", "neck", "rpn_head", f"roi_head_{roi}"):
            expected += tsv[component]
        actual = [(k, shape_text(v), str(v.dtype).replace("torch.", "")) for k, v in sd.items()]
        with open(os.path.join(args.dump_dir, name + ".tsv"), "w") as f:
            f.write("key\tshape\tdtype\n")
            for row in actual:
                f.write("\t".join(row) + "\n")
        if actual == expected:
            keys = "equal (same order)"
        elif sorted(actual) == sorted(expected):
            keys = "same rows, different order"
        else:
            a, e = set(actual), set(expected)
            keys = (f"DIFFER: {len(a - e)} only in mmdet (e.g. {sorted(a - e)[:3]}), "
                    f"{len(e - a)} only in TSV (e.g. {sorted(e - a)[:3]})")
        ok = params == spec_params and len(sd) == spec_entries and actual == expected
        failed |= not ok
        print(f"{name:<18} {params:>12,} {spec_params:>12,} {len(sd):>7} {spec_entries:>5}  {keys}"
              f"{'' if ok else '  <-- MISMATCH'}")
    print(f"state-dict key lists written to {args.dump_dir}/")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
