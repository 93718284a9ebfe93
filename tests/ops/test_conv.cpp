// conv2d and conv_transpose2d on the CPU: forward and every gradient against direct loops over
// the definition (shapes that take the banded im2col path with several bands, the pointwise and
// single-pixel paths, groups up to depthwise, strides, paddings, dilations, non-square kernels,
// one and several images), f64 gradcheck, f32 against f64, non-contiguous inputs, bad input.
#include "ops/conv.h"

#include "autograd/engine.h"
#include "core/threads.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "tests/autograd/grad_helpers.h"

#include <string>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::strided_leaf;
using splat::test::to_vector;

namespace {

struct Expected {
  Tensor y, dx, dw, db;
};

// The sums of a direct convolution loop: each tap (an input element times a weight element
// landing in an output element) adds to y and, for the output gradient dy, to dx, dw and db.
struct DirectSums {
  std::vector<double> xv, wv, dyv, y, dx, dw, db;
  DirectSums(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t channels)
      : xv(to_vector<double>(x)), wv(to_vector<double>(w)), dyv(to_vector<double>(dy)),
        y(dyv.size()), dx(xv.size()), dw(wv.size()), db(static_cast<size_t>(channels)) {
    const int64_t plane = dy.shape()[2] * dy.shape()[3];
    for (size_t e = 0; e < dyv.size(); ++e) db[size_t(int64_t(e) / plane % channels)] += dyv[e];
  }
  void tap(size_t xi, size_t wi, size_t yi) {
    y[yi] += xv[xi] * wv[wi];
    dx[xi] += dyv[yi] * wv[wi];
    dw[wi] += dyv[yi] * xv[xi];
  }
  Expected result(const Tensor& x, const Tensor& w, const Tensor& dy, bool bias) const {
    return {from_vector(y, dy.shape()), from_vector(dx, x.shape()), from_vector(dw, w.shape()),
            bias ? from_vector(db, {dy.shape()[1]}) : Tensor()};
  }
};

// conv2d by its definition: y[n, o, r, q] = b[o] + sum over (c, i, j) of
// x[n, g * cin_g + c, r * sh - ph + i * dh, q * sw - pw + j * dw] * w[o, c, i, j], g = o / cout_g,
// and the gradients for output gradient dy from the same loop.
Expected direct_conv2d(const Tensor& x, const Tensor& w, bool bias, const Conv2dOptions& o,
                       const Tensor& dy) {
  const Shape xs = x.shape(), ws = w.shape();
  const int64_t n = xs[0], c_in = xs[1], h = xs[2], wd = xs[3], c_out = ws[0], cin_g = ws[1];
  const int64_t kh = ws[2], kw = ws[3], cout_g = c_out / o.groups;
  const int64_t ho = (h + 2 * o.padding.h - o.dilation.h * (kh - 1) - 1) / o.stride.h + 1;
  const int64_t wo = (wd + 2 * o.padding.w - o.dilation.w * (kw - 1) - 1) / o.stride.w + 1;
  REQUIRE(dy.shape() == Shape{n, c_out, ho, wo});
  DirectSums sums(x, w, dy, c_out);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < c_out; ++oc)
      for (int64_t r = 0; r < ho; ++r)
        for (int64_t q = 0; q < wo; ++q)
          for (int64_t c = 0; c < cin_g; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t hi = r * o.stride.h - o.padding.h + i * o.dilation.h;
                const int64_t wi = q * o.stride.w - o.padding.w + j * o.dilation.w;
                if (hi < 0 || hi >= h || wi < 0 || wi >= wd) continue;
                const int64_t ic = oc / cout_g * cin_g + c;
                sums.tap(size_t(((b * c_in + ic) * h + hi) * wd + wi),
                         size_t(((oc * cin_g + c) * kh + i) * kw + j),
                         size_t(((b * c_out + oc) * ho + r) * wo + q));
              }
  return sums.result(x, w, dy, bias);
}

