// Pooling on the CPU: output sizes (PyTorch's rule, ceil_mode's dropped last window), values
// against naive loops over the padded input, max-pool indices and ties, float64 gradcheck over
// kernel/stride/padding/dilation/ceil_mode/count_include_pad combinations, strided inputs, and
// bad arguments.
#include "autograd/engine.h"
#include "ops/index.h"
#include "ops/pointwise.h"
#include "ops/pool.h"
#include "ops/pool_windows.h"
#include "ops/random.h"
#include "tests/autograd/grad_helpers.h"

#include <cmath>
#include <limits>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::noncontiguous;
using splat::test::to_vector;

namespace {

struct Config {
  Size2 kernel, stride, padding, dilation = 1;
  bool ceil_mode = false, count_include_pad = true;
};

// Naive avg pool: walks every cell of the window in padded coordinates and counts the cells
// inside the padded input (count_include_pad) or inside the input.
Tensor ref_avg_pool(const Tensor& x, const Config& c, Shape out_shape) {
  const auto v = to_vector<double>(x);
  const int64_t H = x.size(2), W = x.size(3), OH = out_shape[2], OW = out_shape[3];
  std::vector<double> out;
  for (int64_t plane = 0; plane < x.size(0) * x.size(1); ++plane)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double sum = 0;
        int64_t in_padded = 0, in_input = 0;
        for (int64_t kh = 0; kh < c.kernel.h; ++kh)
          for (int64_t kw = 0; kw < c.kernel.w; ++kw) {
            const int64_t h = oh * c.stride.h - c.padding.h + kh;
            const int64_t w = ow * c.stride.w - c.padding.w + kw;
            if (h < H + c.padding.h && w < W + c.padding.w) ++in_padded;
            if (h >= 0 && h < H && w >= 0 && w < W) {
              ++in_input;
              sum += v[(plane * H + h) * W + w];
            }
          }
        out.push_back(sum / double(c.count_include_pad ? in_padded : in_input));
      }
  return from_vector<double>(out, out_shape);
}

// Naive max pool: the first largest tap inside the input, in row-major order.
std::pair<Tensor, Tensor> ref_max_pool(const Tensor& x, const Config& c, Shape out_shape) {
  const auto v = to_vector<double>(x);
  const int64_t H = x.size(2), W = x.size(3), OH = out_shape[2], OW = out_shape[3];
  std::vector<double> values;
  std::vector<int64_t> indices;
  for (int64_t plane = 0; plane < x.size(0) * x.size(1); ++plane)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double best = -INFINITY;
        int64_t best_i = -1;
        for (int64_t kh = 0; kh < c.kernel.h; ++kh)
          for (int64_t kw = 0; kw < c.kernel.w; ++kw) {
            const int64_t h = oh * c.stride.h - c.padding.h + kh * c.dilation.h;
            const int64_t w = ow * c.stride.w - c.padding.w + kw * c.dilation.w;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const double e = v[(plane * H + h) * W + w];
            if (best_i < 0 || e > best) {
              best = e;
              best_i = h * W + w;
            }
          }
        values.push_back(best);
        indices.push_back(best_i);
      }
  return {from_vector<double>(values, out_shape), from_vector<int64_t>(indices, out_shape)};
}

MaxPool2dOptions max_opts(const Config& c) {
  return {.kernel = c.kernel,
          .stride = c.stride,
          .padding = c.padding,
          .dilation = c.dilation,
          .ceil_mode = c.ceil_mode};
}
AvgPool2dOptions avg_opts(const Config& c) {
  return {.kernel = c.kernel,
          .stride = c.stride,
          .padding = c.padding,
          .ceil_mode = c.ceil_mode,
          .count_include_pad = c.count_include_pad};
}

