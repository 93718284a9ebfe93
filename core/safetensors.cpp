// safetensors I/O (format and guarantees in core/safetensors.h). The JSON header is parsed by the
// small strict parser below, which knows only what a header holds: objects, arrays, strings and
// integers. Byte positions in its errors count from the first header byte (file offset 8).
#include "core/safetensors.h"

#include "core/atomic_file.h"
#include "core/json_writer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/stat.h>

namespace splat {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

constexpr std::pair<DType, std::string_view> kDTypeCodes[] = {
    {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::i64, "I64"},
    {DType::i32, "I32"}, {DType::u8, "U8"},   {DType::b8, "BOOL"},
};
static_assert(std::size(kDTypeCodes) == kNumDTypes, "one safetensors dtype code per DType");

std::string_view dtype_code(DType t) {
  for (const auto& [dt, code] : kDTypeCodes)
    if (dt == t) return code;
  throw Error(str("safetensors: no dtype code for ", t));
}

std::optional<DType> dtype_from_code(std::string_view code) {
  for (const auto& [dt, c] : kDTypeCodes)
    if (c == code) return dt;
  return std::nullopt;
}

// Position of the first byte that breaks UTF-8 (overlong forms, surrogates and code points above
// U+10FFFF included), or npos. The format requires a UTF-8 header.
size_t utf8_error(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c >> 5) == 0x6) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c >> 4) == 0xE) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c >> 3) == 0x1E) len = 4, cp = c & 0x07, min = 0x10000;
    else return i;
    if (len > s.size() - i) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return i;
      cp = cp << 6 | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// ---- JSON ------------------------------------------------------------------------------------

struct JsonMember;

struct Json {
  enum class Kind : uint8_t { object, array, string, integer };
  Kind kind = Kind::integer;
  size_t pos = 0;                    // header byte where the value starts
  std::string text;                  // string
  int64_t integer = 0;               // integer
  std::vector<Json> items;           // array
  std::vector<JsonMember> members;   // object, in file order
};

struct JsonMember {
  std::string key;
  Json value;
};

std::string_view kind_name(Json::Kind k) {
  switch (k) {
  case Json::Kind::object: return "an object";
  case Json::Kind::array: return "an array";
  case Json::Kind::string: return "a string";
  case Json::Kind::integer: return "an integer";
  }
  return "a value";
}

class JsonParser {
public:
  JsonParser(std::string_view text, std::string_view where) : s_(text), where_(where) {}

  // One value, then nothing but whitespace (the format pads headers with spaces).
  Json parse_document() {
    Json v = parse_value(0);
    skip_ws();
    if (pos_ < s_.size()) fail("unexpected ", current(), " after the top-level value");
    return v;
  }

private:
  static constexpr int kMaxDepth = 32;  // a header needs 3; bounds the recursion

