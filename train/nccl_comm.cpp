#include "train/nccl_comm.h"

#include "core/cuda/runtime.h"
#include "core/error.h"

#include <cuda_runtime.h>
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

// Completion of one collective: the compute stream waits for its event; the host polls it (and
// the communicator's asynchronous error) only up to the timeout.
class NcclWork : public Work {
public:
  NcclWork(ncclComm_t comm, cudaEvent_t done) : comm_(comm), done_(done) {}
  ~NcclWork() override { cudaEventDestroy(done_); }
  void wait() override {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      const cudaError_t q = cudaEventQuery(done_);
      if (q == cudaSuccess) break;
      SPLAT_CHECK(q == cudaErrorNotReady, "cudaEventQuery failed: ", cudaGetErrorString(q));
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
  cudaEvent_t done_;
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
    SPLAT_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking) == cudaSuccess, "cudaStreamCreate failed");
  }
  ~Nccl() override {
    ncclCommDestroy(comm_);
    cudaStreamDestroy(stream_);
  }

  std::unique_ptr<Work> all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    after_compute();
    SPLAT_NCCL_CHECK(ncclAllReduce(data, data, static_cast<size_t>(count), nccl_type(dtype), nccl_op(op), comm_, stream_));
    return finish();
  }
  void all_gather(const void* send, void* recv, int64_t count, DType dtype) override {
    after_compute();
    SPLAT_NCCL_CHECK(ncclAllGather(send, recv, static_cast<size_t>(count), nccl_type(dtype), comm_, stream_));
    finish()->wait();
  }
  void broadcast(void* data, int64_t count, DType dtype, int root) override {
    after_compute();
    SPLAT_NCCL_CHECK(ncclBroadcast(data, data, static_cast<size_t>(count), nccl_type(dtype), root, comm_, stream_));
    finish()->wait();
  }

private:
  // The NCCL stream starts after everything issued so far on the compute (legacy default) stream.
  void after_compute() {
    cudaEvent_t e;
    SPLAT_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess, "cudaEventCreate failed");
    cudaEventRecord(e, nullptr);
    cudaStreamWaitEvent(stream_, e, 0);
    cudaEventDestroy(e);
  }
  // An event after the collective; the compute stream waits for it without blocking the host.
  std::unique_ptr<Work> finish() {
    cudaEvent_t done;
    SPLAT_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming) == cudaSuccess, "cudaEventCreate failed");
    cudaEventRecord(done, stream_);
    cudaStreamWaitEvent(nullptr, done, 0);
    return std::make_unique<NcclWork>(comm_, done);
  }

  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

} // namespace

std::unique_ptr<NcclComm> make_nccl_comm(int rank, int world_size, int local_rank,
                                         const std::function<void(void*, int)>& bcast_id) {
  return std::make_unique<Nccl>(rank, world_size, local_rank, bcast_id);
}

} // namespace splat::train
