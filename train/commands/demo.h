// `splat demo`: the end-to-end run of what splat can do so far, until the detectors exist.
#pragma once

#include <string>

namespace splat::train {

struct DemoOptions {
  int steps = 1500;
  double lr = 0.3;
  std::string checkpoint = "demo_mlp.safetensors";
};

// Trains an MLP with two hidden layers with autograd and SGD on two interleaved 2-D spirals, logs loss and
// accuracy, saves the weights as safetensors, reloads them and checks the reloaded model gives
// the same accuracy. Returns the final training accuracy.
double run_demo(const DemoOptions& opts);

} // namespace splat::train
