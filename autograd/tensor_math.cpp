#include "autograd/tensor_math.h"

namespace splat::autograd {
namespace {
const TensorMath* g_math = nullptr;
TensorMath g_storage;
} // namespace

void set_tensor_math(const TensorMath& math) {
  g_storage = math;
  g_math = &g_storage;
}

const TensorMath& tensor_math() {
  SPLAT_CHECK(g_math != nullptr, "autograd: tensor arithmetic is not installed (no op has been "
              "recorded yet); call splat::ops::install_autograd_math()");
  return *g_math;
}

} // namespace splat::autograd
