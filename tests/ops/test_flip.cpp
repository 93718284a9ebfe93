#include "ops/copy.h"
#include "ops/flip.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <set>

using namespace splat;
using namespace splat::ops;
using splat::test::noncontiguous;
using splat::test::to_vector;

namespace {

// Naive flip: the result at coordinates c is x at c with the flipped dims mirrored.
std::vector<double> flip_ref(const Tensor& x, const std::vector<int64_t>& dims) {
  std::set<int64_t> flipped;
  for (int64_t d : dims) flipped.insert(d < 0 ? d + x.dim() : d);
  const auto v = to_vector<double>(x);
  const Shape& s = x.shape();
  std::vector<double> out(v.size());
  for (int64_t f = 0; f < x.numel(); ++f) {
    int64_t rest = f, src = 0, scale = 1;
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      int64_t c = rest % s[d];
      rest /= s[d];
      if (flipped.count(d)) c = s[d] - 1 - c;
      src += c * scale;
      scale *= s[d];
    }
    out[f] = v[src];
  }
  return out;
}

} // namespace

TEST_CASE("flip matches a naive loop for every dim subset, layout and dtype") {
  const std::vector<std::vector<int64_t>> dim_lists = {
      {}, {0}, {1}, {2}, {-1}, {0, 2}, {-3, 1}, {2, 1, 0}, {-1, -2, -3}};
  const Tensor values = view(arange(2 * 3 * 5, {.dtype = DType::f64}), {2, 3, 5});
  for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::b8}) {
    const Tensor x = to(dtype == DType::b8 ? ge(values, 11.0) : values, dtype);
    const std::vector<Tensor> layouts = {
        x, noncontiguous(x), permute(contiguous(permute(x, {2, 0, 1})), {1, 2, 0}),
        slice(slice(to(view(arange(4 * 3 * 10), {4, 3, 10}), dtype), 0, 1, 4, 2), 2, 0, 10, 2),
        expand(slice(x, 1, 0, 1), {2, 3, 5})};
    for (const Tensor& in : layouts) {
      for (const auto& dims : dim_lists) {
        CAPTURE(dtype_name(dtype));
        CAPTURE(shape_str(in.strides()));
        CAPTURE(shape_str(dims));
        const Tensor out = flip(in, dims);
        CHECK(out.dtype() == dtype);
        CHECK(out.shape() == in.shape());
        CHECK(out.is_contiguous());
        CHECK(out.storage() != in.storage());
        CHECK(to_vector<double>(out) == flip_ref(in, dims));
      }
    }
  }
}

TEST_CASE("flip of zero-size, size-1 and 0-d tensors, and of twice") {
  const Tensor z = zeros({0, 3});
  CHECK(flip(z, {0, 1}).shape() == Shape{0, 3});
  CHECK(flip(zeros({3, 0}), {-1}).shape() == Shape{3, 0});
  const Tensor one = from_vector<int32_t>({4, 5, 6}, {1, 3});
  CHECK(to_vector<int>(flip(one, {0})) == std::vector<int>{4, 5, 6});
  CHECK(to_vector<int>(flip(one, {0, 1})) == std::vector<int>{6, 5, 4});
  const Tensor s = scalar_tensor(3);
  CHECK(flip(s, {0}).item<float>() == 3);
  CHECK(flip(s, {}).shape() == Shape{});
  // Flipping a flipped tensor restores it; flipping a flip's strided view works too.
  const Tensor x = view(arange(12), {3, 4});
  CHECK(to_vector<int64_t>(flip(flip(x, {1, 0}), {0, 1})) == to_vector<int64_t>(x));
  CHECK(to_vector<int64_t>(flip(transpose(x, 0, 1), {0})) ==
        std::vector<int64_t>{3, 7, 11, 2, 6, 10, 1, 5, 9, 0, 4, 8});
}

TEST_CASE("flip rejects bad dims") {
  const Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_ALL(flip(x, {1, -1}), "flip: dim 1 appears more than once in dims [1, -1]");
  CHECK_THROWS_WITH_ALL(flip(x, {0, 0}), "flip: dim 0 appears more than once");
  CHECK_THROWS_WITH_ALL(flip(x, {2}), "flip: dim 2 out of range for a 2-d tensor");
  CHECK_THROWS_WITH_ALL(flip(x, {-3}), "flip: dim -3 out of range");
  CHECK_THROWS_WITH_ALL(flip(scalar_tensor(1), {0, -1}), "flip: dim 0 appears more than once");
  CHECK_THROWS_WITH_ALL(flip(Tensor(), {0}), "flip: undefined tensor");
}
