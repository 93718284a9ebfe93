// Random fills on the GPU: one thread per element in a grid-stride loop; the thread turns the
// element's row-major number i into its memory offset and writes f(i), f being a functor around
// the core/philox.h conversions of block philox_block(seed, offset + i). Nothing depends on the
// launch shape, so results equal the CPU's bit for bit (up to the libm-vs-CUDA last-ulp caveat
// for normal that core/philox.h states).
//
// randperm sorts (key, index) pairs with the sort kernels of ops/cuda/sort.cu: the unsigned
// 64-bit keys are stored as i64 with the sign bit flipped, which keeps their order.
#include "ops/cuda/random.h"

#include "ops/cuda/copy.h"
#include "ops/cuda/loop.cuh"
#include "ops/cuda/sort.h"

namespace splat::ops::cuda {
namespace {

template <class T, class F>
__global__ void fill_indexed_kernel(int64_t n, Offsets<1> oc, T* out, F f) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[1];
    oc.at(i, off);
    out[off[0]] = f(i);
  }
}

// Writes f(i) into the i-th element of out in row-major order, for any strides.
template <class T, class F> void fill_indexed(const Tensor& out, F f) {
  const int64_t n = out.numel();
  if (n == 0) return;
  // Coalescing merges dims only when that keeps row-major order, so index i stays element i.
  const Offsets<1> oc = offsets_of<1>(make_geometry<1>(out.shape(), {&out}), out.shape());
  splat::cuda::DeviceGuard guard(out.device());
  splat::cuda::launch(fill_indexed_kernel<T, F>, {blocks_for(n), kThreads}, n, oc, out.data<T>(),
                      f);
}

template <class T> struct Uniform {
  PhiloxState st;
  double lo, hi;
  SPLAT_HD T operator()(int64_t i) const {
    return philox_uniform_in<T>(philox_block(st.seed, st.offset + i), lo, hi);
  }
};

template <class T> struct Normal {
  PhiloxState st;
  double mean, std;
  SPLAT_HD T operator()(int64_t i) const {
    return static_cast<T>(mean + std * philox_normal(philox_block(st.seed, st.offset + i)));
  }
};

template <class T> struct RandInt {
  PhiloxState st;
  int64_t low;
  uint64_t range;
  SPLAT_HD T operator()(int64_t i) const {
    return static_cast<T>(philox_randint(philox_block(st.seed, st.offset + i), low, range));
  }
};

struct PermKey {
  PhiloxState st;
  SPLAT_HD int64_t operator()(int64_t i) const {
    const PhiloxBlock b = philox_block(st.seed, st.offset + i);
    return static_cast<int64_t>(philox_u64(b.w[0], b.w[1]) ^ (uint64_t{1} << 63));
  }
};

} // namespace

void uniform(const Tensor& out, PhiloxState st, double lo, double hi) {
  dispatch<DTypeSet::floating>(out.dtype(), "uniform_", [&]<class T>() {
    fill_indexed<T>(out, Uniform<T>{st, lo, hi});
  });
}

void normal(const Tensor& out, PhiloxState st, double mean, double std) {
  dispatch<DTypeSet::floating>(out.dtype(), "normal_", [&]<class T>() {
    fill_indexed<T>(out, Normal<T>{st, mean, std});
  });
}

void randint(const Tensor& out, PhiloxState st, int64_t low, uint64_t range) {
  dispatch<DTypeSet::numeric>(out.dtype(), "randint", [&]<class T>() {
    fill_indexed<T>(out, RandInt<T>{st, low, range});
  });
}

void randperm(const Tensor& out, PhiloxState st) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Tensor keys = Tensor::empty({n}, DType::i64, out.device());
  const Tensor perm = Tensor::empty({n}, DType::i64, out.device());
  fill_indexed<int64_t>(keys, PermKey{st});
  sort_prefix(Tensor(), perm, keys, 0, n, false, false);
  copy(out, perm);
}

} // namespace splat::ops::cuda
