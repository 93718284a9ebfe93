// rank_setup.h: the norms a config calls SyncBN become SyncBatchNorm over the communicator (every
// BN of the seed configs, which are syncbn-backbone+head; none of a config saying BN), per-rank
// seeds differ from each other and rank 0's is the seed, and the device follows the local rank.
#include "nn/norm.h"
#include "tests/helpers.h"
#include "train/config/experiment.h"
#include "train/distributed.h"
#include "train/trainer/rank_setup.h"

#include <filesystem>
#include <set>

using namespace splat;
using namespace splat::train;

namespace {

// (BatchNorm2d layers, those synchronised) of the detector the config builds with comm.
std::pair<int, int> batchnorms(const std::string& config, const std::shared_ptr<Communicator>& comm) {
  config::Experiment exp = config::load_experiment(config);
  synchronize_norms(exp.model, comm);
  const auto model = config::build_detector(exp.model);
  std::pair<int, int> n{0, 0};
  for (const auto& [name, m] : model->named_modules())
    if (const auto* bn = dynamic_cast<const nn::BatchNorm2d*>(m)) {
      ++n.first;
      n.second += bn->synchronized();
    }
  return n;
}

} // namespace

TEST_CASE("synchronize_norms: every BN of the syncbn seed configs, none of a BN config") {
  const auto comm = make_single_process_communicator();
  for (const auto& entry : std::filesystem::directory_iterator(SPLAT_SOURCE_DIR "/configs/resnest")) {
    const std::string name = entry.path().filename().string();
    // The S-50 configs: the S-101 ones differ in depth only.
    if (name.find("_s50_") == std::string::npos) continue;
    CAPTURE(name);
    const auto [all, synced] = batchnorms(entry.path().string(), comm);
    CHECK(all > 50);
    CHECK(synced == all);
  }
  const auto [all, synced] = batchnorms(SPLAT_SOURCE_DIR "/configs/shapes/faster_rcnn_s18_fpn_shapes.toml", comm);
  CHECK(all > 20);
  CHECK(synced == 0);
}

TEST_CASE("rank_seed: rank 0 keeps the seed, other ranks get distinct keys; rank_device") {
  std::set<uint64_t> keys;
  for (int r = 0; r < 64; ++r) keys.insert(rank_seed(42, r));
  CHECK(keys.size() == 64);
  CHECK(rank_seed(42, 0) == 42);
  CHECK(rank_seed(42, 1) != rank_seed(43, 1));
  const auto comm = make_single_process_communicator();
  CHECK(rank_device("cpu", *comm) == Device::cpu());
  if (!test::no_cuda_device()) CHECK(rank_device("cuda", *comm) == Device::cuda(0));
}