// conv_transpose2d by its definition: every input pixel scatters x[n, ic, r, q] * w[ic, c, i, j]
// to y[n, g * cout_g + c, r * sh - ph + i * dh, q * sw - pw + j * dw], g = ic / cin_g.
Expected direct_conv_transpose2d(const Tensor& x, const Tensor& w, bool bias,
                                 const ConvTranspose2dOptions& o, const Tensor& dy) {
  const Shape xs = x.shape(), ws = w.shape();
  const int64_t n = xs[0], c_in = xs[1], h = xs[2], wd = xs[3], cout_g = ws[1], kh = ws[2],
                kw = ws[3];
  const int64_t c_out = cout_g * o.groups, cin_g = c_in / o.groups;
  const int64_t ho =
      (h - 1) * o.stride.h - 2 * o.padding.h + o.dilation.h * (kh - 1) + o.output_padding.h + 1;
  const int64_t wo =
      (wd - 1) * o.stride.w - 2 * o.padding.w + o.dilation.w * (kw - 1) + o.output_padding.w + 1;
  REQUIRE(dy.shape() == Shape{n, c_out, ho, wo});
  DirectSums sums(x, w, dy, c_out);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ic = 0; ic < c_in; ++ic)
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < wd; ++q)
          for (int64_t c = 0; c < cout_g; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t yr = r * o.stride.h - o.padding.h + i * o.dilation.h;
                const int64_t yq = q * o.stride.w - o.padding.w + j * o.dilation.w;
                if (yr < 0 || yr >= ho || yq < 0 || yq >= wo) continue;
                const int64_t oc = ic / cin_g * cout_g + c;
                sums.tap(size_t(((b * c_in + ic) * h + r) * wd + q),
                         size_t(((ic * cout_g + c) * kh + i) * kw + j),
                         size_t(((b * c_out + oc) * ho + yr) * wo + yq));
              }
  return sums.result(x, w, dy, bias);
}

// Runs op on leaves, back-propagates dy and compares output and gradients with `expected`;
// the bias (added to the direct result here) must have as many elements as the output channels.
template <class Op, class Direct>
void check_against_direct(const Shape& xs, const Shape& ws, bool bias, Op op, Direct direct,
                          DType dtype = DType::f64, double rtol = 1e-10, double atol = 1e-10) {
  Tensor x = ops::randn(xs, {.dtype = dtype}).requires_grad_();
  Tensor w = ops::randn(ws, {.dtype = dtype}).requires_grad_();
  const Tensor y0 = op(x.detach(), w.detach(), Tensor());
  Tensor b = bias ? ops::randn({y0.shape()[1]}, {.dtype = dtype}).requires_grad_() : Tensor();
  const Tensor y = op(x, w, b);
  const Tensor dy = ops::randn(y.shape(), {.dtype = dtype});
  const Expected e = direct(x, w, dy);
  const Tensor e_y = bias ? add(e.y, reshape(to(b.detach(), DType::f64), {1, -1, 1, 1})) : e.y;
  check_close(to(y, DType::f64), e_y, rtol, atol);
  autograd::backward({y}, {dy});
  check_close(to(x.grad(), DType::f64), e.dx, rtol, atol);
  check_close(to(w.grad(), DType::f64), e.dw, rtol, atol);
  if (bias) check_close(to(b.grad(), DType::f64), e.db, rtol, atol);
}

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dOptions o;
  bool bias;
};

// Cases for the direct comparison; the comments name the kernel path they take.
const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> c = {
      {"3x3 s1 p1 (ResNeSt body)", {2, 6, 9, 11}, {8, 6, 3, 3}, {.padding = 1}, true},
      {"3x3 s2 p1", {2, 4, 13, 12}, {6, 4, 3, 3}, {.stride = 2, .padding = 1}, false},
      {"one image, one group: serial items",
       {1, 3, 10, 9},
       {4, 3, 3, 3},
       {.padding = 2, .dilation = 2},
       false},
      {"grouped 3x3 (radix 2)", {2, 8, 8, 8}, {6, 4, 3, 3}, {.padding = 1, .groups = 2}, true},
      {"groups 4, 3x5 kernel, stride 1x2",
       {2, 8, 7, 9},
       {8, 2, 3, 5},
       {.stride = {1, 2}, .padding = {1, 2}, .groups = 4},
       false},
      {"depthwise", {2, 6, 8, 8}, {6, 1, 3, 3}, {.padding = 1, .groups = 6}, true},
      {"pointwise", {2, 8, 6, 5}, {12, 8, 1, 1}, {}, true},
      {"pointwise grouped", {2, 8, 6, 5}, {6, 4, 1, 1}, {.groups = 2}, false},
      {"single pixel (split-attention fc)", {3, 8, 1, 1}, {10, 4, 1, 1}, {.groups = 2}, true},
      {"1x1 stride 2 (im2col)", {2, 4, 7, 7}, {5, 4, 1, 1}, {.stride = 2}, false},
      {"7x7 s2 p3", {1, 3, 20, 18}, {4, 3, 7, 7}, {.stride = 2, .padding = 3}, false},
      {"three bands of 28 output rows", {1, 16, 64, 64}, {4, 16, 3, 3}, {.padding = 1}, true},
      {"stride above the kernel", {1, 2, 9, 9}, {3, 2, 2, 2}, {.stride = 3}, false},
      {"padding beyond the kernel, dilation 1x3",
       {2, 2, 3, 7},
       {2, 2, 3, 3},
       {.padding = 2, .dilation = {1, 3}},
       true},
  };
  return c;
}

} // namespace

