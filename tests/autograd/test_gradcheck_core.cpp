// gradcheck of every differentiable op of the tensor core: pointwise, reductions, matmul, views,
// copies. Inputs include broadcasting and non-contiguous cases.
#include "autograd/engine.h"
#include "ops/autograd_support.h"
#include "ops/copy.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

using namespace splat;
using namespace splat::ops;
using splat::test::leaf;
using splat::test::strided_leaf;
using In = std::vector<Tensor>;

TEST_CASE("gradcheck detects a wrong backward formula") {
  // A deliberately wrong derivative: claims d(2x)/dx = 3.
  auto wrong = [](const In& in) {
    Tensor out = mul(in[0].detach(), 2.0);
    record("wrong", {in[0]}, {out}, [](const Grads& g, const Needs&) { return Grads{mul(g[0], 3.0)}; });
    return out;
  };
  const auto r = autograd::gradcheck(wrong, {leaf({3})});
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("analytic 3") != std::string::npos);
  CHECK(r.message.find("numeric 2") != std::string::npos);
  CHECK_THROWS_WITH_ALL(autograd::gradcheck(wrong, {ops::zeros({2})}), "no input requires grad");
  CHECK_THROWS_WITH_ALL(autograd::gradcheck(wrong, {ops::zeros({2}).requires_grad_()}), "need f64");
}

TEST_CASE("gradcheck: unary ops, contiguous and strided") {
  for (UnaryOp op : {UnaryOp::neg, UnaryOp::abs, UnaryOp::exp, UnaryOp::log, UnaryOp::sqrt,
                     UnaryOp::rsqrt, UnaryOp::square, UnaryOp::relu, UnaryOp::sigmoid, UnaryOp::tanh}) {
    CAPTURE(info(op).name);
    const bool positive = op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::rsqrt;
    // Keep inputs away from the kinks of abs and relu at 0.
    const double lo = positive ? 0.5 : 0.1, hi = 2;
    auto f = [op](const In& in) { return unary(op, in[0]); };
    CHECK_GRADCHECK(f, {leaf({2, 3}, lo, hi)});
    if (!positive) CHECK_GRADCHECK(f, {neg(leaf({2, 3}, lo, hi)).detach().requires_grad_()});
    CHECK_GRADCHECK(f, {strided_leaf({3, 2}, lo, hi)});
  }
}

TEST_CASE("gradcheck: binary ops with broadcasting") {
  for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div, BinaryOp::pow,
                      BinaryOp::maximum, BinaryOp::minimum}) {
    CAPTURE(info(op).name);
    auto f = [op](const In& in) { return binary(op, in[0], in[1]); };
    CHECK_GRADCHECK(f, {leaf({2, 3}, 0.5, 2), leaf({2, 3}, 0.5, 2)});
    CHECK_GRADCHECK(f, {leaf({2, 1, 3}, 0.5, 2), leaf({4, 1}, 0.5, 2)});
    CHECK_GRADCHECK(f, {strided_leaf({3, 2}, 0.5, 2), leaf({2}, 0.5, 2)});
    CHECK_GRADCHECK(f, {leaf({}, 0.5, 2), strided_leaf({2, 2}, 0.5, 2)});
    auto fs = [op](const In& in) { return binary(op, in[0], 1.25); };
    CHECK_GRADCHECK(fs, {leaf({2, 3}, 0.5, 2)});
  }
  // Only one side requiring grad.
  CHECK_GRADCHECK([](const In& in) { return mul(in[0], in[1]); }, {leaf({3}), ops::ones({3}, {.dtype = DType::f64})});
}

TEST_CASE("gradcheck: in-place ops on tensors with history") {
  CHECK_GRADCHECK([](const In& in) { Tensor t = mul(in[0], 1.0); mul_(t, in[1]); add_(t, 2.0); return t; },
                  {leaf({2, 3}), leaf({3})});
  CHECK_GRADCHECK([](const In& in) { Tensor t = mul(in[0], 2.0); relu_(sub_(t, 0.5)); return t; }, {leaf({4}, -1, 2)});
  CHECK_GRADCHECK([](const In& in) { Tensor t = clone(in[0]); clamp_(t, -0.5, 0.5); return t; }, {leaf({5})});
  // Ops whose gradient reads only their output overwrite with no copy; those reading the input
  // keep it through a copy.
  CHECK_GRADCHECK([](const In& in) {
    Tensor t = mul(in[0], 1.0);
    exp_(t);
    Tensor u = mul(t, 0.5);
    sigmoid_(u);
    return add(t, u);
  }, {leaf({2, 3})});
  CHECK_GRADCHECK([](const In& in) { Tensor t = add(in[0], 2.0); sqrt_(neg_(neg_(t))); return t; }, {leaf({5})});
  // Writing history into a view would bypass its base: refused rather than silently wrong.
  Tensor t = zeros({2, 3}, {.dtype = DType::f64});
  Tensor row = select(t, 0, 1);
  CHECK_THROWS_WITH_ALL(copy_(row, leaf({3})), "copy_: in-place modification of a view");
}

TEST_CASE("gradcheck: clamp, where, masked_fill") {
  CHECK_GRADCHECK([](const In& in) { return clamp(in[0], -0.5, 0.5); }, {leaf({6})});
  CHECK_GRADCHECK([](const In& in) { return clamp(in[0], std::nullopt, 0.3); }, {strided_leaf({2, 3})});
  const Tensor cond = from_vector<bool>({true, false, true}, {3});
  CHECK_GRADCHECK([&](const In& in) { return where(cond, in[0], in[1]); }, {leaf({2, 3}), leaf({1})});
  const Tensor mask = from_vector<bool>({false, true}, {2, 1});
  CHECK_GRADCHECK([&](const In& in) { return masked_fill(in[0], mask, 4); }, {strided_leaf({2, 3})});
}

