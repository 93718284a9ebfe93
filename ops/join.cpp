#include "ops/join.h"

#include "ops/autograd_support.h"
#include "ops/cpu/copy.h"
#include "ops/cuda/copy.h"
#include "ops/device_dispatch.h"
#include "ops/view.h"

#include <algorithm>
#include <string_view>

namespace splat::ops {
namespace {

// Checks that tensors can be joined along dim (see cat) and returns the wrapped dim. `op` names
// the public op in errors, so stack reports its own name for the checks it shares with cat.
int64_t check_joinable(std::string_view op, const std::vector<Tensor>& tensors, int64_t dim) {
  SPLAT_CHECK(!tensors.empty(), op, ": expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i)
    SPLAT_CHECK(tensors[i].defined(), op, ": tensor ", i, " is undefined");
  const Tensor& first = tensors[0];
  SPLAT_CHECK(first.dim() > 0, op, ": tensor 0 is 0-d; zero-dimensional tensors cannot be joined",
              " (use stack, or unsqueeze them first)");
  dim = wrap_dim(op, dim, first.dim());
  for (size_t i = 1; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    SPLAT_CHECK(t.device() == first.device(), op, ": tensor ", i, " is on ", t.device(),
                " but tensor 0 is on ", first.device());
    SPLAT_CHECK(t.dtype() == first.dtype(), op, ": tensor ", i, " has dtype ", t.dtype(),
                " but tensor 0 has ", first.dtype(), "; convert it with to(dtype)");
    SPLAT_CHECK(t.dim() == first.dim(), op, ": tensor ", i, " has shape ", shape_str(t.shape()),
                " (", t.dim(), "-d) but tensor 0 has shape ", shape_str(first.shape()), " (",
                first.dim(), "-d)");
    for (int64_t d = 0; d < t.dim(); ++d)
      SPLAT_CHECK(d == dim || t.shape()[d] == first.shape()[d], op, ": tensor ", i, " has shape ",
                  shape_str(t.shape()), " but tensor 0 has shape ", shape_str(first.shape()),
                  "; sizes must match except in dim ", dim, " (dim ", d, ": ", t.shape()[d],
                  " vs ", first.shape()[d], ")");
  }
  return dim;
}

// The joining itself: each input is copied into its slab of the output, a narrow() view, so the
// copy kernel handles every stride pattern and dtype and no dedicated kernel is needed.
Tensor join(std::string_view op, const std::vector<Tensor>& tensors, int64_t dim) {
  dim = check_joinable(op, tensors, dim);
  Shape shape = tensors[0].shape();
  shape[dim] = 0;
  for (const Tensor& t : tensors) shape[dim] += t.shape()[dim];
  Tensor out = Tensor::empty(std::move(shape), tensors[0].dtype(), tensors[0].device());
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    SPLAT_KERNEL(out.device(), copy, narrow(out, dim, start, t.shape()[dim]), t);
    start += t.shape()[dim];
  }
  if (autograd::needs_grad(tensors)) {
    // Each input's gradient is its slab of the output's gradient.
    std::vector<int64_t> sizes;
    for (const Tensor& t : tensors) sizes.push_back(t.shape()[dim]);
    record(std::string(op), tensors, {out}, [sizes, dim](const Grads& g, const Needs& needs) {
      Grads r(sizes.size());
      int64_t at = 0;
      for (size_t i = 0; i < sizes.size(); at += sizes[i], ++i)
        if (needs[i]) r[i] = narrow(g[0], dim, at, sizes[i]);
      return r;
    });
  }
  return out;
}

// The wrapped dim of t that split/chunk cut along.
int64_t split_dim(std::string_view op, const Tensor& t, int64_t dim) {
  SPLAT_CHECK(t.defined(), op, ": undefined tensor");
  SPLAT_CHECK(t.dim() > 0, op, ": cannot split a 0-d tensor");
  return wrap_dim(op, dim, t.dim());
}

std::vector<Tensor> pieces(const Tensor& t, const std::vector<int64_t>& sizes, int64_t dim) {
  std::vector<Tensor> out;
  out.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(t, dim, start, s));
    start += s;
  }
  return out;
}

} // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) { return join("cat", tensors, dim); }

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  SPLAT_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i)
    SPLAT_CHECK(tensors[i].defined(), "stack: tensor ", i, " is undefined");
  const Shape& shape = tensors[0].shape();
  dim = wrap_dim("stack", dim, tensors[0].dim() + 1);
  for (size_t i = 1; i < tensors.size(); ++i)
    SPLAT_CHECK(tensors[i].shape() == shape, "stack: tensor ", i, " has shape ",
                shape_str(tensors[i].shape()), " but tensor 0 has shape ", shape_str(shape),
                "; stack needs equal shapes");
  std::vector<Tensor> unsqueezed;
  unsqueezed.reserve(tensors.size());
  for (const Tensor& t : tensors) unsqueezed.push_back(unsqueeze(t, dim));
  return join("stack", unsqueezed, dim);
}

std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim) {
  dim = split_dim("split", t, dim);
  const int64_t n = t.shape()[dim];
  SPLAT_CHECK(split_size > 0 || (split_size == 0 && n == 0),
              "split: split_size must be positive, got ", split_size, " (dim ", dim, " has size ", n,
              ")");
  if (n == 0) return {narrow(t, dim, 0, 0)};
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < n; start += split_size)
    sizes.push_back(std::min(split_size, n - start));
  return pieces(t, sizes, dim);
}

std::vector<Tensor> split(const Tensor& t, const std::vector<int64_t>& sizes, int64_t dim) {
  dim = split_dim("split", t, dim);
  int64_t total = 0;
  for (int64_t s : sizes) {
    SPLAT_CHECK(s >= 0, "split: negative size ", s, " in sizes ", shape_str(sizes));
    total += s;
  }
  SPLAT_CHECK(total == t.shape()[dim], "split: sizes ", shape_str(sizes), " sum to ", total,
              " but dim ", dim, " of shape ", shape_str(t.shape()), " has size ", t.shape()[dim]);
  return pieces(t, sizes, dim);
}

std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim) {
  dim = split_dim("chunk", t, dim);
  SPLAT_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  const int64_t n = t.shape()[dim];
  // split() would return a single piece for an empty dim; PyTorch keeps the requested count.
  if (n == 0) return pieces(t, std::vector<int64_t>(chunks, 0), dim);
  return split(t, (n + chunks - 1) / chunks, dim);
}

} // namespace splat::ops
