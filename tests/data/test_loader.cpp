// The threaded loader (data/loader.h) on a synthetic in-memory dataset: output identical to a
// plain serial collate for any worker count, errors reaching the consumer with the sample's
// name, skipping corrupt samples, bounded prefetch, no hang on early destruction, and batches
// copied to a CUDA device. The COCO glue (load_coco_sample, CocoSampleDataset) is tested on files
// in test_shapes.cpp, where the shapes dataset provides them.
#include "data/loader.h"

#include "core/philox.h"
#include "data/sampler.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using namespace splat;
using namespace splat::data;
using splat::test::to_vector;

namespace {

// Sample `index` of epoch e: a (3, h, w) f32 image of Philox noise keyed by (index, e), with
// sizes varying by index; one box whose coordinates encode the index; label = index. Indices in
// `corrupt` throw CorruptImageError, those in `broken` a plain Error. Each get sleeps a little,
// by an amount varying with the index, so workers finish out of order.
class FakeDataset final : public Dataset {
public:
  explicit FakeDataset(size_t n) : n_(n) {}
  std::set<size_t> corrupt, broken;
  int sleep_us = 300;
  mutable std::atomic<int> calls{0};

  size_t size() const override { return n_; }
  std::string describe(size_t index) const override { return str("/fake/img", index, ".jpg"); }
  Sample get(size_t index, int64_t epoch) const override {
    ++calls;
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us * ((index * 7) % 5)));
    if (corrupt.count(index)) throw CorruptImageError(str(describe(index), ": truncated JPEG"));
    if (broken.count(index)) throw Error("resize: something went wrong");
    const int64_t h = 9 + static_cast<int64_t>(index % 4) * 5,
                  w = 11 + static_cast<int64_t>(index % 3) * 7;
    Sample s;
    s.image = Tensor::empty({3, h, w}, DType::f32);
    float* p = s.image.data<float>();
    for (int64_t i = 0; i < 3 * h * w; ++i)
      p[i] = philox_uniform<float>(
          philox_block(index * 1000 + static_cast<uint64_t>(epoch), static_cast<uint64_t>(i)));
    s.target.boxes = Tensor::empty({1, 4}, DType::f32);
    for (int k = 0; k < 4; ++k) s.target.boxes.data<float>()[k] = static_cast<float>(index + k);
    s.target.labels = Tensor::empty({1}, DType::i64);
    s.target.labels.data<int64_t>()[0] = static_cast<int64_t>(index);
    s.target.ignore_boxes = Tensor::empty({0, 4}, DType::f32);
    s.meta.image_id = static_cast<int64_t>(index);
    s.meta.file_name = describe(index);
    s.meta.img_h = s.meta.pad_h = h;
    s.meta.img_w = s.meta.pad_w = w;
    return s;
  }

private:
  size_t n_;
};

std::vector<std::vector<size_t>> some_batches(size_t n, size_t batch_size, int64_t epoch) {
  DistributedSampler sampler(n, 0, 1, 17);
  sampler.set_epoch(epoch);
  return sampler.batches(batch_size);
}

