// Renaming the keys of foreign checkpoints to splat's module names (spec section 7.1). splat's
// modules carry MMDetection's names, so MMDetection checkpoints need no renaming beyond a
// DataParallel `module.` prefix; the official ResNeSt ImageNet files name the deep stem `conv1.*`
// and its last BN `bn1`.
#pragma once

#include "core/tensor.h"

#include <map>
#include <string>
#include <string_view>

namespace splat::nn {

enum class KeyMap {
  none,     // keys as stored
  resnest,  // official ResNeSt ImageNet classifier -> splat's ResNeSt classifier (stem.*, fc kept)
  mmdet,    // MMDetection detector -> splat's detector (identity but for `module.`)
};

// "none", "resnest" or "mmdet"; anything else is an Error listing these.
KeyMap parse_key_map(std::string_view name);

// Renames every key; an Error names any two keys that would collide.
std::map<std::string, Tensor> map_keys(const std::map<std::string, Tensor>& state, KeyMap map);

} // namespace splat::nn
