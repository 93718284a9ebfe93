// A job whose rank 1 fails while rank 0 waits in a collective: run by
// tests/train/check_rank_failure.sh under `mpirun -np 2`, which expects the whole job to end
// quickly with a non-zero status and rank 1's error.
#include "core/error.h"
#include "ops/copy.h"
#include "train/distributed.h"

#include <exception>

int main() {
  const auto comm = splat::train::make_communicator();
  try {
    if (comm->rank() == 1) throw splat::Error("deliberate failure for the test");
    splat::Tensor t = splat::ops::zeros({4});
    comm->all_reduce(t, splat::ReduceOp::sum);  // never completes: rank 1 is gone
    comm->barrier();
  } catch (const std::exception& e) {
    splat::train::abort_job(e.what());
  }
  return 0;
}
