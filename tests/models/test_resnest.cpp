// ResNeSt structure against the spec (section 1.4): exact parameter counts, state-dict sizes and
// key names of the classifiers and MMDetection backbones, frozen stages, norm_eval, feature
// strides, and CPU-vs-CUDA parity of a tiny model.
#include "autograd/engine.h"
#include "models/resnest.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "tests/helpers.h"

#include <fstream>
#include <sstream>

using namespace splat;
using namespace splat::models;
using splat::test::check_close;

namespace {

int64_t count(const nn::Module& m, bool trainable) {
  int64_t n = 0;
  for (const auto& [name, p] : m.named_parameters())
    if (p.requires_grad() == trainable) n += p.numel();
  return n;
}

ResNeStConfig tiny(int64_t classes = 10) {
  ResNeStConfig c;
  c.blocks = {2, 1, 1, 1};
  c.planes = {4, 8, 8, 16};
  c.stem_width = 8;
  c.num_classes = classes;
  return c;
}

// Key -> shape string ("32x3x3x3", "" for scalars) of one component of the spec's key list
// (tests/fixtures/spec_keys.tsv, a copy of the spec's resnest-detectors-keys.tsv).
std::map<std::string, std::string> spec_keys(const std::string& component) {
  std::ifstream f(SPLAT_SOURCE_DIR "/tests/fixtures/spec_keys.tsv");
  REQUIRE(f.good());
  std::map<std::string, std::string> out;
  for (std::string line; std::getline(f, line);) {
    std::istringstream row(line);
    std::string comp, key, shape;
    std::getline(row, comp, '\t');
    std::getline(row, key, '\t');
    std::getline(row, shape, '\t');
    if (comp == component) out[key] = shape;
  }
  return out;
}

std::string shape_key(const Shape& s) {
  if (s.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

} // namespace

TEST_CASE("the backbones' state-dict keys and shapes are exactly the spec's list") {
  for (int depth : {50, 101}) {
    CAPTURE(depth);
    const ResNeSt backbone(resnest_backbone_config(depth, {}));
    std::map<std::string, std::string> ours;
    for (const auto& [k, t] : backbone.state_dict()) ours["backbone." + k] = shape_key(t.shape());
    const auto spec = spec_keys(depth == 50 ? "backbone_s50" : "backbone_s101");
    REQUIRE(spec.size() == (depth == 50 ? 474u : 933u));
    CHECK(ours == spec);
  }
}

TEST_CASE("the ImageNet classifiers have the spec's parameter counts and state-dict sizes") {
  const auto r50 = make_classifier("resnest50");
  CHECK(r50->num_parameters() == 27'483'240);
  CHECK(r50->state_dict().size() == 476);
  const auto r101 = make_classifier("resnest101");
  CHECK(r101->num_parameters() == 48'275'016);
  CHECK(r101->state_dict().size() == 935);
  CHECK(make_classifier("resnest200")->num_parameters() == 70'201'544);
  CHECK(make_classifier("resnest269")->num_parameters() == 110'929'480);
  CHECK_THROWS_WITH_AS(make_classifier("resnet50"),
                       "unknown model 'resnet50' (resnest50, resnest101, resnest200, resnest269)", Error);
}

TEST_CASE("the mmdet backbones have the spec's counts, frozen parameters and key names") {
  const ResNeSt s50(resnest_backbone_config(50, {}));
  CHECK(s50.num_parameters() == 25'434'240);
  CHECK(s50.state_dict().size() == 474);
  CHECK(count(s50, false) == 264'064);
  CHECK(count(s50, true) == 25'170'176);
  CHECK(s50.stem->num_parameters() == 28'768);
  const std::vector<int64_t> stages{235'296, 1'320'704, 7'696'640, 16'152'832};
  for (size_t s = 0; s < 4; ++s) CHECK(s50.layers[s]->num_parameters() == stages[s]);

  const ResNeSt s101(resnest_backbone_config(101, {}));
  CHECK(s101.num_parameters() == 46'226'016);
  CHECK(s101.state_dict().size() == 933);
  CHECK(count(s101, false) == 368'608);
  CHECK(count(s101, true) == 45'857'408);

  const auto keys = s50.state_dict();
  for (const char* k : {"stem.0.weight", "stem.7.num_batches_tracked", "layer1.0.downsample.1.weight",
                        "layer1.0.downsample.2.running_var", "layer2.0.conv2.conv.weight",
                        "layer2.0.conv2.bn0.weight", "layer3.5.conv2.fc1.bias", "layer4.2.conv2.bn1.bias",
                        "layer4.2.conv2.fc2.weight", "layer4.0.bn3.weight"})
    CHECK_MESSAGE(keys.count(k) == 1, k);
  for (const auto& [k, t] : keys) {
    CHECK_MESSAGE(k.find("avd") == std::string::npos, k);
    CHECK_MESSAGE(!k.starts_with("fc."), k);
  }
  CHECK(keys.at("layer2.0.conv2.conv.weight").shape() == Shape{256, 64, 3, 3});
  CHECK(keys.at("layer3.0.conv2.fc1.weight").shape() == Shape{128, 256, 1, 1});
  CHECK(keys.at("layer4.0.conv2.fc2.bias").shape() == Shape{1024});
  CHECK_THROWS_WITH_AS(resnest_backbone_config(200, {}),
                       "ResNeSt backbone: MMDetection's configs use depth 50 or 101, not 200", Error);
}

TEST_CASE("backbone features come at strides 4, 8, 16, 32 and the classifier gives logits") {
  ResNeSt classifier(tiny());
  const Tensor x = ops::randn({2, 3, 64, 48});
  CHECK(classifier.forward(x).shape() == Shape{2, 10});
  ResNeStConfig c = tiny(0);
  ResNeSt backbone(c);
  const auto feats = backbone.forward_features(x);
  REQUIRE(feats.size() == 4);
  CHECK(feats[0].shape() == Shape{2, 16, 16, 12});
  CHECK(feats[1].shape() == Shape{2, 32, 8, 6});
  CHECK(feats[2].shape() == Shape{2, 32, 4, 3});
  CHECK(feats[3].shape() == Shape{2, 64, 2, 2});
  CHECK_THROWS_WITH_AS(backbone.forward(x), doctest::Contains("forward() needs the classifier head"), Error);
  CHECK_THROWS_WITH_AS(backbone.forward_features(ops::randn({2, 4, 8, 8})),
                       "ResNeSt: input must be (N, 3, H, W), got [2, 4, 8, 8]", Error);
}

TEST_CASE("frozen stages and norm_eval survive train()") {
  ResNeStConfig c = tiny(0);
  c.frozen_stages = 1;
  c.norm_eval = true;
  ResNeSt m(c);
  m.train();
  CHECK(m.is_training());
  CHECK(!m.stem->is_training());
  CHECK(!m.layers[0]->is_training());
  CHECK(m.layers[1]->is_training());  // a Sequential of the trained stage
  CHECK(!m.layers[1]->child("0")->child("bn1")->is_training());  // but its BNs stay in eval
  for (const auto& [name, p] : m.named_parameters())
    CHECK_MESSAGE(p.requires_grad() == !(name.starts_with("stem.") || name.starts_with("layer1.")), name);
  // Backward reaches every trainable parameter.
  const auto feats = m.forward_features(ops::randn({2, 3, 32, 32}));
  autograd::backward({ops::sum(feats[3])}, {});
  for (const auto& [name, p] : m.named_parameters())
    CHECK_MESSAGE(p.grad().defined() == p.requires_grad(), name);
}

TEST_SUITE_BEGIN("cuda models" * doctest::skip(splat::test::no_cuda_device()));

// In float64: with a batch of 2 the BNs of the last stages normalise a handful of values per
// channel, which amplifies float32 rounding differences in the gradients far beyond float32
// epsilon; float64 shows that both devices compute the same step.
TEST_CASE("a tiny ResNeSt trains identically on the CPU and the emulated CUDA device") {
  ResNeSt cpu(tiny(3)), gpu(tiny(3));
  cpu.to(DType::f64);
  gpu.to(DType::f64);
  gpu.load_state_dict(cpu.state_dict());
  gpu.to(Device::cuda(0));
  const Tensor x = ops::randn({2, 3, 32, 32}, {.dtype = DType::f64});
  const Tensor y_cpu = cpu.forward(x), y_gpu = gpu.forward(ops::to(x, Device::cuda(0)));
  check_close(y_gpu, y_cpu, 1e-10, 1e-12);
  autograd::backward({ops::sum(y_cpu)}, {});
  autograd::backward({ops::sum(y_gpu)}, {});
  const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  for (size_t i = 0; i < pc.size(); ++i) {
    CAPTURE(pc[i].first);
    check_close(pg[i].second.grad(), pc[i].second.grad(), 1e-8, 1e-10);
  }
  const auto sc = cpu.state_dict(), sg = gpu.state_dict();
  check_close(sg.at("layer1.0.bn1.running_mean"), sc.at("layer1.0.bn1.running_mean"), 1e-10, 1e-12);
}

TEST_SUITE_END();
