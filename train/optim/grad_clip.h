// Gradient-norm clipping, PyTorch's torch.nn.utils.clip_grad_norm_ with norm_type 2 (what
// mmengine's optim_wrapper clip_grad = dict(max_norm=...) calls): the 2-norm over every defined
// gradient together; when it exceeds max_norm every gradient is scaled by
// max_norm / (norm + 1e-6).
#pragma once

#include "core/tensor.h"

#include <vector>

namespace splat::train {

// Returns the total norm before clipping. A NaN or Inf norm leaves the gradients as they are
// (the trainer's finiteness check reports it).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

} // namespace splat::train
