// gradcheck of the joining, indexing, sorting and scan ops.
#include "ops/copy.h"
#include "ops/flip.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/reduce.h"
#include "ops/scan.h"
#include "ops/sort.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

using namespace splat;
using namespace splat::ops;
using splat::test::leaf;
using splat::test::strided_leaf;
using In = std::vector<Tensor>;

TEST_CASE("gradcheck: cat, stack, split, chunk") {
  CHECK_GRADCHECK([](const In& in) { return cat({in[0], in[1], in[0]}, 1); }, {leaf({2, 3}), strided_leaf({2, 1})});
  CHECK_GRADCHECK([](const In& in) { return cat({in[0], in[1]}, 0); }, {leaf({0, 3}), leaf({2, 3})});
  CHECK_GRADCHECK([](const In& in) { return stack({in[0], in[1]}, -1); }, {leaf({2, 3}), strided_leaf({2, 3})});
  // split and chunk return views; use every piece, one twice.
  CHECK_GRADCHECK([](const In& in) {
    const auto parts = split(in[0], 2, 1);
    return cat({mul(parts[0], parts[1]), parts[2], parts[0]}, 1);
  }, {leaf({2, 5})});
  CHECK_GRADCHECK([](const In& in) {
    const auto parts = split(in[0], std::vector<int64_t>{1, 3}, 0);
    return mul(sum(parts[0]), parts[1]);
  }, {strided_leaf({4, 2})});
  CHECK_GRADCHECK([](const In& in) { return chunk(in[0], 3, 0)[1]; }, {leaf({5, 2})});
}

TEST_CASE("gradcheck: index_select, gather, scatter_add, masked_select") {
  const Tensor idx = from_vector<int64_t>({2, 0, 2, 1}, {4});
  CHECK_GRADCHECK([&](const In& in) { return index_select(in[0], 0, idx); }, {leaf({3, 2})});
  CHECK_GRADCHECK([&](const In& in) { return index_select(in[0], 1, idx); }, {strided_leaf({2, 3})});
  const Tensor g_idx = from_vector<int64_t>({0, 2, 2, 1, 0, 0}, {2, 3});
  CHECK_GRADCHECK([&](const In& in) { return gather(in[0], 1, g_idx); }, {leaf({2, 4})});
  CHECK_GRADCHECK([&](const In& in) { return gather(in[0], 0, transpose(g_idx, 0, 1)); }, {strided_leaf({3, 2})});
  // scatter_add: both self and src, src larger than index.
  const Tensor s_idx = from_vector<int64_t>({1, 0, 1, 2, 2, 0}, {2, 3});
  CHECK_GRADCHECK([&](const In& in) { return scatter_add(in[0], 0, s_idx, in[1]); }, {leaf({3, 3}), leaf({3, 4})});
  CHECK_GRADCHECK([&](const In& in) {
    Tensor t = mul(in[0], 1.0);
    scatter_add_(t, 1, s_idx, in[1]);
    return t;
  }, {leaf({2, 3}), strided_leaf({2, 3})});
  const Tensor mask = from_vector<bool>({true, false, true}, {3});
  CHECK_GRADCHECK([&](const In& in) { return masked_select(in[0], mask); }, {leaf({2, 3})});
  CHECK_GRADCHECK([&](const In& in) { return masked_select(in[0], unsqueeze(mask, 1)); }, {leaf({1, 2})});
}

TEST_CASE("gradcheck: sort and topk values, cumsum, flip") {
  CHECK_GRADCHECK([](const In& in) { return sort(in[0], 1, true).values; }, {leaf({2, 5})});
  CHECK_GRADCHECK([](const In& in) { return sort(in[0], 0).values; }, {strided_leaf({3, 2})});
  CHECK_GRADCHECK([](const In& in) { return topk(in[0], 2, -1).values; }, {leaf({3, 4})});
  CHECK_GRADCHECK([](const In& in) { return topk(in[0], 2, 0, false).values; }, {strided_leaf({4, 2})});
  CHECK_GRADCHECK([](const In& in) { return cumsum(in[0], 1); }, {leaf({2, 4})});
  CHECK_GRADCHECK([](const In& in) { return cumsum(in[0], 0); }, {strided_leaf({3, 2})});
  CHECK_GRADCHECK([](const In& in) { return flip(in[0], {0, -1}); }, {leaf({2, 3})});
}
