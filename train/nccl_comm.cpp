#include "train/nccl_comm.h"

#include "core/cuda/runtime.h"
#include "core/error.h"

#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace splat::train {
namespace {

#define SPLAT_NCCL_CHECK(call)                                                                     \
  do {                                                                                             \
    const ncclResult_t r_ = (call);                                                                \
    SPLAT_CHECK(r_ == ncclSuccess || r_ == ncclInProgress, #call " failed at ", __FILE__, ":",     \
                __LINE__, ": ", ncclGetErrorString(r_));                                           \
  } while (0)

ncclDataType_t nccl_type(DType d) {
  switch (d) {
  case DType::f32: return ncclFloat32;
  case DType::f64: return ncclFloat64;
  case DType::i64: return ncclInt64;
  case DType::i32: return ncclInt32;
  case DType::u8:
  case DType::b8: return ncclUint8;  // bool max = logical or on 0/1 bytes
  }
  throw Error("nccl: unsupported dtype");
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
  case ReduceOp::sum: return ncclSum;
  case ReduceOp::avg: return ncclAvg;
  case ReduceOp::max: return ncclMax;
  }
  throw Error("nccl: unsupported reduction");
}

double timeout_seconds() {
  const char* s = std::getenv("SPLAT_NCCL_TIMEOUT_S");
  return s ? std::atof(s) : 600.0;
}

class Nccl;

// NCCL takes the runtime's stream handle.
cudaStream_t raw(cuda::Stream s) { return static_cast<cudaStream_t>(s.handle); }

// Completion of one collective: the compute stream waits for its event; the host polls it (and
// the communicator's asynchronous error) only up to the timeout.
class NcclWork : public Work {
public:
  NcclWork(ncclComm_t comm, cuda::Event done) : comm_(comm), done_(done) {}
  ~NcclWork() override { cuda::destroy_event(done_); }
  void wait() override {
    const auto start = std::chrono::steady_clock::now();
    while (!cuda::query_event(done_)) {
      ncclResult_t async = ncclSuccess;
      SPLAT_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
      if (async != ncclSuccess && async != ncclInProgress) {
        ncclCommAbort(comm_);
        abort_job(std::string("NCCL asynchronous error: ") + ncclGetErrorString(async));
      }
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > timeout_seconds()) {
        ncclCommAbort(comm_);
        abort_job("NCCL collective did not complete within SPLAT_NCCL_TIMEOUT_S seconds (a rank died or diverged?)");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

private:
  ncclComm_t comm_;
  cuda::Event done_;
};

class Nccl : public NcclComm {
public:
  Nccl(int rank, int world, int local_rank, const std::function<void(void*, int)>& bcast_id) {
    const int devices = cuda::device_count();
    SPLAT_CHECK(local_rank < devices, "rank ", rank, " has local rank ", local_rank, " but this node has ",
                devices, " GPUs: launch one process per GPU");
    cuda::set_device(local_rank);
    ncclUniqueId id{};
    if (rank == 0) SPLAT_NCCL_CHECK(ncclGetUniqueId(&id));
    bcast_id(&id, sizeof(id));
    SPLAT_NCCL_CHECK(ncclCommInitRank(&comm_, world, id, rank));
    stream_ = cuda::create_stream();
  }
  ~Nccl() override {
    ncclCommDestroy(comm_);
    cuda::destroy_stream(stream_);
  }

  std::unique_ptr<Work> all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    after_compute();
    SPLAT_NCCL_CHECK(ncclAllReduce(data, data, static_cast<size_t>(count), nccl_type(dtype), nccl_op(op), comm_, raw(stream_)));
    return finish();
  }
  void all_gather(const void* send, void* recv, int64_t count, DType dtype) override {
    after_compute();
    SPLAT_NCCL_CHECK(ncclAllGather(send, recv, static_cast<size_t>(count), nccl_type(dtype), comm_, raw(stream_)));
    finish()->wait();
  }
  void broadcast(void* data, int64_t count, DType dtype, int root) override {
    after_compute();
    SPLAT_NCCL_CHECK(ncclBroadcast(data, data, static_cast<size_t>(count), nccl_type(dtype), root, comm_, raw(stream_)));
    finish()->wait();
  }

private:
  // The NCCL stream starts after everything issued so far on the compute (default) stream.
  void after_compute() {
    const cuda::Event e = cuda::create_event();
    cuda::record_event(e, {});
    cuda::stream_wait_event(stream_, e);
    cuda::destroy_event(e);
  }
  // An event after the collective; the compute stream waits for it without blocking the host.
  std::unique_ptr<Work> finish() {
    const cuda::Event done = cuda::create_event();
    cuda::record_event(done, stream_);
    cuda::stream_wait_event({}, done);
    return std::make_unique<NcclWork>(comm_, done);
  }

  ncclComm_t comm_ = nullptr;
  cuda::Stream stream_;
};

} // namespace

std::unique_ptr<NcclComm> make_nccl_comm(int rank, int world_size, int local_rank,
                                         const std::function<void(void*, int)>& bcast_id) {
  return std::make_unique<Nccl>(rank, world_size, local_rank, bcast_id);
}

} // namespace splat::train