  template <class... A> [[noreturn]] void fail_at(size_t pos, A&&... a) const {
    throw Error(str(where_, ": invalid JSON header at byte ", pos, ": ", std::forward<A>(a)...));
  }
  template <class... A> [[noreturn]] void fail(A&&... a) const {
    fail_at(pos_, std::forward<A>(a)...);
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  // The character at the cursor, for messages.
  std::string current() const {
    if (at_end()) return "end of header";
    const auto c = static_cast<unsigned char>(s_[pos_]);
    if (c >= 0x20 && c < 0x7F) return str("'", static_cast<char>(c), "'");
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }

  void skip_ws() {
    for (char c = peek(); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek()) ++pos_;
  }

  void expect(char c, std::string_view context) {
    skip_ws();
    if (peek() != c) fail("expected '", c, "' ", context, ", got ", current());
    ++pos_;
  }

  Json parse_value(int depth) {
    skip_ws();
    if (depth > kMaxDepth) fail("values nested deeper than ", kMaxDepth, " levels");
    Json v;
    v.pos = pos_;
    const char c = peek();
    if (at_end()) {
      fail("unexpected end of header, expected a value");
    } else if (c == '{') {
      v.kind = Json::Kind::object;
      parse_object(v, depth);
    } else if (c == '[') {
      v.kind = Json::Kind::array;
      parse_array(v, depth);
    } else if (c == '"') {
      v.kind = Json::Kind::string;
      v.text = parse_string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Json::Kind::integer;
      v.integer = parse_integer();
    } else {
      fail("unexpected ", current(),
           "; a safetensors header holds only objects, arrays, strings and integers");
    }
    return v;
  }

  void parse_object(Json& v, int depth) {
    ++pos_;
    std::set<std::string, std::less<>> seen;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      if (peek() != '"') fail("expected a string key, got ", current());
      const size_t key_pos = pos_;
      std::string key = parse_string();
      if (!seen.insert(key).second) fail_at(key_pos, "duplicate key \"", key, "\"");
      expect(':', "after an object key");
      Json value = parse_value(depth + 1);
      v.members.push_back({std::move(key), std::move(value)});
      skip_ws();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() == '}') {
        ++pos_;
        return;
      } else {
        fail("expected ',' or '}' after an object member, got ", current());
      }
    }
  }

  void parse_array(Json& v, int depth) {
    ++pos_;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return;
    }
    for (;;) {
      v.items.push_back(parse_value(depth + 1));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() == ']') {
        ++pos_;
        return;
      } else {
        fail("expected ',' or ']' after an array element, got ", current());
      }
    }
  }

  uint32_t parse_hex4() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k, ++pos_) {
      const char c = peek();
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else fail("expected 4 hex digits after \\u, got ", current());
      v = v << 4 | static_cast<uint32_t>(d);
    }
    return v;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    const size_t start = pos_++;
    std::string out;
    for (;;) {
      if (at_end()) fail_at(start, "unterminated string");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("unescaped control character ", current(), " in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      const size_t esc = pos_++;
      if (at_end()) fail_at(start, "unterminated string");
      const char e = s_[pos_++];
      switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = parse_hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(esc, "unpaired low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (s_.substr(pos_, 2) != "\\u") fail_at(esc, "high surrogate not followed by \\u");
          pos_ += 2;
          const uint32_t lo = parse_hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail_at(esc, "high surrogate not followed by a low one");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default: fail_at(esc, "invalid escape '\\", e, "'");
      }
    }
  }

  int64_t parse_integer() {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    const auto digit = [&] { return !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    if (!digit()) fail("expected a digit, got ", current());
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
      fail("leading zero in an integer");
    uint64_t mag = 0;
    for (; digit(); ++pos_) {
      const auto d = static_cast<uint64_t>(s_[pos_] - '0');
      if (mag > (static_cast<uint64_t>(INT64_MAX) - d) / 10)
        fail_at(start, "integer does not fit in 64 bits");
      mag = mag * 10 + d;
    }
    if (peek() == '.' || peek() == 'e' || peek() == 'E')
      fail("fractions and exponents do not appear in a safetensors header");
    const auto v = static_cast<int64_t>(mag);
    return s_[start] == '-' ? -v : v;
  }

  std::string_view s_;
  std::string_view where_;
  size_t pos_ = 0;
};

// ---- header <-> entries ----------------------------------------------------------------------

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  int64_t begin, end;  // byte range in the data buffer
};

std::vector<int64_t> non_negative_ints(const Json& v, const std::string& ctx,
                                       std::string_view field) {
  SPLAT_CHECK(v.kind == Json::Kind::array, ctx, ": '", field, "' must be an array, got ",
              kind_name(v.kind));
  std::vector<int64_t> out;
  for (const Json& item : v.items) {
    SPLAT_CHECK(item.kind == Json::Kind::integer, ctx, ": '", field,
                "' must hold integers, got ", kind_name(item.kind));
    SPLAT_CHECK(item.integer >= 0, ctx, ": '", field, "' holds the negative value ", item.integer);
    out.push_back(item.integer);
  }
  return out;
}

Entry parse_entry(const std::string& where, const JsonMember& m) {
  const std::string ctx = str(where, ": tensor '", m.key, "'");
  SPLAT_CHECK(m.value.kind == Json::Kind::object, ctx, ": expected an object, got ",
              kind_name(m.value.kind));
  const Json *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const JsonMember& f : m.value.members) {
    if (f.key == "dtype") dtype = &f.value;
    else if (f.key == "shape") shape = &f.value;
    else if (f.key == "data_offsets") offsets = &f.value;
    else throw Error(str(ctx, ": unexpected field '", f.key, "'"));
  }
  SPLAT_CHECK(dtype != nullptr, ctx, ": missing field 'dtype'");
  SPLAT_CHECK(shape != nullptr, ctx, ": missing field 'shape'");
  SPLAT_CHECK(offsets != nullptr, ctx, ": missing field 'data_offsets'");

  Entry e;
  e.name = m.key;
  SPLAT_CHECK(dtype->kind == Json::Kind::string, ctx, ": 'dtype' must be a string, got ",
              kind_name(dtype->kind));
  const std::optional<DType> dt = dtype_from_code(dtype->text);
  SPLAT_CHECK(dt.has_value(), ctx, ": unknown or unsupported dtype '", dtype->text,
              "' (supported: F32, F64, I64, I32, U8, BOOL)");
  e.dtype = *dt;
  e.shape = non_negative_ints(*shape, ctx, "shape");
  const std::vector<int64_t> range = non_negative_ints(*offsets, ctx, "data_offsets");
  SPLAT_CHECK(range.size() == 2, ctx, ": 'data_offsets' must hold [begin, end], got ",
              range.size(), " values");
  e.begin = range[0];
  e.end = range[1];
  SPLAT_CHECK(e.end >= e.begin, ctx, ": data_offsets [", e.begin, ", ", e.end,
              "] end before they begin");

  uint64_t need = itemsize(e.dtype);
  for (int64_t d : e.shape)
    SPLAT_CHECK(!__builtin_mul_overflow(need, static_cast<uint64_t>(d), &need), ctx, ": shape ",
                shape_str(e.shape), " is too large");
  SPLAT_CHECK(need == static_cast<uint64_t>(e.end - e.begin), ctx, ": data_offsets [", e.begin,
              ", ", e.end, "] span ", e.end - e.begin, " bytes but dtype ", dtype->text,
              " and shape ", shape_str(e.shape), " need ", need);
  return e;
}

