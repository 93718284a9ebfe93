// End-to-end learning with autograd: a 2-layer MLP trained by plain SGD, and one step checked
// against gradients derived by hand.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "ops/copy.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::to_vector;

namespace {

struct Mlp {
  Tensor w1, b1, w2, b2;
  Mlp(int64_t in, int64_t hidden, DType dt) {
    const double s1 = 1.0 / std::sqrt(double(in)), s2 = 1.0 / std::sqrt(double(hidden));
    w1 = mul(randn({in, hidden}, {.dtype = dt}), s1).requires_grad_();
    b1 = zeros({hidden}, {.dtype = dt}).requires_grad_();
    w2 = mul(randn({hidden, 1}, {.dtype = dt}), s2).requires_grad_();
    b2 = zeros({1}, {.dtype = dt}).requires_grad_();
  }
  Tensor forward(const Tensor& x) const { return add(matmul(relu(add(matmul(x, w1), b1)), w2), b2); }
  std::vector<Tensor*> params() { return {&w1, &b1, &w2, &b2}; }
};

} // namespace

TEST_CASE("a 2-layer MLP learns a non-linearly separable problem to 100% training accuracy") {
  manual_seed(7);
  // XOR of the signs of two coordinates, with a margin around the axes.
  const int64_t n = 200;
  Tensor x = sub(mul(rand({n, 2}), 2.0), 1.0);
  {
    NoGradGuard guard;
    Tensor push = mul(sub(to(gt(x, 0.0), DType::f32), 0.5), 0.4);  // +-0.2 away from the axes
    add_(x, push);
  }
  const auto xv = to_vector<float>(x);
  std::vector<float> yv(n);
  for (int64_t i = 0; i < n; ++i) yv[i] = (xv[2 * i] > 0) == (xv[2 * i + 1] > 0) ? 1.f : -1.f;
  const Tensor y = from_vector<float>(yv, {n, 1});

  Mlp net(2, 16, DType::f32);
  auto accuracy = [&] {
    NoGradGuard guard;
    return mean(to(gt(mul(net.forward(x), y), 0.0), DType::f32)).item<double>();
  };
  double acc = 0;
  for (int step = 0; step < 3000 && acc < 1.0; ++step) {
    // Logistic loss log(1 + exp(-y f)).
    const Tensor loss = mean(log(add(exp(neg(mul(y, net.forward(x)))), 1.0)));
    autograd::backward(loss);
    NoGradGuard guard;
    for (Tensor* p : net.params()) {
      sub_(*p, mul(p->grad(), 0.5));
      p->set_grad(Tensor());
    }
    if (step % 50 == 0) acc = accuracy();
  }
  acc = accuracy();
  CHECK(acc == 1.0);
}

TEST_CASE("one float64 MLP step matches hand-derived gradients") {
  manual_seed(3);
  const int64_t n = 5, in = 3, hidden = 4;
  const Tensor x = randn({n, in}, {.dtype = DType::f64});
  const Tensor t = randn({n, 1}, {.dtype = DType::f64});
  Mlp net(in, hidden, DType::f64);
  // L = mean((f - t)^2)
  autograd::backward(mean(square(sub(net.forward(x), t))));

  NoGradGuard guard;
  const Tensor z = add(mm(x, net.w1), net.b1);            // (n, hidden)
  const Tensor h = relu(z);
  const Tensor f = add(mm(h, net.w2), net.b2);            // (n, 1)
  const Tensor df = mul(sub(f, t), 2.0 / n);              // dL/df
  const Tensor dw2 = mm(transpose(h, 0, 1), df);          // h^T df
  const Tensor db2 = sum(df, {0});
  const Tensor dh = mm(df, transpose(net.w2, 0, 1));      // df w2^T
  const Tensor dz = mul(dh, to(gt(z, 0.0), DType::f64));  // relu'
  const Tensor dw1 = mm(transpose(x, 0, 1), dz);
  const Tensor db1 = sum(dz, {0});
  check_close(net.w1.grad(), dw1, 1e-12, 1e-14);
  check_close(net.b1.grad(), db1, 1e-12, 1e-14);
  check_close(net.w2.grad(), dw2, 1e-12, 1e-14);
  check_close(net.b2.grad(), db2, 1e-12, 1e-14);
}
