// The bridge between the data pipeline and the detectors: models/ sits below data/ (design.md
// section 1), so the trainer, `splat infer` and the benchmarks turn a collated data::Batch into
// the models::DetectorInput the detectors read, here and nowhere else.
#pragma once

#include "core/device.h"
#include "data/batch.h"
#include "models/detection/detector_input.h"

namespace splat::train {

// images and (with_targets) each image's boxes, labels and crowd boxes moved to device, and its
// masks, when loaded, as GroundTruth::masks (models::BitmapMasks for bitmaps,
// PolygonInstanceMasks for polygons); the metas become ImageInfos (img_shape, pad_shape,
// ori_shape, scale factors).
models::DetectorInput to_detector_input(const data::Batch& batch, Device device, bool with_targets);

} // namespace splat::train
