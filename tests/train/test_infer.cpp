// `splat infer` end to end on the small shapes config with random weights: the pictures, the
// COCO results file and the errors for bad inputs.
#include "core/safetensors.h"
#include "data/image.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/config/experiment.h"
#include "train/detection/infer.h"

#include <simdjson.h>

#include <fstream>

using namespace splat;
using namespace splat::train;
namespace fs = std::filesystem;

namespace {

const std::string kShapesConfig = std::string(SPLAT_SOURCE_DIR) + "/configs/shapes/faster_rcnn_s18_fpn_shapes.toml";

// A grey image with a bright square: something for the detector to look at.
Tensor test_image(int64_t h, int64_t w) {
  Tensor img = Tensor::empty({h, w, 3}, DType::u8);
  uint8_t* p = img.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        p[(y * w + x) * 3 + c] = (y > h / 4 && y < h / 2 && x > w / 4 && x < w / 2) ? 230 : uint8_t(60 + 20 * c);
  return img;
}

// Random weights of the config's detector, as a splat checkpoint.
std::string random_checkpoint(const fs::path& path) {
  auto model = config::build_detector(config::load_experiment(kShapesConfig).model);
  save_safetensors(path.string(), model->state_dict());
  return path.string();
}

struct Fixture {
  test::TempDir tmp{"splat_infer"};
  std::string ckpt = random_checkpoint(tmp.dir / "random.safetensors");
  std::vector<std::string> images;
  Fixture() {
    fs::create_directories(tmp.dir / "a");
    fs::create_directories(tmp.dir / "b");
    images = {(tmp.dir / "a" / "x.png").string(), (tmp.dir / "b" / "x.jpg").string(),
              (tmp.dir / "portrait.png").string()};
    data::write_png(images[0], test_image(100, 140));
    data::write_jpeg(images[1], test_image(120, 90));
    data::write_png(images[2], test_image(150, 70));
  }
  InferOptions options(double score_thr) const {
    return {.config = kShapesConfig, .checkpoint = ckpt, .images = images,
            .out = (tmp.dir / "out").string(), .score_thr = score_thr};
  }
};

bool same_pixels(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::equal(a.data<uint8_t>(), a.data<uint8_t>() + a.numel(), b.data<uint8_t>());
}

} // namespace

TEST_CASE("splat infer: a picture per image and every detection in the COCO results") {
  Fixture f;
  const std::vector<InferredImage> drawn_all = run_infer(f.options(0.0));
  REQUIRE(drawn_all.size() == 3);
  const fs::path out = f.tmp.dir / "out";
  // Stems are kept, a repeated one numbered.
  CHECK(drawn_all[0].picture == (out / "x.png").string());
  CHECK(drawn_all[1].picture == (out / "x_2.png").string());
  CHECK(drawn_all[2].picture == (out / "portrait.png").string());
  int64_t total = 0;
  const int64_t sizes[3][2] = {{100, 140}, {120, 90}, {150, 70}};
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const Tensor pic = data::read_image(drawn_all[i].picture);
    CHECK(pic.shape() == Shape{sizes[i][0], sizes[i][1], 3}); // the original size, not the resized
    // Random weights give the test config's rcnn score_thr 0.05 plenty of detections to draw.
    CHECK(drawn_all[i].detections > 0);
    CHECK(drawn_all[i].drawn == drawn_all[i].detections);
    CHECK_FALSE(same_pixels(pic, data::read_image(f.images[i])));
    total += drawn_all[i].detections;
  }

  simdjson::dom::parser parser;
  const simdjson::dom::element results = parser.load((out / "results.json").string());
  int64_t entries = 0;
  for (const simdjson::dom::element r : results.get_array()) {
    ++entries;
    const int64_t image = r["image_id"].get_int64();
    REQUIRE((image >= 0 && image < 3));
    CHECK(std::string_view(r["file_name"].get_string()) == f.images[static_cast<size_t>(image)]);
    const int64_t category = r["category_id"].get_int64();
    CHECK((category >= 1 && category <= 5));
    const double score = r["score"].get_double();
    CHECK((score >= 0.05 && score <= 1));
    std::vector<double> b;
    for (const simdjson::dom::element v : r["bbox"].get_array()) b.push_back(v.get_double());
    REQUIRE(b.size() == 4);
    const auto [h, w] = std::pair{sizes[image][0], sizes[image][1]};
    CHECK((b[0] >= 0 && b[1] >= 0 && b[2] >= 0 && b[3] >= 0));
    CHECK(b[0] + b[2] <= w + 1e-3); // clipped to the original image
    CHECK(b[1] + b[3] <= h + 1e-3);
  }
  CHECK(entries == total);

  // A threshold above every score draws nothing: the pictures are the images, the results
  // are the same detections.
  const std::string json_before = [&] { std::ifstream s(out / "results.json"); return std::string(std::istreambuf_iterator<char>(s), {}); }();
  const std::vector<InferredImage> drawn_none = run_infer(f.options(1.0));
  for (size_t i = 0; i < 3; ++i) {
    CHECK(drawn_none[i].drawn == 0);
    CHECK(drawn_none[i].detections == drawn_all[i].detections);
    CHECK(same_pixels(data::read_image(drawn_none[i].picture), data::read_image(f.images[i])));
  }
  std::ifstream s(out / "results.json");
  CHECK(std::string(std::istreambuf_iterator<char>(s), {}) == json_before);
}

TEST_CASE("splat infer: a bad image or checkpoint is one line naming the file") {
  Fixture f;
  InferOptions o = f.options(0.3);
  const std::string garbage = (f.tmp.dir / "garbage.png").string();
  std::ofstream(garbage) << "this is not a PNG";
  o.images.push_back(garbage);
  std::string msg = test::error_of([&] { run_infer(o); });
  CHECK(msg.find("garbage.png") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);

  o = f.options(0.3);
  o.images.push_back((f.tmp.dir / "nowhere.jpg").string());
  CHECK_THROWS_WITH_ALL(run_infer(o), "nowhere.jpg: no such image file");

  // A checkpoint of another model: the shapes detector with a key dropped and a shape changed.
  auto state = load_safetensors(f.ckpt).tensors;
  state.erase("rpn_head.rpn_cls.bias");
  state["roi_head.bbox_head.fc_cls.bias"] = Tensor::empty({2}, DType::f32);
  const std::string broken = (f.tmp.dir / "broken.safetensors").string();
  save_safetensors(broken, state);
  o = f.options(0.3);
  o.checkpoint = broken;
  msg = test::error_of([&] { run_infer(o); });
  CHECK(msg.find("broken.safetensors") != std::string::npos);
  CHECK(msg.find("rpn_head.rpn_cls.bias") != std::string::npos);
  CHECK(msg.find("roi_head.bbox_head.fc_cls.bias: checkpoint [2] vs model [6]") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);

  o.checkpoint = garbage;
  msg = test::error_of([&] { run_infer(o); });
  CHECK(msg.find("garbage.png") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
}
