#include "train/mpi_communicator.h"

#include "autograd/grad_mode.h"
#include "core/cuda/runtime.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "train/nccl_comm.h"

#include <mpi.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace splat::train {
namespace {

#define SPLAT_MPI_CHECK(call)                                                                      \
  do {                                                                                             \
    const int rc_ = (call);                                                                        \
    if (rc_ != MPI_SUCCESS) [[unlikely]] {                                                         \
      char msg_[MPI_MAX_ERROR_STRING];                                                             \
      int len_ = 0;                                                                                \
      MPI_Error_string(rc_, msg_, &len_);                                                          \
      throw Error(str(#call, " failed at ", __FILE__, ":", __LINE__, ": ", std::string(msg_, len_))); \
    }                                                                                              \
  } while (0)

MPI_Datatype mpi_type(DType d) {
  switch (d) {
  case DType::f32: return MPI_FLOAT;
  case DType::f64: return MPI_DOUBLE;
  case DType::i64: return MPI_INT64_T;
  case DType::i32: return MPI_INT32_T;
  case DType::u8: return MPI_UINT8_T;
  case DType::b8: return MPI_C_BOOL;
  }
  throw Error("mpi: unsupported dtype");
}

MPI_Op mpi_op(ReduceOp op, DType d) {
  if (d == DType::b8) return MPI_LOR;  // max of bools; sum is refused by check_collective
  return op == ReduceOp::max ? MPI_MAX : MPI_SUM;  // avg = sum, then divided
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

// Host memory holding a tensor's bytes for MPI when the tensor lives on a CUDA device.
struct Staging {
  Tensor t;
  std::vector<uint8_t> host;
  void* buffer() { return t.device().is_cpu() ? t.raw_data() : host.data(); }
  explicit Staging(const Tensor& tensor) : t(tensor) {
    if (t.device().is_cpu()) return;
    host.resize(t.numel() * itemsize(t.dtype()));
    cuda::memcpy(host.data(), t.raw_data(), host.size(), cuda::CopyKind::device_to_host);
  }
  void write_back() {
    if (!t.device().is_cpu()) cuda::memcpy(t.raw_data(), host.data(), host.size(), cuda::CopyKind::host_to_device);
  }
};

void finish_avg(Tensor& t, ReduceOp op, int world) {
  if (op != ReduceOp::avg) return;
  autograd::NoGradGuard g;
  ops::div_(t, static_cast<double>(world));
}

class MpiWork : public Work {
public:
  MpiWork(Tensor t, ReduceOp op, int world) : staging_(t), op_(op), world_(world) {
    SPLAT_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, staging_.buffer(), static_cast<int>(t.numel()),
                                   mpi_type(t.dtype()), mpi_op(op, t.dtype()), MPI_COMM_WORLD, &request_));
  }
  ~MpiWork() override {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  void wait() override {
    if (request_ == MPI_REQUEST_NULL) return;
    SPLAT_MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE));
    staging_.write_back();
    finish_avg(staging_.t, op_, world_);
  }

private:
  Staging staging_;
  ReduceOp op_;
  int world_;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

class MpiCommunicator : public Communicator {
public:
  MpiCommunicator(int rank, int world, int local_rank)
      : Communicator(rank, world, local_rank), check_calls_(env_int("SPLAT_CHECK_COLLECTIVES", 0) != 0) {
    if (cuda::is_real_build() && cuda::device_count() > 0)
      nccl_ = make_nccl_comm(rank, world, local_rank, [](void* id, int n) {
        SPLAT_MPI_CHECK(MPI_Bcast(id, n, MPI_BYTE, 0, MPI_COMM_WORLD));
      });
  }
  std::string_view backend() const override { return nccl_ ? "mpi+nccl" : "mpi"; }

  std::unique_ptr<Work> all_reduce_async(Tensor& t, ReduceOp op) override {
    check("all_reduce", t, op);
    if (uses_nccl(t)) return nccl_->all_reduce(t.raw_data(), t.numel(), t.dtype(), op);
    check_count(t);
    return std::make_unique<MpiWork>(t, op, world_size());
  }

  Tensor all_gather(const Tensor& t) override {
    check("all_gather", t);
    Shape shape{world_size()};
    shape.insert(shape.end(), t.shape().begin(), t.shape().end());
    Tensor out = Tensor::empty(shape, t.dtype(), t.device());
    if (uses_nccl(t)) {
      nccl_->all_gather(t.raw_data(), out.raw_data(), t.numel(), t.dtype());
      return out;
    }
    check_count(t);
    Staging in(t), gathered(out);
    SPLAT_MPI_CHECK(MPI_Allgather(in.buffer(), static_cast<int>(t.numel()), mpi_type(t.dtype()), gathered.buffer(),
                                  static_cast<int>(t.numel()), mpi_type(t.dtype()), MPI_COMM_WORLD));
    gathered.write_back();
    return out;
  }

  void broadcast(Tensor& t, int root) override {
    check("broadcast", t);
    SPLAT_CHECK(root >= 0 && root < world_size(), "broadcast: root ", root, " outside a world of ",
                world_size(), " processes");
    if (uses_nccl(t)) return nccl_->broadcast(t.raw_data(), t.numel(), t.dtype(), root);
    check_count(t);
    Staging s(t);
    SPLAT_MPI_CHECK(MPI_Bcast(s.buffer(), static_cast<int>(t.numel()), mpi_type(t.dtype()), root, MPI_COMM_WORLD));
    s.write_back();
  }

  void barrier() override { SPLAT_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

private:
  bool uses_nccl(const Tensor& t) const { return nccl_ && t.device().is_cuda(); }
  static void check_count(const Tensor& t) {
    SPLAT_CHECK(t.numel() <= INT32_MAX, "mpi: ", t.numel(), " elements exceed MPI's int count; split the tensor");
  }
  // The argument checks, and with SPLAT_CHECK_COLLECTIVES=1 a cross-rank check that every rank
  // is in the same call (sequence number, op, element count, dtype): a mismatch becomes an error
  // naming both sides instead of a hang or garbage.
  void check(const char* op, const Tensor& t, std::optional<ReduceOp> reduce = {}) {
    check_collective(op, t, reduce);
    if (!check_calls_) return;
    const int64_t mine[4] = {sequence_++, static_cast<int64_t>(std::strlen(op)) * 16 + (reduce ? int(*reduce) : 7),
                             t.numel(), static_cast<int64_t>(t.dtype())};
    std::vector<int64_t> all(4 * world_size());
    SPLAT_MPI_CHECK(MPI_Allgather(mine, 4, MPI_INT64_T, all.data(), 4, MPI_INT64_T, MPI_COMM_WORLD));
    for (int r = 0; r < world_size(); ++r)
      SPLAT_CHECK(std::equal(mine, mine + 4, all.begin() + 4 * r), op, " (call ", mine[0], ", ", t.numel(),
                  " elements of ", dtype_name(t.dtype()), ") on rank ", rank(), " meets call ", all[4 * r],
                  " with ", all[4 * r + 2], " elements of ", dtype_name(static_cast<DType>(all[4 * r + 3])),
                  " on rank ", r);
  }

  bool check_calls_;
  int64_t sequence_ = 0;
  std::unique_ptr<NcclComm> nccl_;
};

} // namespace

std::shared_ptr<Communicator> make_mpi_communicator() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    SPLAT_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    std::atexit([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized) MPI_Finalize();
    });
  }
  // Errors come back as codes (checked with the call and line) instead of killing the process.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, world = 1;
  SPLAT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  SPLAT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world));
  // The launcher knows the local rank; otherwise split the world by shared-memory node.
  int local = env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("SLURM_LOCALID", -1));
  if (local < 0) {
    MPI_Comm node;
    SPLAT_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
    SPLAT_MPI_CHECK(MPI_Comm_rank(node, &local));
    MPI_Comm_free(&node);
  }
  return std::make_shared<MpiCommunicator>(rank, world, local);
}

void mpi_abort(int code) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

} // namespace splat::train
