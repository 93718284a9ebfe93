#include "core/communicator.h"

#include "core/error.h"

namespace splat {

std::string_view reduce_op_name(ReduceOp op) {
  switch (op) {
  case ReduceOp::sum: return "sum";
  case ReduceOp::avg: return "avg";
  case ReduceOp::max: return "max";
  }
  return "?";
}

void Communicator::check_collective(const char* op, const Tensor& t, std::optional<ReduceOp> reduce) const {
  SPLAT_CHECK(t.defined(), op, ": undefined tensor");
  SPLAT_CHECK(t.is_contiguous(), op, ": the tensor must be contiguous (shape ", shape_str(t.shape()),
              ", strides ", shape_str(t.strides()), ")");
  SPLAT_CHECK(reduce != ReduceOp::avg || is_floating(t.dtype()), op, ": avg needs a floating tensor, not ",
              dtype_name(t.dtype()));
  SPLAT_CHECK(reduce != ReduceOp::sum || t.dtype() != DType::b8, op,
              ": sum of a bool tensor (use max for a logical or)");
}

} // namespace splat
