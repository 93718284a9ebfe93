#include "train/config/data_config.h"

#include <filesystem>
#include <vector>

namespace splat::train::config {
namespace {

namespace fs = std::filesystem;

enum class DatasetKind { coco, shapes };
constexpr EnumName<DatasetKind> kDatasetKinds[] = {{"coco", DatasetKind::coco},
                                                   {"shapes", DatasetKind::shapes}};
constexpr EnumName<data::ShapesOptions::Sizes> kObjectSizes[] = {
    {"log_uniform", data::ShapesOptions::Sizes::log_uniform}, {"uniform", data::ShapesOptions::Sizes::uniform}};
constexpr EnumName<data::ShapesOptions::Colors> kShapeColors[] = {
    {"random", data::ShapesOptions::Colors::random}, {"by_kind", data::ShapesOptions::Colors::by_kind}};
constexpr EnumName<data::MultiscaleMode> kModes[] = {{"range", data::MultiscaleMode::range},
                                                     {"value", data::MultiscaleMode::value}};
constexpr EnumName<Batching> kBatchings[] = {{"aspect_ratio_groups", Batching::aspect_ratio_groups},
                                             {"shuffled", Batching::shuffled}};
constexpr EnumName<data::OnCorrupt> kOnCorrupt[] = {{"fail", data::OnCorrupt::fail},
                                                    {"skip", data::OnCorrupt::skip_with_warning}};

template <class T> T at_least(const Node& n, T lo) {
  const T v = n.as<T>();
  if (v < lo) n.fail(str("must be at least ", lo, ", got ", v));
  return v;
}

// [long, short] in either order (mmdet's img_scale tuples are unordered).
data::Scale read_scale(const Node& n) {
  const auto edges = n.as<std::array<int64_t, 2>>();
  return n.locate_errors([&] { return data::scale(edges[0], edges[1]); });
}

std::string under(const std::string& root, const std::string& path) {
  return root.empty() ? path : (fs::path(root) / path).string();
}

DatasetConfig read_dataset(const Node& t) {
  DatasetConfig c;
  if (t.require_enum<DatasetKind>("kind", kDatasetKinds) == DatasetKind::coco) {
    const std::string root = t.get<std::string>("root", "");
    c.train = {under(root, t.require<std::string>("train_annotations")),
               under(root, t.require<std::string>("train_images"))};
    c.val = {under(root, t.require<std::string>("val_annotations")),
             under(root, t.require<std::string>("val_images"))};
    return c;
  }
  ShapesDataset s{t.require<std::string>("dir"), {}};
  data::ShapesOptions& o = s.options;
  o.train = t.get<int64_t>("train", o.train);
  o.val = t.get<int64_t>("val", o.val);
  o.min_size = t.get<int64_t>("min_size", o.min_size);
  o.max_size = t.get<int64_t>("max_size", o.max_size);
  o.seed = t.get<uint64_t>("seed", o.seed);
  o.kinds = t.get<std::vector<std::string>>("kinds", o.kinds);
  // Named kinds are the categories unless a count is also given (then they must agree).
  o.categories = t.get<int>("categories", o.kinds.empty() ? o.categories : static_cast<int>(o.kinds.size()));
  o.jpeg_quality = t.get<int>("jpeg_quality", o.jpeg_quality);
  o.min_object = t.get<double>("min_object", o.min_object);
  o.max_object = t.get<double>("max_object", o.max_object);
  o.object_sizes = t.get_enum<data::ShapesOptions::Sizes>("object_sizes", o.object_sizes, kObjectSizes);
  o.max_occlusion = t.get<double>("max_occlusion", o.max_occlusion);
  o.overlap_prob = t.get<double>("overlap_prob", o.overlap_prob);
  o.noise = t.get<double>("noise", o.noise);
  o.colors = t.get_enum<data::ShapesOptions::Colors>("colors", o.colors, kShapeColors);
  t.locate_errors([&] { data::check_shapes_options(o); });
  // The layout make_shapes writes (data/shapes.h).
  for (const auto& [split, files] : {std::pair{"train", &c.train}, std::pair{"val", &c.val}})
    *files = {(fs::path(s.dir) / "annotations" / str("instances_", split, ".json")).string(),
              (fs::path(s.dir) / split).string()};
  c.shapes = std::move(s);
  return c;
}

data::Normalization read_normalization(const Node& t) {
  data::Normalization norm{t.require<std::array<double, 3>>("mean"),
                           t.require<std::array<double, 3>>("std")};
  for (size_t c = 0; c < 3; ++c)
    if (!(norm.std[c] > 0)) t.child("std").at(c).fail(str("must be positive, got ", norm.std[c]));
  return norm;
}

TrainDataConfig read_train(const Node& t, const data::Normalization& norm) {
  TrainDataConfig c;
  c.batch_size = at_least<size_t>(t.child("batch_size"), 1);
  c.batching = t.require_enum<Batching>("batching", kBatchings);
  c.with_masks = t.require<bool>("with_masks");
  c.poly2mask = t.get<bool>("poly2mask", c.poly2mask);
  c.min_image_size = at_least<int64_t>(t.child("min_image_size"), 0);
  data::TrainPipelineConfig& p = c.pipeline;
  const Node scales = t.child("scales");
  (void)scales.as<std::vector<std::array<int64_t, 2>>>(); // the type, with its error message
  if (scales.size() == 0) scales.fail("expected at least one [long, short] scale");
  p.scales.clear();
  for (const Node& s : scales.elements()) p.scales.push_back(read_scale(s));
  p.mode = t.require_enum<data::MultiscaleMode>("mode", kModes);
  p.flip_prob = t.require<double>("flip_prob");
  p.norm = norm;
  p.size_divisor = at_least<int64_t>(t.child("size_divisor"), 1);
  t.locate_errors([&] { data::TrainPipeline{p}; });
  return c;
}

TestDataConfig read_test(const Node& t, const data::Normalization& norm) {
  TestDataConfig c;
  c.batch_size = at_least<size_t>(t.child("batch_size"), 1);
  c.pipeline.scale = read_scale(t.child("scale"));
  c.pipeline.norm = norm;
  c.pipeline.size_divisor = at_least<int64_t>(t.child("size_divisor"), 1);
  t.locate_errors([&] { data::TestPipeline{c.pipeline}; });
  return c;
}

} // namespace

DataConfig read_data_config(const Node& data) {
  DataConfig c;
  c.workers = at_least<int>(data.child("workers"), 0);
  if (const auto n = data.find("prefetch_batches")) c.prefetch_batches = at_least<size_t>(*n, 1);
  c.on_corrupt = data.get_enum<data::OnCorrupt>("on_corrupt", c.on_corrupt, kOnCorrupt);
  c.seed = data.get<uint64_t>("seed", c.seed);
  c.dataset = read_dataset(data.table("dataset"));
  const data::Normalization norm = read_normalization(data.table("normalize"));
  c.train = read_train(data.table("train"), norm);
  c.test = read_test(data.table("test"), norm);
  return c;
}

data::MaskFormat TrainDataConfig::mask_format() const {
  if (!with_masks) return data::MaskFormat::none;
  return poly2mask ? data::MaskFormat::bitmaps : data::MaskFormat::polygons;
}

data::LoaderOptions DataConfig::train_loader(Device device) const {
  return {.workers = workers,
          .prefetch_batches = prefetch_batches,
          .on_corrupt = on_corrupt,
          .device = device,
          .size_divisor = train.pipeline.size_divisor};
}

data::LoaderOptions DataConfig::test_loader(Device device) const {
  data::LoaderOptions o = train_loader(device);
  o.size_divisor = test.pipeline.size_divisor;
  return o;
}

} // namespace splat::train::config
