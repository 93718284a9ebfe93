// CUDA pooling on the emulated device: parity with the CPU kernels (forward, indices and
// gradients) on larger float32 and float64 inputs over every configuration, strided inputs, and
// float64 gradcheck on the device.
#include "ops/pool.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_cuda_parity;
using splat::test::kCuda;
using splat::test::leaf;
using In = std::vector<Tensor>;

namespace {

struct Config {
  Size2 kernel, stride, padding, dilation = 1;
  bool ceil_mode = false, count_include_pad = true;
};

const Config kConfigs[] = {
    {.kernel = 3, .stride = 2, .padding = 1},
    {.kernel = 2, .stride = 2, .padding = 0, .ceil_mode = true, .count_include_pad = false},
    {.kernel = 3, .stride = 3, .padding = 1, .ceil_mode = true},
    {.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false},
    {.kernel = {3, 2}, .stride = {1, 2}, .padding = {1, 0}, .dilation = {2, 1}, .ceil_mode = true},
};

std::vector<Tensor> pools(const Tensor& x, const Config& c) {
  const auto m = max_pool2d(x, {.kernel = c.kernel,
                                .stride = c.stride,
                                .padding = c.padding,
                                .dilation = c.dilation,
                                .ceil_mode = c.ceil_mode});
  std::vector<Tensor> out{m.values, m.indices};
  if (c.dilation == Size2(1))
    out.push_back(avg_pool2d(x, {.kernel = c.kernel,
                                 .stride = c.stride,
                                 .padding = c.padding,
                                 .ceil_mode = c.ceil_mode,
                                 .count_include_pad = c.count_include_pad}));
  return out;
}

} // namespace

TEST_SUITE_BEGIN("cuda pool" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: max_pool2d and avg_pool2d match the CPU in float32 and float64") {
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor x = ops::randn({2, 8, 15, 13}, {.dtype = dt}).requires_grad_();
    for (const Config& c : kConfigs) {
      CAPTURE(dt);
      CAPTURE(c.kernel.h);
      CAPTURE(c.ceil_mode);
      CAPTURE(c.count_include_pad);
      check_cuda_parity([&](const In& in) { return pools(in[0], c); }, {x}, 1e-6, 1e-6);
    }
  }
}

TEST_CASE("cuda: adaptive and global average pooling match the CPU; strided inputs") {
  const Tensor x = ops::randn({2, 6, 11, 9}).requires_grad_();
  check_cuda_parity(
      [](const In& in) {
        const Tensor t = transpose(in[0], 2, 3); // a strided view
        return std::vector<Tensor>{adaptive_avg_pool2d(in[0], {4, 5}),
                                   adaptive_avg_pool2d(in[0], {13, 3}), global_avg_pool2d(in[0]),
                                   avg_pool2d(t, {.kernel = 3, .stride = 2, .padding = 1}),
                                   max_pool2d(t, {.kernel = 2, .ceil_mode = true}).values};
      },
      {x}, 1e-6, 1e-6);
}

TEST_CASE("cuda: pool float64 gradcheck on the device") {
  const Tensor x = leaf({1, 2, 5, 6}, -1, 1, kCuda);
  for (const Config& c : kConfigs) {
    CAPTURE(c.kernel.h);
    CAPTURE(c.ceil_mode);
    CHECK_GRADCHECK([&](const In& in) { return pools(in[0], c)[0]; }, {x});
    if (c.dilation == Size2(1))
      CHECK_GRADCHECK([&](const In& in) { return pools(in[0], c)[2]; }, {x});
  }
  CHECK_GRADCHECK([](const In& in) { return adaptive_avg_pool2d(in[0], {3, 4}); }, {x});
  CHECK_GRADCHECK([](const In& in) { return adaptive_avg_pool2d(in[0], {7, 4}); }, {x});
}

TEST_SUITE_END();
