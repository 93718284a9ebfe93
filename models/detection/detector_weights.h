// Loading a detector's weights from a file: an MMDetection checkpoint (.pth, renamed through
// the mmdet key map, spec section 7.1), a safetensors file of splat's own state-dict keys, or a
// training checkpoint of splat train (its model part, nn/training_checkpoint_format.h).
// The load is strict: every missing key, every unexpected key and every shape mismatch is
// listed in one Error that names the file, and nothing is copied unless all of it fits.
#pragma once

#include "nn/module.h"

#include <string>

namespace splat::models {

void load_detector_weights(nn::Module& detector, const std::string& path);

} // namespace splat::models
