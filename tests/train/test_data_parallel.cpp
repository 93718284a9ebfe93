// SyncBatchNorm and the data-parallel reducer over 2 MPI ranks (run by `mpirun -np 2`): each
// rank takes its slice of one global batch that every rank can rebuild from a seed, and the
// oracle is the same computation on the whole batch in one process.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/philox.h"
#include "models/resnest.h"
#include "nn/norm.h"
#include "nn/simple_layers.h"
#include "ops/copy.h"
#include "ops/loss.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "train/distributed.h"
#include "train/reducer.h"
#include "train/optim/sgd.h"

using namespace splat;
using namespace splat::train;
using splat::test::check_close;

namespace {

std::shared_ptr<Communicator> comm() { return make_communicator(); }

std::vector<Device> devices() {
  std::vector<Device> d{Device::cpu()};
  if (!splat::test::no_cuda_device()) d.push_back(Device::cuda(0));
  return d;
}

// The same tensor on every rank.
Tensor shared_randn(Shape shape, uint64_t seed) {
  Generator g(seed);
  return ops::randn(std::move(shape), {}, &g);
}

// Rank r's rows [sizes[0] + ... + sizes[r-1], ... + sizes[r]) of x.
Tensor my_rows(const Tensor& x, const std::vector<int64_t>& sizes) {
  int64_t start = 0;
  for (int r = 0; r < comm()->rank(); ++r) start += sizes[r];
  return ops::narrow(x, 0, start, sizes[comm()->rank()]);
}

void check_sync_bn(const std::vector<int64_t>& sizes, Device device) {
  const int64_t total = sizes[0] + sizes[1];
  const Tensor x_all = shared_randn({total, 3, 4, 5}, 7), gy_all = shared_randn({total, 3, 4, 5}, 8);
  nn::BatchNorm2d whole(3), synced(3, 1e-5, 0.1, true, comm());
  {
    autograd::NoGradGuard g;
    ops::copy_(whole.weight, ops::from_vector<float>({0.5f, 1.5f, -1.0f}, {3}));
    ops::copy_(synced.weight, whole.weight);
  }
  whole.to(device);
  synced.to(device);

  Tensor x_whole = ops::to(x_all, device), x_mine = ops::contiguous(ops::to(my_rows(x_all, sizes), device));
  x_whole.requires_grad_();
  x_mine.requires_grad_();
  const Tensor y_whole = whole.forward(x_whole), y_mine = synced.forward(x_mine);
  check_close(y_mine, my_rows(y_whole, sizes), 1e-5, 1e-5);
  autograd::backward({y_whole}, {ops::to(gy_all, device)});
  autograd::backward({y_mine}, {ops::to(my_rows(gy_all, sizes), device)});
  check_close(x_mine.grad(), my_rows(x_whole.grad(), sizes), 1e-4, 1e-5);
  // Weight and bias gradients are per-rank sums (the reducer averages them later).
  Tensor gw = ops::contiguous(synced.weight.grad()), gb = ops::contiguous(synced.bias.grad());
  comm()->all_reduce(gw, ReduceOp::sum);
  comm()->all_reduce(gb, ReduceOp::sum);
  check_close(gw, whole.weight.grad(), 1e-4, 1e-5);
  check_close(gb, whole.bias.grad(), 1e-4, 1e-5);
  check_close(synced.running_mean, whole.running_mean, 1e-5, 1e-6);
  check_close(synced.running_var, whole.running_var, 1e-5, 1e-6);
}

// A tiny ResNeSt whose every BN is given the communicator (or none).
std::shared_ptr<models::ResNeSt> tiny_resnest(std::shared_ptr<Communicator> c) {
  models::ResNeStConfig cfg;
  cfg.blocks = {1, 1, 1, 1};
  cfg.planes = {4, 8, 8, 8};
  cfg.stem_width = 4;
  cfg.num_classes = 3;
  manual_seed(11);  // identical initial weights on every rank and in the oracle
  auto m = std::make_shared<models::ResNeSt>(cfg);
  // float64: BNs over a few values per channel amplify rounding; the comparison is of algorithms.
  m->to(DType::f64);
  if (c) nn::convert_sync_batchnorm(*m, c);
  return m;
}

} // namespace

TEST_CASE("SyncBatchNorm over ranks with 3 and 5 samples equals BatchNorm over all 8") {
  for (Device device : devices()) {
    CAPTURE(device);
    check_sync_bn({3, 5}, device);
  }
}

TEST_CASE("SyncBatchNorm with a rank holding no samples") {
  for (Device device : devices()) {
    CAPTURE(device);
    check_sync_bn({0, 6}, device);
  }
}

