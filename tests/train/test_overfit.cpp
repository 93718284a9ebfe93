// Learning, end to end: a tiny ResNeSt with SGD overfits 16 random images to random labels on
// the CPU (the loss falls from chance to near zero and every label is predicted), the check
// that forward, backward, batch norm and the optimizer work together.
#include "autograd/engine.h"
#include "models/resnest.h"
#include "ops/loss.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "tests/helpers.h"
#include "train/optim/sgd.h"

#include <cmath>

using namespace splat;

TEST_CASE("a tiny ResNeSt overfits 16 random images to their random labels") {
  manual_seed(1);
  models::ResNeStConfig cfg;
  cfg.blocks = {1, 1, 1, 1};
  cfg.planes = {8, 8, 16, 16};
  cfg.stem_width = 8;
  cfg.num_classes = 4;
  models::ResNeSt model(cfg);
  const Tensor x = ops::randn({16, 3, 32, 32});
  const Tensor labels = ops::randint(0, 4, {16});
  train::Sgd sgd(model.parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 0});
  double first = 0, last = 0;
  int step = 0;
  Tensor logits;
  for (; step < 300; ++step) {
    sgd.zero_grad();
    logits = model.forward(x);
    const Tensor loss = ops::cross_entropy(logits, labels);
    last = loss.item<double>();
    if (step == 0) first = last;
    if (last < 0.02) break;
    autograd::backward({loss}, {});
    sgd.step();
  }
  MESSAGE("loss ", first, " -> ", last, " after ", step, " steps");
  CHECK(first > 0.8 * std::log(4.0));  // chance level at the start
  CHECK(last < 0.02);
  // Training-mode predictions (batch statistics): the running statistics lag a few steps behind.
  const Tensor predicted = ops::argmax(logits, 1);
  CHECK(splat::test::to_vector<int64_t>(predicted) == splat::test::to_vector<int64_t>(labels));
}
