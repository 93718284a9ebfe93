#include "ops/class_select.h"

#include "core/cuda/host_sync.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace splat::ops {
namespace {

// Labels must be i64, one per row, each naming an existing class (checked on the host so the
// error names the row; labels are small).
void check_labels(const char* op, const Tensor& labels, int64_t rows, int64_t classes) {
  SPLAT_CHECK(labels.dtype() == DType::i64 && labels.dim() == 1 && labels.size(0) == rows, op,
              ": labels must be i64 of shape [", rows, "], got ", dtype_name(labels.dtype()), " ",
              shape_str(labels.shape()));
  if (rows == 0) return;
  splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::bounds_check);
  const Tensor host = to(labels, Device::cpu());
  const int64_t lo = amin(host).item<int64_t>(), hi = amax(host).item<int64_t>();
  SPLAT_CHECK(lo >= 0 && hi < classes, op, ": labels must lie in [0, ", classes, "), got values in [", lo,
              ", ", hi, "]");
}

} // namespace

Tensor select_class_deltas(const Tensor& deltas, const Tensor& labels) {
  SPLAT_CHECK(deltas.dim() == 2 && deltas.size(1) % 4 == 0 && deltas.size(1) > 0,
              "select_class_deltas: deltas must be (N, 4 * C), got ", shape_str(deltas.shape()));
  const int64_t n = deltas.size(0);
  check_labels("select_class_deltas", labels, n, deltas.size(1) / 4);
  // Column 4 * label + k for k = 0..3.
  const Tensor base = mul(unsqueeze(labels, 1), 4.0);
  const Tensor cols = add(base, unsqueeze(arange(4, {.dtype = DType::i64, .device = labels.device()}), 0));
  return gather(deltas, 1, cols);
}

Tensor select_class_masks(const Tensor& logits, const Tensor& labels) {
  SPLAT_CHECK(logits.dim() == 4 && logits.size(1) > 0, "select_class_masks: logits must be (N, C, H, W), got ",
              shape_str(logits.shape()));
  const int64_t n = logits.size(0), h = logits.size(2), w = logits.size(3);
  check_labels("select_class_masks", labels, n, logits.size(1));
  const Tensor index = expand(view(labels, {n, 1, 1, 1}), {n, 1, h, w});
  return view(gather(logits, 1, contiguous(index)), {n, h, w});
}

} // namespace splat::ops
