// PyTorch parity of conv2d and conv_transpose2d, forward and every gradient (fixtures from
// scripts/fixtures/torch_conv.py; the harness is tests/ops/torch_parity.h).
#include "ops/conv.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_torch_parity;
using splat::test::one;
using splat::test::ParityCases;

namespace {

const ParityCases& cases() {
  static const ParityCases c = {
      {"conv2d_grouped",
       one([](auto& in) { return conv2d(in[0], in[1], in[2], {.padding = 1, .groups = 2}); })},
      {"conv2d_dilated",
       one([](auto& in) { return conv2d(in[0], in[1], Tensor(), {.padding = 2, .dilation = 2}); })},
      {"conv2d_strided", one([](auto& in) {
         return conv2d(in[0], in[1], in[2], {.stride = {2, 3}, .padding = {1, 0}});
       })},
      {"conv2d_depthwise", one([](auto& in) {
         return conv2d(in[0], in[1], Tensor(), {.stride = 2, .padding = 1, .groups = 4});
       })},
      {"conv2d_pointwise", one([](auto& in) { return conv2d(in[0], in[1], in[2]); })},
      {"conv_transpose2d_k2s2",
       one([](auto& in) { return conv_transpose2d(in[0], in[1], in[2], {.stride = 2}); })},
      {"conv_transpose2d_padded", one([](auto& in) {
         return conv_transpose2d(in[0], in[1], in[2],
                                 {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
       })},
      {"conv_transpose2d_dilated", one([](auto& in) {
         return conv_transpose2d(in[0], in[1], Tensor(), {.output_padding = 1, .dilation = 2});
       })},
  };
  return c;
}

} // namespace

TEST_CASE("conv2d and conv_transpose2d match PyTorch forward and backward") {
  check_torch_parity("torch_conv.safetensors", cases(), 1e-10, 1e-10);
}
