#include "ops/sort.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/sort.h"
#include "ops/cuda/sort.h"
#include "ops/device_dispatch.h"
#include "ops/index.h"
#include "ops/view.h"

namespace splat::ops {
namespace {

// The wrapped dim and the length of x along it (a 0-d tensor counts as one element).
struct SortDim {
  int64_t dim;
  int64_t size;
};

SortDim sort_dim(std::string_view op, const Tensor& x, int64_t dim) {
  check_same_device(op, {&x});
  const int64_t d = wrap_dim(op, dim, x.dim());
  return {d, x.dim() == 0 ? 1 : x.shape()[d]};
}

// sort and topk values are x's elements at indices: their gradient goes back to those positions.
void record_selection(std::string_view op, const Tensor& x, const SortResult& r, int64_t dim) {
  if (!autograd::needs_grad({x})) return;
  record(
      std::string(op), {x}, {r.values, r.indices},
      [dim, shape = x.shape(), si = SavedTensor(r.indices)](const Grads& g, const Needs&) {
        if (shape.empty()) return Grads{reshape(g[0], shape)};
        return Grads{scatter_add(zeros(shape, {g[0].dtype(), g[0].device()}), dim, si.get(), g[0])};
      });
}

} // namespace

SortResult sort(const Tensor& x, int64_t dim, bool descending) {
  const SortDim sd = sort_dim("sort", x, dim);
  SortResult r{Tensor::empty(x.shape(), x.dtype(), x.device()),
               Tensor::empty(x.shape(), DType::i64, x.device())};
  SPLAT_KERNEL(x.device(), sort_prefix, r.values, r.indices, x, sd.dim, sd.size, descending, false);
  record_selection("sort", x, r, sd.dim);
  return r;
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  const SortDim sd = sort_dim("argsort", x, dim);
  Tensor indices = Tensor::empty(x.shape(), DType::i64, x.device());
  SPLAT_KERNEL(x.device(), sort_prefix, Tensor(), indices, x, sd.dim, sd.size, descending, false);
  return indices;
}

SortResult topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  const SortDim sd = sort_dim("topk", x, dim);
  SPLAT_CHECK(k >= 0 && k <= sd.size, "topk: k = ", k, " out of range for dim ", dim, " of size ",
              sd.size, " (shape ", shape_str(x.shape()), "; expected 0 <= k <= ", sd.size, ")");
  Shape shape = x.shape();
  if (x.dim() > 0)
    shape[sd.dim] = k;
  else if (k == 0)
    shape = {0};
  SortResult r{Tensor::empty(shape, x.dtype(), x.device()),
               Tensor::empty(shape, DType::i64, x.device())};
  SPLAT_KERNEL(x.device(), sort_prefix, r.values, r.indices, x, sd.dim, k, largest, !sorted);
  record_selection("topk", x, r, sd.dim);
  return r;
}

UniqueResult unique(const Tensor& x, bool return_inverse, bool return_counts) {
  check_same_device("unique", {&x});
  // Positions along the flattened tensor are the row-major flat indices that inverse needs.
  const Tensor flat = reshape(x, {x.numel()});
  const int64_t n = flat.numel();
  const Tensor sorted = Tensor::empty({n}, x.dtype(), x.device());
  const Tensor perm = Tensor::empty({n}, DType::i64, x.device());
  SPLAT_KERNEL(x.device(), sort_prefix, sorted, perm, flat, 0, n, false, false);
  const int64_t u = SPLAT_KERNEL(x.device(), count_runs, sorted);
  UniqueResult r;
  r.values = Tensor::empty({u}, x.dtype(), x.device());
  if (return_inverse) r.inverse = Tensor::empty(x.shape(), DType::i64, x.device());
  if (return_counts) r.counts = Tensor::empty({u}, DType::i64, x.device());
  SPLAT_KERNEL(x.device(), unique_runs, r.values, r.counts, r.inverse, sorted, perm);
  return r;
}

} // namespace splat::ops
