// Graph semantics of the backward engine: accumulation, shared subexpressions, retain_graph,
// grad mode, detach, hooks, the version counter and memory release.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "ops/copy.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

using namespace splat;
using namespace splat::ops;
using autograd::backward;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::to_vector;

TEST_CASE("a tensor used several times receives the sum of its gradients") {
  Tensor x = from_vector<double>({1, 2, 3}, {3}).requires_grad_();
  backward(sum(add(mul(x, x), x)));  // d/dx (x^2 + x) = 2x + 1
  check_close(x.grad(), from_vector<double>({3, 5, 7}, {3}));
  // Gradients accumulate across backward calls until reset.
  backward(sum(x));
  check_close(x.grad(), from_vector<double>({4, 6, 8}, {3}));
  x.set_grad(Tensor());
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("shared subexpressions and diamonds run each node once") {
  Tensor x = from_vector<double>({0.5, -1}, {2}).requires_grad_();
  const Tensor b = exp(x);
  const Tensor c = mul(b, 3.0);
  const Tensor d = add(b, 1.0);
  backward(sum(mul(c, d)));  // y = 3 e^x (e^x + 1) -> dy/dx = 6 e^2x + 3 e^x
  const auto xv = to_vector<double>(x);
  for (int i = 0; i < 2; ++i)
    CHECK(to_vector<double>(x.grad())[i] ==
          doctest::Approx(6 * std::exp(2 * xv[i]) + 3 * std::exp(xv[i])).epsilon(1e-12));
}

TEST_CASE("retain_graph allows a second backward; without it the error is clear") {
  Tensor x = from_vector<double>({2}, {1}).requires_grad_();
  const Tensor y = sum(mul(exp(x), x));
  backward(y, Tensor(), /*retain_graph=*/true);
  const double g1 = to_vector<double>(x.grad())[0];
  backward(y);
  CHECK(to_vector<double>(x.grad())[0] == doctest::Approx(2 * g1));
  CHECK_THROWS_WITH_ALL(backward(y), "backward of", "graph was freed", "retain_graph");
}

TEST_CASE("no_grad and detach stop recording") {
  Tensor x = from_vector<double>({1, 2}, {2}).requires_grad_();
  {
    NoGradGuard guard;
    CHECK_FALSE(mul(x, 2.0).requires_grad());
    CHECK_FALSE(autograd::grad_enabled());
  }
  CHECK(autograd::grad_enabled());
  CHECK(mul(x, 2.0).requires_grad());
  const Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.storage() == x.storage());
  // Only the path through x contributes.
  backward(sum(mul(x, d)));
  check_close(x.grad(), from_vector<double>({1, 2}, {2}));
  CHECK_FALSE(sum(d).requires_grad());
  CHECK_THROWS_WITH_ALL(backward(sum(d)), "does not require grad");
}

TEST_CASE("hooks: non-leaf hooks replace gradients, leaf hooks fire once after accumulation") {
  Tensor x = from_vector<double>({1, 2, 3}, {3}).requires_grad_();
  const Tensor h = mul(x, 2.0);
  autograd::register_hook(h, [](const Tensor& g) { return mul(g, 10.0); });
  int leaf_calls = 0, post_calls = 0;
  std::vector<double> seen_in_post;
  autograd::register_hook(x, [&](const Tensor&) {
    ++leaf_calls;
    return Tensor();  // keep the gradient
  });
  autograd::register_post_accumulate_hook(x, [&](const Tensor& t) {
    ++post_calls;
    seen_in_post = to_vector<double>(t.grad());
  });
  // x reaches the loss along two paths; its hooks still run once, with the complete gradient.
  backward(sum(add(h, mul(x, x))));
  CHECK(leaf_calls == 1);
  CHECK(post_calls == 1);
  // d/dx = 10 * 2 + 2x
  CHECK(seen_in_post == std::vector<double>{22, 24, 26});
  backward(sum(add(mul(x, 2.0), x)));
  CHECK(post_calls == 2);
  CHECK(seen_in_post == std::vector<double>{25, 27, 29});  // accumulated
  CHECK_THROWS_WITH_ALL(autograd::register_post_accumulate_hook(h, [](const Tensor&) {}),
                        "only leaves");
}

TEST_CASE("retain_grad keeps a non-leaf's gradient") {
  Tensor x = from_vector<double>({1, 2}, {2}).requires_grad_();
  const Tensor h = mul(x, 3.0);
  autograd::retain_grad(h);
  backward(sum(square(h)));
  check_close(h.grad(), from_vector<double>({6, 12}, {2}));
  CHECK_FALSE(mul(x, 1.0).grad().defined());
}

TEST_CASE("the version counter catches saved tensors modified in place") {
  Tensor x = from_vector<double>({0.1, 0.2}, {2}).requires_grad_();
  Tensor y = exp(x);  // saves its output
  add_(y, 1.0);       // allowed: y is not a leaf; its storage version moves on
  CHECK_THROWS_WITH_ALL(backward(sum(y)), "backward of exp", "modified by an in-place operation");
  // In-place ops on tensors with history are differentiated correctly when nothing saved
  // is overwritten.
  Tensor z = mul(x, 2.0);
  mul_(z, x);  // z = 2 x^2
  backward(sum(z));
  check_close(x.grad(), from_vector<double>({0.4, 0.8}, {2}));
}

