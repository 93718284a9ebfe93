#include "nn/module.h"

#include "autograd/grad_mode.h"
#include "ops/copy.h"

#include <algorithm>
#include <functional>
#include <set>

namespace splat::nn {
namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : name.empty() ? prefix : prefix + "." + name;
}

} // namespace

void Module::check_new_name(const std::string& name) const {
  SPLAT_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name_,
              ": invalid member name '", name, "' (must be non-empty and without dots)");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  SPLAT_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), type_name_,
              ": the name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name(name);
  SPLAT_CHECK(t.defined(), type_name_, ": parameter '", name, "' is undefined");
  if (requires_grad) t.requires_grad_();
  parameters_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name);
  SPLAT_CHECK(t.defined(), type_name_, ": buffer '", name, "' is undefined");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, ModulePtr m) {
  check_new_name(name);
  SPLAT_CHECK(m != nullptr, type_name_, ": child '", name, "' is null");
  children_.emplace_back(name, std::move(m));
}

const ModulePtr& Module::child(const std::string& name) const {
  for (const auto& [n, m] : children_)
    if (n == name) return m;
  throw Error(str(type_name_, " has no child '", name, "'"));
}

void Module::collect(const std::string& prefix, Named<Tensor>& out, bool parameters) const {
  for (const auto& [name, t] : parameters ? parameters_ : buffers_) out.emplace_back(join(prefix, name), t);
  for (const auto& [name, m] : children_) m->collect(join(prefix, name), out, parameters);
}

Named<Tensor> Module::named_parameters() const {
  Named<Tensor> out;
  collect("", out, true);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

Named<Tensor> Module::named_buffers() const {
  Named<Tensor> out;
  collect("", out, false);
  return out;
}

Named<const Module*> Module::named_modules() const {
  Named<const Module*> out{{"", this}};
  for (const auto& [name, m] : children_)
    for (auto& [sub, mod] : m->named_modules()) out.emplace_back(join(name, sub), mod);
  return out;
}

void Module::apply(const std::function<void(const std::string&, Module&)>& fn, const std::string& prefix) {
  fn(prefix, *this);
  for (auto& [name, m] : children_) m->apply(fn, join(prefix, name));
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out.emplace(name, t.detach());
  for (auto& [name, t] : named_buffers()) out.emplace(name, t);
  return out;
}

LoadResult Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  Named<Tensor> own = named_parameters();
  for (auto& b : named_buffers()) own.push_back(std::move(b));
  LoadResult result;
  std::vector<std::string> mismatched;
  for (const auto& [key, t] : own) {
    auto it = state.find(key);
    if (it == state.end()) {
      result.missing.push_back(key);
    } else if (it->second.shape() != t.shape()) {
      mismatched.push_back(str(key, ": checkpoint ", shape_str(it->second.shape()), " vs model ",
                               shape_str(t.shape())));
    }
  }
  std::set<std::string> own_keys;
  for (const auto& [key, t] : own) own_keys.insert(key);
  for (const auto& [key, t] : state)
    if (!own_keys.count(key)) result.unexpected.push_back(key);

  // One line however many keys are wrong (commands print errors as one line): every key, in
  // groups separated by "; ".
  auto list = [](const char* what, const std::vector<std::string>& keys) {
    std::string s;
    if (!keys.empty()) s += str("; ", keys.size(), " ", what, ": ");
    for (size_t i = 0; i < keys.size(); ++i) s += (i ? ", " : "") + keys[i];
    return s;
  };
  const bool bad = !mismatched.empty() || (strict && (!result.missing.empty() || !result.unexpected.empty()));
  if (bad) {
    std::string what = list("shape mismatches", mismatched);
    if (strict) what += list("missing keys", result.missing) + list("unexpected keys", result.unexpected);
    throw Error(str(type_name_, ".load_state_dict", strict ? " (strict)" : "", " failed: ", what.substr(2)));
  }

  autograd::NoGradGuard no_grad;
  for (auto& [key, t] : own) {
    auto it = state.find(key);
    if (it != state.end()) ops::copy_(t, ops::to(it->second, t.device()));
  }
  return result;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, m] : children_) m->train(on);
}

void Module::apply_to_tensors(const std::function<Tensor(const Tensor&)>& convert, bool floating_only) {
  for (auto& [name, m] : children_) m->apply_to_tensors(convert, floating_only);
  for (auto* list : {&parameters_, &buffers_})
    for (auto& [name, t] : *list) {
      if (floating_only && !is_floating(t.dtype())) continue;
      t.set_data(convert(t.detach()));
      if (const Tensor g = t.grad(); g.defined()) t.set_grad(convert(g));
    }
}

void Module::to(Device device) {
  apply_to_tensors([&](const Tensor& t) { return ops::to(t, device); }, false);
}

void Module::to(DType dtype) {
  SPLAT_CHECK(is_floating(dtype), type_name_, ".to: modules convert to floating dtypes only, not ",
              dtype_name(dtype));
  apply_to_tensors([&](const Tensor& t) { return ops::to(t, dtype); }, true);
}

void Module::zero_grad() {
  for (auto& t : parameters()) t.set_grad(Tensor());
}

} // namespace splat::nn
