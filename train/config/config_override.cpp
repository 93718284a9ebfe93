#include "train/config/config_override.h"

#include "core/error.h"
#include "train/config/toml_tree.h"

#include <algorithm>
#include <string>

namespace splat::train::config::detail {
namespace {

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Words that read as a string on a command line: paths, enum names.
bool is_bare_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_-./:+~@").find(c) != std::string_view::npos;
  });
}

} // namespace

std::string override_name(std::string_view text) { return str(kOverridePrefix, text); }

void apply_override(toml::table& root, std::string_view text) {
  const std::string name = override_name(text);
  const size_t eq = text.find('=');
  const std::string_view key = trim(text.substr(0, eq)), value = trim(text.substr(eq + 1));
  if (eq == std::string_view::npos || key.empty() || value.empty())
    throw Error(str(name, ": expected KEY=VALUE (e.g. data.workers=4)"));
  if (text.find('\n') != std::string_view::npos)
    throw Error(str(name, ": the value must be on one line"));
  toml::table tree;
  try {
    tree = toml::parse(str(key, " = ", value), std::string_view(name));
  } catch (const toml::parse_error& e) {
    if (!is_bare_word(value)) throw Error(str(name, ": ", e.description()));
    try {
      tree = toml::parse(str(key, " = '", value, "'"), std::string_view(name));
    } catch (const toml::parse_error& e2) {
      throw Error(str(name, ": ", e2.description()));
    }
  }
  merge(root, std::move(tree), Winner::from);
}

} // namespace splat::train::config::detail
