// GT masks from the data pipeline to the mask head: to_detector_input fills GroundTruth::masks
// with PolygonInstanceMasks (polygons) or models::BitmapMasks (bitmaps), and the polygon targets
// are data::crop_and_resize's, in the RoIs' dtype and on their device.
#include "ops/copy.h"
#include "tests/helpers.h"
#include "train/detection/detector_batch.h"
#include "train/detection/polygon_instance_masks.h"

#include <doctest/doctest.h>

using namespace splat;
using namespace splat::train;

TEST_CASE("to_detector_input: polygons become PolygonInstanceMasks, bitmaps BitmapMasks") {
  data::Batch batch;
  batch.images = ops::zeros({3, 3, 32, 32}, {.dtype = DType::f64});
  batch.metas.resize(3);
  const data::PolygonMasks polygons{32, 32, {{{4, 4, 20, 4, 20, 20, 4, 20}}, {{0, 0, 9, 0, 0, 9}}}};
  const auto boxes = [] { return ops::from_vector<float>({4, 4, 20, 20, 0, 0, 9, 9}, {2, 4}); };
  const auto labels = [] { return ops::from_vector<int64_t>({0, 1}, {2}); };
  batch.targets = {
      {.boxes = boxes(), .labels = labels(), .polygons = polygons},
      {.boxes = boxes(), .labels = labels(), .masks = data::polygons_to_bitmaps(polygons)},
      {.boxes = boxes(), .labels = labels()}};
  const std::vector<double> rois{4, 4, 20, 20, 2, 1, 9.5, 8, 0, 0, 9, 9};
  const std::vector<int64_t> assigned{0, 0, 1};
  const Tensor expected = data::crop_and_resize(
      polygons, std::vector<std::array<float, 4>>{{4, 4, 20, 20}, {2, 1, 9.5f, 8}, {0, 0, 9, 9}},
      assigned, 28);
  for (const Device device : test::cpu_and_cuda()) {
    CAPTURE(device);
    const models::DetectorInput in = to_detector_input(batch, device, true);
    REQUIRE(in.targets.size() == 3);
    REQUIRE(in.targets[0].masks != nullptr);
    REQUIRE(in.targets[1].masks != nullptr);
    CHECK(in.targets[2].masks == nullptr);
    CHECK(dynamic_cast<const PolygonInstanceMasks*>(in.targets[0].masks.get()) != nullptr);
    CHECK(dynamic_cast<const models::BitmapMasks*>(in.targets[1].masks.get()) != nullptr);
    CHECK(in.targets[0].masks->size() == 2);
    const Tensor t =
        in.targets[0].masks->crop_and_resize(ops::to(ops::from_vector(rois, {3, 4}), device),
                                             ops::to(ops::from_vector(assigned, {3}), device), 28);
    CHECK(t.dtype() == DType::f64);
    CHECK(t.device() == device);
    test::check_equal(ops::to(t, Device::cpu()), ops::to(expected, DType::f64));
  }
  CHECK_THROWS_WITH_ALL(PolygonInstanceMasks(polygons).crop_and_resize(
                            ops::zeros({2, 3}), ops::from_vector<int64_t>({0, 0}, {2}), 28),
                        "PolygonInstanceMasks", "(P, 4)");
}
