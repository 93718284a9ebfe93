// Sgd against torch.optim.SGD (scripts/fixtures/torch_sgd.py): momentum, weight decay, and a
// parameter without a gradient in one step.
#include "core/safetensors.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "train/optim/sgd.h"

using namespace splat;
using splat::test::check_close;

TEST_CASE("Sgd matches torch.optim.SGD step for step") {
  const auto f = load_safetensors(SPLAT_SOURCE_DIR "/tests/fixtures/torch_sgd.safetensors").tensors;
  Tensor a = ops::clone(f.at("a.init")), b = ops::clone(f.at("b.init"));
  a.requires_grad_();
  b.requires_grad_();
  train::Sgd opt({a, b}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    opt.zero_grad();
    const std::string s = std::to_string(step);
    a.set_grad(f.at("a.grad" + s));
    if (f.count("b.grad" + s)) b.set_grad(f.at("b.grad" + s));
    opt.step();
    check_close(a, f.at("a.step" + s), 1e-14, 1e-14);
    check_close(b, f.at("b.step" + s), 1e-14, 1e-14);
  }
}

TEST_CASE("Sgd refuses parameters that do not require grad") {
  CHECK_THROWS_WITH_AS(train::Sgd({ops::zeros({2})}, {}),
                       "Sgd: every parameter must require grad (group 0 has one of shape [2] that does not)", Error);
}