TEST_CASE("misuse gives clear errors") {
  Tensor w = from_vector<double>({1, 2}, {2}).requires_grad_();
  CHECK_THROWS_WITH_ALL(add_(w, 1.0), "leaf tensor that requires grad");
  CHECK_THROWS_WITH_ALL(fill_(w, 0), "leaf tensor that requires grad");
  Tensor v = slice(mul(w, 1.0), 0, 0, 1);
  CHECK_THROWS_WITH_ALL(mul_(v, 2.0), "in-place modification of a view");
  CHECK_THROWS_WITH_ALL(backward(mul(w, 2.0)), "one-element root", "[2]");
  CHECK_THROWS_WITH_ALL(backward(sum(w), ones({3}, {.dtype = DType::f64})), "shape [3]");
  Tensor i = arange(3);
  CHECK_THROWS_WITH_ALL(i.requires_grad_(), "only floating tensors");
  CHECK_THROWS_WITH_ALL(mul(w, 2.0).requires_grad_(false), "only leaf tensors");
  {
    NoGradGuard guard;
    add_(w, 1.0);  // optimizer-style updates are fine without recording
  }
  CHECK(to_vector<double>(w) == std::vector<double>{2, 3});
}

TEST_CASE("non-differentiable outputs never record") {
  Tensor x = from_vector<double>({3, 1, 2}, {3}).requires_grad_();
  CHECK_FALSE(gt(x, 1.0).requires_grad());
  CHECK_FALSE(argmax(x).requires_grad());
  CHECK_FALSE(max(x, 0).indices.requires_grad());
  CHECK(max(x, 0).values.requires_grad());
  CHECK_FALSE(to(x, DType::i64).requires_grad());
}

TEST_CASE("1000 forward/backward iterations do not grow live memory") {
  Tensor w1 = test::leaf({8, 16}), w2 = test::leaf({16, 1});
  const Tensor x = ops::rand({32, 8}, {.dtype = DType::f64});
  auto step = [&] {
    const Tensor loss = mean(square(matmul(relu(matmul(x, w1)), w2)));
    backward(loss);
    NoGradGuard guard;
    sub_(w1, mul(w1.grad(), 0.01));
    sub_(w2, mul(w2.grad(), 0.01));
    w1.set_grad(Tensor());
    w2.set_grad(Tensor());
  };
  for (int i = 0; i < 5; ++i) step();
  const int64_t storages = Storage::live_count();
  const int64_t bytes = cpu_allocator().stats().allocated_bytes;
  for (int i = 0; i < 1000; ++i) step();
  CHECK(Storage::live_count() == storages);
  CHECK(cpu_allocator().stats().allocated_bytes == bytes);
}

TEST_CASE("overwriting ops (fill_, uniform_, normal_) cut the gradient path") {
  Tensor x = from_vector<double>({1, 2}, {2}).requires_grad_();
  Tensor y = mul(x, 3.0);
  uniform_(y, 0, 1);
  add_(y, x);  // only this path reaches x now
  autograd::backward(sum(y));
  check_close(x.grad(), from_vector<double>({1, 1}, {2}));
  CHECK_THROWS_WITH_ALL(normal_(x), "normal_: a leaf tensor that requires grad");
}

TEST_CASE("gradients summed in place or kept as .grad never alias the caller's tensors") {
  const std::vector<double> gv{1, 2, 3};
  // The root gradient is the caller's: the leaf's .grad must be a copy of it.
  Tensor x = leaf({3});
  Tensor g = from_vector<double>(gv, {3});
  backward({x}, {g});
  mul_(g, 10.0);
  CHECK(to_vector<double>(x.grad()) == gv);
  // add's backward hands the same gradient to both edges into x: the sum is a new tensor.
  Tensor y = leaf({3});
  Tensor h = from_vector<double>(gv, {3});
  backward({add(y, y)}, {h});
  CHECK(to_vector<double>(h) == gv);
  check_close(y.grad(), mul(h, 2.0));
  // A gradient only the engine holds becomes .grad; later ones accumulate into it.
  Tensor z = leaf({3});
  backward({mul(z, 3.0)}, {h});
  check_close(z.grad(), mul(h, 3.0));
  backward({add(mul(z, 3.0), mul(z, 1.0))}, {h});  // two fresh gradients summed in place
  check_close(z.grad(), mul(h, 7.0));
  CHECK(to_vector<double>(h) == gv);
}

TEST_CASE("relu_ on a tensor with history overwrites it without a copy; saved values stay guarded") {
  Tensor x = leaf({64});
  Tensor t = mul(x, 2.0);
  const int64_t before = cpu_allocator().stats().total_allocations;
  relu_(t);
  CHECK(cpu_allocator().stats().total_allocations == before);
  backward({sum(t)});
  check_close(x.grad(), mul(to(gt(x, 0.0), DType::f64), 2.0));
  // mul saved u for its backward: overwriting u afterwards is refused when backward reads it.
  Tensor y = leaf({4});
  Tensor u = mul(y, 1.0);
  Tensor v = mul(u, u);
  relu_(u);
  CHECK_THROWS_WITH_ALL(backward({sum(v)}), "modified by an in-place operation");
}
