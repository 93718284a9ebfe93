#include "train/detection/polygon_instance_masks.h"

#include "core/error.h"
#include "ops/copy.h"

#include <array>
#include <vector>

namespace splat::train {

PolygonInstanceMasks::PolygonInstanceMasks(data::PolygonMasks masks) : masks_(std::move(masks)) {}

int64_t PolygonInstanceMasks::size() const { return static_cast<int64_t>(masks_.instances.size()); }

Tensor PolygonInstanceMasks::crop_and_resize(const Tensor& boxes, const Tensor& assigned,
                                             int64_t out_size) const {
  SPLAT_CHECK(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4,
              "PolygonInstanceMasks: boxes must be (P, 4), got ",
              boxes.defined() ? shape_str(boxes.shape()) : std::string("an undefined tensor"));
  SPLAT_CHECK(assigned.defined() && assigned.dim() == 1 && assigned.size(0) == boxes.size(0),
              "PolygonInstanceMasks: assigned must be (", boxes.size(0), "), got ",
              assigned.defined() ? shape_str(assigned.shape())
                                 : std::string("an undefined tensor"));
  const Tensor b = ops::contiguous(ops::to(ops::to(boxes, Device::cpu()), DType::f32));
  const Tensor a = ops::contiguous(ops::to(ops::to(assigned, Device::cpu()), DType::i64));
  const auto p = static_cast<size_t>(boxes.size(0));
  std::vector<std::array<float, 4>> rows(p);
  const float* src = b.data<float>();
  for (size_t i = 0; i < p; ++i)
    rows[i] = {src[4 * i], src[4 * i + 1], src[4 * i + 2], src[4 * i + 3]};
  const Tensor targets =
      data::crop_and_resize(masks_, rows, std::span<const int64_t>(a.data<int64_t>(), p), out_size);
  return ops::to(ops::to(targets, boxes.dtype()), boxes.device());
}

} // namespace splat::train
