// Anchor generation: base anchors on the host (a handful of values, in MMDetection's f32
// arithmetic), shifted over each feature map by a kernel (ops/cpu/anchors.cpp,
// ops/cuda/anchors.cu); valid and inside flags are compositions of comparisons on the device.
#include "ops/anchors.h"

#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/anchors.h"
#include "ops/cuda/anchors.h"
#include "ops/device_dispatch.h"
#include "ops/pointwise.h"
#include "ops/view.h"

#include <cmath>

namespace splat::ops {
namespace {

void check_generator(const AnchorGenerator& gen) {
  SPLAT_CHECK(!gen.strides.empty(), "anchors: the generator has no levels (strides is empty)");
  SPLAT_CHECK(!gen.ratios.empty() && !gen.scales.empty(),
              "anchors: ratios and scales must not be empty (got ", gen.ratios.size(), " ratios, ",
              gen.scales.size(), " scales)");
  SPLAT_CHECK(gen.base_sizes.empty() || gen.base_sizes.size() == gen.strides.size(),
              "anchors: ", gen.base_sizes.size(), " base sizes for ", gen.strides.size(),
              " levels (strides)");
  for (int64_t s : gen.strides) SPLAT_CHECK(s > 0, "anchors: stride ", s, " is not positive");
  for (double r : gen.ratios) SPLAT_CHECK(r > 0, "anchors: ratio ", r, " is not positive");
  for (double s : gen.scales) SPLAT_CHECK(s > 0, "anchors: scale ", s, " is not positive");
}

void check_levels(std::string_view op, const AnchorGenerator& gen,
                  const std::vector<SizeHW>& sizes) {
  check_generator(gen);
  SPLAT_CHECK(static_cast<int64_t>(sizes.size()) == gen.num_levels(), op, ": ", sizes.size(),
              " feature sizes for ", gen.num_levels(), " levels");
  for (const SizeHW& s : sizes)
    SPLAT_CHECK(s.height >= 0 && s.width >= 0, op, ": negative feature size (", s.height, ", ",
                s.width, ")");
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace

Tensor base_anchors(const AnchorGenerator& gen, int64_t level, TensorOptions opts) {
  check_generator(gen);
  SPLAT_CHECK(level >= 0 && level < gen.num_levels(), "base_anchors: level ", level,
              " out of range for ", gen.num_levels(), " levels");
  const size_t l = static_cast<size_t>(level);
  const double base =
      gen.base_sizes.empty() ? static_cast<double>(gen.strides[l]) : gen.base_sizes[l];
  return dispatch<DTypeSet::floating>(opts.dtype, "base_anchors", [&]<class T>() {
    // MMDetection: centre = offset * base; h_ratio = sqrt(r), w_ratio = 1 / h_ratio in the
    // anchors' dtype; w = base * w_ratio * scale; corners = centre -/+ 0.5 * w.
    const auto size = static_cast<T>(base), centre = static_cast<T>(gen.center_offset * base);
    std::vector<T> v;
    for (double r : gen.ratios) {
      const T h_ratio = std::sqrt(static_cast<T>(r)), w_ratio = T(1) / h_ratio;
      for (double s : gen.scales) {
        const T half_w = T(0.5) * (size * w_ratio * static_cast<T>(s));
        const T half_h = T(0.5) * (size * h_ratio * static_cast<T>(s));
        v.insert(v.end(), {centre - half_w, centre - half_h, centre + half_w, centre + half_h});
      }
    }
    return from_vector(v, {gen.num_base_anchors(), 4}, opts.device);
  });
}

std::vector<Tensor> grid_anchors(const AnchorGenerator& gen,
                                 const std::vector<SizeHW>& feature_sizes, TensorOptions opts) {
  check_levels("grid_anchors", gen, feature_sizes);
  std::vector<Tensor> out;
  for (int64_t l = 0; l < gen.num_levels(); ++l) {
    const SizeHW f = feature_sizes[static_cast<size_t>(l)];
    const Tensor base = base_anchors(gen, l, opts);
    Tensor a =
        Tensor::empty({f.height * f.width * gen.num_base_anchors(), 4}, opts.dtype, opts.device);
    if (a.numel() > 0)
      SPLAT_KERNEL(opts.device, grid_anchors, a, base, f, gen.strides[static_cast<size_t>(l)]);
    out.push_back(a);
  }
  return out;
}

std::vector<Tensor> valid_flags(const AnchorGenerator& gen,
                                const std::vector<SizeHW>& feature_sizes, SizeHW pad_shape,
                                Device device) {
  check_levels("valid_flags", gen, feature_sizes);
  SPLAT_CHECK(pad_shape.height >= 0 && pad_shape.width >= 0, "valid_flags: negative pad_shape (",
              pad_shape.height, ", ", pad_shape.width, ")");
  std::vector<Tensor> out;
  for (int64_t l = 0; l < gen.num_levels(); ++l) {
    const SizeHW f = feature_sizes[static_cast<size_t>(l)];
    const int64_t stride = gen.strides[static_cast<size_t>(l)];
    const int64_t valid_h = std::min(ceil_div(pad_shape.height, stride), f.height);
    const int64_t valid_w = std::min(ceil_div(pad_shape.width, stride), f.width);
    const TensorOptions idx{.dtype = DType::i64, .device = device};
    const Tensor rows =
        lt(arange(static_cast<double>(f.height), idx), static_cast<double>(valid_h));
    const Tensor cols = lt(arange(static_cast<double>(f.width), idx), static_cast<double>(valid_w));
    const Tensor cells = logical_and(unsqueeze(rows, 1), unsqueeze(cols, 0)); // (H, W)
    out.push_back(
        reshape(expand(unsqueeze(cells, -1), {f.height, f.width, gen.num_base_anchors()}), {-1}));
  }
  return out;
}

Tensor anchor_inside_flags(const Tensor& anchors, const Tensor& valid, SizeHW image,
                           int64_t allowed_border) {
  check_same_device("anchor_inside_flags", {&anchors, &valid});
  check_boxes("anchor_inside_flags", "anchors", anchors, BoxShape::rows);
  SPLAT_CHECK(valid.dtype() == DType::b8 && valid.dim() == 1 && valid.size(0) == anchors.size(0),
              "anchor_inside_flags: valid must be bool (", anchors.size(0), "), got ",
              valid.dtype(), " ", shape_str(valid.shape()));
  if (allowed_border < 0) return valid;
  const auto b = static_cast<double>(allowed_border);
  const Tensor inside =
      logical_and(logical_and(ge(select(anchors, 1, 0), -b), ge(select(anchors, 1, 1), -b)),
                  logical_and(lt(select(anchors, 1, 2), static_cast<double>(image.width) + b),
                              lt(select(anchors, 1, 3), static_cast<double>(image.height) + b)));
  return logical_and(valid, inside);
}

} // namespace splat::ops
