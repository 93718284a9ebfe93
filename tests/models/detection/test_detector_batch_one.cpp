// Training on one image is refused, as PyTorch refuses it: the split-attention branch pools
// each image to one value per channel before its BN, so with a batch of 1 that BN would
// normalise a single value (variance 0) and train on nothing. The error comes from the BN's
// training check (ops/norm.cpp) and names the shape; inference on one image is fine.
#include "tests/helpers.h"
#include "tests/models/detection/narrow_faster_rcnn.h"
#include "tests/models/detection/tiny_detector_input.h"

using namespace splat;

TEST_CASE("detector: training on a batch of one image is an error naming the BN input, not NaN") {
  auto model = test::narrow_faster_rcnn();
  model->train();
  const models::DetectorInput one = test::first_image_only(test::tiny_detector_input());
  // The first BN in training mode that sees one value per channel: the attention BN of the
  // first trained split-attention block (32 channels, the minimum inter_channels), (1, 32, 1, 1).
  CHECK_THROWS_WITH_ALL(model->forward_train(one),
                        "batch_norm: expected more than 1 value per channel when training",
                        "got x of shape [1, 32, 1, 1] (1 per channel)", "use a batch of 2 or more, or eval mode");
  // Two images train; one image predicts.
  CHECK(model->forward_train(test::tiny_detector_input()).size() == 5);
  model->eval();
  const auto dets = model->predict(one);
  REQUIRE(dets.size() == 1);
  CHECK(dets[0].boxes.dim() == 2);
}
