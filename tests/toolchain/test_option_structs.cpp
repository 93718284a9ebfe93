// Every options struct of the project, built with designated initialisers that name only some of
// its fields, then passed by value through a call the optimiser cannot see into: the pattern that
// GCC 12.2 miscompiles when it may use AVX-512 (scripts/probes/gcc_avx512_broadcast.cpp). Each
// field must come out as written or as its default. The suite also builds this file with
// -mavx512f on machines that run AVX-512 (tests/meson.build), where the same checks must hold.
// Whether GCC's bug strikes depends on the surrounding code (here it did not without the
// work-around), so that variant also links the probe, whose minimal case it always breaks.
#include "autograd/gradcheck.h"
#include "data/loader.h"
#include "data/shapes.h"
#include "data/transforms.h"
#include "models/resnest.h"
#include "nn/conv.h"
#include "nn/simple_layers.h"
#include "nn/split_attention.h"
#include "ops/anchors.h"
#include "ops/assign.h"
#include "ops/box_coder.h"
#include "ops/conv.h"
#include "ops/copy.h"
#include "ops/loss.h"
#include "ops/pool.h"
#include "ops/roi_align.h"
#include "train/reducer.h"
#include "train/optim/sgd.h"

#include <doctest/doctest.h>

#include <vector>

#ifdef SPLAT_EXPECT_AVX512
bool struct_argument_probe_ok(); // scripts/probes/gcc_avx512_broadcast.cpp
#endif

