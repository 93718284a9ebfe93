#include "train/detection/coco_results.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_writer.h"
#include "data/masks.h"
#include "ops/copy.h"
#include "ops/view.h"

#include <charconv>

namespace splat::train {
namespace {

void append_number(std::string& out, float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  SPLAT_CHECK(ec == std::errc(), "coco results: cannot format ", v);
  out.append(buf, end);
}

// Host f32 / i64 copies of one image's detections, checked for the shapes the format needs.
struct HostDetections {
  Tensor boxes, scores, labels;
  Tensor masks; // (K, H, W) u8, or undefined
  int64_t count = 0;
};

HostDetections to_host(const ImageResults& r) {
  const models::Detections& d = r.detections;
  const std::string where = str("coco results: image ", r.image_id, " (", r.file_name, ")");
  SPLAT_CHECK(d.boxes.defined() && d.scores.defined() && d.labels.defined(), where,
              ": detections without boxes, scores or labels");
  const int64_t k = d.scores.numel();
  SPLAT_CHECK(d.boxes.dim() == 2 && d.boxes.size(0) == k && d.boxes.size(1) == 4 &&
                  d.labels.numel() == k,
              where, ": boxes ", shape_str(d.boxes.shape()), ", scores ", shape_str(d.scores.shape()),
              " and labels ", shape_str(d.labels.shape()), " do not describe the same detections");
  auto host = [](const Tensor& t, DType dt) {
    return ops::contiguous(ops::to(ops::to(t, Device::cpu()), dt));
  };
  HostDetections h{host(d.boxes, DType::f32), host(d.scores, DType::f32),
                   host(d.labels, DType::i64), Tensor(), k};
  if (d.masks.defined()) {
    SPLAT_CHECK(d.masks.dim() == 3 && d.masks.size(0) == k, where, ": masks ",
                shape_str(d.masks.shape()), " are not (", k, ", H, W)");
    h.masks = host(d.masks, DType::u8);
  }
  return h;
}

void append_segmentation(std::string& out, const Tensor& mask) {
  const data::Rle rle = data::rle_encode(mask);
  out += str(", \"segmentation\": {\"size\": [", rle.height, ", ", rle.width, "], \"counts\": ");
  append_json_string(out, data::rle_to_string(rle));
  out += '}';
}

} // namespace

std::string coco_results_json(const std::vector<ImageResults>& results, const DatasetClasses& classes) {
  std::string out = "[";
  bool first = true;
  for (const ImageResults& r : results) {
    const HostDetections h = to_host(r);
    const float* box = h.boxes.data<float>();
    const float* score = h.scores.data<float>();
    const int64_t* label = h.labels.data<int64_t>();
    for (int64_t i = 0; i < h.count; ++i, box += 4) {
      SPLAT_CHECK(label[i] >= 0 && label[i] < static_cast<int64_t>(classes.category_ids.size()),
                  "coco results: image ", r.image_id, " (", r.file_name, "): label ", label[i],
                  " is not one of the ", classes.category_ids.size(), " classes");
      out += first ? "\n" : ",\n";
      first = false;
      out += str("{\"image_id\": ", r.image_id, ", \"category_id\": ",
                 classes.category_ids[static_cast<size_t>(label[i])], ", \"bbox\": [");
      const float xywh[4] = {box[0], box[1], box[2] - box[0], box[3] - box[1]};
      for (int c = 0; c < 4; ++c) {
        if (c) out += ", ";
        append_number(out, xywh[c]);
      }
      out += ']';
      if (h.masks.defined()) append_segmentation(out, ops::select(h.masks, 0, i));
      out += ", \"score\": ";
      append_number(out, score[i]);
      out += ", \"file_name\": ";
      append_json_string(out, r.file_name);
      out += '}';
    }
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

void write_coco_results(const std::string& path, const std::vector<ImageResults>& results,
                        const DatasetClasses& classes) {
  const std::string text = coco_results_json(results, classes);
  AtomicFile file(path, str("writing COCO results '", path, "'"));
  file.write(text);
  file.commit();
}

} // namespace splat::train
