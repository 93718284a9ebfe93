// Collectives over 2 MPI ranks (run by `mpirun -np 2`, tests/meson.build): every op and dtype on
// the cpu and the emulated CUDA device, a non-zero broadcast root, asynchronous all-reduces
// completed out of order, and the argument errors every rank raises alike.
#include "core/cuda/runtime.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "train/distributed.h"

using namespace splat;
using namespace splat::train;
using splat::test::check_equal;
using splat::test::to_vector;

namespace {

Communicator& comm() { return *make_communicator(); }

std::vector<Device> devices() {
  std::vector<Device> d{Device::cpu()};
  if (!splat::test::no_cuda_device()) d.push_back(Device::cuda(0));
  return d;
}

// Rank r holds [r + 1, 2 (r + 1), 3 (r + 1)] as `dtype`.
Tensor rank_values(DType dtype, Device device) {
  const double r = comm().rank() + 1;
  return ops::to(ops::to(ops::from_vector<double>({r, 2 * r, 3 * r}, {3}), dtype), device);
}

} // namespace

TEST_CASE("the job has two ranks on one node") {
  REQUIRE(comm().world_size() == 2);
  CHECK(comm().backend() == "mpi");
  CHECK(comm().local_rank() == comm().rank());
}

TEST_CASE("all_reduce sums, averages and takes maxima of every dtype on every device") {
  for (Device device : devices()) {
    CAPTURE(device);
    for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8}) {
      CAPTURE(dtype);
      Tensor s = rank_values(dtype, device);
      comm().all_reduce(s, ReduceOp::sum);  // (1 + 2) * [1, 2, 3]
      CHECK(s.device() == device);
      CHECK(to_vector<double>(s) == std::vector<double>{3, 6, 9});
      Tensor m = rank_values(dtype, device);
      comm().all_reduce(m, ReduceOp::max);
      CHECK(to_vector<double>(m) == std::vector<double>{2, 4, 6});
      if (is_floating(dtype)) {
        Tensor a = rank_values(dtype, device);
        comm().all_reduce(a, ReduceOp::avg);
        CHECK(to_vector<double>(a) == std::vector<double>{1.5, 3, 4.5});
      }
    }
    Tensor b = ops::to(ops::from_vector<bool>({comm().rank() == 0, false, true}, {3}), device);
    comm().all_reduce(b, ReduceOp::max);  // logical or
    CHECK(to_vector<int>(b) == std::vector<int>{1, 0, 1});
  }
}

TEST_CASE("all_gather stacks every rank's tensor in rank order; broadcast from rank 1") {
  for (Device device : devices()) {
    CAPTURE(device);
    const Tensor g = comm().all_gather(ops::to(rank_values(DType::f32, device), device));
    CHECK(g.shape() == Shape{2, 3});
    CHECK(g.device() == device);
    CHECK(to_vector<float>(g) == std::vector<float>{1, 2, 3, 2, 4, 6});
    Tensor b = rank_values(DType::i64, device);
    comm().broadcast(b, 1);
    CHECK(to_vector<int64_t>(b) == std::vector<int64_t>{2, 4, 6});
    comm().barrier();
  }
}

TEST_CASE("asynchronous all-reduces complete in any order") {
  Tensor a = rank_values(DType::f32, Device::cpu()), b = ops::full({1000}, comm().rank() + 1.0);
  auto wa = comm().all_reduce_async(a, ReduceOp::sum);
  auto wb = comm().all_reduce_async(b, ReduceOp::avg);
  wb->wait();
  wa->wait();
  CHECK(to_vector<float>(a) == std::vector<float>{3, 6, 9});
  check_equal(b, ops::full({1000}, 1.5));
}

TEST_CASE("bad arguments are errors on every rank, before any communication") {
  Tensor i = rank_values(DType::i64, Device::cpu());
  CHECK_THROWS_WITH_AS(comm().all_reduce(i, ReduceOp::avg), "all_reduce: avg needs a floating tensor, not i64", Error);
  Tensor b = ops::zeros({2}, {.dtype = DType::b8});
  CHECK_THROWS_WITH_AS(comm().all_reduce(b, ReduceOp::sum),
                       "all_reduce: sum of a bool tensor (use max for a logical or)", Error);
  Tensor strided = ops::transpose(ops::zeros({2, 3}), 0, 1);
  CHECK_THROWS_WITH_AS(comm().all_reduce(strided, ReduceOp::sum), doctest::Contains("must be contiguous"), Error);
  Tensor f = ops::zeros({1});
  CHECK_THROWS_WITH_AS(comm().broadcast(f, 2), "broadcast: root 2 outside a world of 2 processes", Error);
  comm().barrier();  // both ranks got here: no collective was left half-issued
}
