#include "models/resnest.h"

#include <algorithm>

#include "autograd/function.h"
#include "nn/init.h"
#include "ops/dropout.h"
#include "ops/pointwise.h"
#include "ops/pool.h"
#include "ops/view.h"

namespace splat::models {
namespace {

using nn::Conv2d;
using nn::LayerPtr;
using nn::Sequential;

std::shared_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1) {
  return std::make_shared<Conv2d>(in, out, kernel,
                                  ops::Conv2dOptions{.stride = stride, .padding = kernel / 2}, /*bias=*/false);
}

bool is_batch_norm(const nn::Module& m) { return dynamic_cast<const nn::BatchNorm2d*>(&m) != nullptr; }

} // namespace

ResNeStConfig resnest_config(int depth) {
  ResNeStConfig c;
  switch (depth) {
  case 50: c.blocks = {3, 4, 6, 3}; c.stem_width = 32; break;
  case 101: c.blocks = {3, 4, 23, 3}; c.stem_width = 64; break;
  case 200: c.blocks = {3, 24, 36, 3}; c.stem_width = 64; break;
  case 269: c.blocks = {3, 30, 48, 8}; c.stem_width = 64; break;
  default: throw Error(str("ResNeSt: no depth ", depth, " (50, 101, 200 or 269)"));
  }
  return c;
}

ResNeStConfig resnest_backbone_config(int depth, nn::NormConfig norm) {
  SPLAT_CHECK(depth == 50 || depth == 101, "ResNeSt backbone: MMDetection's configs use depth 50 or 101, not ", depth);
  ResNeStConfig c = resnest_config(depth);
  c.num_classes = 0;
  c.frozen_stages = 1;
  c.norm_eval = true;
  c.norm = norm;
  return c;
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, bool with_downsample,
                       const ResNeStConfig& cfg)
    : Layer("Bottleneck"), avd_first(cfg.avd_first) {
  const int64_t width = planes * cfg.bottleneck_width / 64 * cfg.cardinality;
  const bool avd = cfg.avd && stride > 1;
  conv1 = register_module("conv1", conv(inplanes, width, 1));
  bn1 = register_module("bn1", nn::make_norm(cfg.norm, width));
  conv2 = register_module("conv2", std::make_shared<nn::SplitAttentionConv2d>(
      width, width, nn::SplitAttentionOptions{.stride = avd ? 1 : stride, .radix = cfg.radix,
                                               .cardinality = cfg.cardinality, .norm = cfg.norm}));
  // The avd pool counts padded zeros (PyTorch's default), unlike the shortcut pool (spec pitfall 9).
  if (avd)
    avd_layer = register_module("avd_layer", std::make_shared<nn::AvgPool2d>(
        ops::AvgPool2dOptions{.kernel = 3, .stride = ops::Size2(stride), .padding = 1}));
  conv3 = register_module("conv3", conv(width, planes * kExpansion, 1));
  bn3 = register_module("bn3", nn::make_norm(cfg.norm, planes * kExpansion));
  if (with_downsample) {
    // avg-down: the pool sits at index 0 even at stride 1 (an identity), so the conv is
    // `downsample.1` and the BN `downsample.2` in every stage (spec pitfall 8).
    LayerPtr pool = stride > 1 ? LayerPtr(std::make_shared<nn::AvgPool2d>(ops::AvgPool2dOptions{
                                     .kernel = stride, .stride = ops::Size2(stride), .ceil_mode = true,
                                     .count_include_pad = false}))
                               : LayerPtr(std::make_shared<nn::Identity>());
    downsample = register_module("downsample", std::make_shared<Sequential>(std::vector<LayerPtr>{
        pool, conv(inplanes, planes * kExpansion, 1), nn::make_norm(cfg.norm, planes * kExpansion)}));
  }
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor y = nn::norm_relu(*bn1, conv1->forward(x));
  if (avd_layer && avd_first) y = avd_layer->forward(y);
  y = conv2->forward(y);
  if (avd_layer && !avd_first) y = avd_layer->forward(y);
  y = bn3->forward(conv3->forward(y));
  const Tensor identity = downsample ? downsample->forward(x) : x;
  // The sum and relu reuse this block's own temporaries: without grad y takes the sum, with
  // grad relu overwrites the sum (its backward needs only relu's output).
  if (autograd::needs_grad({y, identity})) y = ops::add(y, identity);
  else ops::add_(y, identity);
  return ops::relu_(y);
}

