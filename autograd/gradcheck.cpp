#include "autograd/gradcheck.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/tensor_math.h"

#include <cmath>

namespace splat::autograd {
namespace {

// A contiguous host copy of t, readable as doubles.
Tensor host_copy(const Tensor& t) { return tensor_math().clone(tensor_math().to_device(t, Device::cpu())); }

std::vector<double> host_values(const Tensor& t) {
  const Tensor h = host_copy(t);
  const double* p = h.data<double>();
  return {p, p + h.numel()};
}

// out[o][k] for every floating output o, evaluated without recording.
std::vector<std::vector<double>> evaluate(const MultiFn& fn, const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  std::vector<std::vector<double>> out;
  for (const Tensor& o : fn(inputs))
    if (is_floating(o.dtype())) out.push_back(host_values(tensor_math().to_device(o, Device::cpu())));
  return out;
}

} // namespace

GradcheckResult gradcheck(const MultiFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions opts) {
  std::vector<size_t> checked;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    SPLAT_CHECK(inputs[i].dtype() == DType::f64, "gradcheck: input ", i, " is ", inputs[i].dtype(),
                "; gradient checks need f64 inputs");
    checked.push_back(i);
  }
  SPLAT_CHECK(!checked.empty(), "gradcheck: no input requires grad");

  // Analytic Jacobian: row k of output o comes from a backward with a one-hot gradient.
  // analytic[o][k][c][j] = d out_o[k] / d input_checked[c][j]
  std::vector<std::vector<std::vector<std::vector<double>>>> analytic;
  std::vector<Tensor> outputs;
  for (const Tensor& o : fn(inputs))
    if (is_floating(o.dtype())) outputs.push_back(o);
  for (const Tensor& o : outputs) {
    auto& rows = analytic.emplace_back(o.numel());
    for (int64_t k = 0; k < o.numel(); ++k) {
      for (size_t c : checked) inputs[c].set_grad(Tensor());
      if (o.requires_grad()) {
        Tensor onehot = tensor_math().full(o.shape(), 0.0, o.dtype(), Device::cpu());
        onehot.data<double>()[k] = 1;
        backward({o}, {tensor_math().to_device(onehot, o.device())}, /*retain_graph=*/true);
      }
      for (size_t c : checked) {
        const Tensor g = inputs[c].grad();
        rows[k].push_back(g.defined() ? host_values(g) : std::vector<double>(inputs[c].numel(), 0.0));
      }
    }
  }
  for (size_t c : checked) inputs[c].set_grad(Tensor());

  // Numeric Jacobian, one input element at a time, compared as we go.
  GradcheckResult result;
  double worst = 0;
  int64_t bad = 0, total = 0;
  NoGradGuard no_grad;
  for (size_t ci = 0; ci < checked.size(); ++ci) {
    Tensor input = inputs[checked[ci]];
    const Tensor original = host_copy(input);
    for (int64_t j = 0; j < input.numel(); ++j) {
      auto eval_at = [&](double delta) {
        Tensor h = tensor_math().clone(original);
        h.data<double>()[j] += delta;
        tensor_math().copy_(input, tensor_math().to_device(h, input.device()));
        return evaluate(fn, inputs);
      };
      const auto plus = eval_at(opts.eps), minus = eval_at(-opts.eps);
      tensor_math().copy_(input, tensor_math().to_device(original, input.device()));
      for (size_t o = 0; o < outputs.size(); ++o) {
        for (size_t k = 0; k < plus[o].size(); ++k) {
          const double numeric = (plus[o][k] - minus[o][k]) / (2 * opts.eps);
          const double a = analytic[o][k][ci][j];
          const double excess = std::fabs(a - numeric) - (opts.atol + opts.rtol * std::fabs(numeric));
          ++total;
          if (!(excess <= 0)) {  // also catches NaN
            ++bad;
            if (!(excess <= worst)) {
              worst = std::isnan(excess) ? INFINITY : excess;
              result.message = str("input ", checked[ci], " element ", j, ", output ", o,
                                   " element ", k, ": analytic ", a, ", numeric ", numeric);
            }
          }
        }
      }
    }
  }
  if (bad > 0) {
    result.ok = false;
    result.message += str(" (", bad, " of ", total, " Jacobian entries outside tolerance)");
  }
  return result;
}

GradcheckResult gradcheck(const SingleFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions opts) {
  return gradcheck(MultiFn([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{fn(in)}; }),
                   inputs, opts);
}

} // namespace splat::autograd
