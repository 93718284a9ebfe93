#include "train/config/config_node.h"

#include "train/config/document.h"
#include "train/config/toml_tree.h"

#include <algorithm>
#include <tuple>

namespace splat::train::config {
namespace {

const toml::node& tnode(const void* p) { return *static_cast<const toml::node*>(p); }

void remember(std::vector<std::string>& keys, std::string_view key) {
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.emplace_back(key);
}

struct Unused {
  toml::source_region source; // of the key
  std::string line;
};

// Appends every key under `node` that no binding looked up. A key never looked up is reported
// alone, not its contents.
void collect_unused(const Document& doc, const toml::node& node, const std::string& path,
                    std::vector<Unused>& out) {
  if (const toml::table* t = node.as_table()) {
    std::string takes;
    if (const auto it = doc.asked.find(t); it != doc.asked.end()) {
      std::vector<std::string> keys = it->second;
      std::sort(keys.begin(), keys.end());
      for (const auto& k : keys) takes += (takes.empty() ? "" : ", ") + k;
    }
    for (const auto& [key, value] : *t) {
      const std::string key_path = detail::join_key(path, key.str());
      if (doc.used.contains(&value)) {
        collect_unused(doc, value, key_path, out);
        continue;
      }
      std::string line = str(detail::where(key.source()), ": ", key_path, ": unknown key");
      if (!takes.empty())
        line += str(" (", path.empty() ? "the top level" : path, " takes: ", takes, ")");
      out.push_back({key.source(), std::move(line)});
    }
  } else if (const toml::array* a = node.as_array()) {
    for (size_t i = 0; i < a->size(); ++i)
      collect_unused(doc, *a->get(i), str(path, "[", i, "]"), out);
  }
}

} // namespace

Kind Node::kind() const {
  switch (tnode(node_).type()) {
  case toml::node_type::table: return Kind::table;
  case toml::node_type::array: return Kind::array;
  case toml::node_type::string: return Kind::string;
  case toml::node_type::integer: return Kind::integer;
  case toml::node_type::floating_point: return Kind::floating;
  case toml::node_type::boolean: return Kind::boolean;
  case toml::node_type::date: return Kind::date;
  case toml::node_type::time: return Kind::time;
  case toml::node_type::date_time: return Kind::date_time;
  case toml::node_type::none: break;
  }
  fail("a value of no TOML type");
}

std::string Node::where() const { return detail::where(tnode(node_).source()); }

void Node::fail(std::string_view message) const {
  throw Error(path_.empty() ? str(where(), ": ", message)
                            : str(where(), ": ", path_, ": ", message));
}

void Node::fail_kind(std::string_view expected) const {
  fail(str("expected ", expected, ", got ", detail::kind_name(tnode(node_))));
}

const void* Node::table_or_fail() const {
  const toml::table* t = tnode(node_).as_table();
  if (!t) fail_kind("a table");
  return t;
}

bool Node::has(std::string_view key) const {
  const auto* t = static_cast<const toml::table*>(table_or_fail());
  remember(doc_->asked[t], key);
  return t->contains(key);
}

std::optional<Node> Node::find(std::string_view key) const {
  const auto* t = static_cast<const toml::table*>(table_or_fail());
  remember(doc_->asked[t], key);
  const toml::node* n = t->get(key);
  if (!n) return std::nullopt;
  doc_->used.insert(n);
  return Node(doc_, n, detail::join_key(path_, key));
}

Node Node::child(std::string_view key) const {
  auto n = find(key);
  if (!n)
    throw Error(str(where(), ": ", detail::join_key(path_, key), ": required key is missing"));
  return std::move(*n);
}

Node Node::table(std::string_view key) const {
  Node n = child(key);
  if (n.kind() != Kind::table) n.fail_kind("a table");
  return n;
}

Node Node::array(std::string_view key) const {
  Node n = child(key);
  if (n.kind() != Kind::array) n.fail_kind("an array");
  return n;
}

size_t Node::size() const {
  const toml::array* a = tnode(node_).as_array();
  if (!a) fail_kind("an array");
  return a->size();
}

Node Node::at(size_t i) const {
  const size_t n = size();
  if (i >= n) fail(str("element ", i, " requested of an array of ", n));
  const toml::node* e = tnode(node_).as_array()->get(i);
  doc_->used.insert(e);
  return Node(doc_, e, str(path_, "[", i, "]"));
}

std::vector<Node> Node::elements() const {
  std::vector<Node> out;
  for (size_t i = 0, n = size(); i < n; ++i) out.push_back(at(i));
  return out;
}

bool Node::boolean() const {
  if (!tnode(node_).is_boolean()) fail_kind("a boolean");
  return *tnode(node_).value<bool>();
}

int64_t Node::integer() const {
  if (!tnode(node_).is_integer()) fail_kind("an integer");
  return *tnode(node_).value<int64_t>();
}

double Node::number() const {
  const toml::node& n = tnode(node_);
  if (n.is_integer()) return static_cast<double>(*n.value<int64_t>());
  if (!n.is_floating_point()) fail_kind("a number");
  return *n.value<double>();
}

std::string Node::string() const {
  if (!tnode(node_).is_string()) fail_kind("a string");
  return *tnode(node_).value<std::string>();
}

size_t Node::choice(std::span<const std::string_view> names) const {
  std::string listed;
  for (const auto name : names) listed += str(listed.empty() ? "" : ", ", "\"", name, "\"");
  if (!tnode(node_).is_string()) fail_kind(str("one of ", listed));
  const std::string s = string();
  const auto it = std::find(names.begin(), names.end(), s);
  if (it != names.end()) return static_cast<size_t>(it - names.begin());
  fail(str("expected one of ", listed, ", got \"", s, "\""));
}

void Node::check_all_used() const {
  std::vector<Unused> unused;
  collect_unused(*doc_, tnode(node_), path_, unused);
  if (unused.empty()) return;
  // In the order of the sources, and of lines in each (tables iterate in key order).
  const auto order = [&](const toml::source_region& r) {
    const auto& sources = doc_->sources;
    const auto it = r.path ? std::find(sources.begin(), sources.end(), *r.path) : sources.end();
    return std::tuple(it - sources.begin(), r.begin.line, r.begin.column);
  };
  std::stable_sort(unused.begin(), unused.end(), [&](const Unused& a, const Unused& b) {
    return order(a.source) < order(b.source);
  });
  std::string message;
  for (const auto& u : unused) message += (message.empty() ? "" : "\n") + u.line;
  throw Error(message);
}

} // namespace splat::train::config