TEST_CASE("3 SGD steps of a tiny SyncBN ResNeSt on 2 ranks equal one process on the union batch") {
  auto model = tiny_resnest(comm());
  auto oracle = tiny_resnest(nullptr);
  Reducer reducer(*model, comm(), {.bucket_cap_mb = 0.01});  // several buckets
  CHECK(reducer.buckets().size() > 2);
  Sgd sgd(model->parameters(), {.lr = 0.05});
  Sgd sgd_oracle(oracle->parameters(), {.lr = 0.05});
  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    const Tensor x = ops::to(shared_randn({8, 3, 32, 32}, 100 + step), DType::f64);
    Generator g(200 + step);
    const Tensor labels = ops::randint(0, 3, {8}, &g);
    sgd.zero_grad();
    autograd::backward({ops::cross_entropy(model->forward(my_rows(x, {4, 4})), my_rows(labels, {4, 4}))}, {});
    reducer.finish_backward();
    sgd.step();
    sgd_oracle.zero_grad();
    autograd::backward({ops::cross_entropy(oracle->forward(x), labels)}, {});
    sgd_oracle.step();
  }
  const auto mine = model->state_dict(), want = oracle->state_dict();
  for (const auto& [key, t] : want) {
    CAPTURE(key);
    check_close(mine.at(key), t, 1e-9, 1e-11);
    // Bit-identical across ranks.
    Tensor rank0 = ops::clone(mine.at(key));
    comm()->broadcast(rank0, 0);
    check_close(mine.at(key), rank0, 0, 0);
  }
}

TEST_CASE("parameters without a gradient: an error naming them, or find_unused") {
  struct TwoHeads : nn::Module {
    std::shared_ptr<nn::Linear> a, b;
    TwoHeads() : Module("TwoHeads") {
      manual_seed(3);
      a = register_module("a", std::make_shared<nn::Linear>(4, 2));
      b = register_module("b", std::make_shared<nn::Linear>(4, 2));
    }
  };
  const Tensor x = shared_randn({2, 4}, 9);
  {
    TwoHeads m;
    Reducer r(m, comm());
    autograd::backward({ops::sum(m.a->forward(x))}, {});
    CHECK_THROWS_WITH_AS(r.finish_backward(), doctest::Contains("parameters without a gradient in this step: b.weight, b.bias"), Error);
  }
  TwoHeads m;
  Reducer r(m, comm(), {.find_unused_parameters = true});
  // Every rank uses head a; only rank 0 uses head b.
  Tensor loss = ops::sum(m.a->forward(x));
  if (comm()->rank() == 0) loss = ops::add(loss, ops::sum(m.b->forward(x)));
  autograd::backward({loss}, {});
  r.finish_backward();
  // b's gradient is rank 0's halved (rank 1 contributes zero); a's is the common one.
  TwoHeads ref;
  autograd::backward({ops::add(ops::sum(ref.a->forward(x)), ops::mul(ops::sum(ref.b->forward(x)), 0.5))}, {});
  check_close(m.a->weight.grad(), ref.a->weight.grad(), 1e-6, 1e-6);
  check_close(m.b->weight.grad(), ref.b->weight.grad(), 1e-6, 1e-6);
  // A step where b is unused everywhere leaves it without a gradient.
  m.a->weight.set_grad(Tensor());
  m.a->bias.set_grad(Tensor());
  m.b->weight.set_grad(Tensor());
  m.b->bias.set_grad(Tensor());
  autograd::backward({ops::sum(m.a->forward(x))}, {});
  r.finish_backward();
  CHECK(m.a->weight.grad().defined());
  CHECK(!m.b->weight.grad().defined());
}

TEST_CASE("no_sync accumulates micro-batches locally; the next step averages the sums") {
  manual_seed(4);
  nn::Linear m(4, 2), ref(4, 2);
  ref.load_state_dict(m.state_dict());
  Reducer r(m, comm());
  const Tensor x1 = shared_randn({4, 4}, 21), x2 = shared_randn({4, 4}, 22);
  {
    auto guard = r.no_sync();
    autograd::backward({ops::sum(m.forward(my_rows(x1, {2, 2})))}, {});
    r.finish_backward();  // a no-op inside no_sync
  }
  autograd::backward({ops::sum(m.forward(my_rows(x2, {2, 2})))}, {});
  r.finish_backward();
  // Average over ranks of (sum over both micro-batches) = half the sum over everything.
  autograd::backward({ops::mul(ops::add(ops::sum(ref.forward(x1)), ops::sum(ref.forward(x2))), 0.5)}, {});
  check_close(m.weight.grad(), ref.weight.grad(), 1e-5, 1e-6);
  check_close(m.bias.grad(), ref.bias.grad(), 1e-5, 1e-6);
}