std::vector<Batch> drain(Loader& loader) {
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

// Bit-for-bit equality of two batches (tensors compared by bytes, on any device).
void check_same_batch(const Batch& a, const Batch& e) {
  test::check_equal(a.images, e.images);
  REQUIRE(a.metas.size() == e.metas.size());
  REQUIRE(a.targets.size() == e.targets.size());
  for (size_t i = 0; i < a.metas.size(); ++i) {
    CHECK(a.metas[i].image_id == e.metas[i].image_id);
    CHECK(a.metas[i].file_name == e.metas[i].file_name);
    test::check_equal(a.targets[i].boxes, e.targets[i].boxes);
    test::check_equal(a.targets[i].labels, e.targets[i].labels);
    test::check_equal(a.targets[i].ignore_boxes, e.targets[i].ignore_boxes);
  }
}

// What the loader must produce: the batches collated serially on this thread.
std::vector<Batch> serial_reference(const Dataset& d, const std::vector<std::vector<size_t>>& bs,
                                    int64_t epoch) {
  std::vector<Batch> out;
  for (const auto& b : bs) {
    std::vector<Sample> samples;
    for (size_t i : b) samples.push_back(d.get(i, epoch));
    out.push_back(collate(std::move(samples), 32));
  }
  return out;
}

// Captures what is written to stderr (fd 2) while alive.
class StderrCapture {
public:
  StderrCapture() : file_(dir_.path("stderr.txt")) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    std::FILE* f = std::fopen(file_.c_str(), "w");
    REQUIRE(f != nullptr);
    ::dup2(::fileno(f), 2);
    std::fclose(f);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::ifstream in(file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  test::TempDir dir_{"splat_loader"};
  std::string file_;
  int saved_ = -1;
};

} // namespace

TEST_CASE("Loader: batches identical to a serial collate for 0, 1 and 4 workers") {
  FakeDataset data(23);
  const auto batches = some_batches(23, 3, 2);
  const auto expected = serial_reference(data, batches, 2);
  for (int workers : {0, 1, 4}) {
    for (size_t prefetch : {size_t{1}, size_t{3}}) {
      CAPTURE(workers);
      CAPTURE(prefetch);
      Loader loader(data, batches, 2, {.workers = workers, .prefetch_batches = prefetch});
      CHECK(loader.num_batches() == batches.size());
      const auto got = drain(loader);
      REQUIRE(got.size() == expected.size());
      for (size_t b = 0; b < got.size(); ++b) check_same_batch(got[b], expected[b]);
      CHECK(!loader.next().has_value()); // stays finished
    }
  }
  // The epoch reaches the dataset: another epoch gives other images.
  Loader other(data, batches, 3, {.workers = 2});
  CHECK(to_vector<float>(other.next()->images) != to_vector<float>(expected[0].images));
}

TEST_CASE("Loader: a worker's error reaches the consumer with the sample's path, in order") {
  FakeDataset data(20);
  data.broken = {13};
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < 20; i += 2) batches.push_back({i, i + 1}); // 13 is in batch 6
  for (int workers : {0, 1, 4}) {
    CAPTURE(workers);
    Loader loader(data, batches, 0, {.workers = workers, .prefetch_batches = 8});
    for (int b = 0; b < 6; ++b) REQUIRE(loader.next().has_value()); // batches before the error
    CHECK_THROWS_WITH_ALL(loader.next(), "sample 13", "/fake/img13.jpg", "batch 6",
                          "resize: something went wrong");
    CHECK(!loader.next().has_value()); // finished after the error
  }
  // A corrupt image is an error too unless skipping is asked for.
  FakeDataset corrupt(6);
  corrupt.corrupt = {4};
  Loader loader(corrupt, {{0, 1}, {2, 3}, {4, 5}}, 0, {.workers = 2});
  CHECK(loader.next().has_value());
  CHECK(loader.next().has_value());
  CHECK_THROWS_WITH_ALL(loader.next(), "/fake/img4.jpg", "truncated JPEG");
}

TEST_CASE("Loader: skip_with_warning drops corrupt samples with a warning on stderr") {
  FakeDataset data(8);
  data.corrupt = {2, 6, 7};
  const std::vector<std::vector<size_t>> batches{{0, 1}, {2, 3}, {4, 5}, {6, 7}};
  std::vector<Batch> got;
  size_t skipped = 0;
  std::string warnings;
  {
    StderrCapture capture;
    Loader loader(data, batches, 0, {.workers = 3, .on_corrupt = OnCorrupt::skip_with_warning});
    got = drain(loader);
    skipped = loader.skipped();
    warnings = capture.text();
  }
  CHECK(skipped == 3);
  // Batch {6, 7} lost both samples and is dropped; {2, 3} keeps 3 alone.
  REQUIRE(got.size() == 3);
  CHECK(got[1].metas.size() == 1);
  CHECK(got[1].metas[0].image_id == 3);
  check_same_batch(got[1], serial_reference(data, {{3}}, 0)[0]);
  CHECK(warnings.find("skipping sample 2 (/fake/img2.jpg)") != std::string::npos);
  CHECK(warnings.find("truncated JPEG") != std::string::npos);
  CHECK(warnings.find("batch 3 dropped") != std::string::npos);
  // Other errors are never skipped.
  FakeDataset broken(4);
  broken.broken = {1};
  Loader loader(broken, {{0, 1}, {2, 3}}, 0,
                {.workers = 2, .on_corrupt = OnCorrupt::skip_with_warning});
  CHECK_THROWS_WITH_ALL(loader.next(), "/fake/img1.jpg", "something went wrong");
}

