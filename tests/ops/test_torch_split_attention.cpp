// Split-attention against PyTorch (fixture scripts/fixtures/torch_split_attention.py): the
// block cut at the split-attention boundary (bn0/relu output and fc2 logits in, block output and
// fc1 input out) and the whole block (grouped conv, bn0, relu, fc1, bn1, relu, fc2, r-softmax,
// weighted sum) built from ops::conv2d and ops::batch_norm around the fused ops, forward and
// every input gradient, float64, for (radix, cardinality) = (2, 1), (4, 2), (1, 2).
#include "ops/conv.h"
#include "ops/norm.h"
#include "ops/pointwise.h"
#include "ops/split_attention.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::ParityCases;
using In = std::vector<Tensor>;

namespace {

// in: x, conv weight, bn0 weight/bias, fc1 weight/bias, bn1 weight/bias, fc2 weight/bias.
Tensor block(const In& in, int64_t radix, int64_t card) {
  const Tensor conv = conv2d(in[0], in[1], {}, {.padding = 1, .groups = card * radix});
  const Tensor u = relu(batch_norm(conv, {}, {}, in[2], in[3], true));
  const Tensor s =
      relu(batch_norm(conv2d(split_attention_pool(u, radix), in[4], in[5], {.groups = card}), {},
                      {}, in[6], in[7], true));
  const Tensor z = conv2d(s, in[8], in[9], {.groups = card});
  return split_attention(u, z, radix, card);
}

} // namespace

TEST_CASE("split_attention: PyTorch parity of the block and of its split-attention part") {
  ParityCases cases;
  for (auto [radix, card] : {std::pair<int64_t, int64_t>{2, 1}, {4, 2}, {1, 2}}) {
    const std::string name = "r" + std::to_string(radix) + "k" + std::to_string(card);
    cases["block_" + name] =
        test::one([radix, card](const In& in) { return block(in, radix, card); });
    cases["boundary_" + name] = [radix, card](const In& in) {
      return In{split_attention(in[0], in[1], radix, card), split_attention_pool(in[0], radix)};
    };
  }
  test::check_torch_parity("torch_split_attention.safetensors", cases, 1e-9, 1e-10);
}
