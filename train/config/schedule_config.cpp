#include "train/config/schedule_config.h"

namespace splat::train::config {
namespace {

using S = ScheduleConfig;
constexpr EnumName<S::Optimizer> kOptimizers[] = {{"SGD", S::Optimizer::sgd}, {"AdamW", S::Optimizer::adamw}};
constexpr EnumName<S::Warmup> kWarmups[] = {{"none", S::Warmup::none}, {"linear", S::Warmup::linear}};
constexpr EnumName<S::ScaleLr> kScaleLr[] = {{"none", S::ScaleLr::none}, {"linear", S::ScaleLr::linear}};
constexpr EnumName<S::Policy> kPolicies[] = {{"step", S::Policy::step}, {"cosine", S::Policy::cosine}};

template <class T> T at_least(const Node& t, std::string_view key, T lo) {
  const Node n = t.child(key);
  const T v = n.as<T>();
  if (v < lo) n.fail(str("must be at least ", lo, ", got ", v));
  return v;
}

} // namespace

ScheduleConfig read_schedule_config(const Node& t) {
  S s;
  s.optimizer = t.require_enum<S::Optimizer>("optimizer", kOptimizers);
  s.lr = t.require<double>("lr");
  if (s.lr <= 0) t.child("lr").fail("must be positive");
  s.total_batch = at_least<int64_t>(t, "total_batch", 1);
  s.scale_lr = t.get_enum<S::ScaleLr>("scale_lr", S::ScaleLr::none, kScaleLr);
  if (s.optimizer == S::Optimizer::sgd) {
    s.momentum = t.require<double>("momentum");
    s.nesterov = t.require<bool>("nesterov");
  } else {
    s.betas = t.require<std::array<double, 2>>("betas");
    for (const double b : s.betas)
      if (b < 0 || b >= 1) t.child("betas").fail("must be in [0, 1)");
    s.eps = t.require<double>("eps");
    if (s.eps <= 0) t.child("eps").fail("must be positive");
  }
  s.weight_decay = at_least<double>(t, "weight_decay", 0.0);
  s.norm_decay_mult = at_least<double>(t, "norm_decay_mult", 0.0);
  s.bias_decay_mult = at_least<double>(t, "bias_decay_mult", 0.0);
  s.grad_clip = at_least<double>(t, "grad_clip", 0.0);
  s.warmup = t.require_enum<S::Warmup>("warmup", kWarmups);
  if (s.warmup == S::Warmup::linear) {
    s.warmup_iters = at_least<int64_t>(t, "warmup_iters", 2);
    s.warmup_ratio = t.require<double>("warmup_ratio");
    if (s.warmup_ratio <= 0 || s.warmup_ratio > 1) t.child("warmup_ratio").fail("must be in (0, 1]");
  }
  s.epochs = at_least<int64_t>(t, "epochs", 1);
  s.policy = t.require_enum<S::Policy>("policy", kPolicies);
  if (s.policy == S::Policy::step) {
    const Node m = t.child("milestones");
    s.milestones = m.as<std::vector<int64_t>>();
    for (size_t i = 0; i < s.milestones.size(); ++i)
      if (s.milestones[i] < 1 || s.milestones[i] > s.epochs || (i > 0 && s.milestones[i] <= s.milestones[i - 1]))
        m.fail(str("milestones must increase within 1..epochs (", s.epochs, ")"));
    s.gamma = t.require<double>("gamma");
  } else {
    s.min_lr_ratio = t.require<double>("min_lr_ratio");
  }
  s.checkpoint_interval = at_least<int64_t>(t, "checkpoint_interval", 1);
  s.eval_interval = at_least<int64_t>(t, "eval_interval", 1);
  return s;
}

} // namespace splat::train::config