// The entries' byte ranges, sorted by (begin, end), must tile the data buffer exactly: the format
// forbids holes (which could hide other content) and overlaps.
void check_coverage(const std::string& where, const std::vector<const Entry*>& sorted,
                    int64_t buffer) {
  for (const Entry* e : sorted)
    SPLAT_CHECK(e->end <= buffer, where, ": tensor '", e->name, "': data_offsets [", e->begin,
                ", ", e->end, "] exceed the data buffer of ", buffer, " bytes");
  int64_t cursor = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : sorted) {
    SPLAT_CHECK(e->begin >= cursor, where, ": tensors '", prev->name, "' [", prev->begin, ", ",
                prev->end, "] and '", e->name, "' [", e->begin, ", ", e->end, "] overlap");
    SPLAT_CHECK(e->begin == cursor, where, ": bytes [", cursor, ", ", e->begin,
                ") of the data buffer belong to no tensor (holes are not allowed)");
    cursor = e->end;
    prev = e;
  }
  SPLAT_CHECK(cursor == buffer, where, ": bytes [", cursor, ", ", buffer,
              ") of the data buffer belong to no tensor (holes are not allowed)");
}

// ---- files -----------------------------------------------------------------------------------

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

void read_exact(std::FILE* f, void* dst, size_t n, const std::string& where) {
  if (n == 0) return;
  if (std::fread(dst, 1, n, f) == n) return;
  SPLAT_CHECK(!std::ferror(f), where, ": read error: ", std::strerror(errno));
  throw Error(str(where, ": truncated: the file ended while reading ", n, " bytes"));
}

// t's elements in row-major order, as bytes. Dense tensors are written straight from storage;
// strided ones are gathered first (core cannot call ops::contiguous).
std::vector<char> gather_bytes(const Tensor& t) {
  const auto n = static_cast<size_t>(t.numel());
  const size_t isz = t.itemsize();
  std::vector<char> buf(n * isz);
  const auto* base = static_cast<const char*>(t.raw_data());
  const auto nd = static_cast<int64_t>(t.dim());
  Shape idx(static_cast<size_t>(nd), 0);
  int64_t off = 0;
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(buf.data() + i * isz, base + off * static_cast<int64_t>(isz), isz);
    for (int64_t d = nd - 1; d >= 0; --d) {
      off += t.strides()[d];
      if (++idx[d] < t.shape()[d]) break;
      off -= idx[d] * t.strides()[d];
      idx[d] = 0;
    }
  }
  return buf;
}

} // namespace

