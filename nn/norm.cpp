#include "nn/norm.h"

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "ops/copy.h"
#include "ops/norm.h"
#include "ops/sync_batch_norm.h"
#include "ops/pointwise.h"

namespace splat::nn {
namespace {

void check_channels(const char* layer, int64_t channels) {
  SPLAT_CHECK(channels > 0, layer, ": channels must be positive, got ", channels);
}

} // namespace

BatchNorm2d::BatchNorm2d(int64_t channels, double eps_, double momentum_, bool affine,
                         std::shared_ptr<Communicator> comm)
    : Layer("BatchNorm2d"), eps(eps_), momentum(momentum_), comm_(std::move(comm)) {
  check_channels("BatchNorm2d", channels);
  if (affine) {
    weight = register_parameter("weight", ops::ones({channels}));
    bias = register_parameter("bias", ops::zeros({channels}));
  }
  running_mean = register_buffer("running_mean", ops::zeros({channels}));
  running_var = register_buffer("running_var", ops::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", ops::zeros({}, {.dtype = DType::i64}));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  if (is_training()) {
    autograd::NoGradGuard g;
    ops::add_(num_batches_tracked, 1.0);
  }
  return ops::sync_batch_norm(x, running_mean, running_var, weight, bias, is_training(), momentum, eps,
                              comm_.get());
}

FrozenBatchNorm2d::FrozenBatchNorm2d(int64_t channels, double eps_) : Layer("FrozenBatchNorm2d"), eps(eps_) {
  check_channels("FrozenBatchNorm2d", channels);
  weight = register_buffer("weight", ops::ones({channels}));
  bias = register_buffer("bias", ops::zeros({channels}));
  running_mean = register_buffer("running_mean", ops::zeros({channels}));
  running_var = register_buffer("running_var", ops::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", ops::zeros({}, {.dtype = DType::i64}));
}

Tensor FrozenBatchNorm2d::forward(const Tensor& x) {
  return ops::batch_norm(x, running_mean, running_var, weight, bias, /*training=*/false, 0, eps);
}

Tensor norm_relu(Layer& norm, const Tensor& x) {
  if (const auto* bn = dynamic_cast<const BatchNorm2d*>(&norm); bn && !bn->is_training() &&
      !autograd::needs_grad({x, bn->weight, bn->bias}))
    return ops::batch_norm_relu_inference(x, bn->running_mean, bn->running_var, bn->weight,
                                          bn->bias, bn->eps);
  if (const auto* bn = dynamic_cast<const FrozenBatchNorm2d*>(&norm);
      bn && !autograd::needs_grad({x, bn->weight, bn->bias}))
    return ops::batch_norm_relu_inference(x, bn->running_mean, bn->running_var, bn->weight,
                                          bn->bias, bn->eps);
  // The norm's output is a fresh tensor its backward does not read: relu overwrites it.
  Tensor y = norm.forward(x);
  return ops::relu_(y);
}

LayerPtr make_norm(const NormConfig& config, int64_t channels) {
  switch (config.kind) {
  case NormKind::batch: return std::make_shared<BatchNorm2d>(channels, config.eps, config.momentum);
  case NormKind::sync_batch:
    return std::make_shared<BatchNorm2d>(channels, config.eps, config.momentum, true, config.communicator);
  case NormKind::frozen: return std::make_shared<FrozenBatchNorm2d>(channels, config.eps);
  }
  throw Error("make_norm: unknown norm kind");
}

int convert_sync_batchnorm(Module& model, std::shared_ptr<Communicator> comm) {
  int converted = 0;
  model.apply([&](const std::string&, Module& m) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) {
      bn->set_communicator(comm);
      ++converted;
    }
  });
  return converted;
}

} // namespace splat::nn
