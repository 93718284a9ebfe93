#include "models/detection/detector_weights.h"

#include "core/error.h"
#include "core/safetensors.h"
#include "nn/checkpoint_keys.h"
#include "nn/pth.h"
#include "nn/training_checkpoint_format.h"

#include <filesystem>

namespace splat::models {

void load_detector_weights(nn::Module& detector, const std::string& path) {
  SPLAT_CHECK(std::filesystem::is_regular_file(path), path, ": no such checkpoint file");
  const bool safetensors = std::filesystem::path(path).extension() == ".safetensors";
  const std::map<std::string, Tensor> state =
      safetensors ? nn::model_state_of(load_safetensors(path)) : nn::map_keys(nn::load_pth_state_dict(path), nn::KeyMap::mmdet);
  try {
    detector.load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    throw Error(str(path, ": ", e.what()));
  }
}

} // namespace splat::models
