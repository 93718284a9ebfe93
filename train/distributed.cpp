#include "train/distributed.h"

#include "ops/copy.h"
#include "ops/join.h"
#include "ops/view.h"
#include "train/mpi_communicator.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace splat::train {
namespace {

class DoneWork : public Work {
public:
  void wait() override {}
};

// World size 1: every collective is the identity (avg of one value is the value).
class SingleProcessCommunicator : public Communicator {
public:
  SingleProcessCommunicator() : Communicator(0, 1, 0) {}
  std::string_view backend() const override { return "single-process"; }
  std::unique_ptr<Work> all_reduce_async(Tensor& t, ReduceOp op) override {
    check_collective("all_reduce", t, op);
    return std::make_unique<DoneWork>();
  }
  Tensor all_gather(const Tensor& t) override {
    check_collective("all_gather", t);
    return ops::unsqueeze(ops::clone(t), 0);
  }
  void broadcast(Tensor& t, int root) override {
    check_collective("broadcast", t);
    SPLAT_CHECK(root == 0, "broadcast: root ", root, " outside a world of 1 process");
  }
  void barrier() override {}
};

// Set by mpirun (Open MPI), and by the PMI/PMIx launchers (srun, MPICH's hydra).
bool under_mpi_launcher() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}

std::shared_ptr<Communicator>& process_communicator() {
  static std::shared_ptr<Communicator> c;
  return c;
}

} // namespace

std::shared_ptr<Communicator> make_single_process_communicator() {
  return std::make_shared<SingleProcessCommunicator>();
}

std::shared_ptr<Communicator> make_communicator() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& c = process_communicator();
    if (under_mpi_launcher()) {
      c = make_mpi_communicator();
      // N copies of a single-process run would silently train N independent models.
      SPLAT_CHECK(c != nullptr, "this splat was built without MPI (meson -Dmpi=disabled) but runs under "
                  "an MPI launcher; rebuild with -Dmpi=enabled");
    } else {
      c = make_single_process_communicator();
    }
  });
  return process_communicator();
}

void abort_job(const std::string& message) {
  const auto& c = process_communicator();
  if (c && c->world_size() > 1) {
    std::fprintf(stderr, "splat: error (rank %d of %d): %s\n", c->rank(), c->world_size(), message.c_str());
    std::fflush(stderr);
    mpi_abort(1);
  }
  std::fprintf(stderr, "splat: error: %s\n", message.c_str());
  std::fflush(stderr);
  std::exit(1);
}

} // namespace splat::train
