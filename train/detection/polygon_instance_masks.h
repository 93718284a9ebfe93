// The mask head's view (models::InstanceMasks) of polygon masks (data::PolygonMasks, mmdet's
// poly2mask=False): lives in train/, the one layer that sees both data/ and models/.
#pragma once

#include "data/polygon_masks.h"
#include "models/detection/instance_masks.h"

namespace splat::train {

class PolygonInstanceMasks final : public models::InstanceMasks {
public:
  explicit PolygonInstanceMasks(data::PolygonMasks masks);
  int64_t size() const override;
  // data::crop_and_resize on the host (the RoIs are copied there as f32, as mmdet's numpy
  // proposals), the targets then moved to boxes' dtype and device.
  Tensor crop_and_resize(const Tensor& boxes, const Tensor& assigned,
                         int64_t out_size) const override;

private:
  data::PolygonMasks masks_;
};

} // namespace splat::train
