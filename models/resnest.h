// ResNeSt (spec sections 1.2-1.4): the ImageNet classifiers resnest50/101/200/269 and the
// MMDetection backbones S-50/S-101, one class with the names of both checkpoint families:
// `stem.{0,1,3,4,6,7}`, `layer{1-4}.{b}.{conv1,bn1,conv2.{conv,bn0,fc1,bn1,fc2},conv3,bn3,
// downsample.{1,2}}` and, for the classifier, `fc`. The official ImageNet files load after the
// `resnest` key map (nn/checkpoint_keys.h); detector checkpoints under the `backbone.` prefix.
//
// Layout "2s1x64d": deep stem (w, w, 2w), radix 2, cardinality 1, bottleneck width 64, the avd
// pool after the split-attention conv in the first block of strided stages, the avg-down
// shortcut with its own pooling mode. Everything is a parameter of ResNeStConfig, so tests build
// tiny variants (fewer blocks, narrower stages).
#pragma once

#include "nn/norm.h"
#include "nn/sequential.h"
#include "nn/simple_layers.h"
#include "nn/split_attention.h"

#include <string>
#include <vector>

namespace splat::models {

struct ResNeStConfig {
  std::vector<int64_t> blocks{3, 4, 6, 3};        // per stage
  std::vector<int64_t> planes{64, 128, 256, 512}; // stage widths; outputs are 4x these
  int64_t stem_width = 32;                        // stem convs w, w, 2w (mmdet stem_channels = 2w)
  int64_t radix = 2;
  int64_t cardinality = 1;
  int64_t bottleneck_width = 64;
  bool avd = true;        // stride moved to an avg pool around the split-attention conv
  bool avd_first = false; // the "fast" variants: that pool before conv2 instead of after
  nn::NormConfig norm;
  // Classifier head: num_classes > 0 adds global pooling, dropout and `fc`.
  int64_t num_classes = 1000;
  double dropout = 0;
  // Backbone behaviour (MMDetection's ResNet arguments).
  std::vector<int> out_indices{0, 1, 2, 3};  // stages whose outputs forward_features returns
  int frozen_stages = -1;  // stem and stages 1..k stop training (mmdet counts the stem as 0)
  bool norm_eval = false;  // batch-norm layers stay in eval mode in training
};

// Depth 50, 101, 200 or 269 with the spec's block counts and stem widths; an Error otherwise.
ResNeStConfig resnest_config(int depth);
// The MMDetection backbone of depth 50 or 101 (no classifier head): frozen stem + layer1,
// norm_eval, the given norm (the spec's configs use SyncBN).
ResNeStConfig resnest_backbone_config(int depth, nn::NormConfig norm);

class Bottleneck : public nn::Layer {
public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, bool downsample, const ResNeStConfig& cfg);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::Conv2d> conv1, conv3;
  nn::LayerPtr bn1, bn3, avd_layer;  // avd_layer null unless strided with avd
  std::shared_ptr<nn::SplitAttentionConv2d> conv2;
  std::shared_ptr<nn::Sequential> downsample;  // null for identity shortcuts
  const bool avd_first;
};

class ResNeSt : public nn::Layer {
public:
  explicit ResNeSt(const ResNeStConfig& config);

  // Classifier: (N, 3, H, W) -> (N, num_classes) logits. Requires num_classes > 0.
  Tensor forward(const Tensor& x) override;
  // Backbone: the outputs of the stages in out_indices (C2..C5 at strides 4, 8, 16, 32).
  std::vector<Tensor> forward_features(const Tensor& x);

  // Training mode, then re-applies frozen stages and norm_eval.
  void train(bool on = true) override;

  const ResNeStConfig config;
  std::shared_ptr<nn::Sequential> stem;
  nn::LayerPtr maxpool;
  std::vector<std::shared_ptr<nn::Sequential>> layers;  // layer1..layer4
  std::shared_ptr<nn::Linear> fc;                       // null for backbones

private:
  // Stem, max pool and every stage; the outputs of the stages in out_indices go to outs.
  Tensor run_stages(const Tensor& x, std::vector<Tensor>* outs);
  void freeze_stages();
};

// "resnest50", "resnest101", "resnest200", "resnest269" classifiers; an Error lists the names.
std::shared_ptr<ResNeSt> make_classifier(const std::string& name);

} // namespace splat::models
