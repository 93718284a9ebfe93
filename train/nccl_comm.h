// NCCL for the CUDA tensors of the MPI communicator in the real build (design.md section 6,
// spec anchors section 4): rank 0 creates the ncclUniqueId, MPI broadcasts it, every rank joins
// on the GPU of its local rank. Collectives run on a dedicated stream ordered after the compute
// stream by an event (no host synchronisation); wait() makes the compute stream wait for them.
// Errors are checked asynchronously: a wait polls ncclCommGetAsyncError and gives up after
// SPLAT_NCCL_TIMEOUT_S seconds (default 600), aborting the communicator and the job with an
// error instead of hanging. The emulated build has no NCCL: make_nccl_comm returns null there
// and CUDA tensors are staged through MPI.
#pragma once

#include "core/dtype.h"
#include "train/distributed.h"

#include <functional>
#include <memory>

namespace splat::train {

class NcclComm {
public:
  virtual ~NcclComm() = default;
  virtual std::unique_ptr<Work> all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) = 0;
  virtual void all_gather(const void* send, void* recv, int64_t count, DType dtype) = 0;
  virtual void broadcast(void* data, int64_t count, DType dtype, int root) = 0;
};

// bcast_id(bytes, n) broadcasts n bytes from rank 0 (MPI). Null in the emulated build.
std::unique_ptr<NcclComm> make_nccl_comm(int rank, int world_size, int local_rank,
                                         const std::function<void(void*, int)>& bcast_id);

} // namespace splat::train
