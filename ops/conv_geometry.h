// The shape of one 2-D convolution as every conv kernel (CPU, CUDA, cuDNN) sees it.
//
// Plain data with SPLAT_HD accessors, passed by value to CUDA kernels.
//
// A geometry always describes a conv2d: input (n, c_in, h, w), weight (c_out, c_in / groups, kh,
// kw), output (n, c_out, ho, wo). conv_transpose2d runs the same kernels on the conv2d whose
// input gradient it is (its output is that conv's input), so ho and wo are stored rather than
// derived: with an output_padding of at least the stride the conv2d formula would give one more
// row than the transposed input has.
#pragma once

#include "core/cuda/hd.h"

#include <cstdint>

namespace splat::ops {

struct ConvGeometry {
  int64_t n = 0, c_in = 0, h = 0, w = 0; // input
  int64_t c_out = 0, ho = 0, wo = 0;     // output
  int64_t kh = 1, kw = 1;                // kernel
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t groups = 1;

  SPLAT_HD int64_t cin_g() const { return c_in / groups; }
  SPLAT_HD int64_t cout_g() const { return c_out / groups; }
  // Rows of the im2col matrix of one group: (channel, kernel row, kernel column), row-major.
  SPLAT_HD int64_t col_rows() const { return cin_g() * kh * kw; }
  SPLAT_HD int64_t in_plane() const { return h * w; }
  SPLAT_HD int64_t out_plane() const { return ho * wo; }
  // Each output pixel reads exactly the input pixel at its position: the input plane is its own
  // im2col matrix, so no copy is needed.
  SPLAT_HD bool is_pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && ho == h && wo == w;
  }
  // Multiply-adds of the convolution (for benchmarks).
  SPLAT_HD double macs() const { return double(n) * c_out * out_plane() * col_rows(); }
};

} // namespace splat::ops
