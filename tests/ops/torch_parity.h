// Forward and backward parity with PyTorch, from fixtures recorded by scripts/gen_fixtures.py
// (naming in scripts/fixtures/common.py). A test file holds a map from case name to the splat
// calls and hands it to check_torch_parity with its fixture file: every recorded case must have
// a splat counterpart and vice versa; each case runs on the recorded inputs, every output is
// compared, then the recorded output gradients are back-propagated from the outputs that
// require grad and every recorded input gradient is compared.
#pragma once

#include "autograd/engine.h"
#include "core/safetensors.h"
#include "ops/copy.h"
#include "tests/helpers.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace splat::test {

using ParityFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using ParityCases = std::map<std::string, ParityFn>;

inline ParityFn one(std::function<Tensor(const std::vector<Tensor>&)> f) {
  return [f](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in)}; };
}

// fixture: a file name under tests/fixtures.
inline void check_torch_parity(const std::string& fixture, const ParityCases& cases, double rtol,
                               double atol) {
  const SafeTensors file = load_safetensors(std::string(SPLAT_SOURCE_DIR "/tests/fixtures/") + fixture);
  const auto& t = file.tensors;
  auto find = [&](const std::string& key) -> const Tensor* {
    auto it = t.find(key);
    return it == t.end() ? nullptr : &it->second;
  };
  // The tensors NAME.<kind>0, NAME.<kind>1, ... present in the fixture.
  auto series = [&](const std::string& name, const std::string& kind) {
    std::vector<Tensor> out;
    while (const Tensor* x = find(name + "." + kind + std::to_string(out.size()))) out.push_back(*x);
    return out;
  };

  std::set<std::string> recorded, ours;
  for (const auto& [key, x] : t) recorded.insert(key.substr(0, key.find('.')));
  for (const auto& [name, fn] : cases) ours.insert(name);
  CHECK_MESSAGE(recorded == ours, "the cases of ", fixture, " and of the test differ");

  for (const auto& [name, fn] : cases) {
    if (!recorded.count(name)) continue;
    CAPTURE(name);
    // Inputs with a recorded gradient (NAME.ginI, I the input's position) require grad.
    std::vector<Tensor> inputs;
    for (const Tensor& x : series(name, "in")) {
      Tensor c = ops::clone(x);
      if (find(name + ".gin" + std::to_string(inputs.size()))) c.requires_grad_();
      inputs.push_back(c);
    }
    REQUIRE(!inputs.empty());
    const std::vector<Tensor> outs = fn(inputs);
    const std::vector<Tensor> expected = series(name, "out");
    REQUIRE(outs.size() == expected.size());
    for (size_t j = 0; j < outs.size(); ++j) {
      CAPTURE(j);
      CHECK(outs[j].dtype() == expected[j].dtype());
      check_close(outs[j], expected[j], rtol, atol);
    }
    const std::vector<Tensor> gouts = series(name, "gout");
    if (gouts.empty()) continue;
    std::vector<Tensor> roots;
    for (const Tensor& o : outs)
      if (o.requires_grad()) roots.push_back(o);
    REQUIRE(roots.size() == gouts.size());
    autograd::backward(roots, gouts);
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (const Tensor* expected_grad = find(name + ".gin" + std::to_string(i))) {
        CAPTURE(i);
        REQUIRE(inputs[i].grad().defined());
        check_close(inputs[i].grad(), *expected_grad, rtol, atol);
      }
    }
  }
}

} // namespace splat::test
