// A typed, checked view over a parsed configuration file (TOML, train/config/config_file.h).
//
// A Node is one value of the file - a table, an array or a scalar - that remembers its dotted key
// path ("data.train.scales[1]") and where it was written. Bindings read a config through it:
//   - require<T>(key): the key must be present (a missing key is an error at the enclosing
//     table's line); get<T>(key, fallback): only for values the spec does not set;
//   - T: bool, int64_t and the other integer types (range-checked), double (an integer literal
//     is accepted), std::string, std::vector<T> and std::array<T, N> (a fixed-length tuple such
//     as [1333, 800]) of those, nested ([[1333, 640], [1333, 800]] is a vector<array<int64_t, 2>>);
//   - table(key) / array(key) / at(i) for sub-tables and arrays (arrays of tables included);
//   - require_enum(key, names): a string that must be one of the listed names.
// Every key looked up is marked used; check_all_used() then reports every key of the subtree that
// no binding read, all at once, so a misspelt key can never be silently ignored.
//
// Every error is a splat::Error of the form
//   configs/x.toml:12:5: model.rpn.anchor.ratios: expected an array of numbers, got string
// (file:line:column of the offending value; for a key set by an override, the override itself:
// "--set data.workers=4: data.workers: ..."). Node is a cheap handle sharing the parsed document;
// it is not thread-safe.
#pragma once

#include "core/error.h"

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace splat::train::config {

struct Document; // the parsed tree and its bookkeeping (train/config/document.h)

enum class Kind { table, array, string, integer, floating, boolean, date, time, date_time };

// One allowed spelling of an enum value, for require_enum: {"range", MultiscaleMode::range}.
template <class E> struct EnumName {
  std::string_view name;
  E value;
};

class Node {
public:
  Kind kind() const;
  // The dotted key path ("" for the document root) and "file:line:col" of this value.
  const std::string& path() const { return path_; }
  std::string where() const;
  // Throws splat::Error "where: path: message".
  [[noreturn]] void fail(std::string_view message) const;
  // Returns f(), rethrowing a splat::Error it throws as fail(what): for checks that live with the
  // structs a binding fills (a pipeline's constructor), located at the table they came from.
  template <class F> decltype(auto) locate_errors(F&& f) const {
    try {
      return f();
    } catch (const Error& e) {
      fail(e.what());
    }
  }

  // ---- tables ----
  // Whether the key is present (does not mark it used). Every lookup below marks what it finds
  // used.
  bool has(std::string_view key) const;
  // The value at key, of any kind; missing -> error. find(): nullopt when missing.
  Node child(std::string_view key) const;
  std::optional<Node> find(std::string_view key) const;
  Node table(std::string_view key) const; // a required sub-table
  Node array(std::string_view key) const; // a required array
  template <class T> T require(std::string_view key) const { return child(key).as<T>(); }
  template <class T> T get(std::string_view key, T fallback) const {
    const auto n = find(key);
    return n ? n->as<T>() : std::move(fallback);
  }
  template <class E>
  E require_enum(std::string_view key, std::span<const EnumName<E>> names) const {
    return child(key).as_enum(names);
  }
  template <class E>
  E get_enum(std::string_view key, E fallback, std::span<const EnumName<E>> names) const {
    const auto n = find(key);
    return n ? n->as_enum(names) : fallback;
  }

  // ---- arrays ----
  size_t size() const;     // number of elements (an array; error otherwise)
  Node at(size_t i) const; // element i (marked used)
  std::vector<Node> elements() const;

  // ---- values ----
  template <class T> T as() const;
  template <class E> E as_enum(std::span<const EnumName<E>> names) const {
    std::vector<std::string_view> spelled;
    for (const auto& n : names) spelled.push_back(n.name);
    return names[choice(spelled)].value;
  }
  // Raw accessors behind as<T>(): each checks the kind and reports "expected <what>, got <kind>".
  bool boolean() const;
  int64_t integer() const;
  double number() const; // integer or float
  std::string string() const;
  // Throws "expected <expected>, got <kind of this value>".
  [[noreturn]] void fail_kind(std::string_view expected) const;
  // The position of this string in `names`, else an error listing them.
  size_t choice(std::span<const std::string_view> names) const;

  // Every key in this node's subtree that was never looked up is reported in one Error, one line
  // each in file order: "where: path: unknown key (parent takes: a, b, c)", listing the keys the
  // bindings asked the parent table for. A key never looked up is reported alone, not its content.
  void check_all_used() const;

private:
  friend struct Document;
  Node(std::shared_ptr<Document> doc, const void* node, std::string path)
      : doc_(std::move(doc)), node_(node), path_(std::move(path)) {}
  const void* table_or_fail() const;

  std::shared_ptr<Document> doc_;
  const void* node_; // a const toml::node* (toml++ stays out of public headers, design.md 5b)
  std::string path_;
};

// ---- as<T>() ------------------------------------------------------------------------------------

namespace detail {

template <class T> struct Codec; // how a C++ type is read from a Node, and how errors name it

template <> struct Codec<bool> {
  static constexpr std::string_view one = "a boolean", many = "booleans";
  static bool read(const Node& n) { return n.boolean(); }
};
template <> struct Codec<double> {
  static constexpr std::string_view one = "a number", many = "numbers";
  static double read(const Node& n) { return n.number(); }
};
template <> struct Codec<std::string> {
  static constexpr std::string_view one = "a string", many = "strings";
  static std::string read(const Node& n) { return n.string(); }
};
template <std::integral T>
requires(!std::same_as<T, bool>) struct Codec<T> {
  static constexpr bool kUnsigned = std::is_unsigned_v<T>;
  static constexpr std::string_view one = kUnsigned ? "a non-negative integer" : "an integer";
  static constexpr std::string_view many = kUnsigned ? "non-negative integers" : "integers";
  static T read(const Node& n) {
    const int64_t v = n.integer();
    constexpr auto lo = std::numeric_limits<T>::min();
    constexpr auto hi = std::numeric_limits<T>::max();
    if (std::cmp_less(v, lo) || std::cmp_greater(v, hi))
      n.fail(str("expected an integer in [", +lo, ", ", +hi, "], got ", v));
    return static_cast<T>(v);
  }
};
template <class T> struct Codec<std::vector<T>> {
  static inline const std::string one = str("an array of ", Codec<T>::many);
  static inline const std::string many = str("arrays of ", Codec<T>::many);
  static std::vector<T> read(const Node& n) {
    if (n.kind() != Kind::array) n.fail_kind(one);
    std::vector<T> out;
    for (size_t i = 0, size = n.size(); i < size; ++i) out.push_back(Codec<T>::read(n.at(i)));
    return out;
  }
};
template <class T, size_t N> struct Codec<std::array<T, N>> {
  static inline const std::string one = str("an array of ", N, " ", Codec<T>::many);
  static inline const std::string many = str("arrays of ", N, " ", Codec<T>::many);
  static std::array<T, N> read(const Node& n) {
    if (n.kind() != Kind::array) n.fail_kind(one);
    if (n.size() != N) n.fail(str("expected ", one, ", got ", n.size(), " elements"));
    std::array<T, N> out{};
    for (size_t i = 0; i < N; ++i) out[i] = Codec<T>::read(n.at(i));
    return out;
  }
};

} // namespace detail

template <class T> T Node::as() const { return detail::Codec<T>::read(*this); }

} // namespace splat::train::config