ResNeSt::ResNeSt(const ResNeStConfig& cfg) : Layer("ResNeSt"), config(cfg) {
  SPLAT_CHECK(!cfg.blocks.empty() && cfg.blocks.size() == cfg.planes.size(), "ResNeSt: ",
              cfg.blocks.size(), " stage block counts for ", cfg.planes.size(), " stage widths");
  const int64_t w = cfg.stem_width;
  auto relu = [] { return std::make_shared<nn::ReLU>(); };
  stem = register_module("stem", std::make_shared<Sequential>(std::vector<LayerPtr>{
      conv(3, w, 3, 2), nn::make_norm(cfg.norm, w), relu(),
      conv(w, w, 3), nn::make_norm(cfg.norm, w), relu(),
      conv(w, 2 * w, 3), nn::make_norm(cfg.norm, 2 * w), relu()}));
  maxpool = register_module("maxpool", std::make_shared<nn::MaxPool2d>(
      ops::MaxPool2dOptions{.kernel = 3, .stride = ops::Size2(2), .padding = 1}));
  int64_t inplanes = 2 * w;
  for (size_t s = 0; s < cfg.blocks.size(); ++s) {
    const int64_t planes = cfg.planes[s], stride = s == 0 ? 1 : 2;
    auto layer = std::make_shared<Sequential>();
    for (int64_t b = 0; b < cfg.blocks[s]; ++b) {
      const bool first = b == 0;
      layer->push_back(std::make_shared<Bottleneck>(
          inplanes, planes, first ? stride : 1,
          first && (stride != 1 || inplanes != planes * Bottleneck::kExpansion), cfg));
      inplanes = planes * Bottleneck::kExpansion;
    }
    layers.push_back(register_module("layer" + std::to_string(s + 1), layer));
  }
  if (cfg.num_classes > 0) fc = register_module("fc", std::make_shared<nn::Linear>(inplanes, cfg.num_classes));

  // Both the ResNeSt repo and mmdet: kaiming normal (fan_out, relu) convs, BN weight 1 bias 0
  // (already the BN defaults); the fc keeps PyTorch's default.
  for (auto& [name, p] : named_parameters())
    if (p.dim() == 4) nn::init::kaiming_normal_(p);
  freeze_stages();
}

Tensor ResNeSt::run_stages(const Tensor& x, std::vector<Tensor>* outs) {
  SPLAT_CHECK(x.dim() == 4 && x.size(1) == 3, "ResNeSt: input must be (N, 3, H, W), got ", shape_str(x.shape()));
  Tensor y = maxpool->forward(stem->forward(x));
  for (size_t s = 0; s < layers.size(); ++s) {
    y = layers[s]->forward(y);
    if (outs && std::find(config.out_indices.begin(), config.out_indices.end(), static_cast<int>(s)) !=
                    config.out_indices.end())
      outs->push_back(y);
  }
  return y;
}

std::vector<Tensor> ResNeSt::forward_features(const Tensor& x) {
  std::vector<Tensor> outs;
  run_stages(x, &outs);
  return outs;
}

Tensor ResNeSt::forward(const Tensor& x) {
  SPLAT_CHECK(fc != nullptr, "ResNeSt: forward() needs the classifier head (num_classes > 0); "
              "backbones use forward_features()");
  Tensor y = run_stages(x, nullptr);
  y = ops::view(ops::global_avg_pool2d(y), {y.size(0), y.size(1)});
  if (config.dropout > 0) y = ops::dropout(y, config.dropout, is_training());
  return fc->forward(y);
}

void ResNeSt::train(bool on) {
  Module::train(on);
  freeze_stages();
  if (on && config.norm_eval)
    apply([](const std::string&, nn::Module& m) {
      if (is_batch_norm(m)) m.train(false);
    });
}

void ResNeSt::freeze_stages() {
  if (config.frozen_stages < 0) return;
  std::vector<nn::Module*> frozen{stem.get()};
  for (int s = 0; s < config.frozen_stages && s < static_cast<int>(layers.size()); ++s) frozen.push_back(layers[s].get());
  for (nn::Module* m : frozen) {
    m->eval();
    for (auto& p : m->parameters()) p.requires_grad_(false);
  }
}

std::shared_ptr<ResNeSt> make_classifier(const std::string& name) {
  for (int depth : {50, 101, 200, 269})
    if (name == "resnest" + std::to_string(depth)) return std::make_shared<ResNeSt>(resnest_config(depth));
  throw Error(str("unknown model '", name, "' (resnest50, resnest101, resnest200, resnest269)"));
}

} // namespace splat::models
