// Reading and comparing the MMDetection parity fixtures (scripts/fixtures/mmdet_*.py): named
// tensors, the fixture's detector input and proposals, and the comparisons the detector parity
// tests share (tolerances scaled to the tensors, order-free matching of proposals and
// detections, and of detections' masks).
#pragma once

#include "core/safetensors.h"
#include "models/detection/detector_input.h"
#include "models/detection/proposals.h"
#include "tests/helpers.h"

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace splat::test {

class MmdetFixture {
public:
  // The file is read on first use, inside a test case (a fixture may be a file-level constant).
  explicit MmdetFixture(std::string path) : path_(std::move(path)) {}

  const Tensor& operator()(const std::string& name) const {
    const auto it = file().tensors.find(name);
    REQUIRE_MESSAGE(it != file().tensors.end(), "fixture has no ", name);
    return it->second;
  }

  bool has(const std::string& name) const { return file().tensors.count(name) > 0; }

  // The tensors whose names start with prefix, keyed by the rest of the name.
  std::map<std::string, Tensor> with_prefix(const std::string& prefix) const {
    std::map<std::string, Tensor> out;
    for (const auto& [k, t] : file().tensors)
      if (k.starts_with(prefix)) out.emplace(k.substr(prefix.size()), t);
    return out;
  }

  // The 2-image batch of input.*, with BitmapMasks when the fixture has input.gt_masks.*.
  models::DetectorInput input() const {
    const auto& fx = *this;
    models::DetectorInput in;
    in.images = fx("input.images");
    const auto img = to_vector<int64_t>(fx("input.img_shape"));
    const auto pad = to_vector<int64_t>(fx("input.pad_shape"));
    const auto ori = to_vector<int64_t>(fx("input.ori_shape"));
    const auto scale = to_vector<double>(fx("input.scale_factor"));
    for (size_t i = 0; i < 2; ++i) {
      const std::string n = std::to_string(i);
      in.infos.push_back({.img_shape = {img[2 * i], img[2 * i + 1]},
                          .pad_shape = {pad[2 * i], pad[2 * i + 1]},
                          .ori_shape = {ori[2 * i], ori[2 * i + 1]},
                          .scale_w = scale[2 * i],
                          .scale_h = scale[2 * i + 1]});
      in.targets.push_back({fx("input.gt_boxes." + n), fx("input.gt_labels." + n), {}});
      if (has("input.gt_masks." + n))
        in.targets.back().masks = std::make_shared<models::BitmapMasks>(fx("input.gt_masks." + n));
    }
    return in;
  }

  // The RPN proposals {kind}.proposals.{i}.{boxes,scores} of both images (kind "train" or
  // "test"), to run a RoI head from MMDetection's own.
  std::vector<models::Proposals> proposals(const std::string& kind) const {
    std::vector<models::Proposals> out;
    for (size_t i = 0; i < 2; ++i) {
      const std::string p = kind + ".proposals." + std::to_string(i) + ".";
      out.push_back({(*this)(p + "boxes"), (*this)(p + "scores")});
    }
    return out;
  }

  // Proposals or detections computed from inputs that differ in the 6th digit: near-equal
  // scores may swap places and an IoU at the NMS threshold may flip, so rows are matched, not
  // compared in order. At most `slack` rows of either side may be unmatched; a match is a box
  // within 0.05 px and a score within 5e-4 (and the same label when given). Returns the matched
  // (actual row, fixture row) pairs.
  std::vector<std::pair<int64_t, int64_t>> check_matched(const Tensor& boxes, const Tensor& scores,
                                                         const Tensor& labels,
                                                         const std::string& prefix,
                                                         int64_t slack) const {
    const auto& fx = *this;
    CAPTURE(prefix);
    const auto b = to_vector<double>(boxes), s = to_vector<double>(scores);
    const auto tb = to_vector<double>(fx(prefix + "boxes")),
               ts = to_vector<double>(fx(prefix + "scores"));
    std::vector<int64_t> l, tl;
    if (labels.defined())
      l = to_vector<int64_t>(labels), tl = to_vector<int64_t>(fx(prefix + "labels"));
    const auto n = static_cast<int64_t>(s.size()), m = static_cast<int64_t>(ts.size());
    CHECK(std::abs(n - m) <= slack);
    std::vector<std::pair<int64_t, int64_t>> pairs;
    std::vector<bool> used(static_cast<size_t>(n), false);
    for (int64_t j = 0; j < m; ++j) {
      for (int64_t i = 0; i < n; ++i) {
        bool same = !used[i] && std::fabs(s[i] - ts[j]) <= 5e-4 && (l.empty() || l[i] == tl[j]);
        for (int k = 0; k < 4 && same; ++k) same = std::fabs(b[4 * i + k] - tb[4 * j + k]) <= 0.05;
        if (same) {
          used[i] = true;
          pairs.emplace_back(i, j);
          break;
        }
      }
    }
    CHECK(m - static_cast<int64_t>(pairs.size()) <= slack);
    return pairs;
  }

  // Detections with masks of both images from MMDetection's proposals against test.det.{i}.*:
  // every row matched (check_matched without slack), each matched row's (H, W) bool mask
  // compared with the fixture's u8 one pixel by pixel. Returns {differing, compared} pixels.
  std::pair<int64_t, int64_t>
  check_detections_with_masks(const std::vector<models::Detections>& dets) const {
    const auto& fx = *this;
    REQUIRE(dets.size() == 2);
    int64_t differing = 0, pixels = 0;
    for (size_t i = 0; i < 2; ++i) {
      CAPTURE(i);
      const std::string p = "test.det." + std::to_string(i) + ".";
      const auto pairs = check_matched(dets[i].boxes, dets[i].scores, dets[i].labels, p, 0);
      CHECK(pairs.size() == static_cast<size_t>(fx(p + "scores").numel()));
      const Tensor& theirs = fx(p + "masks");
      REQUIRE(dets[i].masks.shape() == theirs.shape());
      CHECK(dets[i].masks.dtype() == DType::b8);
      const auto mine = to_vector<int64_t>(dets[i].masks), expected = to_vector<int64_t>(theirs);
      const int64_t area = theirs.size(1) * theirs.size(2);
      for (const auto& [a, b] : pairs)
        for (int64_t k = 0; k < area; ++k)
          differing += mine[a * area + k] != expected[b * area + k];
      pixels += static_cast<int64_t>(pairs.size()) * area;
    }
    return {differing, pixels};
  }

private:
  const SafeTensors& file() const {
    if (!file_) file_ = load_safetensors(path_);
    return *file_;
  }
  std::string path_;
  mutable std::optional<SafeTensors> file_;
};

// Relative to the tensor's scale: float32 sums over thousands of terms, in another order.
inline void check_scaled(const Tensor& actual, const Tensor& expected, double tol = 2e-4) {
  const auto e = to_vector<double>(expected);
  double scale = 0;
  for (double v : e) scale = std::max(scale, std::fabs(v));
  check_close(actual, expected, tol, tol * scale + 1e-7);
}

// ||actual - expected|| <= tol * ||expected|| (+ a floor for all-but-zero gradients).
inline void check_relative_norm(const Tensor& actual, const Tensor& expected, double tol) {
  const auto a = to_vector<double>(actual), e = to_vector<double>(expected);
  REQUIRE(a.size() == e.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += (a[i] - e[i]) * (a[i] - e[i]), norm += e[i] * e[i];
  CHECK(std::sqrt(diff) <= tol * std::sqrt(norm) + 1e-4);
}

} // namespace splat::test
