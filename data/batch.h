// Batching transformed samples (the output of data/transforms.h pipelines) for the detector.
#pragma once

#include "data/transforms.h"

#include <cstdint>
#include <vector>

namespace splat::data {

struct Batch {
  Tensor images;                // (B, 3, Hp, Wp) f32, CPU, contiguous
  std::vector<ImageMeta> metas; // B entries, in sample order
  std::vector<Target> targets;  // B entries; masks stay per image at the image's pad size
};

// Stacks normalised (3, H_i, W_i) f32 images into one zero-padded (B, 3, Hp, Wp) tensor, image i
// at the top-left; Hp, Wp = max over the batch of H_i, W_i, rounded up to size_divisor (mmcv's
// collate of padded DataContainers). Needs B >= 1. Metas and targets are moved out unchanged.
Batch collate(std::vector<Sample> samples, int64_t size_divisor = 32);

} // namespace splat::data
