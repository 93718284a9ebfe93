#include "ops/index.h"

#include "core/cuda/host_sync.h"
#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/index.h"
#include "ops/cuda/index.h"
#include "ops/device_dispatch.h"
#include "ops/view.h"

#include <string_view>

namespace splat::ops {
namespace {

void check_index_dtype(std::string_view op, const Tensor& index) {
  SPLAT_CHECK(contains(cpu::kIndexDTypes, index.dtype()), op, ": index must be i64 or i32, got ",
              index.dtype());
}

// "2" for a 1-d index, "[1, 0]" for others.
std::string position_str(const Shape& shape, int64_t flat) {
  if (shape.size() == 1) return std::to_string(flat);
  Shape coords(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    coords[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(coords);
}

// Every index value lies in [0, size) of dim; runs before any kernel so that kernels need no
// bounds checks (and cannot throw inside a parallel region).
void check_index_values(std::string_view op, const Tensor& index, int64_t dim, int64_t size) {
  splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::bounds_check);
  const auto bad = SPLAT_KERNEL(index.device(), find_bad_index, index, size);
  SPLAT_CHECK(!bad, op, ": index ", bad->value, " at position ",
              position_str(index.shape(), bad->position), " is out of range for dim ", dim,
              " of size ", size, bad->value < 0 ? " (negative indices are not supported)" : "");
}

// The number of nonzero elements of x, which sizes the output of masked_select and nonzero.
int64_t output_size(const Tensor& x) {
  splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::output_size);
  return SPLAT_KERNEL(x.device(), count_nonzero, x);
}

// gather and scatter treat a 0-d tensor as shape [1], as PyTorch does.
Tensor at_least_1d(const Tensor& t) { return t.dim() == 0 ? unsqueeze(t, 0) : t; }

void check_same_ndim(std::string_view op, const Tensor& index, const Tensor& t,
                     std::string_view name) {
  SPLAT_CHECK(index.dim() == t.dim(), op, ": index of shape ", shape_str(index.shape()), " (",
              index.dim(), "-d) and ", name, " of shape ", shape_str(t.shape()), " (", t.dim(),
              "-d) must have the same number of dims");
}

// index is no larger than t in every dim except skip_dim (-1: none).
void check_index_fits(std::string_view op, const Tensor& index, const Tensor& t,
                      std::string_view name, int64_t skip_dim) {
  for (int64_t d = 0; d < t.dim(); ++d)
    SPLAT_CHECK(d == skip_dim || index.shape()[d] <= t.shape()[d], op, ": index of shape ",
                shape_str(index.shape()), " is larger than ", name, " of shape ",
                shape_str(t.shape()), " in dim ", d, " (", index.shape()[d], " vs ", t.shape()[d],
                ")");
}

} // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_same_device("index_select", {&x, &index});
  SPLAT_CHECK(x.dim() > 0, "index_select: cannot index a 0-d tensor");
  dim = wrap_dim("index_select", dim, x.dim());
  SPLAT_CHECK(index.dim() == 1, "index_select: index must be 1-d, got shape ",
              shape_str(index.shape()));
  check_index_dtype("index_select", index);
  check_index_values("index_select", index, dim, x.shape()[dim]);
  Shape shape = x.shape();
  shape[dim] = index.shape()[0];
  Tensor out = Tensor::empty(std::move(shape), x.dtype(), x.device());
  SPLAT_KERNEL(out.device(), index_select, out, x, dim, index);
  if (autograd::needs_grad({x})) {
    // Rows picked several times receive the sum of their gradients.
    record("index_select", {x}, {out}, [dim, shape = x.shape(), si = SavedTensor(index)](const Grads& g, const Needs&) {
      Tensor gx = zeros(shape, {g[0].dtype(), g[0].device()});
      SPLAT_KERNEL(gx.device(), index_add, gx, dim, si.get(), g[0]);
      return Grads{gx};
    });
  }
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_same_device("gather", {&x, &index});
  check_index_dtype("gather", index);
  const Tensor x1 = at_least_1d(x), index1 = at_least_1d(index);
  dim = wrap_dim("gather", dim, x1.dim());
  check_same_ndim("gather", index1, x1, "input");
  check_index_fits("gather", index1, x1, "input", dim);
  check_index_values("gather", index1, dim, x1.shape()[dim]);
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  SPLAT_KERNEL(out.device(), gather, at_least_1d(out), x1, dim, index1);
  if (autograd::needs_grad({x})) {
    // The kernel, not scatter_add: forward checked these index values already, and checking
    // them again would read them back to the host (core/cuda/host_sync.h).
    record("gather", {x}, {out}, [dim, shape = x.shape(), si = SavedTensor(index1)](const Grads& g, const Needs&) {
      Tensor gx = zeros(shape, {g[0].dtype(), g[0].device()});
      SPLAT_KERNEL(gx.device(), scatter_add, at_least_1d(gx), dim, si.get(), at_least_1d(g[0]));
      return Grads{gx};
    });
  }
  return out;
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = clone(self);
  return scatter_add_(out, dim, index, src);
}

Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_same_device("scatter_add", {&self, &index, &src});
  check_index_dtype("scatter_add", index);
  check_same_dtype("scatter_add", self, src);
  SPLAT_CHECK(contains(DTypeSet::numeric, self.dtype()), "scatter_add: unsupported dtype ",
              self.dtype());
  const Tensor self1 = at_least_1d(self), index1 = at_least_1d(index), src1 = at_least_1d(src);
  dim = wrap_dim("scatter_add", dim, self1.dim());
  check_same_ndim("scatter_add", index1, self1, "self");
  check_same_ndim("scatter_add", index1, src1, "src");
  check_index_fits("scatter_add", index1, src1, "src", -1);
  check_index_fits("scatter_add", index1, self1, "self", dim);
  check_writable("scatter_add_", self);
  check_index_values("scatter_add", index1, dim, self1.shape()[dim]);
  const bool grad = autograd::needs_grad({self, src});
  if (grad) autograd::check_inplace("scatter_add_", self);
  SPLAT_KERNEL(self1.device(), scatter_add, self1, dim, index1, src1);
  self.storage()->bump_version();
  if (grad) {
    // self passes its gradient through; src gets the gradient at the positions it was added to
    // (zero where src is larger than index).
    record("scatter_add_", {self, src}, {self},
           [dim, si = SavedTensor(index1), src_shape = src.shape()](const Grads& g, const Needs& needs) {
             if (!needs[1]) return Grads{g[0], Tensor()};
             const Tensor picked = gather(at_least_1d(g[0]), dim, si.get());
             Tensor gsrc = zeros(src_shape, {g[0].dtype(), g[0].device()});
             Tensor region = at_least_1d(gsrc);
             for (int64_t d = 0; d < picked.dim(); ++d) region = narrow(region, d, 0, picked.shape()[d]);
             copy_(region, picked);
             return Grads{g[0], gsrc};
           });
  }
  return self;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  check_same_device("masked_select", {&x, &mask});
  SPLAT_CHECK(mask.dtype() == DType::b8, "masked_select: mask must be bool, got ", mask.dtype());
  const Shape shape = broadcast_shapes("masked_select", x.shape(), mask.shape());
  const Tensor xb = expand(x, shape), maskb = expand(mask, shape);
  const int64_t count = output_size(maskb);
  Tensor out = Tensor::empty({count}, x.dtype(), x.device());
  SPLAT_KERNEL(out.device(), masked_select, out, xb, maskb);
  if (autograd::needs_grad({x})) {
    record("masked_select", {x}, {out}, [sm = SavedTensor(maskb), shape = x.shape()](const Grads& g, const Needs&) {
      Tensor gx = zeros(sm.get().shape(), {g[0].dtype(), g[0].device()});
      SPLAT_KERNEL(gx.device(), masked_scatter, gx, sm.get(), g[0]);
      return Grads{sum_to(gx, shape)};
    });
  }
  return out;
}

Tensor nonzero(const Tensor& x) {
  check_same_device("nonzero", {&x});
  const int64_t count = output_size(x);
  Tensor out = Tensor::empty({count, x.dim()}, DType::i64, x.device());
  SPLAT_KERNEL(out.device(), nonzero, out, x);
  return out;
}

} // namespace splat::ops
