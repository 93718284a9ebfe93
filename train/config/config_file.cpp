#include "train/config/config_file.h"

#include "train/config/config_override.h"
#include "train/config/document.h"
#include "train/config/toml_tree.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace splat::train::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBaseKey = "_base";

// The file's text, or nullopt with errno's reason in `why`.
std::optional<std::string> read_text(const std::string& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path)) {
    why = fs::is_directory(path) ? "is a directory" : std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

toml::table parse_toml(std::string_view text, const std::string& name) {
  try {
    return toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& e) {
    throw Error(str(detail::where(e.source()), ": ", e.description()));
  }
}

struct BaseRef {
  std::string name;
  toml::source_region source;
};

// Removes `_base` from the table and returns the files it names, in order.
std::vector<BaseRef> take_bases(toml::table& t) {
  const auto it = t.find(kBaseKey);
  if (it == t.end()) return {};
  std::vector<BaseRef> bases;
  const toml::node& v = it->second;
  const auto bad = [&] {
    throw Error(str(detail::where(v.source()), ": ", kBaseKey,
                    ": expected a file name or an array of file names, got ",
                    detail::kind_name(v)));
  };
  if (v.is_string()) {
    bases.push_back({*v.value<std::string>(), v.source()});
  } else if (const toml::array* a = v.as_array()) {
    for (const toml::node& e : *a) {
      if (!e.is_string()) bad();
      bases.push_back({*e.value<std::string>(), e.source()});
    }
  } else {
    bad();
  }
  t.erase(it);
  return bases;
}

// Parses one file's text and merges its bases under it. `chain`: the files being read, outermost
// first (a base already on it is a cycle). Appends the names of the files read to `sources`: this
// one, then its bases in the order listed (each followed by its own bases).
toml::table read_tree(std::string_view text, const std::string& name, std::vector<fs::path>& chain,
                      std::vector<std::string>& sources) {
  toml::table t = parse_toml(text, name);
  sources.push_back(name);
  const size_t bases_at = sources.size();
  const std::vector<BaseRef> bases = take_bases(t);
  // The last base wins over earlier ones: merge it first, each earlier one only fills gaps.
  for (auto b = bases.rbegin(); b != bases.rend(); ++b) {
    const fs::path file = fs::path(name).parent_path() / b->name;
    const fs::path canonical = fs::weakly_canonical(file);
    if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
      std::string cycle;
      for (const auto& p : chain) cycle += p.filename().string() + " -> ";
      throw Error(str(detail::where(b->source), ": ", kBaseKey, ": \"", b->name,
                      "\" includes itself (", cycle, canonical.filename().string(), ")"));
    }
    std::string why;
    const auto base_text = read_text(file.string(), why);
    if (!base_text)
      throw Error(str(detail::where(b->source), ": ", kBaseKey, ": cannot read ", file.string(),
                      ": ", why));
    chain.push_back(canonical);
    std::vector<std::string> base_sources;
    toml::table base = read_tree(*base_text, file.string(), chain, base_sources);
    sources.insert(sources.begin() + static_cast<std::ptrdiff_t>(bases_at), base_sources.begin(),
                   base_sources.end());
    chain.pop_back();
    detail::merge(t, std::move(base), detail::Winner::into);
  }
  detail::strip_delete_keys(t);
  return t;
}

} // namespace

Node parse(std::string_view text, const std::string& name, std::span<const std::string> overrides) {
  std::vector<fs::path> chain{fs::weakly_canonical(name)};
  std::vector<std::string> sources;
  toml::table root = read_tree(text, name, chain, sources);
  for (const std::string& o : overrides) {
    detail::apply_override(root, o);
    sources.push_back(detail::override_name(o));
  }
  return Document::open(std::move(root), std::move(sources));
}

Node load(const std::string& path, std::span<const std::string> overrides) {
  std::string why;
  const auto text = read_text(path, why);
  if (!text) throw Error(str(path, ": cannot read config file: ", why));
  return parse(*text, path, overrides);
}

} // namespace splat::train::config
