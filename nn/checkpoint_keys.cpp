#include "nn/checkpoint_keys.h"

#include "core/error.h"

#include <array>
#include <utility>

namespace splat::nn {
namespace {

std::string strip_module(const std::string& key) {
  return key.starts_with("module.") ? key.substr(7) : key;
}

// conv1.{0,1,3,4,6} are the deep stem's convs and BNs (2 and 5 are ReLUs), bn1 its last BN.
std::string resnest_key(const std::string& raw) {
  const std::string key = strip_module(raw);
  static const std::array<std::pair<std::string_view, std::string_view>, 2> kPrefixes{{
      {"conv1.", "stem."}, {"bn1.", "stem.7."}}};
  for (const auto& [from, to] : kPrefixes)
    if (key.starts_with(from)) return std::string(to) + key.substr(from.size());
  return key;
}

} // namespace

KeyMap parse_key_map(std::string_view name) {
  if (name == "none") return KeyMap::none;
  if (name == "resnest") return KeyMap::resnest;
  if (name == "mmdet") return KeyMap::mmdet;
  throw Error(str("unknown key map '", name, "' (expected none, resnest or mmdet)"));
}

std::map<std::string, Tensor> map_keys(const std::map<std::string, Tensor>& state, KeyMap map) {
  std::map<std::string, Tensor> out;
  std::map<std::string, std::string> source;
  for (const auto& [key, t] : state) {
    const std::string to = map == KeyMap::none ? key : map == KeyMap::mmdet ? strip_module(key) : resnest_key(key);
    auto [it, fresh] = source.emplace(to, key);
    SPLAT_CHECK(fresh, "checkpoint keys '", it->second, "' and '", key, "' both map to '", to, "'");
    out.emplace(to, t);
  }
  return out;
}

} // namespace splat::nn
