// The per-op profiler (core/profile.h): a tiny conv + relu + mean model's forward and backward
// produce a table naming its kernels (forward) and backward nodes with their call counts and
// allocated bytes; the kernels a backward node runs count toward the node; nothing is recorded
// while profiling is off. Times are never asserted.
#include "autograd/engine.h"
#include "core/profile.h"
#include "ops/conv.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "tests/autograd/grad_helpers.h"

#include <doctest/doctest.h>

#include <sstream>
#include <string>

using namespace splat;
using splat::test::leaf;

namespace {

// The table row of `op`, split into its columns: name, fwd calls, fwd ms, bwd calls, bwd ms,
// % wall, MiB allocated. Empty when the table has no such row.
std::vector<std::string> row_of(const std::string& table, const std::string& op) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream cols(line);
    std::vector<std::string> out;
    for (std::string c; cols >> c;) out.push_back(c);
    if (!out.empty() && out[0] == op) return out;
  }
  return {};
}

// Runs the tiny model's forward and backward once.
void tiny_step(const Tensor& x, const Tensor& w) {
  autograd::backward({ops::mean(ops::relu(ops::conv2d(x, w)))}, {});
}

// Turns profiling on for one test and restores the previous state.
struct ProfilingOn {
  bool was = profile::enabled();
  ProfilingOn() {
    profile::set_enabled(true);
    profile::reset();
  }
  ~ProfilingOn() {
    profile::set_enabled(was);
    profile::reset();
  }
};

} // namespace

TEST_CASE("profile: the table names the forward kernels and backward nodes of a tiny model") {
  const Tensor x = leaf({2, 3, 8, 8}), w = leaf({4, 3, 3, 3});
  ProfilingOn on;
  tiny_step(x, w);
  tiny_step(x, w);
  const std::string table = profile::report("tiny model");
  INFO(table);
  CHECK(table.find("tiny model") != std::string::npos);

  const auto conv_fwd = row_of(table, "conv2d_forward");
  REQUIRE(conv_fwd.size() == 7);
  CHECK(conv_fwd[1] == "2");         // forward calls
  CHECK(conv_fwd[3] == "0");         // no backward calls under the kernel's name
  CHECK(std::stod(conv_fwd[6]) > 0); // its output was allocated
  const auto relu_fwd = row_of(table, "unary.relu");
  REQUIRE(relu_fwd.size() == 7);
  CHECK(relu_fwd[1] == "2");
  CHECK(row_of(table, "reduce.mean").size() == 7);

  // Backward rows carry the nodes' names; the kernels they run are counted inside them.
  const auto conv_bwd = row_of(table, "conv2d");
  REQUIRE(conv_bwd.size() == 7);
  CHECK(conv_bwd[1] == "0");
  CHECK(conv_bwd[3] == "2");
  CHECK(row_of(table, "relu").size() == 7);
  CHECK(row_of(table, "AccumulateGrad").size() == 7);
  CHECK(row_of(table, "conv2d_backward_input").empty());
  CHECK(row_of(table, "conv2d_backward_weight").empty());

  profile::reset();
  CHECK(row_of(profile::report("after reset"), "conv2d_forward").empty());
}

TEST_CASE("profile: nothing is recorded while profiling is off") {
  const Tensor x = leaf({2, 3, 8, 8}), w = leaf({4, 3, 3, 3});
  ProfilingOn on;
  profile::set_enabled(false);
  tiny_step(x, w);
  profile::set_enabled(true);
  const std::string table = profile::report("off");
  INFO(table);
  CHECK(row_of(table, "conv2d_forward").empty());
  CHECK(row_of(table, "conv2d").empty());
}
