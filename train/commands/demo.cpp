#include "train/commands/demo.h"

#include "train/commands/command.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/philox.h"
#include "core/safetensors.h"
#include "ops/copy.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

namespace splat::train {
namespace {

using Params = std::map<std::string, Tensor>;

// Two spirals of n points each, winding 1.5 turns: a classic problem no linear model solves.
void make_spirals(int64_t n, Tensor& x, Tensor& y) {
  std::vector<float> xv, yv;
  const Tensor noise = ops::randn({2 * n, 2});
  const float* nz = noise.data<float>();
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t i = 0; i < n; ++i) {
      const double t = 0.25 + 3.0 * M_PI * i / n;  // angle
      const double r = t / (3.0 * M_PI);            // radius grows with the angle
      const double a = t + c * M_PI;
      const int64_t k = c * n + i;
      xv.push_back(static_cast<float>(r * std::cos(a) + 0.01 * nz[2 * k]));
      xv.push_back(static_cast<float>(r * std::sin(a) + 0.01 * nz[2 * k + 1]));
      yv.push_back(c == 0 ? -1.f : 1.f);
    }
  x = ops::from_vector<float>(xv, {2 * n, 2});
  y = ops::from_vector<float>(yv, {2 * n, 1});
}

Tensor forward(const Params& p, const Tensor& x) {
  using namespace ops;
  const Tensor h1 = relu(add(matmul(x, p.at("fc1.weight")), p.at("fc1.bias")));
  const Tensor h2 = relu(add(matmul(h1, p.at("fc2.weight")), p.at("fc2.bias")));
  return add(matmul(h2, p.at("fc3.weight")), p.at("fc3.bias"));
}

double accuracy(const Params& p, const Tensor& x, const Tensor& y) {
  NoGradGuard guard;
  return ops::mean(ops::to(ops::gt(ops::mul(forward(p, x), y), 0.0), DType::f32)).item<double>();
}

Params init_params() {
  Params p;
  auto layer = [&](const std::string& name, int64_t in, int64_t out) {
    // Kaiming-uniform-like scale for ReLU layers.
    const double bound = std::sqrt(6.0 / static_cast<double>(in));
    Tensor w = ops::empty({in, out});
    p[name + ".weight"] = ops::uniform_(w, -bound, bound);
    p[name + ".bias"] = ops::zeros({out});
  };
  layer("fc1", 2, 64);
  layer("fc2", 64, 64);
  layer("fc3", 64, 1);
  for (auto& [name, t] : p) t.requires_grad_();
  return p;
}

} // namespace

double run_demo(const DemoOptions& opts) {
  manual_seed(0);
  Tensor x, y;
  make_spirals(200, x, y);
  Params p = init_params();
  std::printf("demo: MLP 2-64-64-1 (two hidden ReLU layers) on two spirals, %lld points, SGD lr %.2f\n",
              static_cast<long long>(x.size(0)), opts.lr);
  for (int step = 1; step <= opts.steps; ++step) {
    // Logistic loss log(1 + exp(-y f)), averaged.
    const Tensor loss = ops::mean(ops::log(ops::add(ops::exp(ops::neg(ops::mul(y, forward(p, x)))), 1.0)));
    autograd::backward(loss);
    NoGradGuard guard;
    for (auto& [name, t] : p) {
      ops::sub_(t, ops::mul(t.grad(), opts.lr));
      t.set_grad(Tensor());
    }
    if (step % 250 == 0 || step == 1)
      std::printf("step %5d  loss %.4f  accuracy %.3f\n", step, loss.item<double>(), accuracy(p, x, y));
  }
  const double acc = accuracy(p, x, y);

  std::map<std::string, Tensor> weights;
  for (auto& [name, t] : p) weights[name] = t.detach();
  save_safetensors(opts.checkpoint, weights, {{"model", "mlp-2-64-64-1"}, {"steps", std::to_string(opts.steps)}});
  const SafeTensors loaded = load_safetensors(opts.checkpoint);
  const double reloaded = accuracy(loaded.tensors, x, y);
  std::printf("saved %s (%zu tensors); reloaded model accuracy %.3f\n", opts.checkpoint.c_str(),
              loaded.tensors.size(), reloaded);
  SPLAT_CHECK(reloaded == acc, "demo: reloaded checkpoint gives accuracy ", reloaded,
              " instead of ", acc);
  return acc;
}

void add_demo_command(CLI::App& app, Commands& out) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand(
      "demo", "Train an MLP on synthetic spirals end to end (the demo until the detectors exist)");
  demo->add_option("--steps", o->steps, "SGD steps")->check(CLI::PositiveNumber);
  demo->add_option("--lr", o->lr, "Learning rate")->check(CLI::PositiveNumber);
  demo->add_option("--checkpoint", o->checkpoint, "Where to save the trained weights");
  out.push_back({demo, [o] { run_demo(*o); }});
}

} // namespace splat::train