TEST_CASE("conv2d forward and gradients equal the direct loops") {
  for (const ConvCase& c : conv_cases()) {
    CAPTURE(std::string(c.name));
    check_against_direct(
        c.x, c.w, c.bias,
        [&](const Tensor& x, const Tensor& w, const Tensor& b) { return conv2d(x, w, b, c.o); },
        [&](const Tensor& x, const Tensor& w, const Tensor& dy) {
          return direct_conv2d(x, w, c.bias, c.o, dy);
        });
  }
}

TEST_CASE("conv2d in f32 agrees with the direct loops to f32 precision") {
  for (const ConvCase& c : conv_cases()) {
    CAPTURE(std::string(c.name));
    check_against_direct(
        c.x, c.w, c.bias,
        [&](const Tensor& x, const Tensor& w, const Tensor& b) { return conv2d(x, w, b, c.o); },
        [&](const Tensor& x, const Tensor& w, const Tensor& dy) {
          return direct_conv2d(x, w, c.bias, c.o, dy);
        },
        DType::f32, 1e-4, 1e-4);
  }
}

TEST_CASE("conv_transpose2d forward and gradients equal the direct loops") {
  struct Case {
    const char* name;
    Shape x, w;
    ConvTranspose2dOptions o;
    bool bias;
  };
  const Case cases[] = {
      {"kernel 2 stride 2 (mask head)", {2, 6, 5, 4}, {6, 4, 2, 2}, {.stride = 2}, true},
      {"3x3 s2 p1 output_padding 1, groups 2",
       {1, 4, 4, 3},
       {4, 3, 3, 3},
       {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2},
       false},
      {"output_padding below the dilation",
       {2, 2, 4, 4},
       {2, 3, 3, 3},
       {.output_padding = 1, .dilation = 2},
       true},
      {"depthwise 3x2 s(2,1)",
       {1, 4, 3, 5},
       {4, 1, 3, 2},
       {.stride = {2, 1}, .padding = {1, 0}, .groups = 4},
       false},
      {"pointwise", {2, 5, 3, 3}, {5, 7, 1, 1}, {}, true},
      {"three bands", {1, 4, 64, 64}, {4, 16, 3, 3}, {.padding = 1}, false},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    check_against_direct(
        c.x, c.w, c.bias,
        [&](const Tensor& x, const Tensor& w, const Tensor& b) {
          return conv_transpose2d(x, w, b, c.o);
        },
        [&](const Tensor& x, const Tensor& w, const Tensor& dy) {
          return direct_conv_transpose2d(x, w, c.bias, c.o, dy);
        });
  }
}

TEST_CASE("conv2d and conv_transpose2d pass gradcheck in f64, including strided inputs") {
  struct Case {
    Shape x, w;
    Conv2dOptions o;
    bool bias, strided;
  };
  const Case cases[] = {
      {{2, 4, 5, 5}, {4, 2, 3, 3}, {.padding = 1, .groups = 2}, true, false},
      {{1, 3, 6, 5},
       {2, 3, 2, 3},
       {.stride = 2, .padding = {0, 1}, .dilation = {2, 1}},
       false,
       false},
      {{2, 3, 5, 5}, {3, 1, 3, 3}, {.padding = 2, .groups = 3}, true, false},
      {{2, 4, 3, 3}, {4, 4, 1, 1}, {}, true, true},
      {{1, 2, 5, 6}, {3, 2, 3, 3}, {.padding = 1}, false, true},
      {{2, 4, 1, 1}, {6, 4, 1, 1}, {}, true, false},
  };
  for (const Case& c : cases) {
    CAPTURE(shape_str(c.x));
    CAPTURE(shape_str(c.w));
    const Tensor x = c.strided ? strided_leaf(c.x) : leaf(c.x);
    std::vector<Tensor> in{x, leaf(c.w)};
    if (c.bias) in.push_back(leaf({c.w[0]}));
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& v) {
          return conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.o);
        },
        in);
  }
  struct TCase {
    Shape x, w;
    ConvTranspose2dOptions o;
    bool bias, strided;
  };
  const TCase tcases[] = {
      {{2, 3, 3, 3}, {3, 2, 2, 2}, {.stride = 2}, true, false},
      {{1, 4, 3, 2},
       {4, 1, 3, 3},
       {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2},
       false,
       true},
      {{1, 2, 3, 3}, {2, 2, 2, 3}, {.output_padding = {1, 0}, .dilation = 2}, true, false},
  };
  for (const TCase& c : tcases) {
    CAPTURE(shape_str(c.x));
    const Tensor x = c.strided ? strided_leaf(c.x) : leaf(c.x);
    std::vector<Tensor> in{x, leaf(c.w)};
    if (c.bias) in.push_back(leaf({c.w[1] * c.o.groups}));
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& v) {
          return conv_transpose2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.o);
        },
        in);
  }
}

