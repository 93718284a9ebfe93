// Parameter groups by role, mmengine's DefaultOptimWrapperConstructor with paramwise_cfg
// norm_decay_mult and bias_decay_mult: a norm layer's weight and bias get weight_decay *
// norm_decay_mult, every other bias weight_decay * bias_decay_mult, the rest weight_decay.
// Only parameters that require grad (frozen stages are left out), in the model's order within
// each group; groups with equal decay are merged (the update is the same).
#pragma once

#include "nn/module.h"
#include "train/optim/optimizer.h"

namespace splat::train {

struct DecayMults {
  double norm = 1.0; // norm_decay_mult
  double bias = 1.0; // bias_decay_mult
};

std::vector<ParamGroup> param_groups(const nn::Module& model, double weight_decay, DecayMults mults = {});

} // namespace splat::train
