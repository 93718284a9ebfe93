// A Python pickle reader for the subset torch.save uses (spec section 7.2): protocols 2-5, the
// opcodes of state dicts and of arbitrary `meta` values. It builds a tree of Values without
// executing anything: a GLOBAL is only a name, and REDUCE/NEWOBJ of a global produce an opaque
// Object recording the callable and its arguments, except for the few constructors a checkpoint
// needs, which the caller interprets (see nn/pth.cpp). Persistent ids (torch's storages) are
// handed to a callback.
//
// Every malformed input (truncation, stack underflow, unknown opcode, memo miss, wrong operand
// types) throws an Error naming the file, the opcode and its byte offset.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace splat::nn::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

enum class Kind {
  none,
  boolean,
  integer,      // fits int64
  big_integer,  // LONG1/LONG4 wider than 8 bytes: little-endian two's complement in `text`
  floating,
  string,       // UTF-8 in `text`
  bytes,        // raw in `text`
  tuple,        // `items`
  list,         // `items`
  dict,         // `entries`, in insertion order
  set,          // `items`
  global,       // "module.name" in `text`
  object,       // REDUCE/NEWOBJ of `text` (the callable's name) with `items` = its arguments;
                // `state` from BUILD; SETITEMS/APPENDS on it fill `entries`/`items` after the args
  opaque,       // what the persistent-id callback or a REDUCE hook returned; see `payload`
};

struct Value {
  Kind kind = Kind::none;
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0;
  std::string text;
  std::vector<ValuePtr> items;
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;
  ValuePtr state;
  std::shared_ptr<void> payload;  // for `opaque`: owned by the code that created it

  bool is(Kind k) const { return kind == k; }
};

std::string_view kind_name(Kind k);

struct Hooks {
  // BINPERSID/PERSID: the persistent id -> the value to push.
  std::function<ValuePtr(const ValuePtr& pid)> persistent_load;
  // REDUCE of a global named `callable` with `args` (a tuple): return a value to use it instead
  // of an opaque Object, or nullptr to keep the Object.
  std::function<ValuePtr(const std::string& callable, const ValuePtr& args)> reduce;
};

// Unpickles one object starting at `pos` in `bytes`; sets `pos` to just past its STOP opcode
// (the legacy .pth container is several pickles back to back).
ValuePtr load(std::span<const uint8_t> bytes, uint64_t& pos, const std::string& name,
              const Hooks& hooks = {});

} // namespace splat::nn::pickle
