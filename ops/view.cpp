#include "ops/view.h"

#include "ops/autograd_support.h"
#include "ops/copy.h"

#include <algorithm>

namespace splat::ops {
namespace {

// Resolves a single -1 in shape against numel; errors name both shapes.
Shape infer_shape(std::string_view op, const Tensor& t, Shape shape) {
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      SPLAT_CHECK(infer_at < 0, op, ": only one dim can be -1, got ", shape_str(shape));
      infer_at = static_cast<int64_t>(i);
    } else {
      SPLAT_CHECK(shape[i] >= 0, op, ": invalid size ", shape[i], " in shape ", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    SPLAT_CHECK(known != 0 && t.numel() % known == 0, op, ": shape ", shape_str(shape),
                " is invalid for input of shape ", shape_str(t.shape()), " (", t.numel(),
                " elements)");
    shape[infer_at] = t.numel() / known;
  } else {
    SPLAT_CHECK(known == t.numel(), op, ": shape ", shape_str(shape), " is invalid for input of shape ",
                shape_str(t.shape()), " (", t.numel(), " elements)");
  }
  return shape;
}

// Records a view op: back maps the view's gradient to a gradient of the input's shape.
// Views are marked even when nothing requires grad, so that an in-place op that would give a
// view history its base cannot see is refused (autograd::check_inplace) instead of silently
// losing gradients.
template <class Back> Tensor as_view(std::string_view op, const Tensor& in, Tensor out, Back back) {
  if (autograd::needs_grad({in}))
    record(std::string(op), {in}, {out}, [back](const Grads& g, const Needs&) { return Grads{back(g[0])}; },
           /*is_view=*/true);
  else if (autograd::grad_enabled())
    out.autograd().is_view = true;
  return out;
}

// The gradient of a view that picks some elements: zeros with g written where the view was.
template <class Pick> Tensor scatter_into_zeros(const Tensor& g, const Shape& shape, Pick pick) {
  Tensor z = zeros(shape, {g.dtype(), g.device()});
  Tensor region = pick(z);
  copy_(region, g);
  return z;
}

} // namespace

std::optional<Strides> view_strides(const Shape& shape, const Strides& strides, const Shape& new_shape) {
  if (numel(shape) == 0 || shape.empty()) return contiguous_strides(new_shape);
  // Walk the old dims from the innermost, grouping runs that are contiguous with each other
  // ("chunks"); each chunk must be covered exactly by a run of new dims.
  Strides out(new_shape.size());
  int64_t nd = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_stride = strides.back();
  int64_t chunk_numel = 1, view_numel = 1;
  for (int64_t od = static_cast<int64_t>(shape.size()) - 1; od >= 0; --od) {
    chunk_numel *= shape[od];
    const bool chunk_ends =
        od == 0 || (shape[od - 1] != 1 && strides[od - 1] != chunk_numel * chunk_stride);
    if (!chunk_ends) continue;
    while (nd >= 0 && (view_numel < chunk_numel || new_shape[nd] == 1)) {
      out[nd] = view_numel * chunk_stride;
      view_numel *= new_shape[nd];
      --nd;
    }
    if (view_numel != chunk_numel) return std::nullopt;
    if (od > 0) {
      chunk_stride = strides[od - 1];
      chunk_numel = 1;
      view_numel = 1;
    }
  }
  if (nd != -1) return std::nullopt;
  return out;
}

Tensor view(const Tensor& t, Shape shape) {
  shape = infer_shape("view", t, std::move(shape));
  auto st = view_strides(t.shape(), t.strides(), shape);
  SPLAT_CHECK(st.has_value(), "view: input of shape ", shape_str(t.shape()), " and strides ",
              shape_str(t.strides()), " cannot be viewed as ", shape_str(shape),
              " without a copy; use reshape");
  return as_view("view", t, t.as_strided(std::move(shape), std::move(*st), t.offset()),
                 [in = t.shape()](const Tensor& g) { return reshape(g, in); });
}

Tensor reshape(const Tensor& t, Shape shape) {
  shape = infer_shape("reshape", t, std::move(shape));
  if (view_strides(t.shape(), t.strides(), shape)) return view(t, std::move(shape));
  return view(clone(t), std::move(shape));
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
  if (t.dim() == 0) return reshape(t, {1});
  start_dim = wrap_dim("flatten", start_dim, t.dim());
  end_dim = wrap_dim("flatten", end_dim, t.dim());
  SPLAT_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim);
  Shape shape(t.shape().begin(), t.shape().begin() + start_dim);
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) merged *= t.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), t.shape().begin() + end_dim + 1, t.shape().end());
  return reshape(t, std::move(shape));
}

