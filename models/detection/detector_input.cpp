#include "models/detection/detector_input.h"

#include "core/error.h"
#include "ops/pointwise.h"

namespace splat::models {

Tensor total_loss(const LossMap& losses) {
  Tensor total;
  for (const auto& [name, value] : losses) {
    if (name.find("loss") == std::string::npos) continue;
    total = total.defined() ? ops::add(total, value) : value;
  }
  SPLAT_CHECK(total.defined(), "total_loss: the map has no loss entry");
  return total;
}

void check_detector_input(const DetectorInput& input, bool training) {
  const Tensor& x = input.images;
  SPLAT_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3 && is_floating(x.dtype()),
              "detector: images must be a floating (B, 3, H, W) tensor, got ",
              x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  const auto batch = static_cast<size_t>(x.size(0));
  SPLAT_CHECK(input.infos.size() == batch, "detector: ", batch, " images but ", input.infos.size(),
              " image infos");
  for (size_t i = 0; i < batch; ++i) {
    const ImageInfo& info = input.infos[i];
    SPLAT_CHECK(info.img_shape.height > 0 && info.img_shape.width > 0 &&
                    info.img_shape.height <= x.size(2) && info.img_shape.width <= x.size(3),
                "detector: image ", i, ": img_shape ", info.img_shape.height, "x", info.img_shape.width,
                " must be positive and fit the batch's ", x.size(2), "x", x.size(3));
    SPLAT_CHECK(info.scale_w > 0 && info.scale_h > 0, "detector: image ", i,
                ": scale factors must be positive");
  }
  if (!training) return;
  SPLAT_CHECK(input.targets.size() == batch, "detector: ", batch, " images but ", input.targets.size(),
              " targets");
  for (size_t i = 0; i < batch; ++i) {
    const GroundTruth& gt = input.targets[i];
    SPLAT_CHECK(gt.boxes.defined() && gt.boxes.dim() == 2 && gt.boxes.size(1) == 4,
                "detector: image ", i, ": gt boxes must be (G, 4)");
    SPLAT_CHECK(gt.labels.defined() && gt.labels.dim() == 1 && gt.labels.size(0) == gt.boxes.size(0) &&
                    gt.labels.dtype() == DType::i64,
                "detector: image ", i, ": gt labels must be i64 (", gt.boxes.size(0), ")");
    SPLAT_CHECK(gt.boxes.dtype() == x.dtype(), "detector: image ", i,
                ": gt boxes must have the images' dtype");
  }
}

} // namespace splat::models
