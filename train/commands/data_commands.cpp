// The data commands: `splat make-shapes`, `splat browse-dataset` and `splat bench data`.
//
// browse-dataset draws samples as a pipeline leaves them. `browse-dataset CONFIG` shows what
// training sees: the config's dataset (the shapes dataset generated first when absent) through
// its train pipeline, masks and normalisation, in the order epoch --epoch trains on it; with
// --split val, the val set through the test pipeline in evaluation order. --data DIR replaces
// the config's dataset folder, as in splat train. Without a CONFIG, --data DIR is a COCO-layout
// folder shown through the default train pipeline (data/transforms.h) in shuffled order.
#include "data/coco.h"
#include "data/draw.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "data/shapes.h"
#include "train/commands/command.h"
#include "train/config/experiment.h"
#include "train/detection/evaluate.h"
#include "train/trainer/train_data.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_set>
#include <vector>

namespace splat::train {
namespace {

namespace fs = std::filesystem;
using namespace splat::data;

// Where a COCO-layout dataset keeps a split: DIR/annotations/instances_SPLIT.json, DIR/SPLIT/.
std::string annotation_path(const std::string& dir, const std::string& split) {
  return (fs::path(dir) / "annotations" / ("instances_" + split + ".json")).string();
}
std::string image_root(const std::string& dir, const std::string& split) {
  return (fs::path(dir) / split).string();
}

std::vector<std::string> class_names(const CocoDataset& coco) {
  std::vector<std::string> names;
  for (const CocoCategory& c : coco.categories()) names.push_back(c.name);
  return names;
}

// ---- make-shapes --------------------------------------------------------------------------------

struct MakeShapesOptions {
  std::string dir;
  ShapesOptions shapes;
};

void run_make_shapes(const MakeShapesOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  make_shapes(o.dir, o.shapes);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("make-shapes: wrote %lld train and %lld val images (%d categories) to %s in %.2f s\n",
              static_cast<long long>(o.shapes.train), static_cast<long long>(o.shapes.val),
              o.shapes.categories, o.dir.c_str(), s);
}

// ---- browse-dataset -----------------------------------------------------------------------------

struct BrowseOptions {
  std::string config, data, out, split = "train";
  std::vector<std::string> overrides;
  int64_t num = 8;
  uint64_t seed = 0;
  bool seed_given = false;
  int64_t epoch = 0;
};

// Writes a PNG of each of the first num samples of order (indices of dataset) and a line about it.
void write_samples(const Dataset& dataset, const std::vector<size_t>& order, const BrowseOptions& o,
                   const std::vector<std::string>& names, const Normalization& norm) {
  fs::create_directories(o.out);
  const size_t n = std::min(static_cast<size_t>(o.num), order.size());
  for (size_t i = 0; i < n; ++i) {
    const Sample s = dataset.get(order[i], o.epoch);
    const std::string stem = fs::path(s.meta.file_name).stem().string();
    const std::string path =
        (fs::path(o.out) / (stem + "_e" + std::to_string(o.epoch) + ".png")).string();
    write_png(path, render_sample(s, names, norm));
    std::printf("%s: %lld objects, %lldx%lld -> %lldx%lld%s\n", path.c_str(),
                static_cast<long long>(s.target.boxes.size(0)),
                static_cast<long long>(s.meta.ori_w), static_cast<long long>(s.meta.ori_h),
                static_cast<long long>(s.meta.img_w), static_cast<long long>(s.meta.img_h),
                s.meta.flipped ? ", flipped" : "");
  }
}

// The dataset folder alone, through the default train pipeline.
void browse_folder(const BrowseOptions& o) {
  auto coco =
      std::make_shared<const CocoDataset>(CocoDataset::load(annotation_path(o.data, o.split)));
  const TrainPipelineConfig config;
  const CocoSampleDataset dataset(coco, image_root(o.data, o.split), training_images(*coco),
                                  std::make_shared<const TrainPipeline>(config), o.seed,
                                  MaskFormat::bitmaps);
  SPLAT_CHECK(dataset.size() > 0, "browse-dataset: no training images in ", coco->name());
  DistributedSampler sampler(dataset.size(), 0, 1, o.seed);
  sampler.set_epoch(o.epoch);
  write_samples(dataset, sampler.indices(), o, class_names(*coco), config.norm);
}

// Each image once, in the order the epoch's batches first visit it (the samplers pad by
// repeating images).
std::vector<size_t> first_visits(const std::vector<std::vector<size_t>>& batches) {
  std::vector<size_t> order;
  std::unordered_set<size_t> seen;
  for (const auto& batch : batches)
    for (size_t i : batch)
      if (seen.insert(i).second) order.push_back(i);
  return order;
}

// The training set as the trainer builds it (train/trainer/train_data.h), for one process.
void browse_config_train(const config::Experiment& exp, const BrowseOptions& o) {
  TrainData data(exp.data);
  write_samples(data.dataset(), first_visits(data.batches(o.epoch)), o, class_names(data.coco()),
                exp.data.train.pipeline.norm);
}

// The val set through the test pipeline: every image (annotated or not) in file order, as
// evaluation reads it.
void browse_config_val(const config::Experiment& exp, const BrowseOptions& o) {
  // Bitmaps whichever format training reads: they are what the drawing blends.
  const auto dataset =
      make_val_dataset(exp.data, exp.data.train.with_masks ? MaskFormat::bitmaps : MaskFormat::none);
  SPLAT_CHECK(dataset->size() > 0, "browse-dataset: no images in ", exp.data.dataset.val.annotations);
  std::vector<size_t> order(dataset->size());
  std::iota(order.begin(), order.end(), size_t{0});
  write_samples(*dataset, order, o, class_names(dataset->coco()), exp.data.test.pipeline.norm);
}

void browse_config(const BrowseOptions& o) {
  SPLAT_CHECK(o.split == "train" || o.split == "val",
              "browse-dataset: with a CONFIG, --split is train or val, got '", o.split, "'");
  std::vector<std::string> overrides = o.overrides;
  // The config's seed drives its order and augmentation; --seed replaces it.
  if (o.seed_given) overrides.push_back("data.seed=" + std::to_string(o.seed));
  const config::Experiment exp =
      config::load_experiment(o.config, overrides, o.data);
  prepare_dataset(exp.data.dataset);
  if (o.split == "train")
    browse_config_train(exp, o);
  else
    browse_config_val(exp, o);
}

void run_browse(const BrowseOptions& o) {
  if (!o.config.empty()) return browse_config(o);
  SPLAT_CHECK(!o.data.empty(), "browse-dataset: give a CONFIG or --data DIR");
  SPLAT_CHECK(o.overrides.empty(), "browse-dataset: --set needs a CONFIG to override");
  browse_folder(o);
}

// ---- bench data ---------------------------------------------------------------------------------

struct BenchDataOptions {
  std::string data, split = "train";
  int workers = 2;
  int64_t images = 200;
  int64_t batch = 2;
  bool masks = true;
  bool coco_size = false;
  std::string keep; // with --coco-size: write the big file here and keep it
};

// Images per second through read -> annotations -> train pipeline -> collate.
void bench_pipeline(const BenchDataOptions& o) {
  auto coco =
      std::make_shared<const CocoDataset>(CocoDataset::load(annotation_path(o.data, o.split)));
  const CocoSampleDataset dataset(coco, image_root(o.data, o.split), training_images(*coco),
                                  std::make_shared<const TrainPipeline>(), 0,
                                  o.masks ? MaskFormat::bitmaps : MaskFormat::none);
  SPLAT_CHECK(dataset.size() > 0, "bench data: no training images in ", coco->name());
  GroupedBatchSampler sampler(dataset.aspect_ratio_flags(), static_cast<size_t>(o.batch));
  int64_t images = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t epoch = 0; images < o.images; ++epoch) {
    sampler.set_epoch(epoch);
    Loader loader(dataset, sampler.batches(), epoch, {.workers = o.workers});
    while (images < o.images) {
      const auto b = loader.next();
      if (!b) break;
      images += static_cast<int64_t>(b->metas.size());
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("data pipeline workers=%d images=%lld batch=%lld masks=%d seconds=%.2f "
              "images_per_s=%.1f\n",
              o.workers, static_cast<long long>(images), static_cast<long long>(o.batch),
              o.masks ? 1 : 0, s, static_cast<double>(images) / s);
}

// A kB figure from /proc/self/status ("VmHWM", "VmRSS").
int64_t proc_status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
  return -1;
}

// Streams a COCO-sized instances file (the size of train2017's: 118287 images, ~860k
// annotations with polygons, ~1% crowd RLEs) to path; returns its size in bytes.
uint64_t write_coco_sized_file(const std::string& path) {
  constexpr int64_t kImages = 118287, kAnnotations = 860001, kCategories = 80;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  SPLAT_CHECK(f != nullptr, "bench data: cannot write ", path);
  std::string buf;
  auto flush = [&](bool force) {
    if (!force && buf.size() < (size_t{8} << 20)) return;
    SPLAT_CHECK(std::fwrite(buf.data(), 1, buf.size(), f.get()) == buf.size(),
                "bench data: writing ", path, " failed");
    buf.clear();
  };
  char num[32];
  auto put_int = [&](int64_t v) { buf.append(num, std::to_chars(num, num + sizeof num, v).ptr); };
  auto put_fixed2 = [&](double v) { // two decimals, as COCO's polygons
    buf.append(num, std::to_chars(num, num + sizeof num, v, std::chars_format::fixed, 2).ptr);
  };
  uint64_t state = 0x9E3779B97F4A7C15ull; // xorshift64*: fast, and statistics do not matter here
  auto next = [&] {
    state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
    return (state * 0x2545F4914F6CDD1Dull) >> 11;
  };
  auto uniform = [&] { return static_cast<double>(next()) * (1.0 / 9007199254740992.0); };

  buf += "{\"info\": {\"description\": \"COCO-sized synthetic annotations\"},\n\"images\": [";
  for (int64_t i = 0; i < kImages; ++i) {
    buf += i ? ",\n{\"license\": 1, \"file_name\": \"" : "\n{\"license\": 1, \"file_name\": \"";
    char name[32];
    std::snprintf(name, sizeof name, "%012lld.jpg", static_cast<long long>(i + 1));
    buf += name;
    buf += "\", \"coco_url\": \"\", \"height\": 480, \"width\": 640, \"date_captured\": \"\", "
           "\"id\": ";
    put_int(i + 1);
    buf += '}';
    flush(false);
  }
  buf += "],\n\"annotations\": [";
  for (int64_t a = 0; a < kAnnotations; ++a) {
    buf += a ? ",\n{\"segmentation\": " : "\n{\"segmentation\": ";
    const bool crowd = a % 100 == 99;
    const double x = uniform() * 500, y = uniform() * 350, w = 10 + uniform() * 130,
                 h = 10 + uniform() * 120;
    if (crowd) {
      // A rectangle as an uncompressed RLE over 480 x 640.
      buf += "{\"counts\": [";
      const auto x0 = static_cast<int64_t>(x), y0 = static_cast<int64_t>(y);
      const auto ww = static_cast<int64_t>(w), hh = static_cast<int64_t>(h);
      put_int(x0 * 480 + y0);
      for (int64_t c = 0; c < ww; ++c) {
        buf += ", ";
        put_int(hh);
        buf += ", ";
        put_int(c + 1 < ww ? 480 - hh : 480 * (640 - x0 - ww) + 480 - hh - y0);
      }
      buf += "], \"size\": [480, 640]}";
    } else {
      // A star-shaped polygon of 8-40 vertices inside the box.
      const int vertices = 8 + static_cast<int>(next() % 33);
      buf += "[[";
      for (int v = 0; v < vertices; ++v) {
        const double t = 6.283185307179586 * v / vertices, r = 0.6 + 0.4 * uniform();
        if (v) buf += ", ";
        put_fixed2(x + w / 2 + r * w / 2 * std::cos(t));
        buf += ", ";
        put_fixed2(y + h / 2 + r * h / 2 * std::sin(t));
      }
      buf += "]]";
    }
    buf += ", \"area\": ";
    put_fixed2(w * h * 0.7);
    buf += crowd ? ", \"iscrowd\": 1, \"image_id\": " : ", \"iscrowd\": 0, \"image_id\": ";
    put_int(1 + static_cast<int64_t>(next() % kImages));
    buf += ", \"bbox\": [";
    put_fixed2(x);
    buf += ", ";
    put_fixed2(y);
    buf += ", ";
    put_fixed2(w);
    buf += ", ";
    put_fixed2(h);
    buf += "], \"category_id\": ";
    put_int(1 + static_cast<int64_t>(next() % kCategories));
    buf += ", \"id\": ";
    put_int(a + 1);
    buf += '}';
    flush(false);
  }
  buf += "],\n\"categories\": [";
  for (int64_t c = 0; c < kCategories; ++c) {
    buf +=
        c ? ", {\"supercategory\": \"thing\", \"id\": " : "{\"supercategory\": \"thing\", \"id\": ";
    put_int(c + 1);
    buf += ", \"name\": \"class";
    put_int(c + 1);
    buf += "\"}";
  }
  buf += "]}\n";
  flush(true);
  SPLAT_CHECK(std::fflush(f.get()) == 0, "bench data: writing ", path, " failed");
  return fs::file_size(path);
}

// Load time and memory of the reader on a COCO-sized file generated now (not kept in the repo).
void bench_coco_size(const BenchDataOptions& o) {
  const bool keep = !o.keep.empty();
  const fs::path dir =
      keep ? fs::path(o.keep)
           : fs::temp_directory_path() / ("splat_coco_size_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "instances_train_coco_size.json").string();
  auto t0 = std::chrono::steady_clock::now();
  const uint64_t bytes = write_coco_sized_file(path);
  const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t hwm_before = proc_status_kb("VmHWM"), rss_before = proc_status_kb("VmRSS");
  t0 = std::chrono::steady_clock::now();
  double load_s = 0;
  size_t images = 0, annotations = 0;
  int64_t rss_loaded = 0;
  {
    const CocoDataset coco = CocoDataset::load(path);
    load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    images = coco.images().size();
    annotations = coco.annotations().size();
    rss_loaded = proc_status_kb("VmRSS");
  }
  const int64_t hwm_after = proc_status_kb("VmHWM");
  std::printf("coco-size file=%.1f MB (generated in %.1f s) images=%zu annotations=%zu "
              "load_seconds=%.2f peak_rss_mb=%.1f (before load %.1f, rss before %.1f, with the "
              "dataset loaded %.1f)\n",
              static_cast<double>(bytes) / 1e6, gen_s, images, annotations, load_s,
              static_cast<double>(hwm_after) / 1024, static_cast<double>(hwm_before) / 1024,
              static_cast<double>(rss_before) / 1024, static_cast<double>(rss_loaded) / 1024);
  if (!keep) fs::remove_all(dir);
}

} // namespace

void add_data_commands(CLI::App& app, CLI::App& bench, Commands& out) {
  {
    auto o = std::make_shared<MakeShapesOptions>();
    CLI::App* cmd = app.add_subcommand(
        "make-shapes",
        "Write the synthetic COCO-format shapes dataset (DIR/annotations, DIR/train, DIR/val)");
    cmd->add_option("dir", o->dir, "Output directory")->required();
    cmd->add_option("--train", o->shapes.train, "Training images")->check(CLI::NonNegativeNumber);
    cmd->add_option("--val", o->shapes.val, "Validation images")->check(CLI::NonNegativeNumber);
    cmd->add_option("--min-size", o->shapes.min_size, "Smallest image side (pixels)");
    cmd->add_option("--max-size", o->shapes.max_size, "Largest image side (pixels)");
    cmd->add_option("--seed", o->shapes.seed, "Random seed");
    CLI::Option* categories = cmd->add_option("--categories", o->shapes.categories, "Shape categories (3-10)");
    cmd->add_option("--kinds", o->shapes.kinds,
                    "The categories' shape kinds by name (e.g. rectangle,ellipse,triangle,star,cross)")
        ->delimiter(',');
    cmd->add_option("--quality", o->shapes.jpeg_quality, "JPEG quality (1-100)");
    cmd->add_option("--min-object", o->shapes.min_object,
                    "Smallest shape's longer side (pixels; with --max-object)");
    cmd->add_option("--max-object", o->shapes.max_object,
                    "Largest shape's longer side (pixels; default: 20-60% of the shorter side)");
    cmd->add_option("--object-sizes", o->shapes.object_sizes,
                    "How lengths in [min-object, max-object] are drawn: log_uniform (default) or uniform")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, data::ShapesOptions::Sizes>{{"log_uniform", data::ShapesOptions::Sizes::log_uniform},
                                                              {"uniform", data::ShapesOptions::Sizes::uniform}}));
    cmd->add_option("--max-occlusion", o->shapes.max_occlusion,
                    "Fraction of a shape a later one may cover (default 0.4)");
    cmd->add_option("--overlap-prob", o->shapes.overlap_prob,
                    "Probability a shape is placed onto an earlier one (default 0)");
    cmd->add_option("--noise", o->shapes.noise, "Std of Gaussian pixel noise (0-255 levels)");
    cmd->add_option("--colors", o->shapes.colors,
                    "Shape colours: random (default; only the outline tells the kind) or by_kind "
                    "(a hue band per category)")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, data::ShapesOptions::Colors>{{"random", data::ShapesOptions::Colors::random},
                                                               {"by_kind", data::ShapesOptions::Colors::by_kind}}));
    out.push_back({cmd, [o, categories] {
                     // Named kinds are the categories unless a count is also given.
                     if (!o->shapes.kinds.empty() && categories->count() == 0)
                       o->shapes.categories = static_cast<int>(o->shapes.kinds.size());
                     run_make_shapes(*o);
                   }});
  }
  {
    auto o = std::make_shared<BrowseOptions>();
    CLI::App* cmd = app.add_subcommand(
        "browse-dataset", "Write PNGs of samples as a pipeline leaves them (a config's train or "
                          "val pipeline), with boxes, labels and masks drawn");
    cmd->add_option("config", o->config,
                    "Training config (configs/*.toml): its dataset and pipelines, as training "
                    "and evaluation see them");
    cmd->add_option("--data", o->data,
                    "Dataset directory: the config's dataset folder, or without a CONFIG a COCO "
                    "layout folder (e.g. from make-shapes)");
    cmd->add_option("--out", o->out, "Output directory for the PNGs")->required();
    cmd->add_option("--num", o->num, "Number of samples")->check(CLI::PositiveNumber);
    cmd->add_option("--split", o->split,
                    "train or val with a CONFIG (val: the test pipeline); without one the folder's "
                    "split (annotations/instances_SPLIT.json, SPLIT/)");
    CLI::Option* seed = cmd->add_option("--seed", o->seed,
                                        "Augmentation and order seed (with a CONFIG: data.seed)");
    cmd->add_option("--epoch", o->epoch, "Epoch whose augmentation to show")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--set", o->overrides, "Config overrides key.path=value (repeatable)");
    out.push_back({cmd, [o, seed] {
                     o->seed_given = seed->count() > 0;
                     run_browse(*o);
                   }});
  }
  {
    auto o = std::make_shared<BenchDataOptions>();
    CLI::App* cmd = bench.add_subcommand(
        "data", "Images/s through the training data pipeline (--data), or the COCO reader on a "
                "COCO-sized generated file (--coco-size)");
    cmd->add_option("--data", o->data, "Dataset directory (COCO layout)");
    cmd->add_option("--split", o->split, "Split to read");
    cmd->add_option("--workers", o->workers, "Loader worker threads")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--images", o->images, "Images to load")->check(CLI::PositiveNumber);
    cmd->add_option("--batch", o->batch, "Images per batch")->check(CLI::PositiveNumber);
    cmd->add_flag("!--no-masks", o->masks, "Skip the masks (box-only pipeline)");
    cmd->add_flag("--coco-size", o->coco_size,
                  "Generate a COCO-sized annotation file in a temp dir and time loading it");
    cmd->add_option("--keep", o->keep,
                    "With --coco-size: write the file to this directory and keep it");
    out.push_back({cmd, [o] {
                     SPLAT_CHECK(o->coco_size || !o->data.empty(),
                                 "bench data: give --data DIR and/or --coco-size");
                     if (!o->data.empty()) bench_pipeline(*o);
                     if (o->coco_size) bench_coco_size(*o);
                   }});
  }
}

} // namespace splat::train
