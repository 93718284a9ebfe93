#include "ops/cpu/scan.h"

#include "ops/cpu/parallel.h"
#include "ops/cpu/sort.h"

#include <algorithm>
#include <array>
#include <type_traits>

namespace splat::ops::cpu {
namespace {

// Slices are scanned in blocks that step along dim together. When dim is not the innermost,
// neighbouring slices are neighbours in memory, so each step reads and writes one short dense
// run instead of striding through memory once per slice.
constexpr int64_t kBlock = 16;

} // namespace

void cumsum(const Tensor& out, const Tensor& x, int64_t dim) {
  dispatch<DTypeSet::all>(x.dtype(), "cumsum", [&]<class T>() {
    using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    using Acc = acc_t<T>;
    const DimSlices xs(x, dim), os(out, dim);
    const T* px = x.data<T>();
    Out* po = out.data<Out>();
    const int64_t n = xs.length(), count = xs.count();
    // A slice that is dense already streams on its own.
    const int64_t block = xs.stride() == 1 ? 1 : kBlock;
    parallel_for((count + block - 1) / block, block * n, [&](int64_t begin, int64_t end) {
      std::array<Acc, kBlock> acc;
      std::array<int64_t, kBlock> xo, oo;
      for (int64_t b = begin; b < end; ++b) {
        const int64_t first = b * block, m = std::min(block, count - first);
        for (int64_t j = 0; j < m; ++j) {
          xo[j] = xs.offset(first + j);
          oo[j] = os.offset(first + j);
          acc[j] = Acc(0);
        }
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t j = 0; j < m; ++j) {
            acc[j] += static_cast<Acc>(px[xo[j] + i * xs.stride()]);
            po[oo[j] + i * os.stride()] = static_cast<Out>(acc[j]);
          }
        }
      }
    });
  });
}

} // namespace splat::ops::cpu