namespace splat {
namespace {

// By value in, by value out, through a function whose body the caller may not use.
template <class T>
[[gnu::noipa]] T through_call(T value) {
  return value;
}

void check_size(ops::Size2 got, int64_t h, int64_t w) {
  CHECK(got.h == h);
  CHECK(got.w == w);
}

} // namespace

TEST_CASE("convolution options keep every field through a call and a layer") {
  const ops::Conv2dOptions c = through_call(ops::Conv2dOptions{.groups = 2});
  check_size(c.stride, 1, 1);
  check_size(c.padding, 0, 0);
  check_size(c.dilation, 1, 1);
  CHECK(c.groups == 2);
  const ops::Conv2dOptions d = through_call(ops::Conv2dOptions{.stride = 2, .padding = ops::Size2{1, 0}});
  check_size(d.stride, 2, 2);
  check_size(d.padding, 1, 0);
  check_size(d.dilation, 1, 1);
  CHECK(d.groups == 1);

  // The case issue 13 reported: the layer's stored options and the shape they produce.
  nn::Conv2d layer(8, 6, {3, 1}, {.groups = 2});
  check_size(layer.options.stride, 1, 1);
  check_size(layer.options.padding, 0, 0);
  check_size(layer.options.dilation, 1, 1);
  CHECK(layer.options.groups == 2);
  CHECK(layer.forward(ops::zeros({1, 8, 5, 5})).shape() == Shape{1, 6, 3, 5});

  const ops::ConvTranspose2dOptions t = through_call(ops::ConvTranspose2dOptions{.stride = 2, .groups = 4});
  check_size(t.stride, 2, 2);
  check_size(t.padding, 0, 0);
  check_size(t.output_padding, 0, 0);
  CHECK(t.groups == 4);
  check_size(t.dilation, 1, 1);
  nn::ConvTranspose2d up(4, 8, 2, {.stride = 2});
  check_size(up.options.stride, 2, 2);
  check_size(up.options.padding, 0, 0);
  check_size(up.options.output_padding, 0, 0);
  CHECK(up.options.groups == 1);
  check_size(up.options.dilation, 1, 1);
}

TEST_CASE("pooling, RoIAlign and loss options keep every field through a call") {
  const ops::MaxPool2dOptions m = through_call(ops::MaxPool2dOptions{.kernel = 3, .stride = 2, .padding = 1});
  check_size(m.kernel, 3, 3);
  REQUIRE(m.stride.has_value());
  check_size(*m.stride, 2, 2);
  check_size(m.padding, 1, 1);
  check_size(m.dilation, 1, 1);
  CHECK(!m.ceil_mode);
  nn::MaxPool2d pool({.kernel = 3, .padding = 1});
  check_size(pool.options.kernel, 3, 3);
  CHECK(!pool.options.stride.has_value());
  check_size(pool.options.padding, 1, 1);
  check_size(pool.options.dilation, 1, 1);

  const ops::AvgPool2dOptions a =
      through_call(ops::AvgPool2dOptions{.kernel = 2, .ceil_mode = true, .count_include_pad = false});
  check_size(a.kernel, 2, 2);
  CHECK(!a.stride.has_value());
  check_size(a.padding, 0, 0);
  CHECK(a.ceil_mode);
  CHECK(!a.count_include_pad);
  nn::AvgPool2d avg({.kernel = 3, .stride = 2, .padding = 1});
  check_size(avg.options.kernel, 3, 3);
  check_size(*avg.options.stride, 2, 2);
  check_size(avg.options.padding, 1, 1);
  CHECK(!avg.options.ceil_mode);
  CHECK(avg.options.count_include_pad);

  const ops::RoiAlignOptions r = through_call(ops::RoiAlignOptions{.spatial_scale = 0.25});
  CHECK(r.output_h == 7);
  CHECK(r.output_w == 7);
  CHECK(r.spatial_scale == 0.25);
  CHECK(r.sampling_ratio == 0);
  CHECK(r.aligned);

  const ops::LossOptions l = through_call(ops::LossOptions{.avg_factor = 3.0});
  CHECK(l.reduction == ops::Reduction::mean);
  CHECK(!l.weight.defined());
  CHECK(l.avg_factor == 3.0);
}

TEST_CASE("layer, model and detection settings keep every field through a call") {
  const nn::SplitAttentionOptions s = through_call(nn::SplitAttentionOptions{.stride = 2, .radix = 4});
  CHECK(s.stride == 2);
  CHECK(s.dilation == 1);
  CHECK(s.radix == 4);
  CHECK(s.cardinality == 1);
  CHECK(s.reduction_factor == 4);
  CHECK(s.norm.kind == nn::NormKind::batch);
  CHECK(s.norm.eps == 1e-5);
  CHECK(s.norm.momentum == 0.1);

  const models::ResNeStConfig m = through_call(models::ResNeStConfig{.stem_width = 64, .frozen_stages = 1});
  CHECK(m.blocks == std::vector<int64_t>{3, 4, 6, 3});
  CHECK(m.planes == std::vector<int64_t>{64, 128, 256, 512});
  CHECK(m.stem_width == 64);
  CHECK(m.radix == 2);
  CHECK(m.cardinality == 1);
  CHECK(m.bottleneck_width == 64);
  CHECK(m.avd);
  CHECK(!m.avd_first);
  CHECK(m.num_classes == 1000);
  CHECK(m.dropout == 0);
  CHECK(m.out_indices == std::vector<int>{0, 1, 2, 3});
  CHECK(m.frozen_stages == 1);
  CHECK(!m.norm_eval);

  const ops::MaxIouAssigner a = through_call(ops::MaxIouAssigner{.pos_iou_thr = 0.7, .neg_iou_thr = 0.3});
  CHECK(a.pos_iou_thr == 0.7);
  CHECK(a.neg_iou_thr.lo == 0);
  CHECK(a.neg_iou_thr.hi == 0.3);
  CHECK(a.min_pos_iou == 0);
  CHECK(a.gt_max_assign_all);
  CHECK(a.match_low_quality);
  CHECK(a.ignore_iof_thr == -1);

  const ops::RandomSampler r = through_call(ops::RandomSampler{.num = 256, .pos_fraction = 0.5});
  CHECK(r.num == 256);
  CHECK(r.pos_fraction == 0.5);
  CHECK(r.neg_pos_ub == -1);
  CHECK(r.add_gt_as_proposals);

  const ops::AnchorGenerator g = through_call(ops::AnchorGenerator{.center_offset = 0.5});
  CHECK(g.strides == std::vector<int64_t>{4, 8, 16, 32, 64});
  CHECK(g.ratios == std::vector<double>{0.5, 1.0, 2.0});
  CHECK(g.scales == std::vector<double>{8.0});
  CHECK(g.base_sizes.empty());
  CHECK(g.center_offset == 0.5);

  const ops::DeltaXYWHBBoxCoder c = through_call(ops::DeltaXYWHBBoxCoder{.stds = {0.1, 0.1, 0.2, 0.2}});
  CHECK(c.means == std::array<double, 4>{0, 0, 0, 0});
  CHECK(c.stds == std::array<double, 4>{0.1, 0.1, 0.2, 0.2});
  CHECK(c.wh_ratio_clip == 16.0 / 1000.0);
}

TEST_CASE("data, training and tool options keep every field through a call") {
  const data::TrainPipelineConfig p = through_call(data::TrainPipelineConfig{.flip_prob = 0.0});
  REQUIRE(p.scales.size() == 2);
  CHECK(p.scales[0].long_edge == 1333);
  CHECK(p.scales[0].short_edge == 640);
  CHECK(p.scales[1].short_edge == 800);
  CHECK(p.mode == data::MultiscaleMode::range);
  CHECK(p.flip_prob == 0.0);
  CHECK(p.norm.mean == data::kResNeStNormalization.mean);
  CHECK(p.norm.std == data::kResNeStNormalization.std);
  CHECK(p.size_divisor == 32);
  const data::TestPipelineConfig t = through_call(data::TestPipelineConfig{.size_divisor = 64});
  CHECK(t.scale.long_edge == 1333);
  CHECK(t.scale.short_edge == 800);
  CHECK(t.size_divisor == 64);

  const data::LoaderOptions l = through_call(data::LoaderOptions{.workers = 0, .size_divisor = 64});
  CHECK(l.workers == 0);
  CHECK(l.prefetch_batches == 4);
  CHECK(l.on_corrupt == data::OnCorrupt::fail);
  CHECK(l.device == Device::cpu());
  CHECK(l.size_divisor == 64);

  const data::ShapesOptions s = through_call(data::ShapesOptions{.val = 4, .seed = 7});
  CHECK(s.train == 64);
  CHECK(s.val == 4);
  CHECK(s.min_size == 64);
  CHECK(s.max_size == 160);
  CHECK(s.seed == 7);
  CHECK(s.categories == 5);
  CHECK(s.jpeg_quality == 92);

  const train::SgdOptions o = through_call(train::SgdOptions{.lr = 0.02});
  CHECK(o.lr == 0.02);
  CHECK(o.momentum == 0.9);
  CHECK(o.weight_decay == 1e-4);
  const train::ReducerOptions r = through_call(train::ReducerOptions{.find_unused_parameters = true});
  CHECK(r.bucket_cap_mb == 25);
  CHECK(r.find_unused_parameters);

  const autograd::GradcheckOptions g = through_call(autograd::GradcheckOptions{.atol = 1e-7});
  CHECK(g.eps == 1e-6);
  CHECK(g.atol == 1e-7);
  CHECK(g.rtol == 1e-3);
  const TensorOptions to = through_call(TensorOptions{.dtype = DType::f64});
  CHECK(to.dtype == DType::f64);
  CHECK(to.device == Device::cpu());
}

#ifdef SPLAT_EXPECT_AVX512
TEST_CASE("the minimal case of GCC's AVX-512 struct-argument bug comes out right") {
  CHECK(::struct_argument_probe_ok());
}

TEST_CASE("the AVX-512 variant of this suite is compiled for AVX-512") {
#ifdef __AVX512F__
  constexpr bool avx512 = true;
#else
  constexpr bool avx512 = false;
#endif
  CHECK(avx512);
}
#endif

} // namespace splat