SafeTensors load_safetensors(const std::string& path) {
  const std::string where = str("load_safetensors: '", path, "'");
  FilePtr f(std::fopen(path.c_str(), "rb"));
  SPLAT_CHECK(f != nullptr, where, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  SPLAT_CHECK(::fstat(::fileno(f.get()), &st) == 0, where, ": cannot stat: ", std::strerror(errno));
  SPLAT_CHECK(S_ISREG(st.st_mode), where, ": not a regular file");
  const auto file_size = static_cast<uint64_t>(st.st_size);

  SPLAT_CHECK(file_size >= 8, where, ": truncated: the file has ", file_size,
              " bytes, fewer than the 8-byte header length");
  unsigned char len_bytes[8];
  read_exact(f.get(), len_bytes, 8, where);
  uint64_t header_len = 0;
  for (int k = 7; k >= 0; --k) header_len = header_len << 8 | len_bytes[k];
  SPLAT_CHECK(header_len <= file_size - 8, where, ": header length ", header_len,
              " exceeds the ", file_size - 8, " bytes that follow it in the file");

  std::string header(header_len, '\0');
  read_exact(f.get(), header.data(), header.size(), where);
  const size_t bad = utf8_error(header);
  SPLAT_CHECK(bad == std::string::npos, where, ": invalid JSON header at byte ", bad,
              ": not valid UTF-8");
  const Json root = JsonParser(header, where).parse_document();
  SPLAT_CHECK(root.kind == Json::Kind::object, where, ": the header must be a JSON object, got ",
              kind_name(root.kind));

  SafeTensors out;
  std::vector<Entry> entries;
  for (const JsonMember& m : root.members) {
    if (m.key != "__metadata__") {
      entries.push_back(parse_entry(where, m));
      continue;
    }
    SPLAT_CHECK(m.value.kind == Json::Kind::object, where, ": __metadata__ must be an object, got ",
                kind_name(m.value.kind));
    for (const JsonMember& kv : m.value.members) {
      SPLAT_CHECK(kv.value.kind == Json::Kind::string, where, ": metadata value of '", kv.key,
                  "' must be a string, got ", kind_name(kv.value.kind));
      out.metadata.emplace(kv.key, kv.value.text);
    }
  }

  const auto buffer = static_cast<int64_t>(file_size - 8 - header_len);
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  check_coverage(where, order, buffer);

  // The ranges tile the buffer, so reading them in offset order is one sequential pass.
  for (const Entry* e : order) {
    Tensor t = Tensor::empty(e->shape, e->dtype);
    const auto nbytes = static_cast<size_t>(e->end - e->begin);
    read_exact(f.get(), t.raw_data(), nbytes, str(where, ": tensor '", e->name, "'"));
    if (e->dtype == DType::b8) {
      // Any byte but 0 and 1 is not a valid C++ bool.
      const auto* p = static_cast<const unsigned char*>(t.raw_data());
      for (size_t i = 0; i < nbytes; ++i)
        SPLAT_CHECK(p[i] <= 1, where, ": tensor '", e->name, "': BOOL element ", i,
                    " has byte value ", static_cast<int>(p[i]), " (expected 0 or 1)");
    }
    out.tensors.emplace(e->name, std::move(t));
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string where = str("save_safetensors: '", path, "'");
  // Every check happens before the disk is touched.
  for (const auto& [name, t] : tensors) {
    SPLAT_CHECK(name != "__metadata__", where,
                ": the tensor name '__metadata__' is reserved for metadata");
    SPLAT_CHECK(utf8_error(name) == std::string::npos, where, ": tensor name '", name,
                "' is not valid UTF-8");
    SPLAT_CHECK(t.defined(), where, ": tensor '", name, "' is undefined");
    SPLAT_CHECK(t.device().is_cpu(), where, ": tensor '", name, "' is on ", t.device(),
                "; move it to the cpu first");
  }
  for (const auto& [key, value] : metadata)
    SPLAT_CHECK(utf8_error(key) == std::string::npos && utf8_error(value) == std::string::npos,
                where, ": metadata entry '", key, "' is not valid UTF-8");

  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it) {
      if (it != metadata.begin()) header += ',';
      append_json_string(header, it->first);
      header += ':';
      append_json_string(header, it->second);
    }
    header += '}';
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (header.size() > 1) header += ',';
    append_json_string(header, name);
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.itemsize();
    header += str(":{\"dtype\":\"", dtype_code(t.dtype()), "\",\"shape\":[");
    for (int64_t d = 0; d < t.dim(); ++d) header += str(d ? "," : "", t.shape()[d]);
    header += str("],\"data_offsets\":[", offset, ",", offset + nbytes, "]}");
    offset += nbytes;
  }
  header += '}';
  // Spaces after the JSON are allowed; they make the data buffer start 8-byte aligned.
  header.append((8 - (8 + header.size()) % 8) % 8, ' ');

  AtomicFile file(path, where);
  unsigned char len_bytes[8];
  for (int k = 0; k < 8; ++k) len_bytes[k] = static_cast<unsigned char>(header.size() >> (8 * k));
  file.write(len_bytes, 8);
  file.write(header.data(), header.size());
  for (const auto& [name, t] : tensors) {
    if (t.is_contiguous()) {
      file.write(t.raw_data(), static_cast<size_t>(t.numel()) * t.itemsize());
    } else {
      const std::vector<char> bytes = gather_bytes(t);
      file.write(bytes.data(), bytes.size());
    }
  }
  file.commit();
}

} // namespace splat
