// Recording differentiable ops: how every op in ops/ attaches its backward formula.
//
//   Tensor out = ...kernel...;
//   if (autograd::needs_grad({a, b}))
//     autograd::record("mul", {a, b}, {out},
//         [sa = SavedTensor(a), sb = SavedTensor(b)](const Grads& g, const Needs& needs) -> Grads {
//           return {needs[0] ? mul(g[0], sb.get()) : Tensor(), needs[1] ? mul(g[0], sa.get()) : Tensor()};
//         });
//
// The formula receives one defined gradient per output and returns one gradient per input
// (undefined where needs[i] is false or the input has no gradient). It runs with grad mode
// off, so it may use ops freely; gradients of gradients are not supported.
#pragma once

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/saved_tensor.h"

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace splat::autograd {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;
using BackwardFn = std::function<Grads(const Grads& grads, const Needs& needs)>;

// True when grad mode is on and any input requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Makes a node for fn with edges to the inputs and sets it as grad_fn of the floating outputs.
// Outputs of view ops pass is_view so in-place writes into them can be refused.
void record(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn fn, bool is_view = false);

// Refuses an in-place op on t that would make gradients wrong: a leaf that requires grad, or a
// view (whose base would not see the new history). Call, before the op modifies anything, when
// autograd will record the op.
void check_inplace(std::string_view op, const Tensor& t);

// After an in-place op computed `result` (with history) to replace t's contents: t takes over
// result's history.
void rebase_history(const Tensor& t, const Tensor& result);

} // namespace splat::autograd
