#include "train/trainer/train_step.h"

#include "autograd/engine.h"
#include "core/error.h"
#include "ops/copy.h"
#include "train/optim/grad_clip.h"

#include <algorithm>
#include <functional>
#include <iterator>

namespace splat::train {
namespace {

double to_double(const Tensor& t) { return ops::to(ops::to(t, DType::f64), Device::cpu()).item<double>(); }

// The losses and metrics in MMDetection's log order: the total, the RPN's, then the RoI head's.
LogValues log_values(const models::LossMap& losses, double total) {
  static const char* const kOrder[] = {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "acc", "loss_bbox", "loss_mask"};
  LogValues out{{"loss", total}};
  for (const char* name : kOrder)
    if (auto it = losses.find(name); it != losses.end()) out.emplace_back(name, to_double(it->second));
  for (const auto& [name, t] : losses)
    if (std::find(std::begin(kOrder), std::end(kOrder), name) == std::end(kOrder)) out.emplace_back(name, to_double(t));
  return out;
}

} // namespace

LogValues mean_over_ranks(LogValues values, Communicator& comm) {
  if (comm.world_size() == 1) return values;
  // Collectives need the same shapes everywhere: compare the names (count and a digest) first.
  int64_t digest = 0;
  for (const auto& [name, v] : values) digest = digest * 1000003 + static_cast<int64_t>(std::hash<std::string>{}(name) >> 1);
  const Tensor all = comm.all_gather(ops::from_vector<int64_t>({static_cast<int64_t>(values.size()), digest}, {2}));
  const int64_t* a = all.data<int64_t>();
  for (int r = 1; r < comm.world_size(); ++r)
    SPLAT_CHECK(a[2 * r] == a[0] && a[2 * r + 1] == a[1], "rank ", r, " logs ", a[2 * r],
                " loss values, rank 0 logs ", a[0], " (or their names differ)");
  std::vector<double> v;
  for (const auto& [name, x] : values) v.push_back(x);
  Tensor t = ops::from_vector<double>(v, {static_cast<int64_t>(v.size())});
  comm.all_reduce(t, ReduceOp::avg);
  for (size_t i = 0; i < values.size(); ++i) values[i].second = t.data<double>()[i];
  return values;
}

StepResult train_step(const StepParts& p, const models::DetectorInput& input, const CheckValues& check) {
  const models::LossMap losses = p.model.forward_train(input, p.sampler_gen);
  const Tensor total = models::total_loss(losses);
  StepResult out{.values = mean_over_ranks(log_values(losses, to_double(total)), p.comm)};
  if (check) check(out.values);
  p.optimizer.zero_grad();
  autograd::backward({total}, {});
  if (p.reducer) p.reducer->finish_backward();
  if (p.grad_clip > 0) {
    std::vector<Tensor> params;
    for (const ParamGroup& g : p.optimizer.groups()) params.insert(params.end(), g.params.begin(), g.params.end());
    out.grad_norm = clip_grad_norm(params, p.grad_clip);
  }
  p.optimizer.step();
  return out;
}

} // namespace splat::train
