// Image codecs (data/image.h) on the fixtures of scripts/make_image_fixtures.py, whose pixel
// formulas are restated here: JPEGs are checked within a JPEG tolerance at points well inside
// flat quadrants, PNGs exactly.
#include "data/image.h"

#include "../helpers.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <unistd.h>

namespace splat::data {
namespace {

using splat::test::to_vector;

const std::string kDir = SPLAT_SOURCE_DIR "/tests/fixtures/images/";

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open ", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Pixel (y, x) of a contiguous (H, W, 3) u8 image.
std::array<int, 3> pixel(const Tensor& img, int64_t y, int64_t x) {
  const uint8_t* p = img.data<uint8_t>() + (y * img.size(1) + x) * 3;
  return {p[0], p[1], p[2]};
}

// The 32 x 48 quadrant images: quadrant q = 2 * (bottom half) + (right half) has colour
// expected[q]; points at least 4 pixels from every quadrant edge must be within tol.
void check_quadrants(const Tensor& img, const std::array<std::array<int, 3>, 4>& expected,
                     int tol) {
  REQUIRE(img.shape() == Shape{32, 48, 3});
  REQUIRE(img.dtype() == DType::u8);
  REQUIRE(img.is_contiguous());
  for (int64_t y : {4, 8, 11, 20, 24, 27})
    for (int64_t x : {4, 12, 19, 28, 36, 43}) {
      const auto& want = expected[(y >= 16) * 2 + (x >= 24)];
      const auto got = pixel(img, y, x);
      for (int c = 0; c < 3; ++c)
        CHECK_MESSAGE(std::abs(got[c] - want[c]) <= tol, "pixel (", y, ", ", x, ") channel ", c,
                      ": got ", got[c], ", expected ", want[c]);
    }
}

constexpr std::array<std::array<int, 3>, 4> kQuadrantRgb{
    {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {220, 220, 40}}};
constexpr int kJpegTol = 4; // quality 95, no chroma subsampling, flat areas

// A directory for written files, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path =
        std::filesystem::temp_directory_path() / ("splat_test_image_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// A (h, w, 3) u8 image from f(y, x, c).
template <class F> Tensor make_image(int64_t h, int64_t w, F f) {
  Tensor t = Tensor::empty({h, w, 3}, DType::u8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < 3; ++c) p[(y * w + x) * 3 + c] = static_cast<uint8_t>(f(y, x, c));
  return t;
}

} // namespace

TEST_CASE("read_image: RGB JPEG decodes to the expected colours") {
  check_quadrants(read_image(kDir + "rgb.jpg"), kQuadrantRgb, kJpegTol);
}

TEST_CASE("read_image: EXIF orientations 1-8 all come out upright") {
  // Each file stores the upright image transformed by the inverse of its orientation, so the
  // stored pixels of 5-8 are 48 x 32; applying the orientation must give the upright 32 x 48.
  for (int k = 1; k <= 8; ++k) {
    CAPTURE(k);
    const std::string path = kDir + "exif_" + std::to_string(k) + ".jpg";
    CHECK(jpeg_exif_orientation(file_bytes(path)) == k);
    check_quadrants(read_image(path), kQuadrantRgb, kJpegTol);
  }
  CHECK(jpeg_exif_orientation(file_bytes(kDir + "rgb.jpg")) == 1);
}

TEST_CASE("apply_exif_orientation: the eight transforms on a 2 x 3 image") {
  // Values 0..5 row-major; expected results written out by hand (PIL's transpose methods).
  Tensor in = Tensor::empty({2, 3, 1}, DType::u8);
  for (int i = 0; i < 6; ++i) in.data<uint8_t>()[i] = static_cast<uint8_t>(i);
  struct Case {
    int orientation;
    Shape shape;
    std::vector<int> values;
  };
  const std::vector<Case> cases = {
      {1, {2, 3, 1}, {0, 1, 2, 3, 4, 5}}, {2, {2, 3, 1}, {2, 1, 0, 5, 4, 3}},
      {3, {2, 3, 1}, {5, 4, 3, 2, 1, 0}}, {4, {2, 3, 1}, {3, 4, 5, 0, 1, 2}},
      {5, {3, 2, 1}, {0, 3, 1, 4, 2, 5}}, {6, {3, 2, 1}, {3, 0, 4, 1, 5, 2}},
      {7, {3, 2, 1}, {5, 2, 4, 1, 3, 0}}, {8, {3, 2, 1}, {2, 5, 1, 4, 0, 3}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.orientation);
    const Tensor out = apply_exif_orientation(in, c.orientation);
    CHECK(out.shape() == c.shape);
    CHECK(to_vector<int>(out) == c.values);
    // Strided input gives the same result.
    CHECK(to_vector<int>(apply_exif_orientation(test::noncontiguous(in), c.orientation)) ==
          c.values);
  }
  CHECK_THROWS_WITH_ALL(apply_exif_orientation(in, 9), "apply_exif_orientation",
                        "orientation must be in 1..8, got 9");
}

TEST_CASE("jpeg_exif_orientation: both byte orders, malformed blocks mean 1") {
  // SOI, an APP1 Exif segment holding a TIFF header and IFD0 with the given entry, EOI.
  auto jpeg = [](bool big_endian, uint16_t tag, uint16_t type, uint32_t count, uint16_t value) {
    std::vector<uint8_t> tiff;
    auto put = [&](uint32_t v, int n) {
      for (int i = 0; i < n; ++i)
        tiff.push_back(static_cast<uint8_t>(v >> (8 * (big_endian ? n - 1 - i : i))));
    };
    tiff.push_back(big_endian ? 'M' : 'I');
    tiff.push_back(big_endian ? 'M' : 'I');
    put(42, 2), put(8, 4);                    // magic, offset of IFD0
    put(1, 2);                                // one entry
    put(tag, 2), put(type, 2), put(count, 4); // the entry
    put(value, 2), put(0, 2);                 // its value field (SHORT left-aligned)
    put(0, 4);                                // no next IFD
    std::vector<uint8_t> b = {0xFF, 0xD8, 0xFF, 0xE1};
    const size_t len = 2 + 6 + tiff.size();
    b.push_back(static_cast<uint8_t>(len >> 8));
    b.push_back(static_cast<uint8_t>(len));
    for (char c : std::string("Exif")) b.push_back(static_cast<uint8_t>(c));
    b.push_back(0), b.push_back(0);
    b.insert(b.end(), tiff.begin(), tiff.end());
    b.push_back(0xFF), b.push_back(0xD9);
    return b;
  };
  for (bool be : {false, true})
    for (uint16_t k = 1; k <= 8; ++k) CHECK(jpeg_exif_orientation(jpeg(be, 0x0112, 3, 1, k)) == k);
  CHECK(jpeg_exif_orientation(jpeg(true, 0x0112, 3, 1, 9)) == 1);  // out of range
  CHECK(jpeg_exif_orientation(jpeg(true, 0x0112, 4, 1, 6)) == 1);  // LONG, not SHORT
  CHECK(jpeg_exif_orientation(jpeg(false, 0x0112, 3, 2, 6)) == 1); // two values
  CHECK(jpeg_exif_orientation(jpeg(false, 0x0110, 3, 1, 6)) == 1); // another tag
  std::vector<uint8_t> cut = jpeg(false, 0x0112, 3, 1, 6);
  cut.resize(20); // the segment claims more bytes than there are
  CHECK(jpeg_exif_orientation(cut) == 1);
  CHECK(jpeg_exif_orientation(std::vector<uint8_t>{0x89, 'P', 'N', 'G'}) == 1);
}

TEST_CASE("read_image: grayscale and CMYK JPEGs convert to RGB") {
  const std::array<int, 4> gray = {40, 90, 160, 230};
  std::array<std::array<int, 3>, 4> gray_rgb{};
  for (int q = 0; q < 4; ++q) gray_rgb[q] = {gray[q], gray[q], gray[q]};
  const Tensor g = read_image(kDir + "gray.jpg");
  check_quadrants(g, gray_rgb, kJpegTol);
  // Replicated exactly, whatever the JPEG error.
  const auto gv = to_vector<int>(g);
  for (size_t i = 0; i < gv.size(); i += 3) REQUIRE((gv[i] == gv[i + 1] && gv[i] == gv[i + 2]));

  // Ink amounts C, M, Y, K -> R = (255 - C)(255 - K) / 255 etc. (what PIL's convert gives).
  const std::array<std::array<int, 4>, 4> cmyk = {
      {{0, 200, 200, 0}, {200, 0, 100, 50}, {30, 60, 90, 120}, {255, 0, 0, 30}}};
  std::array<std::array<int, 3>, 4> cmyk_rgb{};
  for (int q = 0; q < 4; ++q)
    for (int c = 0; c < 3; ++c)
      cmyk_rgb[q][c] =
          static_cast<int>(std::lround((255.0 - cmyk[q][c]) * (255.0 - cmyk[q][3]) / 255.0));
  check_quadrants(read_image(kDir + "cmyk.jpg"), cmyk_rgb, kJpegTol + 2);
}

TEST_CASE("read_image: PNG layouts convert exactly") {
  constexpr int64_t h = 12, w = 20;
  // Formulas of scripts/make_image_fixtures.py.
  CHECK(to_vector<int>(read_image(kDir + "rgba.png")) ==
        to_vector<int>(make_image(h, w, [](int64_t y, int64_t x, int64_t c) {
          return c == 0 ? x * 12 : c == 1 ? y * 20 : (x * y * 7) % 256; // alpha dropped
        })));
  CHECK(to_vector<int>(read_image(kDir + "rgb16.png")) ==
        to_vector<int>(make_image(h, w, [](int64_t y, int64_t x, int64_t c) {
          const int64_t v = c == 0 ? x * 3000 + y : c == 1 ? y * 5000 + x : 65535 - x * y * 200;
          return v >> 8; // the high byte
        })));
  const int palette[4][3] = {{10, 20, 30}, {250, 128, 0}, {0, 90, 200}, {255, 255, 255}};
  CHECK(to_vector<int>(read_image(kDir + "palette.png")) ==
        to_vector<int>(make_image(h, w, [&](int64_t y, int64_t x, int64_t c) {
          return palette[(x + 2 * y) % 4][c]; // entry 1's transparency dropped
        })));
  CHECK(to_vector<int>(read_image(kDir + "gray_alpha.png")) ==
        to_vector<int>(
            make_image(h, w, [](int64_t y, int64_t x, int64_t) { return (x * 11 + y) % 256; })));
}

TEST_CASE("read_image: corrupt, truncated and missing files are errors naming the file") {
  CHECK_THROWS_WITH_ALL(read_image(kDir + "truncated.jpg"), "truncated.jpg",
                        "Premature end of JPEG file");
  CHECK_THROWS_WITH_ALL(read_image(kDir + "corrupt.jpg"), "corrupt.jpg", "cannot decode JPEG");
  CHECK_THROWS_WITH_ALL(read_image(kDir + "truncated.png"), "truncated.png", "cannot decode PNG");
  CHECK_THROWS_WITH_ALL(read_image(kDir + "corrupt.png"), "corrupt.png", "CRC");
  CHECK_THROWS_WITH_ALL(read_image(kDir + "missing.jpg"), "missing.jpg", "cannot open");
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', '\n'};
  CHECK_THROWS_WITH_ALL(decode_image(text, "notes.txt"), "notes.txt", "neither a JPEG nor a PNG");
  CHECK_THROWS_WITH_ALL(decode_image({}, "empty.bin"), "empty.bin", "empty");

  // Every cut of valid files fails with the name, never a partial image.
  for (const char* name : {"rgb.jpg", "rgba.png"}) {
    const std::vector<uint8_t> bytes = file_bytes(kDir + name);
    for (size_t n = 1; n + 1 < bytes.size(); n += 7) {
      CAPTURE(n);
      CHECK_THROWS_WITH_ALL(decode_image(std::span(bytes).first(n), "cut-image"), "cut-image");
    }
  }
}

TEST_CASE("write_png / write_jpeg round trips") {
  TempDir dir;
  // A smooth image (JPEG-friendly) and a strided view of it.
  const Tensor img = make_image(37, 53, [](int64_t y, int64_t x, int64_t c) {
    return 128 + 100 * std::sin(0.11 * x + 0.07 * y + 2.0 * static_cast<double>(c));
  });
  write_png(dir.file("a.png"), img);
  const Tensor back = read_image(dir.file("a.png"));
  CHECK(back.shape() == img.shape());
  CHECK(to_vector<int>(back) == to_vector<int>(img));

  write_png(dir.file("strided.png"), test::noncontiguous(img));
  CHECK(to_vector<int>(read_image(dir.file("strided.png"))) == to_vector<int>(img));

  write_jpeg(dir.file("a.jpg"), img, 95);
  const auto jpeg = to_vector<int>(read_image(dir.file("a.jpg")));
  const auto want = to_vector<int>(img);
  REQUIRE(jpeg.size() == want.size());
  int worst = 0;
  double mean_err = 0;
  for (size_t i = 0; i < jpeg.size(); ++i) {
    worst = std::max(worst, std::abs(jpeg[i] - want[i]));
    mean_err += std::abs(jpeg[i] - want[i]);
  }
  mean_err /= static_cast<double>(jpeg.size());
  CHECK(worst <= 12);
  CHECK(mean_err < 2.0);
  // A lower quality is lossier on the same image, so the setting is used.
  write_jpeg(dir.file("low.jpg"), img, 10);
  CHECK(std::filesystem::file_size(dir.file("low.jpg")) <
        std::filesystem::file_size(dir.file("a.jpg")));

  CHECK_THROWS_WITH_ALL(write_jpeg(dir.file("q.jpg"), img, 0), "write_jpeg", "q.jpg", "quality");
  CHECK_THROWS_WITH_ALL(write_png(dir.file("f.png"), Tensor::empty({4, 4, 3}, DType::f32)),
                        "write_png", "rgb must be a cpu u8 tensor", "f32 [4, 4, 3]");
  CHECK_THROWS_WITH_ALL(write_png(dir.file("g.png"), Tensor::empty({4, 4, 4}, DType::u8)),
                        "write_png", "g.png", "(H, W, 3)", "[4, 4, 4]");
  CHECK_THROWS_WITH_ALL(write_png(dir.file("no/such/dir.png"), img), "write_png", "cannot open",
                        "dir.png");
}

} // namespace splat::data
