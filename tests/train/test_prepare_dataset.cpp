// prepare_dataset: a config's shapes folder is generated when absent, regenerated when its stamp
// names other options (a stale folder would mislabel every object), and left alone when it holds
// data made elsewhere (no stamp: splat make-shapes, or anyone).
#include "data/coco.h"
#include "data/shapes.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/trainer/train_data.h"

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace splat;
namespace fs = std::filesystem;

namespace {

train::config::DatasetConfig shapes_config(const fs::path& dir, std::vector<std::string> kinds) {
  data::ShapesOptions o{.train = 3, .val = 1, .min_size = 32, .max_size = 48, .categories = 3};
  o.kinds = std::move(kinds);
  const std::string d = dir.string();
  return {.train = {d + "/annotations/instances_train.json", d + "/train"},
          .val = {d + "/annotations/instances_val.json", d + "/val"},
          .shapes = train::config::ShapesDataset{d, o}};
}

std::string first_category(const train::config::DatasetConfig& c) {
  return data::CocoDataset::load(c.train.annotations).categories().at(0).name;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("prepare_dataset: generates, regenerates a folder stamped with other options, keeps unstamped data") {
  test::TempDir tmp;
  const fs::path dir = tmp.dir / "shapes";
  const auto stars = shapes_config(dir, {"star", "cross", "ellipse"});
  train::prepare_dataset(stars);
  CHECK(first_category(stars) == "star");
  CHECK(read_text(dir / train::kShapesStamp) == data::shapes_options_text(stars.shapes->options));
  CHECK(read_text(dir / train::kShapesStamp).find("kinds = star, cross, ellipse\n") != std::string::npos);

  // Same options: nothing is written (the annotation file keeps its time).
  const auto written = fs::last_write_time(stars.train.annotations);
  train::prepare_dataset(stars);
  CHECK(fs::last_write_time(stars.train.annotations) == written);

  // Other kinds: the folder is made anew.
  const auto arrows = shapes_config(dir, {"arrow", "star", "cross"});
  train::prepare_dataset(arrows);
  CHECK(first_category(arrows) == "arrow");

  // Without the stamp the folder is someone's own data: used as it is.
  fs::remove(dir / train::kShapesStamp);
  train::prepare_dataset(stars);
  CHECK(first_category(stars) == "arrow");
  // As is what splat make-shapes writes.
  const fs::path made = tmp.dir / "made";
  data::make_shapes(made.string(), arrows.shapes->options);
  CHECK_FALSE(fs::exists(made / train::kShapesStamp));
  train::prepare_dataset(shapes_config(made, {"star", "cross", "ellipse"}));
  CHECK(first_category(shapes_config(made, {}) ) == "arrow");
}
