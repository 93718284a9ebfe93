// Convolutions through cuDNN, behind one header with two implementations (design.md section 5):
// dnn_real.cpp calls cuDNN (meson -Dcuda=enabled); emu/dnn_emu.cpp, for the emulated build,
// reports cuDNN as unavailable, so the hand-written kernels (ops/cuda/conv.cu) run there. Callers
// always keep that fallback: every entry point returns false, having done nothing, when cuDNN is
// off or does not support the case.
//
// Tensors are dense NCHW of one dtype (f32 or f64) in device memory of the current device:
// x (n, c_in, h, w), w (c_out, c_in / groups, kh, kw), y (n, c_out, ho, wo). Every call
// overwrites its output. The real implementation keeps one cuDNN handle per device (bound to the
// caller's stream on each call), builds descriptors per call, chooses a deterministic algorithm
// with cudnnGetConvolution*Algorithm_v7 once per geometry and takes its workspace from the
// caching allocator. f32 convolutions may use TF32 tensor cores, as the GEMMs do (blas.h).
// Every failing cuDNN call throws splat::Error naming the call, the caller's file and line, and
// the status.
#pragma once

#include "core/cuda/runtime.h"
#include "core/dtype.h"

#include <cstdint>
#include <source_location>

namespace splat::cuda::dnn {

struct ConvShape {
  DType dtype = DType::f32;
  int64_t n = 0, c_in = 0, h = 0, w = 0;
  int64_t c_out = 0, ho = 0, wo = 0;
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

// True in the real build unless the environment sets SPLAT_DISABLE_CUDNN=1 (read once), which
// forces the hand-written kernels so that both paths can be checked on a GPU. Always false in the
// emulated build.
bool enabled();

// y = conv2d(x, w).
bool convolution_forward(const ConvShape& s, const void* x, const void* w, void* y,
                         Stream stream = {},
                         std::source_location where = std::source_location::current());
// dx = the gradient of conv2d with respect to x, given dy (shaped like y).
bool convolution_backward_data(const ConvShape& s, const void* dy, const void* w, void* dx,
                               Stream stream = {},
                               std::source_location where = std::source_location::current());
// dw = the gradient of conv2d with respect to w, given x and dy.
bool convolution_backward_filter(const ConvShape& s, const void* x, const void* dy, void* dw,
                                 Stream stream = {},
                                 std::source_location where = std::source_location::current());

} // namespace splat::cuda::dnn
