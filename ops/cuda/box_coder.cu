// CUDA box coder (contracts in ops/cpu/box_coder.h): one thread per box of the output (4
// values), grid-stride. Overwrites out; f32 and f64. `classes` boxes of the output share one
// reference box (the deltas of C classes against one RoI; 1 for encode).
#include "ops/cuda/box_coder.h"

#include "ops/box_fns.h"
#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

enum class Direction : uint8_t { encode, decode };

template <class T, Direction kDir>
__global__ void coder_kernel(int64_t boxes, int64_t classes, const T* ref, const T* in,
                             box::CoderParams<T> c, T* out) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < boxes;
       i += step) {
    if constexpr (kDir == Direction::encode)
      box::encode(ref + 4 * (i / classes), in + 4 * i, c, out + 4 * i);
    else
      box::decode(ref + 4 * (i / classes), in + 4 * i, c, out + 4 * i);
  }
}

template <Direction kDir>
void run(const char* name, const Tensor& out, const Tensor& ref, const Tensor& in,
         const DeltaXYWHBBoxCoder& coder, std::optional<SizeHW> max_shape) {
  const int64_t boxes = out.numel() / 4;
  if (boxes == 0) return;
  dispatch<DTypeSet::floating>(out.dtype(), name, [&]<class T>() {
    splat::cuda::DeviceGuard guard(out.device());
    splat::cuda::launch(coder_kernel<T, kDir>, {blocks_for(boxes), kThreads}, boxes,
                        boxes / ref.size(0), ref.data<T>(), in.data<T>(),
                        box::coder_params<T>(coder, max_shape), out.data<T>());
  });
}

} // namespace

void bbox_encode(const Tensor& out, const Tensor& proposals, const Tensor& gt,
                 const DeltaXYWHBBoxCoder& coder) {
  run<Direction::encode>("bbox_encode", out, proposals, gt, coder, std::nullopt);
}

void bbox_decode(const Tensor& out, const Tensor& rois, const Tensor& deltas,
                 const DeltaXYWHBBoxCoder& coder, std::optional<SizeHW> max_shape) {
  run<Direction::decode>("bbox_decode", out, rois, deltas, coder, max_shape);
}

} // namespace splat::ops::cuda
