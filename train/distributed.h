// The processes of a data-parallel job (design.md section 6): one process per device, launched
// by `mpirun -np N splat ...`. make_communicator() reads the world from the MPI environment:
// under mpirun (and with MPI built in) it is the MPI communicator, which in the real CUDA build
// hands CUDA tensors to NCCL (bootstrapped through MPI: rank 0 creates the ncclUniqueId and
// broadcasts it; each rank uses the GPU of its local rank); otherwise a single-process
// communicator whose collectives are identities.
#pragma once

#include "core/communicator.h"

#include <memory>
#include <string>

namespace splat::train {

std::shared_ptr<Communicator> make_single_process_communicator();
// The process's communicator (created once; later calls return the same one).
std::shared_ptr<Communicator> make_communicator();

// For a fatal error: prints "splat: error (rank R of W): message" to stderr and ends the whole
// job (MPI_Abort under MPI, so no other rank waits forever in a collective), else exit(1).
[[noreturn]] void abort_job(const std::string& message);

} // namespace splat::train
