// Grad mode: a thread-local switch that decides whether ops record autograd nodes.
#pragma once

namespace splat::autograd {

bool grad_enabled();
void set_grad_enabled(bool on);

// Turns recording off for its scope (evaluation, optimizer steps, backward itself).
class NoGradGuard {
public:
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
  bool prev_;
};

} // namespace splat::autograd

namespace splat {
using autograd::NoGradGuard;
}
