#include "train/config/toml_tree.h"

#include "core/error.h"

#include <algorithm>

namespace splat::train::config::detail {
namespace {

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Integers and floats are one kind for merging: a number may replace a number.
bool same_kind(const toml::node& a, const toml::node& b) {
  return a.type() == b.type() || (a.is_number() && b.is_number());
}

// True when a derived config's table asks to replace its base's (`_delete = true`).
bool replaces_base(const toml::table& t) {
  const toml::node* flag = t.get(kDeleteKey);
  return flag && flag->value_exact<bool>().value_or(false);
}

} // namespace

std::string where(const toml::source_region& region) {
  const std::string path = region.path ? *region.path : std::string("<config>");
  if (path.starts_with(kOverridePrefix) || region.begin.line == 0) return path;
  return str(path, ":", region.begin.line, ":", region.begin.column);
}

std::string_view kind_name(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::table: return "table";
  case toml::node_type::array: return "array";
  case toml::node_type::string: return "string";
  case toml::node_type::integer: return "integer";
  case toml::node_type::floating_point: return "float";
  case toml::node_type::boolean: return "boolean";
  case toml::node_type::date: return "date";
  case toml::node_type::time: return "time";
  case toml::node_type::date_time: return "date-time";
  case toml::node_type::none: break;
  }
  return "nothing";
}

std::string join_key(std::string_view parent, std::string_view key) {
  std::string k;
  if (is_bare_key(key)) {
    k = key;
  } else {
    k = "\"";
    for (const char c : key) {
      if (c == '"' || c == '\\') k += '\\';
      k += c;
    }
    k += '"';
  }
  return parent.empty() ? k : str(parent, ".", k);
}

void merge(toml::table& into, toml::table&& from, Winner winner, std::string_view path) {
  for (auto&& [key, value] : from) {
    const std::string key_path = join_key(path, key.str());
    const auto it = into.find(key.str());
    if (it == into.end()) {
      into.insert(key, std::move(value));
      continue;
    }
    toml::node& mine = it->second;
    if (mine.is_table() && value.is_table()) {
      if (winner == Winner::into && replaces_base(*mine.as_table())) continue;
      merge(*mine.as_table(), std::move(*value.as_table()), winner, key_path);
      continue;
    }
    const toml::node& kept = winner == Winner::from ? value : mine;
    const toml::node& lost = winner == Winner::from ? mine : value;
    if (!same_kind(kept, lost)) {
      const std::string_view k = kind_name(kept);
      const std::string_view article = k == "array" || k == "integer" ? "an " : "a ";
      throw Error(str(where(kept.source()), ": ", key_path, ": ", article, k,
                      " cannot replace the ", kind_name(lost), " at ", where(lost.source())));
    }
    // (Assigning through toml::node& would slice: insert_or_assign makes the concrete node.)
    if (winner == Winner::from) into.insert_or_assign(key.str(), std::move(value));
  }
}

void strip_delete_keys(toml::table& t) {
  if (const toml::node* flag = t.get(kDeleteKey)) {
    if (flag->value_exact<bool>() != std::optional<bool>(true))
      throw Error(str(where(flag->source()), ": ", kDeleteKey, ": expected true (replace the base's table), got ",
                      kind_name(*flag) == "boolean" ? "false" : kind_name(*flag)));
    t.erase(kDeleteKey);
  }
  for (auto&& [key, value] : t)
    if (toml::table* sub = value.as_table()) strip_delete_keys(*sub);
}

} // namespace splat::train::config::detail
