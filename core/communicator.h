// The interface of collective communication between the processes of a data-parallel job
// (design.md section 6). It lives in core so that every layer can take one: nn's SyncBatchNorm
// reduces statistics through it, train's data-parallel reducer gradients. The implementations
// (single process, MPI, NCCL) and the factory that picks one are in train/distributed.h.
//
// Conventions: every rank calls every collective in the same order with tensors of the same
// shape and dtype (the MPI communicator checks this per call with SPLAT_CHECK_COLLECTIVES=1).
// Tensors are contiguous and on the cpu or a cuda device; the result stays where the input was.
// avg is for floating dtypes; max on bool is a logical or.
#pragma once

#include "core/tensor.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace splat {

enum class ReduceOp { sum, avg, max };
std::string_view reduce_op_name(ReduceOp op);

// An asynchronous collective in flight; wait() completes it (results are visible after).
class Work {
public:
  virtual ~Work() = default;
  virtual void wait() = 0;
};

class Communicator {
public:
  virtual ~Communicator() = default;
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  virtual std::string_view backend() const = 0;

  // In place.
  void all_reduce(Tensor& t, ReduceOp op) { all_reduce_async(t, op)->wait(); }
  virtual std::unique_ptr<Work> all_reduce_async(Tensor& t, ReduceOp op) = 0;
  // (world_size, *t.shape): row r is rank r's t.
  virtual Tensor all_gather(const Tensor& t) = 0;
  // In place: every rank's t becomes root's.
  virtual void broadcast(Tensor& t, int root) = 0;
  virtual void barrier() = 0;

protected:
  Communicator(int rank, int world_size, int local_rank)
      : rank_(rank), world_size_(world_size), local_rank_(local_rank) {}
  // The checks every implementation applies to a collective's arguments.
  // reduce: the reduction of an all_reduce.
  void check_collective(const char* op, const Tensor& t, std::optional<ReduceOp> reduce = {}) const;

private:
  int rank_, world_size_, local_rank_;
};

} // namespace splat