TEST_CASE("conv2d reads strided x and weight as their dense copies") {
  const Tensor x = ops::randn({2, 3, 6, 8}, {.dtype = DType::f64});
  const Tensor w = ops::randn({4, 3, 3, 3}, {.dtype = DType::f64});
  const Conv2dOptions o{.stride = 2, .padding = 1};
  const Tensor expected = conv2d(x, w, Tensor(), o);
  // A channels-last buffer viewed as NCHW, and a weight transposed twice.
  const Tensor x_cl = permute(contiguous(permute(x, {0, 2, 3, 1})), {0, 3, 1, 2});
  const Tensor w_t = transpose(contiguous(transpose(w, 2, 3)), 2, 3);
  REQUIRE(!x_cl.is_contiguous());
  REQUIRE(!w_t.is_contiguous());
  check_close(conv2d(x_cl, w_t, Tensor(), o), expected, 1e-12, 1e-12);
  check_close(conv2d(splat::test::noncontiguous(x), w, Tensor(), o), expected, 1e-12, 1e-12);
}

TEST_CASE("conv2d and conv_transpose2d reject bad input with clear errors") {
  const Tensor x = ops::randn({1, 4, 5, 5});
  const Tensor w = ops::randn({6, 2, 3, 3});
  CHECK_THROWS_WITH_ALL(conv2d(x, ops::randn({6, 3, 3, 3})), "conv2d", "weight [6, 3, 3, 3]",
                        "expects 3 input channels", "x [1, 4, 5, 5] has 4");
  CHECK_THROWS_WITH_ALL(conv2d(x, w, Tensor(), {.groups = 3}), "conv2d", "groups=3",
                        "does not divide the input channels", "[1, 4, 5, 5]");
  CHECK_THROWS_WITH_ALL(conv2d(x, ops::randn({5, 2, 3, 3}), Tensor(), {.groups = 2}), "groups=2",
                        "does not divide the output channels", "[5, 2, 3, 3]");
  CHECK_THROWS_WITH_ALL(conv2d(ops::randn({1, 2, 2, 2}), ops::randn({1, 2, 3, 3})), "conv2d",
                        "kernel 3x3", "larger than the padded input 2x2", "[1, 2, 2, 2]");
  CHECK_THROWS_WITH_ALL(
      conv2d(ops::randn({1, 2, 4, 4}), ops::randn({1, 2, 3, 3}), Tensor(), {.dilation = 2}),
      "spans 5x5", "padded input 4x4");
  CHECK_THROWS_WITH_ALL(conv2d(x, w, Tensor(), {.stride = {1, 0}, .groups = 2}), "conv2d",
                        "stride must be positive, got 1x0");
  CHECK_THROWS_WITH_ALL(conv2d(x, w, Tensor(), {.dilation = 0, .groups = 2}),
                        "dilation must be positive");
  CHECK_THROWS_WITH_ALL(conv2d(x, w, Tensor(), {.padding = -1, .groups = 2}),
                        "padding must be non-negative");
  CHECK_THROWS_WITH_ALL(conv2d(x, w, Tensor(), {.groups = 0}), "groups must be positive");
  CHECK_THROWS_WITH_ALL(conv2d(ops::randn({4, 5, 5}), w), "conv2d", "x must be 4-d", "[4, 5, 5]");
  CHECK_THROWS_WITH_ALL(conv2d(x, ops::randn({6, 4, 3})), "weight must be 4-d", "[6, 4, 3]");
  CHECK_THROWS_WITH_ALL(conv2d(x, w, ops::randn({5}), {.groups = 2}), "bias must have shape [6]",
                        "got [5]");
  CHECK_THROWS_WITH_ALL(
      conv2d(x, ops::randn({6, 2, 3, 3}, {.dtype = DType::f64}), Tensor(), {.groups = 2}), "conv2d",
      "dtype mismatch");
  CHECK_THROWS_WITH_ALL(conv2d(to(x, DType::i64), to(w, DType::i64)), "conv2d",
                        "unsupported dtype i64");

  const Tensor wt = ops::randn({4, 3, 2, 2});
  CHECK_THROWS_WITH_ALL(conv_transpose2d(ops::randn({1, 3, 4, 4}), wt), "conv_transpose2d",
                        "weight [4, 3, 2, 2]", "expects 4 input channels", "has 3");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, wt, Tensor(), {.stride = 2, .output_padding = 2}),
                        "conv_transpose2d", "output_padding 2x2", "smaller than the stride 2x2");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(ops::randn({1, 4, 1, 1}), wt, Tensor(), {.padding = 1}),
                        "conv_transpose2d", "the output would be 0x0");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, wt, ops::randn({4})), "bias must have shape [3]");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, wt, Tensor(), {.groups = 3}), "groups=3",
                        "does not divide the input channels");
}

