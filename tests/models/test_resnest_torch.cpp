// Model-level parity: a tiny ResNeSt recorded in float64 by scripts/fixtures/torch_resnest.py
// (torch.nn modules with the ResNeSt repo's structure), whose weights load strictly from the
// .pth torch.save wrote, gives the same eval logits and C2..C5 features, train-mode logits,
// running statistics after that step and parameter gradients - on the CPU and the emulated
// CUDA device.
#include "autograd/engine.h"
#include "core/safetensors.h"
#include "models/resnest.h"
#include "nn/pth.h"
#include "ops/copy.h"
#include "tests/helpers.h"

using namespace splat;
using splat::test::check_close;

namespace {

const SafeTensors& fixture() {
  static const SafeTensors f = load_safetensors(SPLAT_SOURCE_DIR "/tests/fixtures/torch_resnest.safetensors");
  return f;
}

// With the prefix removed.
std::map<std::string, Tensor> group(const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const auto& [k, t] : fixture().tensors)
    if (k.starts_with(prefix)) out.emplace(k.substr(prefix.size()), t);
  return out;
}

std::shared_ptr<models::ResNeSt> tiny_model(Device device) {
  models::ResNeStConfig c;
  c.blocks = {2, 1, 1, 1};
  c.planes = {4, 8, 8, 16};
  c.stem_width = 8;
  c.num_classes = 5;
  auto m = std::make_shared<models::ResNeSt>(c);
  m->to(DType::f64);
  m->load_state_dict(nn::load_pth_state_dict(SPLAT_SOURCE_DIR "/tests/fixtures/pth/tiny_resnest.pth"));
  m->to(device);
  return m;
}

void check_against_torch(Device device) {
  auto model = tiny_model(device);
  const Tensor x = ops::to(fixture().tensors.at("input"), device);
  model->eval();
  check_close(model->forward(x), fixture().tensors.at("logits_eval"), 1e-10, 1e-12);
  const auto features = model->forward_features(x);
  REQUIRE(features.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    check_close(features[i], fixture().tensors.at("features_eval." + std::to_string(i)), 1e-10, 1e-12);
  }

  model->train();
  const Tensor logits = model->forward(x);
  check_close(logits, fixture().tensors.at("logits_train"), 1e-10, 1e-12);
  const auto state = model->state_dict();
  for (const auto& [key, t] : group("after_train.")) {
    CAPTURE(key);
    check_close(state.at(key), t, 1e-10, 1e-12);
  }
  autograd::backward({logits}, {ops::to(fixture().tensors.at("gout"), device)});
  const auto params = model->named_parameters();
  for (const auto& [key, g] : group("grad.")) {
    CAPTURE(key);
    auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == key; });
    REQUIRE(it != params.end());
    REQUIRE(it->second.grad().defined());
    check_close(it->second.grad(), g, 1e-8, 1e-10);
  }
}

} // namespace

TEST_CASE("a tiny ResNeSt loaded from a .pth matches the PyTorch model in eval and training mode") {
  check_against_torch(Device::cpu());
}

TEST_SUITE_BEGIN("cuda models" * doctest::skip(splat::test::no_cuda_device()));
TEST_CASE("a tiny ResNeSt on the emulated CUDA device matches the PyTorch model") {
  check_against_torch(Device::cuda(0));
}
TEST_SUITE_END();
