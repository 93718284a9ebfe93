// Reading JSON with simdjson's on-demand API and messages that name the file and the JSON path
// of the offending value ("data/ann.json: annotations[17].bbox: width -3 is negative"): the
// helpers the COCO annotation reader (data/coco.cpp) and the COCO results reader
// (train/eval/detection_results.cpp) share. Include it from .cpp files only (simdjson is heavy).
#pragma once

#include "core/error.h"
#include "data/masks.h"

#include <simdjson.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace splat::data::json {

namespace od = simdjson::ondemand;

// A path below the current element: name, name[i] or name[i][j]. Rendered only for messages,
// as building strings per coordinate would dominate the load time.
struct Field {
  std::string_view name;
  int64_t i = -1, j = -1;
  Field(const char* n) : name(n) {}
  Field(std::string_view n, int64_t i_ = -1, int64_t j_ = -1) : name(n), i(i_), j(j_) {}
  Field at(size_t k) const {
    const auto kk = static_cast<int64_t>(k);
    return i < 0 ? Field(name, kk) : Field(name, i, kk);
  }
  std::string render() const {
    std::string r(name);
    if (i >= 0) r += str("[", i, "]");
    if (j >= 0) r += str("[", j, "]");
    return r;
  }
};

// Where the value being read sits, for messages: "images[3].height".
struct Where {
  const std::string& file;
  std::string_view array; // top-level array ("images", ...); empty for the root
  size_t index = 0;

  std::string path(const Field& field) const {
    const std::string base = array.empty() ? std::string() : str(array, "[", index, "]");
    const std::string f = field.render();
    if (f.empty()) return base.empty() ? std::string("top level") : base;
    if (base.empty()) return f;
    return str(base, f.front() == '[' ? "" : ".", f);
  }
  [[noreturn]] void fail(const Field& field, const std::string& msg) const {
    throw Error(str(file, ": ", path(field), ": ", msg));
  }
};

// What was found instead, for messages: "an object", "an array" or the token itself.
inline std::string token_of(od::value& v) {
  od::json_type t = od::json_type::null;
  if (v.type().get(t) == simdjson::SUCCESS) {
    if (t == od::json_type::object) return "an object";
    if (t == od::json_type::array) return "an array";
  }
  std::string_view token = v.raw_json_token();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
    token.remove_suffix(1);
  return token.size() > 40 ? str(token.substr(0, 40), "...") : std::string(token);
}

inline void check_ok(simdjson::error_code e, const Where& w, const Field& field) {
  if (e != simdjson::SUCCESS)
    w.fail(field, str("malformed JSON (", simdjson::error_message(e), ")"));
}

// Typed reads: a wrong type names what was expected and what was found.
template <class T> constexpr const char* kind_name() {
  if constexpr (std::is_same_v<T, int64_t>) return "an integer";
  if constexpr (std::is_same_v<T, double>) return "a number";
  if constexpr (std::is_same_v<T, std::string_view>) return "a string";
  if constexpr (std::is_same_v<T, od::array>) return "an array";
  if constexpr (std::is_same_v<T, od::object>) return "an object";
}
template <class T> T read(od::value& v, const Where& w, const Field& field) {
  T x{};
  if (v.get<T>().get(x) != simdjson::SUCCESS)
    w.fail(field, str("expected ", kind_name<T>(), ", got ", token_of(v)));
  return x;
}
inline od::json_type type_of(od::value& v, const Where& w, const Field& field) {
  od::json_type t = od::json_type::null;
  check_ok(v.type().get(t), w, field);
  return t;
}
// 0/1 or false/true (COCO writes integers; other tools booleans).
inline bool read_flag(od::value& v, const Where& w, const Field& field) {
  const od::json_type t = type_of(v, w, field);
  if (t == od::json_type::boolean) {
    bool b = false;
    check_ok(v.get_bool().get(b), w, field);
    return b;
  }
  int64_t x = 0;
  if (t != od::json_type::number || v.get_int64().get(x) != simdjson::SUCCESS || (x != 0 && x != 1))
    w.fail(field, str("expected 0, 1, false or true, got ", token_of(v)));
  return x == 1;
}