Tensor permute(const Tensor& t, const std::vector<int64_t>& dims) {
  SPLAT_CHECK(static_cast<int64_t>(dims.size()) == t.dim(), "permute: ", dims.size(),
              " dims given for a ", t.dim(), "-d tensor: ", shape_str(dims));
  Shape shape(dims.size());
  Strides strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim("permute", dims[i], t.dim());
    SPLAT_CHECK(!seen[d], "permute: dim ", d, " repeated in ", shape_str(dims));
    seen[d] = true;
    shape[i] = t.shape()[d];
    strides[i] = t.strides()[d];
  }
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[wrap_dim("permute", dims[i], t.dim())] = i;
  return as_view("permute", t, t.as_strided(std::move(shape), std::move(strides), t.offset()),
                 [inverse](const Tensor& g) { return permute(g, inverse); });
}

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> dims(t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) dims[i] = i;
  std::swap(dims[wrap_dim("transpose", dim0, t.dim())], dims[wrap_dim("transpose", dim1, t.dim())]);
  return permute(t, dims);
}

Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  SPLAT_CHECK(t.dim() > 0, "slice: cannot slice a 0-d tensor");
  dim = wrap_dim("slice", dim, t.dim());
  SPLAT_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = t.shape()[dim];
  auto clamp_index = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  start = clamp_index(start);
  end = std::max(clamp_index(end), start);
  Shape shape = t.shape();
  Strides strides = t.strides();
  shape[dim] = (end - start + step - 1) / step;
  strides[dim] *= step;
  return as_view("slice", t,
                 t.as_strided(std::move(shape), std::move(strides), t.offset() + start * t.strides()[dim]),
                 [in = t.shape(), dim, start, end, step](const Tensor& g) {
                   return scatter_into_zeros(g, in, [&](const Tensor& z) { return slice(z, dim, start, end, step); });
                 });
}

Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  SPLAT_CHECK(t.dim() > 0, "narrow: cannot narrow a 0-d tensor");
  dim = wrap_dim("narrow", dim, t.dim());
  const int64_t n = t.shape()[dim];
  if (start < 0) start += n;
  SPLAT_CHECK(start >= 0 && length >= 0 && start + length <= n, "narrow: range [", start, ", ",
              start + length, ") is outside dim ", dim, " of size ", n);
  return slice(t, dim, start, start + length);
}

Tensor select(const Tensor& t, int64_t dim, int64_t index) {
  SPLAT_CHECK(t.dim() > 0, "select: cannot index a 0-d tensor");
  dim = wrap_dim("select", dim, t.dim());
  const int64_t n = t.shape()[dim];
  SPLAT_CHECK(index >= -n && index < n, "select: index ", index, " is out of range for dim ", dim,
              " of size ", n);
  if (index < 0) index += n;
  Shape shape = t.shape();
  Strides strides = t.strides();
  const int64_t offset = t.offset() + index * strides[dim];
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return as_view("select", t, t.as_strided(std::move(shape), std::move(strides), offset),
                 [in = t.shape(), dim, index](const Tensor& g) {
                   return scatter_into_zeros(g, in, [&](const Tensor& z) { return select(z, dim, index); });
                 });
}

Tensor expand(const Tensor& t, Shape shape) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  SPLAT_CHECK(nd >= t.dim(), "expand: cannot expand shape ", shape_str(t.shape()), " to ",
              shape_str(shape), " (fewer dims)");
  Strides strides(nd);
  const int64_t lead = nd - t.dim();
  for (int64_t d = nd - 1; d >= 0; --d) {
    if (d < lead) {
      SPLAT_CHECK(shape[d] >= 0, "expand: new leading dim ", d, " cannot be ", shape[d]);
      strides[d] = 0;
      continue;
    }
    const int64_t have = t.shape()[d - lead];
    if (shape[d] == -1) shape[d] = have;
    SPLAT_CHECK(shape[d] == have || have == 1, "expand: cannot expand shape ",
                shape_str(t.shape()), " to ", shape_str(shape), " (dim ", d, ": ", have, " vs ",
                shape[d], ")");
    strides[d] = shape[d] == have ? t.strides()[d - lead] : 0;
  }
  return as_view("expand", t, t.as_strided(std::move(shape), std::move(strides), t.offset()),
                 [in = t.shape()](const Tensor& g) { return sum_to(g, in); });
}

namespace {
// A view that only adds or removes size-1 dims: its gradient is reshaped back.
Tensor resized_view(std::string_view op, const Tensor& t, Shape shape, Strides strides) {
  return as_view(op, t, t.as_strided(std::move(shape), std::move(strides), t.offset()),
                 [in = t.shape()](const Tensor& g) { return reshape(g, in); });
}
} // namespace

Tensor squeeze(const Tensor& t) {
  Shape shape;
  Strides strides;
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.shape()[d] != 1) {
      shape.push_back(t.shape()[d]);
      strides.push_back(t.strides()[d]);
    }
  return resized_view("squeeze", t, std::move(shape), std::move(strides));
}

Tensor squeeze(const Tensor& t, int64_t dim) {
  Shape shape = t.shape();
  Strides strides = t.strides();
  if (t.dim() > 0) {
    dim = wrap_dim("squeeze", dim, t.dim());
    if (shape[dim] == 1) {
      shape.erase(shape.begin() + dim);
      strides.erase(strides.begin() + dim);
    }
  }
  return resized_view("squeeze", t, std::move(shape), std::move(strides));
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  dim = wrap_dim("unsqueeze", dim, t.dim() + 1);
  Shape shape = t.shape();
  Strides strides = t.strides();
  const int64_t stride = dim < t.dim() ? shape[dim] * strides[dim] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  return resized_view("unsqueeze", t, std::move(shape), std::move(strides));
}

} // namespace splat::ops
