// The layout of splat's training checkpoints (train/checkpoint/checkpoint.h), as far as loading
// weights needs it: a safetensors file whose metadata "format" is kTrainingCheckpointFormat holds
// the model's state dict under "model.", next to optimizer state and progress. Weight loaders
// (models/detection/detector_weights.h, splat infer) take the model part of such a file and the
// whole of any other safetensors file.
#pragma once

#include "core/safetensors.h"

#include <string_view>

namespace splat::nn {

inline constexpr std::string_view kTrainingCheckpointFormat = "splat-training-checkpoint";
inline constexpr std::string_view kModelPrefix = "model.";

inline bool is_training_checkpoint(const SafeTensors& file) {
  const auto it = file.metadata.find("format");
  return it != file.metadata.end() && it->second == kTrainingCheckpointFormat;
}

// The model's state dict of a safetensors file: the "model." entries of a training checkpoint
// (prefix removed), every entry of any other file.
inline std::map<std::string, Tensor> model_state_of(const SafeTensors& file) {
  if (!is_training_checkpoint(file)) return file.tensors;
  std::map<std::string, Tensor> out;
  for (const auto& [key, t] : file.tensors)
    if (key.starts_with(kModelPrefix)) out.emplace(key.substr(kModelPrefix.size()), t);
  return out;
}

} // namespace splat::nn