TEST_CASE("Loader: prefetch is bounded while the consumer waits") {
  FakeDataset data(40);
  data.sleep_us = 0;
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < 40; i += 4) batches.push_back({i, i + 1, i + 2, i + 3});
  Loader loader(data, batches, 0, {.workers = 4, .prefetch_batches = 2});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(data.calls.load() <= 8); // two batches of four
  REQUIRE(loader.next().has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(data.calls.load() <= 12);
  CHECK(data.calls.load() >= 4);
}

TEST_CASE("Loader: destruction at any point joins the workers without hanging") {
  // An epoch of 200 samples taking up to 80 ms each would need about 2 s with 4 workers; a
  // destruction only waits for the samples being loaded.
  FakeDataset data(200);
  data.sleep_us = 20000;
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < 200; i += 2) batches.push_back({i, i + 1});
  using clock = std::chrono::steady_clock;
  auto timed_destruction = [](std::unique_ptr<Loader> loader) {
    const auto t0 = clock::now();
    loader.reset();
    return clock::now() - t0;
  };
  CHECK(timed_destruction(std::make_unique<Loader>(data, batches, 0, LoaderOptions{.workers = 4})) <
        std::chrono::milliseconds(500));
  auto read_once = std::make_unique<Loader>(data, batches, 0,
                                            LoaderOptions{.workers = 4, .prefetch_batches = 64});
  CHECK(read_once->next().has_value());
  CHECK(timed_destruction(std::move(read_once)) < std::chrono::milliseconds(500));
  FakeDataset failing(8);
  failing.broken = {0};
  auto after_error =
      std::make_unique<Loader>(failing, std::vector<std::vector<size_t>>{{0, 1}, {2, 3}, {4, 5}}, 0,
                               LoaderOptions{.workers = 4});
  CHECK_THROWS(after_error->next());
  CHECK(timed_destruction(std::move(after_error)) < std::chrono::milliseconds(500));
}

TEST_CASE("Loader: invalid arguments") {
  FakeDataset data(4);
  CHECK_THROWS_WITH_ALL(Loader(data, {{0, 1}, {}}, 0), "batch 1 is empty");
  CHECK_THROWS_WITH_ALL(Loader(data, {{0, 4}}, 0), "index 4", "dataset of 4");
  CHECK_THROWS_WITH_ALL(Loader(data, {{0}}, 0, {.workers = -1}), "workers must be >= 0");
  CHECK_THROWS_WITH_ALL(Loader(data, {{0}}, 0, {.prefetch_batches = 0}), "prefetch_batches");
}

TEST_SUITE_BEGIN("cuda loader" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("Loader: batches on a CUDA device equal the host batches") {
  FakeDataset data(10);
  data.sleep_us = 0;
  const auto batches = some_batches(10, 4, 0);
  const auto expected = serial_reference(data, batches, 0);
  Loader loader(data, batches, 0, {.workers = 2, .device = Device::cuda(0)});
  const auto got = drain(loader);
  REQUIRE(got.size() == expected.size());
  for (size_t b = 0; b < got.size(); ++b) {
    CHECK(got[b].images.device() == Device::cuda(0));
    CHECK(got[b].targets[0].boxes.device() == Device::cuda(0));
    check_same_batch(got[b], expected[b]);
  }
}

TEST_SUITE_END();
