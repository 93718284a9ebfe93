// The MPI communicator (OpenMPI from Debian): CPU tensors directly, CUDA tensors of the emulated
// device (and of a real GPU when NCCL is not used) staged through host memory; in the real CUDA
// build CUDA tensors go to NCCL, bootstrapped through MPI. Built without MPI (meson
// -Dmpi=disabled), make_mpi_communicator returns null.
#pragma once

#include "train/distributed.h"

namespace splat::train {

std::shared_ptr<Communicator> make_mpi_communicator();
// MPI_Abort(MPI_COMM_WORLD, code) when MPI is initialised, else exit(code).
[[noreturn]] void mpi_abort(int code);

} // namespace splat::train