TEST_CASE("conv2d and conv_transpose2d differentiate only the arguments that require grad") {
  const Tensor x = ops::randn({2, 4, 6, 6}, {.dtype = DType::f64});
  Tensor w = ops::randn({4, 2, 3, 3}, {.dtype = DType::f64}).requires_grad_();
  const Tensor dy = ops::randn({2, 4, 6, 6}, {.dtype = DType::f64});
  const Conv2dOptions o{.padding = 1, .groups = 2};
  autograd::backward(conv2d(x, w, Tensor(), o), dy);
  CHECK_FALSE(x.grad().defined());
  check_close(w.grad(), direct_conv2d(x, w, false, o, dy).dw, 1e-12, 1e-12);

  Tensor xt = ops::randn({2, 4, 3, 3}, {.dtype = DType::f64}).requires_grad_();
  Tensor b = ops::randn({4}, {.dtype = DType::f64}).requires_grad_();
  const Tensor wt = ops::randn({4, 2, 2, 2}, {.dtype = DType::f64});
  const ConvTranspose2dOptions ot{.stride = 2, .groups = 2};
  const Tensor dyt = ops::randn({2, 4, 6, 6}, {.dtype = DType::f64});
  autograd::backward(conv_transpose2d(xt, wt, b, ot), dyt);
  const Expected e = direct_conv_transpose2d(xt.detach(), wt, true, ot, dyt);
  check_close(xt.grad(), e.dx, 1e-12, 1e-12);
  check_close(b.grad(), e.db, 1e-12, 1e-12);
}

TEST_CASE("conv2d gives the same gradients on one thread as on several") {
  // One thread runs the items in turn (OpenBLAS threads the GEMMs); several split them and add
  // per-thread partial weight gradients.
  const int threads = num_threads();
  const Tensor x = ops::randn({4, 8, 33, 30}, {.dtype = DType::f64});
  const Tensor w = ops::randn({6, 4, 3, 3}, {.dtype = DType::f64});
  const Tensor dy = ops::randn({4, 6, 17, 15}, {.dtype = DType::f64});
  std::vector<Tensor> grads;
  for (const int t : {1, std::max(threads, 2)}) {
    set_num_threads(t);
    Tensor xl = clone(x).requires_grad_(), wl = clone(w).requires_grad_();
    autograd::backward(conv2d(xl, wl, Tensor(), {.stride = 2, .padding = 1, .groups = 2}), dy);
    grads.push_back(xl.grad());
    grads.push_back(wl.grad());
  }
  set_num_threads(threads);
  check_close(grads[2], grads[0], 1e-12, 1e-12);
  check_close(grads[3], grads[1], 1e-12, 1e-12);
}

TEST_CASE("conv2d of an empty batch is empty and its weight gradient is zero") {
  Tensor x = ops::randn({0, 4, 5, 5}).requires_grad_();
  Tensor w = ops::randn({6, 2, 3, 3}).requires_grad_();
  const Tensor y = conv2d(x, w, Tensor(), {.padding = 1, .groups = 2});
  CHECK(y.shape() == Shape{0, 6, 5, 5});
  autograd::backward(y, ops::zeros(y.shape()));
  CHECK(x.grad().shape() == x.shape());
  check_close(w.grad(), ops::zeros(w.shape()), 0, 0);
}
