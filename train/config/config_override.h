// `--set KEY=VALUE` overrides of a parsed config (train/config/config_file.h applies them).
// Internal to train/config/ (toml++ types).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

namespace splat::train::config::detail {

// Applies one override "key.path=value" to `root`: VALUE is parsed as a TOML value (a bare word
// that is not one, such as `value` or `/data/coco`, is taken as a string) and replaces the value
// at the dotted key path, or is inserted there with any missing tables. Tables merge key by key
// ({...} inline tables too); a value cannot change kind. Errors name the override:
//   "--set data.workers=x: data.workers: a string cannot replace the integer at cfg.toml:3:11".
// Keys inside arrays of tables cannot be reached (TOML key syntax has no indices).
void apply_override(toml::table& root, std::string_view text);

// The source name of what an override sets: "--set " + text.
std::string override_name(std::string_view text);

} // namespace splat::train::config::detail
