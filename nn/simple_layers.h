// The parameter-free layers and Linear: thin wrappers that give the ops of ops/ a place in a
// module tree (and in Sequential). Each holds its options; none has buffers.
#pragma once

#include "core/philox.h"
#include "nn/layer.h"
#include "ops/pool.h"

namespace splat::nn {

class ReLU : public Layer {
public:
  ReLU() : Layer("ReLU") {}
  Tensor forward(const Tensor& x) override;
};

class Identity : public Layer {
public:
  Identity() : Layer("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

class MaxPool2d : public Layer {
public:
  explicit MaxPool2d(ops::MaxPool2dOptions opts) : Layer("MaxPool2d"), options(opts) {}
  Tensor forward(const Tensor& x) override;
  const ops::MaxPool2dOptions options;
};

class AvgPool2d : public Layer {
public:
  explicit AvgPool2d(ops::AvgPool2dOptions opts) : Layer("AvgPool2d"), options(opts) {}
  Tensor forward(const Tensor& x) override;
  const ops::AvgPool2dOptions options;
};

class AdaptiveAvgPool2d : public Layer {
public:
  explicit AdaptiveAvgPool2d(ops::Size2 output) : Layer("AdaptiveAvgPool2d"), output(output) {}
  Tensor forward(const Tensor& x) override;
  const ops::Size2 output;
};

// Active in training mode only; gen (not owned) nullptr = the default generator.
class Dropout : public Layer {
public:
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  const double p;

private:
  Generator* gen_;
};

// y = x weight^T + bias; weight [out, in]. PyTorch's default initialisation.
class Linear : public Layer {
public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
};

} // namespace splat::nn