// Kernel/stride/padding combinations with odd sizes, ceil_mode windows hanging off the edge,
// and both divisor rules; dilation only matters for max pooling.
const Config kConfigs[] = {
    {.kernel = 2, .stride = 2, .padding = 0},
    {.kernel = 3, .stride = 2, .padding = 1},
    {.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true},
    {.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false},
    {.kernel = 2, .stride = 2, .padding = 0, .ceil_mode = true, .count_include_pad = false},
    {.kernel = 3, .stride = 3, .padding = 1, .ceil_mode = true},
    {.kernel = 3, .stride = 1, .padding = 1, .count_include_pad = false},
    {.kernel = {3, 2}, .stride = {1, 2}, .padding = {1, 0}, .dilation = {2, 1}, .ceil_mode = true},
    {.kernel = {2, 3}, .stride = {3, 1}, .padding = {1, 1}, .dilation = {1, 2}},
};

} // namespace

TEST_CASE("pool output sizes follow PyTorch's rule, including ceil_mode's dropped window") {
  struct Case {
    int64_t in, kernel, stride, pad, dilation;
    bool ceil;
    int64_t out;
  };
  // Each expected size is ((in + 2 pad - dilation (kernel - 1) - 1 [+ stride - 1]) / stride) + 1,
  // less one when ceil_mode's last window would start at or beyond in + pad.
  const Case cases[] = {
      {5, 2, 2, 0, 1, false, 2}, {5, 2, 2, 0, 1, true, 3},    {6, 3, 2, 1, 1, false, 3},
      {6, 3, 2, 1, 1, true, 4},  {5, 3, 3, 1, 1, false, 2},   {5, 3, 3, 1, 1, true, 2},
      {7, 2, 2, 0, 1, true, 4},  {56, 3, 2, 1, 1, false, 28}, {7, 3, 1, 1, 2, false, 5},
      {1, 1, 1, 0, 1, true, 1},  {4, 4, 1, 0, 1, true, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CAPTURE(c.kernel);
    CAPTURE(c.stride);
    CAPTURE(c.pad);
    CAPTURE(c.ceil);
    const Tensor x = zeros({1, 1, c.in, 3});
    const auto mp = max_pool2d(x, {.kernel = {c.kernel, 1},
                                   .stride = Size2{c.stride, 1},
                                   .padding = {c.pad, 0},
                                   .dilation = {c.dilation, 1},
                                   .ceil_mode = c.ceil});
    CHECK(mp.values.shape() == Shape{1, 1, c.out, 3});
    if (c.dilation == 1) {
      const Tensor ap = avg_pool2d(x, {.kernel = {c.kernel, 1},
                                       .stride = Size2{c.stride, 1},
                                       .padding = {c.pad, 0},
                                       .ceil_mode = c.ceil});
      CHECK(ap.shape() == Shape{1, 1, c.out, 3});
    }
  }
  // The stride defaults to the kernel.
  CHECK(avg_pool2d(zeros({2, 3, 9, 8}), {.kernel = 3}).shape() == Shape{2, 3, 3, 2});
}

TEST_CASE("avg_pool2d and max_pool2d match naive loops over every configuration") {
  for (const Shape& shape : {Shape{2, 3, 7, 8}, Shape{1, 2, 5, 5}, Shape{1, 1, 6, 9}}) {
    const Tensor x = ops::randn(shape, {.dtype = DType::f64});
    for (const Config& c : kConfigs) {
      CAPTURE(shape_str(shape));
      CAPTURE(c.kernel.h);
      CAPTURE(c.stride.h);
      CAPTURE(c.padding.h);
      CAPTURE(c.ceil_mode);
      CAPTURE(c.count_include_pad);
      const auto mp = max_pool2d(x, max_opts(c));
      const auto [ref_v, ref_i] = ref_max_pool(x, c, mp.values.shape());
      check_close(mp.values, ref_v, 0, 0);
      CHECK(to_vector<int64_t>(mp.indices) == to_vector<int64_t>(ref_i));
      if (c.dilation == Size2(1)) {
        const Tensor ap = avg_pool2d(x, avg_opts(c));
        check_close(ap, ref_avg_pool(x, c, ap.shape()), 1e-12, 1e-12);
      }
    }
  }
}

TEST_CASE("ResNeSt's two avg pools: the avd pool counts padding, the shortcut pool does not") {
  const Tensor x = ones({1, 1, 5, 5});
  // avd: AvgPool2d(3, 2, padding 1): the corner window holds 4 ones of 9 cells.
  const Tensor avd = avg_pool2d(x, {.kernel = 3, .stride = 2, .padding = 1});
  CHECK(avd.shape() == Shape{1, 1, 3, 3});
  CHECK(to_vector<double>(avd)[0] == doctest::Approx(4.0 / 9.0));
  // shortcut: AvgPool2d(2, 2, ceil_mode, count_include_pad=False): the window hanging off the
  // bottom-right edge averages its single cell.
  const Tensor down =
      avg_pool2d(x, {.kernel = 2, .stride = 2, .ceil_mode = true, .count_include_pad = false});
  CHECK(down.shape() == Shape{1, 1, 3, 3});
  for (double v : to_vector<double>(down)) CHECK(v == 1.0);
  // Even with count_include_pad, a ceil_mode window never counts cells beyond the padded input.
  const Tensor hang = avg_pool2d(x, {.kernel = 2, .stride = 2, .ceil_mode = true});
  CHECK(to_vector<double>(hang)[8] == 1.0);
}

TEST_CASE("max_pool2d indices: flat h * W + w per plane, first maximum on ties, NaN wins") {
  const Tensor x = from_vector<double>({1, 3, 3, 0, 2, 3, NAN, 1, 0, 5, 5, 5}, {1, 1, 3, 4});
  const auto r = max_pool2d(x, {.kernel = 2, .stride = 2, .ceil_mode = true});
  CHECK(r.values.shape() == Shape{1, 1, 2, 2});
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{1, 6, 9, 10});
  const auto v = to_vector<double>(r.values);
  CHECK(v[0] == 3);
  CHECK(std::isnan(v[1]));
  CHECK(v[2] == 5);
  CHECK(v[3] == 5);
  // Backward routes each gradient to the selected element only (several outputs may pick one).
  const Tensor xl = from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}).requires_grad_();
  const auto m = max_pool2d(xl, {.kernel = 2, .stride = 1});
  autograd::backward({m.values}, {ones({1, 1, 2, 2}, {.dtype = DType::f64})});
  CHECK(to_vector<double>(xl.grad()) == std::vector<double>{0, 0, 0, 0, 1, 1, 0, 1, 1});
}

