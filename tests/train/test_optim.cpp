// Optimizers and gradient clipping against torch.optim and torch.nn.utils
// (scripts/fixtures/torch_optim.py); parameter groups by hand.
#include "core/safetensors.h"
#include "nn/conv.h"
#include "nn/norm.h"
#include "nn/sequential.h"
#include "nn/simple_layers.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "train/optim/adamw.h"
#include "train/optim/grad_clip.h"
#include "train/optim/param_groups.h"
#include "train/optim/sgd.h"

using namespace splat;
using namespace splat::train;
using splat::test::check_close;

namespace {

const std::map<std::string, Tensor>& optim_fixture() {
  static const auto f = load_safetensors(SPLAT_SOURCE_DIR "/tests/fixtures/torch_optim.safetensors").tensors;
  return f;
}

constexpr double kBaseLrs[] = {0.1, 0.05, 0.2, 0.1}; // torch_optim.py's BASE_LRS

struct Params {
  Tensor a, b, c;
  explicit Params(const std::string& name) {
    const auto& f = optim_fixture();
    a = ops::clone(f.at(name + ".a.init")).requires_grad_();
    b = ops::clone(f.at(name + ".b.init")).requires_grad_();
    c = ops::clone(f.at(name + ".c.init")).requires_grad_();
  }
};

// Steps [from, to) of the fixture run `name`: gradients in, parameters compared after each.
void run_steps(const std::string& name, Optimizer& opt, Params& p, int from, int to) {
  const auto& f = optim_fixture();
  for (int step = from; step < to; ++step) {
    CAPTURE(step);
    const std::string s = std::to_string(step);
    opt.set_lr(kBaseLrs[step]);
    opt.zero_grad();
    for (auto [n, t] : {std::pair{"a", &p.a}, {"b", &p.b}, {"c", &p.c}})
      if (f.count(name + "." + n + ".grad" + s)) t->set_grad(f.at(name + "." + n + ".grad" + s));
    opt.step();
    check_close(p.a, f.at(name + ".a.step" + s), 1e-13, 1e-13);
    check_close(p.b, f.at(name + ".b.step" + s), 1e-13, 1e-13);
    check_close(p.c, f.at(name + ".c.step" + s), 1e-13, 1e-13);
  }
}

std::vector<ParamGroup> fixture_groups(const Params& p, double decay) {
  return {{{p.a, p.b}, decay, 1.0}, {{p.c}, 0.0, 0.5}};
}

} // namespace

