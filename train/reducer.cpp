#include "train/reducer.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "ops/copy.h"
#include "ops/view.h"

#include <map>
#include <tuple>

namespace splat::train {

Reducer::Reducer(const nn::Module& model, std::shared_ptr<Communicator> comm, ReducerOptions opts)
    : comm_(std::move(comm)), opts_(opts) {
  SPLAT_CHECK(comm_ != nullptr, "Reducer: no communicator");
  for (auto& [name, p] : model.named_parameters())
    if (p.requires_grad()) params_.emplace_back(name, p);

  // Every rank must hold the same parameters: compare counts and a digest of the shapes.
  int64_t digest = 0, elements = 0;
  for (const auto& [name, p] : params_) {
    elements += p.numel();
    for (int64_t s : p.shape()) digest = digest * 1000003 + s;
    digest = digest * 31 + static_cast<int64_t>(p.dtype());
  }
  const Tensor all = comm_->all_gather(ops::from_vector<int64_t>(
      {static_cast<int64_t>(params_.size()), elements, digest}, {3}));
  const int64_t* a = all.data<int64_t>();
  for (int r = 0; r < comm_->world_size(); ++r)
    SPLAT_CHECK(a[3 * r] == a[0] && a[3 * r + 1] == a[1] && a[3 * r + 2] == a[2], "Reducer: rank ", r,
                " has ", a[3 * r], " trainable parameters with ", a[3 * r + 1], " elements, rank 0 has ",
                a[0], " with ", a[1], " (or their shapes differ): every rank must build the same model");

  {
    autograd::NoGradGuard no_grad;
    for (auto& [name, p] : model.named_parameters()) {
      Tensor t = p.detach();
      comm_->broadcast(t, 0);
    }
    for (auto& [name, b] : model.named_buffers()) {
      Tensor t = b;
      comm_->broadcast(t, 0);
    }
  }

  // Buckets in reverse registration order, split by size and by (dtype, device).
  const double cap = opts_.bucket_cap_mb * 1024 * 1024;
  std::map<std::tuple<DType, int, int>, size_t> open;  // (dtype, device kind, index) -> bucket
  std::vector<int64_t> bucket_bytes, bucket_elems;
  std::vector<std::pair<DType, Device>> bucket_kind;
  slots_.resize(params_.size());
  for (size_t i = params_.size(); i-- > 0;) {
    const Tensor& p = params_[i].second;
    const auto key = std::make_tuple(p.dtype(), static_cast<int>(p.device().kind), p.device().index);
    auto it = open.find(key);
    if (it == open.end() || bucket_bytes[it->second] >= cap) {
      bucket_params_.emplace_back();
      bucket_bytes.push_back(0);
      bucket_elems.push_back(0);
      bucket_kind.emplace_back(p.dtype(), p.device());
      it = open.insert_or_assign(key, bucket_params_.size() - 1).first;
    }
    const size_t b = it->second;
    bucket_params_[b].push_back(i);
    slots_[i].bucket = b;
    bucket_bytes[b] += p.numel() * static_cast<int64_t>(itemsize(p.dtype()));
    bucket_elems[b] += p.numel();
  }
  for (size_t b = 0; b < bucket_params_.size(); ++b) {
    flat_.push_back(ops::zeros({bucket_elems[b]}, {.dtype = bucket_kind[b].first, .device = bucket_kind[b].second}));
    int64_t offset = 0;
    for (size_t i : bucket_params_[b]) {
      const Tensor& p = params_[i].second;
      slots_[i].view = ops::view(ops::narrow(flat_[b], 0, offset, p.numel()), p.shape());
      offset += p.numel();
    }
  }
  works_.resize(bucket_params_.size());
  pending_.resize(bucket_params_.size());
  ready_.resize(params_.size());
  reset();
  for (size_t i = 0; i < params_.size(); ++i)
    autograd::register_post_accumulate_hook(params_[i].second, [this, i](const Tensor&) { on_gradient(i); });
}

void Reducer::reset() {
  for (size_t b = 0; b < bucket_params_.size(); ++b) {
    pending_[b] = bucket_params_[b].size();
    works_[b].reset();
  }
  std::fill(ready_.begin(), ready_.end(), false);
  next_bucket_ = 0;
}

void Reducer::on_gradient(size_t i) {
  if (!sync_) return;
  const Slot& slot = slots_[i];
  SPLAT_CHECK(!ready_[i], "Reducer: parameter ", params_[i].first, " received two gradients in one step "
              "(finish_backward() was not called after the previous backward)");
  ready_[i] = true;
  const Tensor g = params_[i].second.grad();
  // .grad is the slot itself after an earlier step's finish_backward (then accumulation already
  // happened in place).
  if (!(g.storage() == slot.view.storage() && g.offset() == slot.view.offset())) {
    Tensor dst = slot.view;
    autograd::NoGradGuard no_grad;
    ops::copy_(dst, g);
  }
  --pending_[slot.bucket];
  if (!opts_.find_unused_parameters) launch_ready_buckets();
}

// Buckets start strictly in index order on every rank, so every rank issues the same
// collectives in the same order.
void Reducer::launch_ready_buckets() {
  while (next_bucket_ < flat_.size() && pending_[next_bucket_] == 0) {
    works_[next_bucket_] = comm_->all_reduce_async(flat_[next_bucket_], ReduceOp::avg);
    ++next_bucket_;
  }
}

void Reducer::finish_backward() {
  if (!sync_) return;
  std::vector<bool> used(params_.size(), true);
  if (opts_.find_unused_parameters) {
    Tensor flags = ops::zeros({static_cast<int64_t>(params_.size())}, {.dtype = DType::u8});
    for (size_t i = 0; i < params_.size(); ++i) flags.data<uint8_t>()[i] = ready_[i];
    comm_->all_reduce(flags, ReduceOp::max);
    autograd::NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
      used[i] = flags.data<uint8_t>()[i] != 0;
      if (ready_[i]) continue;
      Tensor dst = slots_[i].view;
      ops::fill_(dst, 0);  // no local gradient: contributes zero to the average
      ready_[i] = true;
      --pending_[slots_[i].bucket];
    }
  } else {
    std::string missing;
    for (size_t i = 0; i < params_.size(); ++i)
      if (!ready_[i]) missing += (missing.empty() ? "" : ", ") + params_[i].first;
    if (!missing.empty()) {
      reset();
      throw Error(str("Reducer: parameters without a gradient in this step: ", missing,
                      " (construct the Reducer with find_unused_parameters if some parameters "
                      "legitimately get no gradient)"));
    }
  }
  launch_ready_buckets();
  for (auto& w : works_) w->wait();
  for (size_t i = 0; i < params_.size(); ++i)
    params_[i].second.set_grad(used[i] ? slots_[i].view : Tensor());
  reset();
}

} // namespace splat::train
