// The config reader's operations on toml++ trees: where a node was written, how errors name its
// kind and key path, and merging one tree into another (`_base` files and `--set` overrides).
// Included by train/config/*.cpp only: toml++ stays out of the public headers (design.md 5b).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

namespace splat::train::config::detail {

// A parse source name that marks an override: errors name the override ("--set a.b=1") alone,
// without a line and column.
inline constexpr std::string_view kOverridePrefix = "--set ";

// "file:line:col" of a region ("file" alone when it has no position; the override text for an
// override).
std::string where(const toml::source_region& region);

// The kind of a node as errors name it: table, array, string, integer, float, boolean, date,
// time, date-time.
std::string_view kind_name(const toml::node& node);

// The key path of `key` inside the table at `parent` ("" for the root): parent.key, with the key
// quoted as in TOML when it is not a bare key.
std::string join_key(std::string_view parent, std::string_view key);

// Which side keeps a key that both trees of a merge have.
enum class Winner { into, from };

// mmengine's `_delete_=True`: a table of a derived config holding `_delete = true` replaces its
// base's table of that name whole instead of merging with it (e.g. an AdamW [schedule] over an
// SGD base, whose momentum and nesterov keys would otherwise remain).
constexpr std::string_view kDeleteKey = "_delete";

// Moves the keys of `from` into `into` (source regions travel with the moved nodes, so errors
// still name the file each key came from). Tables present on both sides merge key by key, unless
// `into` wins and its table holds `_delete = true` (then `from`'s table is dropped); for
// any other key on both sides the winner's value stays, whole (arrays are not merged). The two
// values must be of one kind (integer and float count as one), else Error
//   "<winner's where>: <path>: a string cannot replace the integer at <loser's where>".
// `path` is the key path of the two tables.
void merge(toml::table& into, toml::table&& from, Winner winner, std::string_view path = "");

// Removes every `_delete` key of the tree once its bases are merged, so that it does not reach
// the config readers (or the next merge). Error unless each one is `true`.
void strip_delete_keys(toml::table& t);

} // namespace splat::train::config::detail
