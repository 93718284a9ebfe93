// Batch collation (data/batch.h).
#include "data/batch.h"

#include "core/error.h"
#include "data/tensor_util.h"

#include <algorithm>
#include <cstring>

namespace splat::data {

Batch collate(std::vector<Sample> samples, int64_t size_divisor) {
  SPLAT_CHECK(!samples.empty(), "collate: empty batch");
  int64_t hp = 0, wp = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Tensor& img = samples[i].image;
    check_cpu_tensor("collate", str("samples[", i, "].image"), img, DType::f32, 3);
    SPLAT_CHECK(img.size(0) == 3, "collate: samples[", i,
                "].image must be a normalised (3, H, W) f32 tensor, got ", shape_str(img.shape()));
    hp = std::max(hp, img.size(1));
    wp = std::max(wp, img.size(2));
  }
  hp = round_up(hp, size_divisor);
  wp = round_up(wp, size_divisor);
  const auto b = static_cast<int64_t>(samples.size());
  Batch batch;
  batch.images = Tensor::empty({b, 3, hp, wp}, DType::f32);
  const int64_t slot = 3 * hp * wp;
  for (int64_t i = 0; i < b; ++i) {
    Sample& s = samples[static_cast<size_t>(i)];
    const Tensor padded = pad_to(s.image, hp, wp);
    std::memcpy(batch.images.data<float>() + i * slot, padded.data<float>(),
                static_cast<size_t>(slot) * sizeof(float));
    batch.metas.push_back(std::move(s.meta));
    batch.targets.push_back(std::move(s.target));
  }
  return batch;
}

} // namespace splat::data
