// The emulated build has no NCCL: the MPI communicator stages CUDA tensors through the host.
#include "train/nccl_comm.h"

namespace splat::train {

std::unique_ptr<NcclComm> make_nccl_comm(int, int, int, const std::function<void(void*, int)>&) {
  return nullptr;
}

} // namespace splat::train
