// Training checkpoints: a round trip restores weights, optimizer state, progress and generators
// exactly (so training continues identically); bad files give clear errors; a writer killed in
// the middle of a save leaves the previous checkpoint intact.
#include "autograd/engine.h"
#include "core/safetensors.h"
#include "models/detection/detector_weights.h"
#include "nn/simple_layers.h"
#include "nn/sequential.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/checkpoint/checkpoint.h"
#include "train/optim/adamw.h"

#include <csignal>
#include <filesystem>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace splat;
using namespace splat::train;
using splat::test::check_equal;

namespace {

std::shared_ptr<nn::Sequential> tiny_net() {
  auto net = std::make_shared<nn::Sequential>();
  net->push_back(std::make_shared<nn::Linear>(6, 5));
  net->push_back(std::make_shared<nn::Linear>(5, 2));
  return net;
}

// One AdamW step on random data drawn from gen (so the generator's position matters).
void train_step(nn::Sequential& net, Optimizer& opt, Generator& gen) {
  const Tensor x = ops::randn({4, 6}, {}, &gen);
  opt.zero_grad();
  autograd::backward({ops::sum(ops::mul(net.forward(x), net.forward(x)))}, {});
  opt.step();
}

} // namespace

TEST_CASE("checkpoint round trip: the resumed run continues exactly as the straight one") {
  test::TempDir tmp;
  const std::string path = (tmp.dir / "epoch_1.safetensors").string();
  auto straight = tiny_net();
  AdamW opt_a(straight->parameters(), {.lr = 0.01});
  Generator gen_a(7);
  for (int i = 0; i < 3; ++i) train_step(*straight, opt_a, gen_a);
  save_checkpoint(path, *straight, opt_a, {.epoch = 1, .iter = 3, .iter_in_epoch = 1},
                  {{{"sampler", &gen_a}}}, {{"config", "tiny.toml"}});
  for (int i = 0; i < 2; ++i) train_step(*straight, opt_a, gen_a);

  auto resumed = tiny_net(); // fresh weights, fresh optimizer, generator elsewhere
  AdamW opt_b(resumed->parameters(), {.lr = 0.01});
  Generator gen_b(123);
  const LoadedCheckpoint c = load_checkpoint(path, *resumed, opt_b, {{{"sampler", &gen_b}}});
  CHECK(c.progress == TrainProgress{.epoch = 1, .iter = 3, .iter_in_epoch = 1});
  CHECK(c.metadata.at("config") == "tiny.toml");
  CHECK(gen_b.seed() == 7);
  for (int i = 0; i < 2; ++i) train_step(*resumed, opt_b, gen_b);
  for (const auto& [key, t] : straight->state_dict()) {
    CAPTURE(key);
    check_equal(resumed->state_dict().at(key), t); // bit for bit
  }

  // The weights also load where only weights are wanted (splat infer).
  auto weights_only = tiny_net();
  models::load_detector_weights(*weights_only, path);
  CHECK_FALSE(weights_only->state_dict().empty());
}

TEST_CASE("checkpoint errors name the file and the problem") {
  test::TempDir tmp;
  auto net = tiny_net();
  AdamW opt(net->parameters(), {.lr = 0.01});
  Generator gen(1);
  train_step(*net, opt, gen);
  const std::string path = (tmp.dir / "c.safetensors").string();
  save_checkpoint(path, *net, opt, {}, {{{"sampler", &gen}}});

  CHECK_THROWS_WITH_ALL(load_checkpoint((tmp.dir / "none.safetensors").string(), *net, opt, {}),
                        "none.safetensors: no such checkpoint file");
  // Another model: the keys that do not fit are listed.
  auto other = std::make_shared<nn::Sequential>();
  other->push_back(std::make_shared<nn::Linear>(6, 3));
  AdamW other_opt(other->parameters(), {.lr = 0.01});
  CHECK_THROWS_WITH_ALL(load_checkpoint(path, *other, other_opt, {}), "c.safetensors", "0.weight: checkpoint [5, 6] vs model [3, 6]",
                        "unexpected keys: 1.bias, 1.weight");
  // A generator the file does not have.
  Generator extra(2);
  CHECK_THROWS_WITH_ALL(load_checkpoint(path, *net, opt, {{{"loader", &extra}}}), "c.safetensors",
                        "without 'rng.loader.seed'");
  // Weights only: not a run to resume.
  const std::string weights = (tmp.dir / "w.safetensors").string();
  save_safetensors(weights, net->state_dict());
  CHECK_THROWS_WITH_ALL(load_checkpoint(weights, *net, opt, {}), "w.safetensors: not a splat training checkpoint");
}

TEST_CASE("a writer killed in the middle of a checkpoint leaves the previous one intact") {
  test::TempDir tmp;
  const std::string path = (tmp.dir / "latest.safetensors").string();
  // A model big enough (32 MB) that a save takes a while, so the kill lands inside one.
  auto big = std::make_shared<nn::Sequential>();
  big->push_back(std::make_shared<nn::Linear>(2048, 4096));
  AdamW opt(big->parameters(), {.lr = 0.01});
  Generator gen(3);
  save_checkpoint(path, *big, opt, {.iter = 1}, {{{"sampler", &gen}}});
  const auto before = load_safetensors(path);

  int interrupted = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) { // overwrite the checkpoint again and again until killed
      for (int64_t i = 2;; ++i) save_checkpoint(path, *big, opt, {.iter = i}, {{{"sampler", &gen}}});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 37 * attempt));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    // The file is always a complete checkpoint (the first one or one of the child's); a
    // temporary file left behind shows the kill hit a save in progress.
    const auto after = load_safetensors(path);
    CHECK(after.tensors.at("model.0.weight").shape() == before.tensors.at("model.0.weight").shape());
    check_equal(after.tensors.at("model.0.weight"), before.tensors.at("model.0.weight"));
    for (const auto& e : std::filesystem::directory_iterator(tmp.dir))
      if (e.path().filename().string().find(".tmp.") != std::string::npos) {
        ++interrupted;
        std::filesystem::remove(e.path());
      }
  }
  MESSAGE("saves interrupted by the kill: ", interrupted, " of 5");
  CHECK(interrupted > 0);
}