TEST_CASE("gradcheck: reductions over several dims") {
  for (bool keepdim : {false, true}) {
    CHECK_GRADCHECK([&](const In& in) { return sum(in[0], {0, 2}, keepdim); }, {strided_leaf({2, 3, 2})});
    CHECK_GRADCHECK([&](const In& in) { return mean(in[0], {-1}, keepdim); }, {leaf({2, 3})});
    CHECK_GRADCHECK([&](const In& in) { return var(in[0], {0, 1}, true, keepdim); }, {leaf({3, 2, 2})});
    CHECK_GRADCHECK([&](const In& in) { return var(in[0], {}, false, keepdim); }, {strided_leaf({2, 3})});
    CHECK_GRADCHECK([&](const In& in) { return prod(in[0], {1}, keepdim); }, {leaf({2, 3}, 0.5, 1.5)});
    CHECK_GRADCHECK([&](const In& in) { return amax(in[0], {1}, keepdim); }, {leaf({3, 4})});
    CHECK_GRADCHECK([&](const In& in) { return amin(in[0], {0}, keepdim); }, {strided_leaf({3, 2})});
    CHECK_GRADCHECK([&](const In& in) { return max(in[0], 1, keepdim).values; }, {leaf({2, 5})});
    CHECK_GRADCHECK([&](const In& in) { return min(in[0], 0, keepdim).values; }, {strided_leaf({3, 2})});
  }
  CHECK_GRADCHECK([](const In& in) { return sum(in[0]); }, {leaf({})});
  // prod with zeros in the slice: exact gradients from the zero-aware formula.
  Tensor z = from_vector<double>({0, 2, 3, 0, 0, 5, 1, 2, 4}, {3, 3}).requires_grad_();
  CHECK_GRADCHECK([](const In& in) { return prod(in[0], {1}); }, {z});
  // amax with ties shares the gradient (checked by value, as central differences fail at ties).
  Tensor t = from_vector<double>({1, 3, 3}, {3}).requires_grad_();
  autograd::backward(amax(t));
  splat::test::check_close(t.grad(), from_vector<double>({0, 0.5, 0.5}, {3}));
}

TEST_CASE("gradcheck: matmul, mm, bmm") {
  CHECK_GRADCHECK([](const In& in) { return mm(in[0], in[1]); }, {leaf({2, 3}), strided_leaf({3, 4})});
  CHECK_GRADCHECK([](const In& in) { return mm(transpose(in[0], 0, 1), in[1]); }, {leaf({3, 2}), leaf({3, 2})});
  CHECK_GRADCHECK([](const In& in) { return bmm(in[0], in[1]); }, {leaf({2, 2, 3}), leaf({2, 3, 2})});
  CHECK_GRADCHECK([](const In& in) { return matmul(in[0], in[1]); }, {leaf({2, 1, 2, 3}), leaf({3, 3, 2})});
  CHECK_GRADCHECK([](const In& in) { return matmul(in[0], in[1]); }, {leaf({3}), leaf({3})});
  CHECK_GRADCHECK([](const In& in) { return matmul(in[0], in[1]); }, {leaf({3}), leaf({2, 3, 2})});
}

TEST_CASE("gradcheck: every view op, including non-contiguous inputs") {
  CHECK_GRADCHECK([](const In& in) { return view(in[0], {3, 2}); }, {leaf({2, 3})});
  CHECK_GRADCHECK([](const In& in) { return reshape(in[0], {6}); }, {strided_leaf({2, 3})});
  CHECK_GRADCHECK([](const In& in) { return flatten(in[0], 1); }, {leaf({2, 2, 2})});
  CHECK_GRADCHECK([](const In& in) { return permute(in[0], {2, 0, 1}); }, {strided_leaf({2, 3, 2})});
  CHECK_GRADCHECK([](const In& in) { return transpose(in[0], 0, 1); }, {leaf({2, 3})});
  CHECK_GRADCHECK([](const In& in) { return slice(in[0], 1, 1, 5, 2); }, {leaf({2, 5})});
  CHECK_GRADCHECK([](const In& in) { return narrow(in[0], 0, 1, 2); }, {strided_leaf({4, 2})});
  CHECK_GRADCHECK([](const In& in) { return select(in[0], -1, 2); }, {leaf({2, 3})});
  CHECK_GRADCHECK([](const In& in) { return expand(in[0], {2, 3, 4}); }, {leaf({3, 1})});
  CHECK_GRADCHECK([](const In& in) { return squeeze(in[0]); }, {leaf({1, 3, 1})});
  CHECK_GRADCHECK([](const In& in) { return squeeze(in[0], 0); }, {leaf({1, 3})});
  CHECK_GRADCHECK([](const In& in) { return unsqueeze(in[0], 1); }, {strided_leaf({2, 3})});
  // A chain of views feeding a reduction, with a view used twice.
  CHECK_GRADCHECK([](const In& in) {
    const Tensor t = transpose(view(in[0], {2, 3}), 0, 1);
    return add(mul(t, t), sum(t, {0}));
  }, {leaf({6})});
}

TEST_CASE("gradcheck: copies and dtype conversions") {
  CHECK_GRADCHECK([](const In& in) { return clone(in[0]); }, {strided_leaf({2, 2})});
  CHECK_GRADCHECK([](const In& in) { return contiguous(transpose(in[0], 0, 1)); }, {leaf({2, 3})});
  autograd::GradcheckOptions loose{.eps = 1e-3, .atol = 1e-3, .rtol = 1e-3};
  CHECK_GRADCHECK([](const In& in) { return to(mul(to(in[0], DType::f32), 2.0), DType::f64); }, {leaf({3})}, loose);
}
