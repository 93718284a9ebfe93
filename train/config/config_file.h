// Reading a training config: a TOML file (toml++), with optional base files.
//
// A file may start with `_base = "other.toml"` (or a list, `_base = ["a.toml", "b.toml"]`): the
// named files, relative to the including file, are read first (recursively) and merged under it.
// Later bases win over earlier ones and the including file wins over all of them; tables merge
// key by key, any other value (arrays included) is replaced whole, and a value cannot change kind
// (table, array, string, boolean, number) on the way. Every key keeps the place it was written,
// so errors name the file it came from. This lets the eight detector configs share one data and
// schedule file and differ in a few lines.
//
// Overrides ("key.path=value", the `--set` options of `splat train`) are applied after the bases,
// in order: the value is parsed as TOML (a bare word that is not TOML, e.g. `range` or a path, is
// a string) and replaces or inserts the value at the dotted key path; it cannot change the
// value's kind, and errors about what it set name the override ("--set data.workers=x: ...").
//
// Errors (splat::Error): a file that cannot be read ("configs/x.toml: cannot read config file:
// No such file or directory"), a TOML syntax error ("configs/x.toml:3:7: <toml++'s
// description>"), a bad or cyclic `_base`, and the merge conflicts above, each with file:line:col.
#pragma once

#include "train/config/config_node.h"

#include <span>
#include <string>
#include <string_view>

namespace splat::train::config {

// The root table of the config at `path`, bases merged, overrides applied.
Node load(const std::string& path, std::span<const std::string> overrides = {});

// The same for text already in memory; `name` stands for the file name in errors and is where
// `_base` paths are resolved from.
Node parse(std::string_view text, const std::string& name,
           std::span<const std::string> overrides = {});

} // namespace splat::train::config
