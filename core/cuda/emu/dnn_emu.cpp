// core/cuda/dnn.h for the emulated build: there is no cuDNN, so every convolution is left to the
// hand-written kernels of ops/cuda/conv.cu, which is what the tests check.
#include "core/cuda/dnn.h"

namespace splat::cuda::dnn {

bool enabled() { return false; }

bool convolution_forward(const ConvShape&, const void*, const void*, void*, Stream,
                         std::source_location) {
  return false;
}
bool convolution_backward_data(const ConvShape&, const void*, const void*, void*, Stream,
                               std::source_location) {
  return false;
}
bool convolution_backward_filter(const ConvShape&, const void*, const void*, void*, Stream,
                                 std::source_location) {
  return false;
}

} // namespace splat::cuda::dnn
