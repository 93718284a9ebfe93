// PyTorch parity of the tensor-core ops (fixtures from scripts/fixtures/torch_ops.py; the
// harness is tests/ops/torch_parity.h).
#include "ops/copy.h"
#include "ops/flip.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/scan.h"
#include "ops/sort.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_torch_parity;
using splat::test::one;
using splat::test::ParityCases;

namespace {

const ParityCases& cases() {
  static const ParityCases c = {
      {"neg", one([](auto& in) { return neg(in[0]); })},
      {"abs", one([](auto& in) { return abs(in[0]); })},
      {"exp", one([](auto& in) { return exp(in[0]); })},
      {"log", one([](auto& in) { return log(in[0]); })},
      {"sqrt", one([](auto& in) { return sqrt(in[0]); })},
      {"rsqrt", one([](auto& in) { return rsqrt(in[0]); })},
      {"square", one([](auto& in) { return square(in[0]); })},
      {"relu", one([](auto& in) { return relu(in[0]); })},
      {"sigmoid", one([](auto& in) { return sigmoid(in[0]); })},
      {"tanh", one([](auto& in) { return tanh(in[0]); })},
      {"add", one([](auto& in) { return add(in[0], in[1]); })},
      {"sub", one([](auto& in) { return sub(in[0], in[1]); })},
      {"mul", one([](auto& in) { return mul(in[0], in[1]); })},
      {"div", one([](auto& in) { return div(in[0], in[1]); })},
      {"pow", one([](auto& in) { return pow(in[0], in[1]); })},
      {"maximum", one([](auto& in) { return maximum(in[0], in[1]); })},
      {"minimum", one([](auto& in) { return minimum(in[0], in[1]); })},
      {"clamp", one([](auto& in) { return clamp(in[0], -0.5, 0.5); })},
      {"where", one([](auto& in) { return where(in[0], in[1], in[2]); })},
      {"masked_fill", one([](auto& in) { return masked_fill(in[0], in[1], 2.5); })},
      {"sum", one([](auto& in) { return sum(in[0], {0, 2}, true); })},
      {"mean", one([](auto& in) { return mean(in[0], {1}); })},
      {"var", one([](auto& in) { return var(in[0], {0, 1}); })},
      {"var_biased", one([](auto& in) { return var(in[0], {1}, false); })},
      {"prod", one([](auto& in) { return prod(in[0], {1}); })},
      {"amax", one([](auto& in) { return amax(in[0], {1, 2}); })},
      {"max_dim", [](auto& in) { auto r = max(in[0], 0); return std::vector<Tensor>{r.values, r.indices}; }},
      {"min_dim", [](auto& in) { auto r = min(in[0], 1, true); return std::vector<Tensor>{r.values, r.indices}; }},
      {"argmax", one([](auto& in) { return argmax(in[0], 1); })},
      {"mm", one([](auto& in) { return mm(in[0], in[1]); })},
      {"bmm", one([](auto& in) { return bmm(in[0], in[1]); })},
      {"matmul", one([](auto& in) { return matmul(in[0], in[1]); })},
      {"matmul_vec", one([](auto& in) { return matmul(in[0], in[1]); })},
      {"cat", one([](auto& in) { return cat({in[0], in[1]}, 1); })},
      {"stack", one([](auto& in) { return stack({in[0], in[1]}, 1); })},
      {"index_select", one([](auto& in) { return index_select(in[0], 0, in[1]); })},
      {"gather", one([](auto& in) { return gather(in[0], 1, in[1]); })},
      {"scatter_add", one([](auto& in) { return scatter_add(in[0], 0, in[1], in[2]); })},
      {"flip", one([](auto& in) { return flip(in[0], {0, 2}); })},
      {"sort", [](auto& in) { auto r = sort(in[0], 1, true); return std::vector<Tensor>{r.values, r.indices}; }},
      {"topk", [](auto& in) { auto r = topk(in[0], 2, 1); return std::vector<Tensor>{r.values, r.indices}; }},
      {"cumsum", one([](auto& in) { return cumsum(in[0], 0); })},
      {"unique", [](auto& in) {
         auto r = unique(in[0], true, true);
         return std::vector<Tensor>{r.values, r.inverse, r.counts};
       }},
      {"nonzero", one([](auto& in) { return nonzero(in[0]); })},
  };
  return c;
}

} // namespace

TEST_CASE("tensor-core ops match PyTorch forward and backward") {
  check_torch_parity("torch_ops.safetensors", cases(), 1e-12, 1e-12);
}