TEST_CASE("Sgd with Nesterov momentum over two groups matches torch.optim.SGD") {
  Params p("sgd");
  Sgd opt(fixture_groups(p, 1e-4), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  run_steps("sgd", opt, p, 0, 4);
  CHECK_THROWS_WITH_ALL(Sgd({p.a}, {.momentum = 0, .nesterov = true}), "Nesterov");
}

TEST_CASE("AdamW over two groups matches torch.optim.AdamW, and resumes from its state") {
  Params p("adamw");
  const AdamWOptions o{.lr = 0.1, .betas = {0.8, 0.95}, .eps = 1e-6};
  AdamW opt(fixture_groups(p, 0.05), o);
  run_steps("adamw", opt, p, 0, 2);
  // b had no gradient in step 1: one step in its count; a and c two.
  const auto state = opt.state();
  CHECK(state.size() == 9);
  CHECK(state.at("1.step").item<int64_t>() == 1);
  CHECK(state.at("2.step").item<int64_t>() == 2);

  // A fresh optimizer over copies of the parameters, loaded from the state, continues exactly.
  Params q("adamw");
  for (auto [dst, src] : {std::pair{&q.a, &p.a}, {&q.b, &p.b}, {&q.c, &p.c}}) {
    *dst = ops::clone(src->detach()).requires_grad_();
  }
  AdamW resumed(fixture_groups(q, 0.05), o);
  resumed.load_state(state);
  run_steps("adamw", resumed, q, 2, 4);

  auto bad = state;
  bad["0.exp_avg"] = ops::zeros({2});
  CHECK_THROWS_WITH_ALL(resumed.load_state(bad), "AdamW state", "'0.exp_avg'", "[2]", "[3, 4]");
  bad = state;
  bad["7.step"] = state.at("0.step");
  CHECK_THROWS_WITH_ALL(resumed.load_state(bad), "'7.step' names parameter 7 but there are 3");
  bad = state;
  bad.erase("2.exp_avg_sq");
  CHECK_THROWS_WITH_ALL(resumed.load_state(bad), "parameter 2 needs all of exp_avg, exp_avg_sq and step");
}

TEST_CASE("Sgd state round trip: momentum buffers by parameter index") {
  Params p("sgd");
  Sgd opt(fixture_groups(p, 1e-4), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  run_steps("sgd", opt, p, 0, 2);
  Params q("sgd");
  for (auto [dst, src] : {std::pair{&q.a, &p.a}, {&q.b, &p.b}, {&q.c, &p.c}}) {
    *dst = ops::clone(src->detach()).requires_grad_();
  }
  Sgd resumed(fixture_groups(q, 1e-4), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  resumed.load_state(opt.state());
  run_steps("sgd", resumed, q, 2, 4);
  CHECK_THROWS_WITH_ALL(resumed.load_state({{"0.velocity", ops::zeros({3, 4})}}), "unexpected key '0.velocity'");
  CHECK_THROWS_WITH_ALL(resumed.load_state({{"x.momentum_buffer", ops::zeros({3, 4})}}), "'x.momentum_buffer' is not");
}

TEST_CASE("clip_grad_norm matches torch.nn.utils.clip_grad_norm_") {
  const auto& f = optim_fixture();
  for (const auto& [name, max_norm] : {std::pair{"clip", 1.0}, {"noclip", 100.0}}) {
    CAPTURE(name);
    const std::string n = name;
    std::vector<Tensor> ps = {ops::zeros({3, 4}, {.dtype = DType::f64}).requires_grad_(),
                              ops::zeros({7}, {.dtype = DType::f64}).requires_grad_(),
                              ops::zeros({2}, {.dtype = DType::f64}).requires_grad_()};
    ps[0].set_grad(ops::clone(f.at(n + ".grad0")));
    ps[1].set_grad(ops::clone(f.at(n + ".grad1")));
    const double norm = clip_grad_norm(ps, max_norm);
    CHECK(norm == doctest::Approx(f.at(n + ".norm").item<double>()).epsilon(1e-13));
    check_close(ps[0].grad(), f.at(n + ".clipped0"), 1e-13, 1e-13);
    check_close(ps[1].grad(), f.at(n + ".clipped1"), 1e-13, 1e-13);
    CHECK_FALSE(ps[2].grad().defined());
  }
  CHECK_THROWS_WITH_ALL(clip_grad_norm({}, 0), "max_norm must be positive");
}

TEST_CASE("param_groups: norms and biases take their decay multipliers, frozen parameters stay out") {
  nn::Sequential net;
  auto conv = net.push_back(std::make_shared<nn::Conv2d>(3, 4, ops::Size2{3, 3}, ops::Conv2dOptions{}, true));
  auto bn = net.push_back(std::make_shared<nn::BatchNorm2d>(4));
  auto fc = net.push_back(std::make_shared<nn::Linear>(4, 2));
  auto frozen = net.push_back(std::make_shared<nn::Linear>(2, 2));
  frozen->weight.requires_grad_(false);
  frozen->bias.requires_grad_(false);

  const auto groups = param_groups(net, 1e-4, {.norm = 0, .bias = 0});
  REQUIRE(groups.size() == 2);
  auto same = [](const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
    if (got.size() != want.size()) return false;
    for (size_t i = 0; i < got.size(); ++i)
      if (!got[i].is_same(want[i])) return false;
    return true;
  };
  CHECK(groups[0].weight_decay == 1e-4);
  CHECK(same(groups[0].params, {conv->weight, fc->weight}));
  CHECK(groups[1].weight_decay == 0);
  CHECK(same(groups[1].params, {conv->bias, bn->weight, bn->bias, fc->bias}));

  const auto all = param_groups(net, 1e-4); // spec 5: decay on every parameter
  REQUIRE(all.size() == 1);
  CHECK(same(all[0].params, {conv->weight, conv->bias, bn->weight, bn->bias, fc->weight, fc->bias}));
  const auto half = param_groups(net, 1e-4, {.norm = 0.5, .bias = 1});
  REQUIRE(half.size() == 2);
  CHECK(same(half[1].params, {bn->weight, bn->bias}));
  CHECK(half[1].weight_decay == doctest::Approx(5e-5));
}
