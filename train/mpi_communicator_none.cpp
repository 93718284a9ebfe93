// splat built without MPI (meson -Dmpi=disabled): single-process only.
#include "train/mpi_communicator.h"

#include <cstdlib>

namespace splat::train {

std::shared_ptr<Communicator> make_mpi_communicator() { return nullptr; }

void mpi_abort(int code) { std::exit(code); }

} // namespace splat::train
