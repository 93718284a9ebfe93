#include "train/trainer/train_data.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/shapes.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace splat::train {
namespace {

std::unique_ptr<data::CocoSampleDataset> make_dataset(const config::DataConfig& c) {
  const config::SplitFiles& files = c.dataset.train;
  SPLAT_CHECK(std::filesystem::is_regular_file(files.annotations), files.annotations,
              ": no such annotation file (data.dataset in the config, or --data)");
  SPLAT_CHECK(std::filesystem::is_directory(files.images), files.images, ": no such image folder");
  auto coco = std::make_shared<const data::CocoDataset>(data::CocoDataset::load(files.annotations));
  std::vector<size_t> images = data::training_images(*coco, c.train.min_image_size);
  SPLAT_CHECK(!images.empty(), files.annotations, ": no image with annotations of at least ",
              c.train.min_image_size, " px to train on");
  return std::make_unique<data::CocoSampleDataset>(
      coco, files.images, std::move(images), std::make_shared<const data::TrainPipeline>(c.train.pipeline),
      c.seed, c.train.mask_format());
}

} // namespace

void prepare_dataset(const config::DatasetConfig& d) {
  if (!d.shapes) return;
  const std::string stamp_path = (std::filesystem::path(d.shapes->dir) / kShapesStamp).string();
  const char* what = "generating";
  std::string why;
  if (std::filesystem::is_regular_file(d.train.annotations)) {
    std::ifstream stamp(stamp_path);
    if (!stamp) return;
    const std::string written((std::istreambuf_iterator<char>(stamp)), std::istreambuf_iterator<char>());
    if (written == data::shapes_options_text(d.shapes->options)) return;
    what = "regenerating", why = str(": its ", kShapesStamp, " names other options");
  }
  std::printf("%s the shapes dataset in %s (%lld train, %lld val images)%s\n", what, d.shapes->dir.c_str(),
              static_cast<long long>(d.shapes->options.train), static_cast<long long>(d.shapes->options.val), why.c_str());
  std::fflush(stdout);
  // The stamp goes first and comes back last: a folder whose generation was cut short has none
  // (and is then taken for the user's own; delete it to have it made again).
  std::filesystem::remove(stamp_path);
  data::make_shapes(d.shapes->dir, d.shapes->options);
  AtomicFile stamp(stamp_path, str("shapes dataset stamp ", stamp_path));
  stamp.write(data::shapes_options_text(d.shapes->options));
  stamp.commit();
}

TrainData::TrainData(const config::DataConfig& c, int rank, int world)
    : dataset_(make_dataset(c)),
      sampler_(c.train.batching == config::Batching::aspect_ratio_groups
                   ? decltype(sampler_)(data::GroupedBatchSampler(dataset_->aspect_ratio_flags(), c.train.batch_size,
                                                                  0, 1, c.seed))
                   : decltype(sampler_)(data::DistributedSampler(dataset_->size(), 0, 1, c.seed))),
      batch_size_(c.train.batch_size), rank_(rank), world_(world) {
  SPLAT_CHECK(world >= 1 && rank >= 0 && rank < world, "TrainData: rank ", rank, " outside a world of ", world);
}

std::vector<std::vector<size_t>> TrainData::global_batches(int64_t epoch) {
  return std::visit(
      [&](auto& s) {
        s.set_epoch(epoch);
        if constexpr (std::is_same_v<std::decay_t<decltype(s)>, data::GroupedBatchSampler>) {
          return s.batches();
        } else {
          // drop_last: a short final batch could hold a single image, which training-mode BN
          // over the split-attention features refuses.
          auto b = s.batches(batch_size_);
          if (!b.empty() && b.back().size() < batch_size_) b.pop_back();
          return b;
        }
      },
      sampler_);
}

std::vector<std::vector<size_t>> TrainData::batches(int64_t epoch, size_t start) {
  const std::vector<std::vector<size_t>> all = global_batches(epoch);
  const size_t n = all.size(), w = static_cast<size_t>(world_);
  if (start >= n) return {};
  const size_t rest = n - start, steps = (rest + w - 1) / w;
  std::vector<std::vector<size_t>> mine;
  mine.reserve(steps);
  for (size_t k = static_cast<size_t>(rank_); k < steps * w; k += w)
    mine.push_back(k < rest ? all[start + k] : all[(k - rest) % n]);
  return mine;
}

size_t TrainData::global_batches_per_epoch() const {
  return std::visit(
      [&](const auto& s) -> size_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(s)>, data::GroupedBatchSampler>) {
          return s.num_batches();
        } else {
          return s.size() / batch_size_;
        }
      },
      sampler_);
}

size_t TrainData::batches_per_epoch() const {
  const size_t w = static_cast<size_t>(world_);
  return (global_batches_per_epoch() + w - 1) / w;
}

} // namespace splat::train