TEST_CASE("max_pool2d backward: the CPU scatter equals the per-input gather exactly, ties included") {
  // Values in {0, 1, 2}: overlapping windows share many maxima, so inputs collect several outputs.
  std::vector<double> xv(2 * 3 * 7 * 9);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<double>((i * 7 + i / 5) % 3);
  for (const Config& c : {Config{.kernel = 3, .stride = 1, .padding = 1},
                         Config{.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true},
                         Config{.kernel = 2, .stride = 1, .padding = 0, .dilation = 2}}) {
    CAPTURE(c.kernel.h);
    CAPTURE(c.stride.h);
    const Tensor x = from_vector<double>(xv, {2, 3, 7, 9}).requires_grad_();
    const auto mp = max_pool2d(x, max_opts(c));
    const Tensor gy = ops::randn(mp.values.shape(), {.dtype = DType::f64});
    autograd::backward({mp.values}, {gy});
    const SlidingAxis h{7, mp.values.size(2), c.kernel.h, c.stride.h, c.padding.h, c.dilation.h};
    const SlidingAxis w{9, mp.values.size(3), c.kernel.w, c.stride.w, c.padding.w, c.dilation.w};
    const PoolPlanes<SlidingAxis> p{h, w};
    const auto g = to_vector<double>(gy);
    const auto idx = to_vector<int64_t>(mp.indices);
    std::vector<double> want(xv.size());
    for (int64_t plane = 0; plane < 6; ++plane)
      for (int64_t ih = 0; ih < 7; ++ih)
        for (int64_t iw = 0; iw < 9; ++iw)
          max_pool_grad_input(p, g.data() + plane * p.out_plane(), idx.data() + plane * p.out_plane(),
                              ih, iw, want.data() + plane * p.in_plane());
    CHECK(to_vector<double>(x.grad()) == want);
  }
}

