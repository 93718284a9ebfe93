#include "train/detection/detector_batch.h"

#include "core/error.h"
#include "ops/copy.h"
#include "train/detection/polygon_instance_masks.h"

namespace splat::train {

models::DetectorInput to_detector_input(const data::Batch& batch, Device device, bool with_targets) {
  SPLAT_CHECK(batch.metas.size() == static_cast<size_t>(batch.images.size(0)),
              "to_detector_input: ", batch.images.size(0), " images but ", batch.metas.size(),
              " metas");
  models::DetectorInput in;
  in.images = ops::to(batch.images, device);
  for (const data::ImageMeta& m : batch.metas)
    in.infos.push_back({.img_shape = {m.img_h, m.img_w},
                        .pad_shape = {m.pad_h, m.pad_w},
                        .ori_shape = {m.ori_h, m.ori_w},
                        .scale_w = m.scale_w,
                        .scale_h = m.scale_h});
  if (!with_targets) return in;
  SPLAT_CHECK(batch.targets.size() == batch.metas.size(), "to_detector_input: ",
              batch.metas.size(), " images but ", batch.targets.size(), " targets");
  for (const data::Target& t : batch.targets) {
    models::GroundTruth gt{.boxes = ops::to(ops::to(t.boxes, batch.images.dtype()), device),
                           .labels = ops::to(t.labels, device)};
    if (t.ignore_boxes.defined())
      gt.ignore_boxes = ops::to(ops::to(t.ignore_boxes, batch.images.dtype()), device);
    // Bitmaps stay where the loader put them (BitmapMasks moves them to the RoIs' device);
    // polygons stay on the host, where they are rasterised per RoI.
    if (t.masks.defined()) gt.masks = std::make_shared<const models::BitmapMasks>(t.masks);
    if (t.polygons) gt.masks = std::make_shared<const PolygonInstanceMasks>(*t.polygons);
    in.targets.push_back(std::move(gt));
  }
  return in;
}

} // namespace splat::train