// Calls f(key, value) for each field of an object.
template <class F> void for_each_field(od::object& obj, const Where& w, F&& f) {
  for (auto field_result : obj) {
    od::field field;
    check_ok(std::move(field_result).get(field), w, "");
    std::string_view key;
    check_ok(field.unescaped_key().get(key), w, "");
    f(key, field.value());
  }
}
// Calls f(index, value) for each element of an array.
template <class F>
void for_each_element(od::array& arr, const Where& w, const Field& field, F&& f) {
  size_t i = 0;
  for (auto element : arr) {
    od::value v;
    check_ok(std::move(element).get(v), w, field.at(i));
    f(i++, v);
  }
}

// Required fields: a bit per field, checked after the object.
template <size_t N> struct Required {
  std::array<std::string_view, N> names;
  uint32_t seen = 0;
  void mark(size_t bit) { seen |= 1u << bit; }
  void check(const Where& w) const {
    size_t bit = 0;
    for (std::string_view n : names) {
      if (!(seen & (1u << bit))) w.fail("", str("missing field \"", n, "\""));
      ++bit;
    }
  }
};

// A COCO box [x, y, w, h] at `name` (4 numbers, w and h non-negative).
inline BoxXywh read_bbox(od::value& v, const Where& w, std::string_view name = "bbox") {
  BoxXywh b{};
  od::array arr = read<od::array>(v, w, name);
  size_t n = 0;
  for_each_element(arr, w, name, [&](size_t i, od::value& x) {
    const double value = read<double>(x, w, Field(name, static_cast<int64_t>(i)));
    if (i < 4) b[i] = value;
    ++n;
  });
  if (n != 4) w.fail(name, str("expected 4 numbers [x, y, w, h], got ", n));
  if (b[2] < 0) w.fail(name, str("width ", b[2], " is negative"));
  if (b[3] < 0) w.fail(name, str("height ", b[3], " is negative"));
  return b;
}

// A COCO RLE object {"size": [h, w], "counts": "compressed" or [ints]} at "segmentation",
// checked (counts sum to h * w).
inline Rle read_rle(od::value& v, const Where& w) {
  od::object o = read<od::object>(v, w, "segmentation");
  Required<2> req{{"counts", "size"}};
  std::string compressed;
  std::vector<uint32_t> counts;
  int64_t h = 0, wd = 0;
  bool is_string = false;
  for_each_field(o, w, [&](std::string_view key, od::value x) {
    if (key == "size") {
      req.mark(1);
      od::array a = read<od::array>(x, w, "segmentation.size");
      size_t n = 0;
      for_each_element(a, w, "segmentation.size", [&](size_t i, od::value& s) {
        const int64_t value =
            read<int64_t>(s, w, Field("segmentation.size", static_cast<int64_t>(i)));
        (i == 0 ? h : wd) = value;
        ++n;
      });
      if (n != 2) w.fail("segmentation.size", str("expected [height, width], got ", n, " numbers"));
    } else if (key == "counts") {
      req.mark(0);
      if (type_of(x, w, "segmentation.counts") == od::json_type::string) {
        is_string = true;
        compressed = read<std::string_view>(x, w, "segmentation.counts");
      } else {
        od::array a = read<od::array>(x, w, "segmentation.counts");
        for_each_element(a, w, "segmentation.counts", [&](size_t i, od::value& c) {
          const int64_t value =
              read<int64_t>(c, w, Field("segmentation.counts", static_cast<int64_t>(i)));
          if (value < 0 || value > std::numeric_limits<uint32_t>::max())
            w.fail(Field("segmentation.counts", static_cast<int64_t>(i)),
                   str("count ", value, " is out of range"));
          counts.push_back(static_cast<uint32_t>(value));
        });
      }
    }
  });
  req.check(w);
  Rle rle{h, wd, {}};
  try {
    rle = is_string ? rle_from_string(compressed, h, wd) : Rle{h, wd, std::move(counts)};
    check_rle(rle, "RLE");
  } catch (const Error& e) {
    w.fail("segmentation", e.what());
  }
  return rle;
}

} // namespace splat::data::json