// The gradient of a mean pool with planes p through the per-input gather of pool_windows.h.
template <class Axis, class Divisor>
std::vector<double> gathered_mean_pool_grad(const PoolPlanes<Axis>& p, Divisor divisor,
                                            const Tensor& gy, int64_t planes) {
  const auto g = to_vector<double>(gy);
  std::vector<double> out(static_cast<size_t>(planes * p.in_plane()));
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t ih = 0; ih < p.h.in; ++ih)
      for (int64_t iw = 0; iw < p.w.in; ++iw)
        mean_pool_grad_input(p, divisor, g.data() + plane * p.out_plane(), ih, iw,
                             out.data() + plane * p.in_plane());
  return out;
}

TEST_CASE("mean pool backward: the CPU scatter equals the per-input gather exactly") {
  const Tensor x0 = ops::randn({2, 3, 7, 9}, {.dtype = DType::f64});
  for (const Config& c : kConfigs) {
    if (c.dilation != Size2(1)) continue;
    CAPTURE(c.kernel.h);
    CAPTURE(c.stride.h);
    CAPTURE(c.padding.h);
    CAPTURE(c.ceil_mode);
    CAPTURE(c.count_include_pad);
    const Tensor x = ops::clone(x0).requires_grad_();
    const Tensor y = avg_pool2d(x, avg_opts(c));
    const Tensor gy = ops::randn(y.shape(), {.dtype = DType::f64});
    autograd::backward({y}, {gy});
    const SlidingAxis h{7, y.size(2), c.kernel.h, c.stride.h, c.padding.h, 1};
    const SlidingAxis w{9, y.size(3), c.kernel.w, c.stride.w, c.padding.w, 1};
    CHECK(to_vector<double>(x.grad()) ==
          gathered_mean_pool_grad(PoolPlanes<SlidingAxis>{h, w},
                                  AvgDivisor{c.count_include_pad}, gy, 6));
  }
  for (Size2 out : {Size2{3, 4}, Size2{5, 6}, Size2{7, 4}, Size2{4, 9}, Size2{1, 1}}) {
    CAPTURE(out.h);
    CAPTURE(out.w);
    const Tensor x = ops::clone(x0).requires_grad_();
    const Tensor y = adaptive_avg_pool2d(x, out);
    const Tensor gy = ops::randn(y.shape(), {.dtype = DType::f64});
    autograd::backward({y}, {gy});
    const PoolPlanes<AdaptiveAxis> p{{7, out.h}, {9, out.w}};
    CHECK(to_vector<double>(x.grad()) == gathered_mean_pool_grad(p, AdaptiveDivisor{}, gy, 6));
  }
}

