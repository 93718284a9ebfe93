// Module: registration order and names, state dicts, loading with every kind of mismatch,
// train/eval, device and dtype moves that keep the layers' handles valid.
#include "autograd/engine.h"
#include "nn/module.h"
#include "ops/copy.h"
#include "ops/matmul.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/helpers.h"

using namespace splat;
using namespace splat::nn;
using splat::test::check_equal;

namespace {

// A minimal layer that keeps its handles as members, as the real layers do.
struct Affine : Module {
  Tensor weight, bias, count;
  Affine(int64_t in, int64_t out) : Module("Affine") {
    weight = register_parameter("weight", ops::randn({out, in}));
    bias = register_parameter("bias", ops::zeros({out}));
    count = register_buffer("count", ops::zeros({}, {.dtype = DType::i64}));
  }
  Tensor forward(const Tensor& x) const { return ops::matmul(x, ops::transpose(weight, 0, 1)); }
};

struct Net : Module {
  std::shared_ptr<Affine> a, b;
  Net() : Module("Net") {
    a = register_module("first", std::make_shared<Affine>(3, 4));
    b = register_module("second", std::make_shared<Affine>(4, 2));
  }
};

std::vector<std::string> names(const Named<Tensor>& list) {
  std::vector<std::string> out;
  for (const auto& [n, t] : list) out.push_back(n);
  return out;
}

} // namespace

TEST_CASE("parameters and buffers are named with dots in registration order") {
  Net net;
  CHECK(names(net.named_parameters()) ==
        std::vector<std::string>{"first.weight", "first.bias", "second.weight", "second.bias"});
  CHECK(names(net.named_buffers()) == std::vector<std::string>{"first.count", "second.count"});
  CHECK(net.num_parameters() == 4 * 3 + 4 + 2 * 4 + 2);
  CHECK(net.state_dict().size() == 6);
  CHECK(net.parameters()[0].is_same(net.a->weight));
  CHECK(net.parameters()[0].requires_grad());
  CHECK(!net.a->count.requires_grad());
  std::vector<std::string> modules;
  for (const auto& [n, m] : net.named_modules()) modules.push_back(n + ":" + m->type_name());
  CHECK(modules == std::vector<std::string>{":Net", "first:Affine", "second:Affine"});
  CHECK(net.child("second").get() == net.b.get());
  CHECK_THROWS_WITH_AS(net.child("third"), "Net has no child 'third'", Error);
}

TEST_CASE("registering a name twice or a dotted name is refused") {
  struct Bad : Module {
    explicit Bad(const char* second) : Module("Bad") {
      register_parameter("w", ops::zeros({1}));
      register_buffer(second, ops::zeros({1}));
    }
  };
  CHECK_THROWS_WITH_AS(Bad("w"), "Bad: the name 'w' is already registered", Error);
  CHECK_THROWS_WITH_AS(Bad("a.b"), "Bad: invalid member name 'a.b' (must be non-empty and without dots)", Error);
}

TEST_CASE("a state dict round-trips into another instance") {
  Net src, dst;
  ops::fill_(src.a->count, 5);
  const LoadResult r = dst.load_state_dict(src.state_dict());
  CHECK(r.missing.empty());
  CHECK(r.unexpected.empty());
  for (const auto& [key, t] : src.state_dict()) {
    CAPTURE(key);
    check_equal(dst.state_dict().at(key), t);
  }
  CHECK(dst.a->count.item<int64_t>() == 5);
}

TEST_CASE("load_state_dict reports every mismatch and copies nothing on error") {
  Net net;
  const Tensor before = ops::clone(net.a->weight);
  auto state = Net().state_dict();
  state.erase("second.bias");
  state["extra.weight"] = ops::zeros({1});
  // Strict: missing and unexpected keys are listed.
  CHECK_THROWS_WITH_AS(net.load_state_dict(state), doctest::Contains(
      "Net.load_state_dict (strict) failed: 1 missing keys: second.bias; 1 unexpected keys: extra.weight"),
      Error);
  check_equal(net.a->weight, before);
  // Non-strict: loads what matches and returns the rest.
  const LoadResult r = net.load_state_dict(state, false);
  CHECK(r.missing == std::vector<std::string>{"second.bias"});
  CHECK(r.unexpected == std::vector<std::string>{"extra.weight"});
  check_equal(net.a->weight, state.at("first.weight"));
  // A shape mismatch throws even when not strict, naming both shapes for every key.
  state["first.weight"] = ops::zeros({3, 4});
  state["second.weight"] = ops::zeros({2});
  CHECK_THROWS_WITH_AS(net.load_state_dict(state, false), doctest::Contains(
      "failed: 2 shape mismatches: first.weight: checkpoint [3, 4] vs model [4, 3], second.weight: checkpoint [2] vs model [2, 4]"),
      Error);
}

TEST_CASE("loading casts to the parameter's dtype") {
  Net net;
  auto state = net.state_dict();
  for (auto& [k, t] : state)
    if (is_floating(t.dtype())) t = ops::full(t.shape(), 0.25, {.dtype = DType::f64});
  net.load_state_dict(state);
  CHECK(net.a->weight.dtype() == DType::f32);
  CHECK(splat::test::to_vector<float>(net.a->weight) == std::vector<float>(12, 0.25f));
}

TEST_CASE("train and eval reach every descendant") {
  Net net;
  CHECK(net.b->is_training());
  net.eval();
  CHECK(!net.is_training());
  CHECK(!net.b->is_training());
  net.train();
  CHECK(net.a->is_training());
}

TEST_CASE("to(dtype) and to(device) repoint the layers' own handles, gradients included") {
  Net net;
  const Tensor w = net.a->weight;  // e.g. an optimizer's handle
  autograd::backward({ops::sum(net.a->forward(ops::randn({2, 3})))}, {});
  REQUIRE(w.grad().defined());
  const Tensor expected = ops::to(w.detach(), DType::f64);
  net.to(DType::f64);
  CHECK(w.dtype() == DType::f64);
  CHECK(net.a->weight.dtype() == DType::f64);
  CHECK(w.grad().dtype() == DType::f64);
  CHECK(w.requires_grad());
  CHECK(net.a->count.dtype() == DType::i64);  // integer buffers keep their dtype
  check_equal(w, expected);
  CHECK_THROWS_WITH_AS(net.to(DType::i32), "Net.to: modules convert to floating dtypes only, not i32", Error);
  if (!splat::test::no_cuda_device()) {
    net.to(Device::cuda(0));
    CHECK(w.device() == Device::cuda(0));
    CHECK(w.grad().device() == Device::cuda(0));
    CHECK(net.b->count.device() == Device::cuda(0));
    check_equal(w, expected);
  }
  net.zero_grad();
  CHECK(!w.grad().defined());
}
