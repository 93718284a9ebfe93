#!/usr/bin/env python3
"""The peer of the demo: torchvision's Faster R-CNN trained from scratch on a splat shapes
folder (splat make-shapes), with the demo's schedule, then scored on its val split by
pycocotools. It answers two questions about the demo (issue 16's target was calibrated on such a
PyTorch model): how well does a PyTorch detector of about the same size learn on splat's set in
the same iterations, and how long does its step take on this machine and thread count.

    /opt/mmdet-venv/bin/python scripts/torchvision_shapes.py SHAPES_DIR \
        [--iters 1128] [--threads 2] [--batch 4] [--fpn 64] [--lr 0.02]

The model: a ResNet-18-style backbone (BasicBlocks [2, 2, 2, 2], widths 32-256, BatchNorm
trained, nothing frozen, about 2.8 M parameters), torchvision's FPN and RPN, anchors 16-256 px
(one size per level, ratios 0.5/1/2, as the demo config's anchor_scales [4]), a two-FC box head
of 256 (the demo's Shared2FC). Data as the demo config: short side drawn from 224-320, long side
at most 480, horizontal flip 0.5, test at short side 272. SGD momentum 0.9, weight decay 1e-4,
linear warm-up over 100 iterations from lr/1000, lr/10 after two thirds of the iterations.
Needs pycocotools: the venv of scripts/fixtures/mmdet_env.sh has it over Debian's torch.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.resnet import BasicBlock, ResNet

MEAN = [123.68 / 255, 116.779 / 255, 103.939 / 255]
STD = [58.393 / 255, 57.12 / 255, 57.375 / 255]


def narrow_resnet18():
    net = ResNet(BasicBlock, [2, 2, 2, 2], norm_layer=nn.BatchNorm2d)
    # torchvision's ResNet has fixed widths 64-512; rebuild it at half width, the same layout.
    net.inplanes = 32
    net.conv1 = nn.Conv2d(3, 32, 7, 2, 3, bias=False)
    net.bn1 = nn.BatchNorm2d(32)
    net.layer1 = net._make_layer(BasicBlock, 32, 2)
    net.layer2 = net._make_layer(BasicBlock, 64, 2, stride=2)
    net.layer3 = net._make_layer(BasicBlock, 128, 2, stride=2)
    net.layer4 = net._make_layer(BasicBlock, 256, 2, stride=2)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return net


def build_model(num_classes, fpn_channels):
    body = narrow_resnet18()
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
                               [32, 64, 128, 256], fpn_channels)
    anchors = AnchorGenerator(sizes=((16,), (32,), (64,), (128,), (256,)),
                              aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    box_head = TwoMLPHead(fpn_channels * 7 * 7, 256)
    return FasterRCNN(backbone, rpn_anchor_generator=anchors, box_head=box_head,
                      box_predictor=FastRCNNPredictor(256, num_classes + 1), min_size=(224, 256, 288, 320), max_size=480,
                      image_mean=MEAN, image_std=STD,
                      rpn_pre_nms_top_n_train=1000, rpn_post_nms_top_n_train=500,
                      rpn_pre_nms_top_n_test=1000, rpn_post_nms_top_n_test=300,
                      box_batch_size_per_image=256)


class Shapes:
    def __init__(self, root, split):
        self.root = os.path.join(root, split)
        self.ann_file = os.path.join(root, "annotations", f"instances_{split}.json")
        data = json.load(open(self.ann_file))
        self.images = data["images"]
        self.categories = sorted(c["id"] for c in data["categories"])
        self.by_image = {im["id"]: [] for im in self.images}
        for a in data["annotations"]:
            if not a.get("iscrowd", 0):
                self.by_image[a["image_id"]].append(a)

    def load(self, i, flip):
        im = self.images[i]
        img = torch.from_numpy(np.asarray(Image.open(os.path.join(self.root, im["file_name"]))
                                          .convert("RGB"))).permute(2, 0, 1).float() / 255
        boxes = torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                               a["bbox"][1] + a["bbox"][3]] for a in self.by_image[im["id"]]],
                             dtype=torch.float32).reshape(-1, 4)
        labels = torch.tensor([self.categories.index(a["category_id"]) + 1
                               for a in self.by_image[im["id"]]], dtype=torch.int64)
        if flip:
            img = img.flip(-1)
            w = img.shape[-1]
            boxes = torch.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], 1)
        return img, {"boxes": boxes, "labels": labels}


def lr_at(it, args):
    factor = 0.1 if it >= args.iters * 2 // 3 else 1.0
    if it < 100:
        factor *= 0.001 + (1 - 0.001) * it / 100
    return args.lr * factor


def train(model, data, args):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4)
    order = []
    model.train()
    start = time.time()
    for it in range(args.iters):
        if len(order) < args.batch:
            order += random.sample(range(len(data.images)), len(data.images))
        batch = [data.load(order.pop(), random.random() < 0.5) for _ in range(args.batch)]
        for g in opt.param_groups:
            g["lr"] = lr_at(it, args)
        losses = model([b[0] for b in batch], [b[1] for b in batch])
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (it + 1) % 50 == 0:
            parts = "  ".join(f"{k}: {v.item():.4f}" for k, v in losses.items())
            print(f"iter {it + 1}/{args.iters}  lr: {lr_at(it, args):.4g}  loss: {loss.item():.4f}  "
                  f"{parts}  time: {(time.time() - start) / (it + 1):.3f} s/iter", flush=True)
    return time.time() - start


def evaluate(model, data):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    model.eval()
    model.transform.min_size = (272,)
    results = []
    with torch.no_grad():
        for i, im in enumerate(data.images):
            out = model([data.load(i, False)[0]])[0]
            for box, score, label in zip(out["boxes"].tolist(), out["scores"].tolist(),
                                         out["labels"].tolist()):
                results.append({"image_id": im["id"], "category_id": data.categories[label - 1],
                                "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]],
                                "score": score})
    gt = COCO(data.ann_file)
    ev = COCOeval(gt, gt.loadRes(results) if results else COCO(), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("shapes_dir")
    p.add_argument("--iters", type=int, default=1128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--fpn", type=int, default=64, help="FPN channels")
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    train_set, val_set = Shapes(args.shapes_dir, "train"), Shapes(args.shapes_dir, "val")
    model = build_model(len(train_set.categories), args.fpn)
    print(f"torchvision Faster R-CNN: {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{len(train_set.images)} train / {len(val_set.images)} val images, "
          f"torch {torch.__version__} on {args.threads} threads", flush=True)
    seconds = train(model, train_set, args)
    stats = evaluate(model, val_set)
    print(f"torchvision: shapes-val box AP {stats[0]:.3f}, AP50 {stats[1]:.3f}; {args.iters} iterations "
          f"in {seconds / 60:.1f} min ({seconds / args.iters:.3f} s/iter) on {args.threads} threads")


if __name__ == "__main__":
    sys.exit(main())
