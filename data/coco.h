// The COCO instance annotation reader (instances_*.json) and mmdet's training filters.
//
// Loading parses the file with simdjson's on-demand API and converts it on the fly into compact
// tables: images, categories (sorted by COCO id, which defines the contiguous 0-based labels as
// mmdet's CocoDataset with the COCO class list), annotations (file order) and their
// segmentations kept out of line (polygon coordinates as doubles in large append-only blocks;
// RLE counts, compressed strings already decoded, in one flat uint32 array). The
// file is read in blocks and the "annotations" array, nearly all of it, parsed in pieces of a
// few MB as it arrives (simdjson's index of a whole text is about as large as the text), so peak
// memory is these tables (mostly the coordinates) plus tens of MB: 1.1x the text on a
// COCO-train-sized synthetic file (560 MB, 860k annotations, 2.7 s of CPU).
//
// Accepted format: a top-level object with "images" (id, file_name, height, width), "categories"
// (id, name) and optionally "annotations" (id, image_id, category_id, bbox [x, y, w, h], area;
// optional iscrowd (0/1 or bool, default 0), ignore (default 0) and segmentation: a list of
// polygons [x0, y0, ...] or an RLE object {"size": [h, w], "counts": "string" or [ints]}). Other
// fields are skipped. Every violation is a splat::Error naming the file and the JSON path, e.g.
//   "data/ann.json: annotations[17].bbox: width -3 is negative"
// (malformed JSON, missing fields, wrong types, negative box sizes, non-positive image sizes,
// duplicate image or category ids, annotations of unknown images or categories, invalid RLEs).
#pragma once

#include "data/masks.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace splat::data {

struct CocoImage {
  int64_t id = 0;
  std::string file_name;
  int64_t height = 0, width = 0;
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
};

// One annotation's segmentation, materialised: polygons, or an RLE, or neither (no
// "segmentation" field).
struct Segmentation {
  std::vector<Polygon> polygons;
  std::optional<Rle> rle;
};

struct CocoAnnotation {
  int64_t id = 0, image_id = 0, category_id = 0;
  BoxXywh bbox{}; // x, y, w, h (w, h >= 0)
  bool iscrowd = false;
  bool ignore = false; // the optional "ignore" field (mmdet skips such annotations)
  double area = 0;
  uint32_t image_index = 0; // position of image_id in images()
  uint32_t label = 0;       // contiguous label of category_id
  // The segmentation lives in the dataset: CocoDataset::segmentation(i) / rle(i).
};

class CocoDataset {
public:
  // Reads and parses a file. Errors name `json_path`.
  static CocoDataset load(const std::string& json_path);
  // Parses JSON text already in memory; `name` is used in errors in place of the file name.
  // chunk_bytes: the text is read in blocks and the annotations array parsed in pieces of about
  // this size, which bounds the memory beyond the tables (tests make it small to cross
  // boundaries).
  static constexpr size_t kDefaultChunkBytes = size_t{4} << 20;
  static CocoDataset parse(std::string_view json, const std::string& name,
                           size_t chunk_bytes = kDefaultChunkBytes);

  const std::string& name() const { return name_; }
  const std::vector<CocoImage>& images() const { return images_; }
  const std::vector<CocoCategory>& categories() const { return categories_; }     // sorted by id
  const std::vector<CocoAnnotation>& annotations() const { return annotations_; } // file order
  // Indices into annotations() of the annotations of image `image_index`, in file order.
  std::span<const uint32_t> annotations_of(size_t image_index) const;

  // Contiguous label (position in categories()) of a COCO category id; throws if unknown.
  uint32_t label_of(int64_t category_id) const;
  // Position in images() of a COCO image id, if present.
  std::optional<size_t> image_index_of(int64_t image_id) const;

  // Annotation `ann`'s segmentation (copied out of the compact tables).
  Segmentation segmentation(size_t ann) const;
  bool has_segmentation(size_t ann) const;
  // Its mask as an RLE of its image's size (COCO.annToRLE: union of the polygons, or the RLE;
  // as pycocotools, a list whose first polygon has exactly 4 numbers is read as [x, y, w, h]
  // boxes). Throws if it has no segmentation. (mmdet's polygon masks instead drop polygons of
  // fewer than 3 points; segmentation() gives the raw polygons for that.)
  Rle rle(size_t ann) const;

private:
  friend class CocoBuilder;
  enum class SegKind : uint8_t { none, polygons, rle };
  struct SegRef {
    SegKind kind = SegKind::none;
    uint32_t count = 0; // polygons: number of polygons; rle: number of counts
    uint64_t first = 0; // polygons: index into polygons_; rle: index into rle_counts_
    int64_t rle_h = 0, rle_w = 0;
  };

  std::string name_;
  std::vector<CocoImage> images_;
  std::vector<CocoCategory> categories_;
  std::vector<CocoAnnotation> annotations_;
  std::vector<SegRef> segs_; // one per annotation
  struct PolygonRef {
    const double* data; // x0, y0, x1, y1, ... inside one of coord_blocks_
    size_t size;
  };
  std::vector<std::shared_ptr<double[]>> coord_blocks_; // append-only, shared by copies
  std::vector<PolygonRef> polygons_;
  std::vector<uint32_t> rle_counts_;
  std::vector<uint32_t> ann_by_image_;       // annotation indices grouped by image
  std::vector<uint64_t> ann_by_image_start_; // image i's group: [start[i], start[i + 1])
  std::vector<std::pair<int64_t, uint32_t>> image_ids_sorted_; // (id, index) for lookups
};

// How mmdet's CocoDataset._parse_ann_info uses an annotation when building training targets.
enum class AnnotationRole {
  skipped,    // "ignore" set, box outside the image, area <= 0, w < 1 or h < 1
  ignore_box, // iscrowd: an ignore region (gt_bboxes_ignore)
  object,     // a ground-truth box / label / mask
};
AnnotationRole annotation_role(const CocoDataset& coco, size_t ann);

// The images mmdet trains on (CocoDataset._filter_imgs with filter_empty_gt): those with at least
// one annotation (of any role, as mmdet) and min(width, height) >= min_size. Positions in
// images(), in file order.
std::vector<size_t> training_images(const CocoDataset& coco, int64_t min_size = 32);

} // namespace splat::data
