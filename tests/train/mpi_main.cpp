// The doctest entry point of suites that run under `mpirun -np 2`: every rank runs every case
// (collectives need all ranks); only rank 0 prints its report, the others report failures only.
// mpirun's exit status is non-zero when any rank fails.
#define DOCTEST_CONFIG_IMPLEMENT
#include "train/distributed.h"

#include <doctest/doctest.h>

int main(int argc, char** argv) {
  const auto comm = splat::train::make_communicator();
  doctest::Context context(argc, argv);
  if (comm->rank() != 0) context.setOption("minimal", true);
  return context.run();
}