TEST_CASE("adaptive_avg_pool2d: PyTorch's start/end rule, overlapping windows, global pool") {
  const Tensor x = ops::randn({2, 3, 5, 7}, {.dtype = DType::f64});
  // 5 -> 3 rows: windows [0, 2), [1, 4), [3, 5); 7 -> 7 columns: the identity.
  const Tensor y = adaptive_avg_pool2d(x, {3, 7});
  const auto v = to_vector<double>(x);
  const auto got = to_vector<double>(y);
  const int64_t rows[3][2] = {{0, 2}, {1, 4}, {3, 5}};
  for (int64_t plane = 0; plane < 6; ++plane)
    for (int64_t o = 0; o < 3; ++o)
      for (int64_t w = 0; w < 7; ++w) {
        double s = 0;
        for (int64_t h = rows[o][0]; h < rows[o][1]; ++h) s += v[(plane * 5 + h) * 7 + w];
        CHECK(got[(plane * 3 + o) * 7 + w] ==
              doctest::Approx(s / double(rows[o][1] - rows[o][0])).epsilon(1e-12));
      }
  // Divisible sizes are a plain avg pool; (1, 1) is the global pool.
  const Tensor z = ops::randn({2, 2, 6, 8}, {.dtype = DType::f64});
  check_close(adaptive_avg_pool2d(z, {3, 2}), avg_pool2d(z, {.kernel = {2, 4}}), 1e-12, 1e-12);
  check_close(global_avg_pool2d(z), adaptive_avg_pool2d(z, 1), 1e-12, 1e-12);
  check_close(global_avg_pool2d(z), mean(z, {2, 3}, true), 1e-12, 1e-12);
  CHECK(global_avg_pool2d(z).shape() == Shape{2, 2, 1, 1});
  // Larger outputs than inputs repeat cells.
  const Tensor twice = from_vector<int64_t>({0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, {12});
  check_close(adaptive_avg_pool2d(z, {12, 8}), index_select(z, 2, twice), 0, 0);
}

TEST_CASE("pool gradcheck in float64 over every configuration") {
  const Tensor x = leaf({1, 2, 5, 6});
  for (const Config& c : kConfigs) {
    CAPTURE(c.kernel.h);
    CAPTURE(c.stride.h);
    CAPTURE(c.padding.h);
    CAPTURE(c.ceil_mode);
    CAPTURE(c.count_include_pad);
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& in) { return max_pool2d(in[0], max_opts(c)).values; }, {x});
    if (c.dilation == Size2(1))
      CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return avg_pool2d(in[0], avg_opts(c)); },
                      {x});
  }
  for (Size2 out : {Size2{3, 4}, Size2{5, 6}, Size2{7, 4}, Size2{1, 1}})
    CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], out); },
                    {x});
  CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return global_avg_pool2d(in[0]); }, {x});
}

TEST_CASE("pools accept strided inputs and float32") {
  const Tensor x = ops::randn({2, 3, 7, 6}, {.dtype = DType::f64});
  const Tensor xs = noncontiguous(x);
  REQUIRE(!xs.is_contiguous());
  const Config& c = kConfigs[3];
  check_close(avg_pool2d(xs, avg_opts(c)), avg_pool2d(x, avg_opts(c)), 0, 0);
  check_close(max_pool2d(xs, max_opts(c)).values, max_pool2d(x, max_opts(c)).values, 0, 0);
  check_close(adaptive_avg_pool2d(xs, {4, 4}), adaptive_avg_pool2d(x, {4, 4}), 0, 0);
  const Tensor xf = to(x, DType::f32);
  const Tensor yf = avg_pool2d(xf, avg_opts(c));
  CHECK(yf.dtype() == DType::f32);
  check_close(yf, avg_pool2d(x, avg_opts(c)), 1e-5, 1e-6);
  CHECK(max_pool2d(xf, max_opts(c)).indices.dtype() == DType::i64);
}

TEST_CASE("pool bad input is a clear error") {
  const Tensor x = zeros({1, 2, 4, 4});
  CHECK_THROWS_WITH_ALL(max_pool2d(x, {.kernel = 5}), "max_pool2d", "larger than the padded input",
                        "height", "size 4");
  CHECK_THROWS_WITH_ALL(avg_pool2d(x, {.kernel = 3, .padding = 2}), "avg_pool2d", "padding 2",
                        "at most half the kernel size 3");
  CHECK_THROWS_WITH_ALL(avg_pool2d(x, {.kernel = {2, 6}, .padding = {0, 0}}), "width");
  CHECK_THROWS_WITH_ALL(max_pool2d(zeros({2, 4, 4}), {.kernel = 2}), "max_pool2d", "(N, C, H, W)",
                        "[2, 4, 4]");
  CHECK_THROWS_WITH_ALL(avg_pool2d(x, {.kernel = 2, .stride = 0}), "avg_pool2d", "stride (0)");
  CHECK_THROWS_WITH_ALL(avg_pool2d(zeros({1, 1, 4, 4}, {.dtype = DType::i64}), {.kernel = 2}),
                        "avg_pool2d", "dtype i64");
  CHECK_THROWS_WITH_ALL(adaptive_avg_pool2d(x, {0, 2}), "adaptive_avg_pool2d", "(0, 2)");
}
