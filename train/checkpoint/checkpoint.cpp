#include "train/checkpoint/checkpoint.h"

#include "core/error.h"
#include "core/safetensors.h"
#include "nn/training_checkpoint_format.h"
#include "ops/copy.h"

#include <charconv>
#include <filesystem>

namespace splat::train {
namespace {

constexpr std::string_view kOptimizerPrefix = "optimizer.";

int64_t metadata_int(const SafeTensors& f, const std::string& path, const std::string& key) {
  const auto it = f.metadata.find(key);
  SPLAT_CHECK(it != f.metadata.end(), path, ": training checkpoint without '", key, "'");
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  SPLAT_CHECK(ec == std::errc() && end == it->second.data() + it->second.size(), path, ": '", key,
              "' is '", it->second, "', not an integer");
  return v;
}

uint64_t metadata_u64(const SafeTensors& f, const std::string& path, const std::string& key) {
  const int64_t v = metadata_int(f, path, key); // offsets and seeds below 2^63 in practice
  SPLAT_CHECK(v >= 0, path, ": '", key, "' is negative");
  return static_cast<uint64_t>(v);
}

} // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& optimizer,
                     const TrainProgress& progress, const CheckpointRngs& rngs,
                     const std::map<std::string, std::string>& extra) {
  std::map<std::string, Tensor> tensors;
  for (const auto& [key, t] : model.state_dict()) tensors.emplace(str(nn::kModelPrefix, key), ops::to(t, Device::cpu()));
  for (const auto& [key, t] : optimizer.state()) tensors.emplace(str(kOptimizerPrefix, key), ops::to(t, Device::cpu()));
  std::map<std::string, std::string> meta = extra;
  meta["format"] = std::string(nn::kTrainingCheckpointFormat);
  meta["epoch"] = std::to_string(progress.epoch);
  meta["iter"] = std::to_string(progress.iter);
  meta["iter_in_epoch"] = std::to_string(progress.iter_in_epoch);
  for (const auto& [name, gen] : rngs.generators) {
    const PhiloxState s = gen->state();
    meta[str("rng.", name, ".seed")] = std::to_string(s.seed);
    meta[str("rng.", name, ".offset")] = std::to_string(s.offset);
  }
  save_safetensors(path, tensors, meta);
}

LoadedCheckpoint load_checkpoint(const std::string& path, nn::Module& model, Optimizer& optimizer,
                                 const CheckpointRngs& rngs) {
  SPLAT_CHECK(std::filesystem::is_regular_file(path), path, ": no such checkpoint file");
  const SafeTensors f = load_safetensors(path);
  SPLAT_CHECK(nn::is_training_checkpoint(f), path, ": not a splat training checkpoint (weights only? "
              "they load with the detector's weights, not to resume a run)");
  LoadedCheckpoint out;
  out.progress = {.epoch = metadata_int(f, path, "epoch"),
                  .iter = metadata_int(f, path, "iter"),
                  .iter_in_epoch = metadata_int(f, path, "iter_in_epoch")};
  std::vector<std::pair<Generator*, PhiloxState>> rng_states;
  for (const auto& [name, gen] : rngs.generators)
    rng_states.push_back({gen, {metadata_u64(f, path, str("rng.", name, ".seed")),
                                metadata_u64(f, path, str("rng.", name, ".offset"))}});
  std::map<std::string, Tensor> opt_state;
  for (const auto& [key, t] : f.tensors)
    if (key.starts_with(kOptimizerPrefix)) opt_state.emplace(key.substr(kOptimizerPrefix.size()), t);
  // The model first (a checkpoint of another model is the likely mistake; its strict load copies
  // nothing on error), then the optimizer; on an error here the run is not resumed, so a model
  // loaded before an optimizer error does not matter. Generators change only when both fit.
  try {
    model.load_state_dict(nn::model_state_of(f), /*strict=*/true);
    optimizer.load_state(opt_state);
  } catch (const Error& e) {
    throw Error(str(path, ": ", e.what()));
  }
  for (const auto& [gen, s] : rng_states) gen->set_state(s);
  out.metadata = f.metadata;
  return out;
}

} // namespace splat::train
