// Instance masks with the semantics of the COCO mask API (pycocotools, maskApi.c), bit for bit.
//
// Conventions:
// - A mask is h x w pixels. Its run-length encoding (Rle) scans the pixels in COLUMN-major order
//   (x outer, y inner: pixel (x, y) has linear index x * h + y) and alternates runs of 0s and 1s,
//   always starting with a run of 0s (of length 0 when pixel (0, 0) is set). The counts of a
//   valid Rle sum to h * w. Every function here that produces an Rle produces the canonical one
//   (no zero-length run except possibly the first); functions that read one accept any counts
//   that sum to h * w and throw splat::Error otherwise.
// - Bitmaps are CPU tensors (H, W), u8 or b8, any strides; nonzero is foreground. Decoded
//   bitmaps are (H, W) u8 holding 0/1, contiguous.
// - Boxes are [x, y, w, h] in pixels, doubles, as pycocotools' toBbox / bbIou.
// - Polygons are flat [x0, y0, x1, y1, ...] in pixel coordinates where pixel (i, j) covers
//   [i, i+1) x [j, j+1) (COCO's convention): a pixel is inside when its centre is, under
//   pycocotools' rasteriser (which works on a 5x upsampled grid and rounds vertices there; its
//   results are what COCO's areas and evaluation use, so we reproduce it exactly, including its
//   treatment of vertices outside the image, degenerate and self-intersecting polygons).
// - Compressed strings are pycocotools' "counts" strings: each count (from the fourth on, minus
//   the count two before it) in signed 5-bit groups, least significant first, bit 5 = more
//   groups follow, each group + 48 as one ASCII character.
// Deliberate differences from pycocotools (inputs it mishandles silently are errors here):
// RLEs of different sizes in merge/iou, counts that do not sum to h * w, malformed strings,
// odd-length or empty polygons. Bitmap values other than 0/1 are foreground (pycocotools would
// start a new run at each change of value).
#pragma once

#include "core/tensor.h"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace splat::data {

struct Rle {
  int64_t height = 0, width = 0;
  std::vector<uint32_t> counts; // column-major runs, starting with zeros
  bool operator==(const Rle&) const = default;
};

using Polygon = std::vector<double>; // x0, y0, x1, y1, ...
using BoxXywh = std::array<double, 4>;

// Throws unless counts sum to height * width (and sizes are non-negative). `what` names the RLE
// in the message, e.g. "annotations[3].segmentation".
void check_rle(const Rle& rle, std::string_view what);

// pycocotools frPyObjects on one polygon (rleFrPoly). xy: x0, y0, x1, y1, ... (at least one
// point); h, w: image size.
Rle rle_from_polygon(std::span<const double> xy, int64_t h, int64_t w);
// The union of the polygons' masks (frPyObjects then merge, as COCO.annToRLE). No polygons: an
// empty h x w mask.
Rle rle_from_polygons(const std::vector<Polygon>& polygons, int64_t h, int64_t w);
// COCO.annToRLE on a segmentation given as a list: pycocotools' frPyObjects reads a list whose
// first entry has exactly 4 numbers as boxes [x, y, w, h] (then every entry must have 4), any
// other list as polygons; the masks are merged. No entries: an empty h x w mask.
Rle rle_from_polygon_list(const std::vector<Polygon>& polygons, int64_t h, int64_t w);
// pycocotools frBbox: the mask of box [x, y, w, h] (as the polygon of its four corners).
Rle rle_from_box(const BoxXywh& box, int64_t h, int64_t w);

// mask: (H, W) u8 or b8 CPU tensor, any strides.
Rle rle_encode(const Tensor& mask);
// (H, W) u8 0/1, contiguous.
Tensor rle_decode(const Rle& rle);
// Decodes into out[0, h*w) (row-major (H, W) bytes, 0/1), for callers with their own buffers.
void rle_decode_into(const Rle& rle, std::span<uint8_t> out);

// Number of foreground pixels.
uint64_t rle_area(const Rle& rle);
// Union (or intersection) of equally sized RLEs. One RLE: returned unchanged. None: error.
Rle rle_merge(const std::vector<Rle>& rles, bool intersect = false);
// [x, y, w, h] of the foreground (toBbox): all zeros for an empty mask. As pycocotools, a run of
// 1s that crosses a column boundary extends the box to the full image height.
BoxXywh rle_to_bbox(const Rle& rle);

// IoU of every detection with every ground truth (pycocotools iou): result[d * gt.size() + g].
// iscrowd: empty (no crowd) or one flag per gt; for a crowd gt the union is the detection's area.
// Pairs whose boxes do not overlap are 0 without looking at the masks, as pycocotools.
std::vector<double> rle_iou(const std::vector<Rle>& dt, const std::vector<Rle>& gt,
                            const std::vector<bool>& iscrowd);
// The same for [x, y, w, h] boxes (bbIou).
std::vector<double> box_iou(const std::vector<BoxXywh>& dt, const std::vector<BoxXywh>& gt,
                            const std::vector<bool>& iscrowd);

// pycocotools' compressed "counts" string and back (rleToString / rleFrString).
std::string rle_to_string(const Rle& rle);
Rle rle_from_string(std::string_view s, int64_t h, int64_t w);

} // namespace splat::data
