// Module: the unit models are built from (design.md section 1, nn/).
//
// A module registers, in its constructor, its parameters (trained tensors), its buffers (state
// that is saved but not trained, e.g. BN running statistics) and its children, each under a name.
// Names compose with dots into the keys of state_dict(), and the models use the PyTorch /
// MMDetection names of the spec (section 7.1) so that checkpoints line up key for key.
// Registration order is kept: it is the order of parameters() (the data-parallel reducer buckets
// gradients in reverse of it).
//
// Layers keep the handles register_* return (Tensor is a shared handle). to(device) and to(dtype)
// repoint those same handles at the converted data (Tensor::set_data), so a layer's members stay
// valid and optimizers holding the handles follow.
#pragma once

#include "core/tensor.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace splat::nn {

class Module;
using ModulePtr = std::shared_ptr<Module>;
template <class T> using Named = std::vector<std::pair<std::string, T>>;

// What a non-strict load_state_dict found (a strict one throws instead).
struct LoadResult {
  std::vector<std::string> missing;     // keys of the module absent from the state dict
  std::vector<std::string> unexpected;  // keys of the state dict the module does not have
};

class Module : public std::enable_shared_from_this<Module> {
public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The class name used in printouts and errors, e.g. "Conv2d".
  const std::string& type_name() const { return type_name_; }

  // Own and descendants' tensors, with dotted names, in registration order (depth first).
  Named<Tensor> named_parameters() const;
  std::vector<Tensor> parameters() const;
  Named<Tensor> named_buffers() const;
  Named<ModulePtr> named_children() const { return children_; }
  // This module (name "") and every descendant.
  Named<const Module*> named_modules() const;
  // Calls fn on this module and every descendant, depth first, with its dotted name.
  void apply(const std::function<void(const std::string& name, Module& m)>& fn, const std::string& prefix = "");
  // Number of parameter elements (the spec's parameter counts).
  int64_t num_parameters() const;

  // Parameters and buffers by key.
  std::map<std::string, Tensor> state_dict() const;
  // Copies each tensor into the matching parameter or buffer (cast to its dtype, kept on its
  // device). Any shape mismatch throws an Error listing every offending key with both shapes;
  // strict also throws on missing or unexpected keys, listing them all. Never a silent partial
  // load: on error nothing has been copied.
  LoadResult load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // Training mode (batch statistics, dropout) for this module and its descendants.
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves / converts every parameter, buffer and gradient in place. Integer buffers (e.g.
  // num_batches_tracked) keep their dtype under to(dtype).
  void to(Device device);
  void to(DType dtype);
  // Undefines every parameter's gradient.
  void zero_grad();

  // The child registered under name (an Error names the module and the key if absent).
  const ModulePtr& child(const std::string& name) const;

protected:
  // Registration, for constructors. Names must be unique within the module and dot-free.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

private:
  void check_new_name(const std::string& name) const;
  void add_child(const std::string& name, ModulePtr m);
  void collect(const std::string& prefix, Named<Tensor>& out, bool parameters) const;
  void apply_to_tensors(const std::function<Tensor(const Tensor&)>& convert, bool floating_only);

  std::string type_name_;
  bool training_ = true;
  Named<Tensor> parameters_, buffers_;
  Named<ModulePtr> children_;
};

} // namespace splat::nn
