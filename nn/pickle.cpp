#include "nn/pickle.h"

#include "nn/byte_reader.h"

#include <unordered_map>

namespace splat::nn::pickle {

std::string_view kind_name(Kind k) {
  switch (k) {
  case Kind::none: return "None";
  case Kind::boolean: return "bool";
  case Kind::integer: return "int";
  case Kind::big_integer: return "int (big)";
  case Kind::floating: return "float";
  case Kind::string: return "str";
  case Kind::bytes: return "bytes";
  case Kind::tuple: return "tuple";
  case Kind::list: return "list";
  case Kind::dict: return "dict";
  case Kind::set: return "set";
  case Kind::global: return "global";
  case Kind::object: return "object";
  case Kind::opaque: return "opaque";
  }
  return "?";
}

namespace {

// Opcodes (Python's Lib/pickletools.py documents each).
enum Op : uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', FLOAT = 'F', INT = 'I',
  BININT = 'J', BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N', PERSID = 'P',
  BINPERSID = 'Q', REDUCE = 'R', STRING = 'S', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  UNICODE = 'V', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd',
  EMPTY_DICT = '}', APPENDS = 'e', GET = 'g', BINGET = 'h', LONG_BINGET = 'j', LIST = 'l',
  EMPTY_LIST = ']', PUT = 'p', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't',
  EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G', PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85,
  TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
  BINBYTES = 'B', SHORT_BINBYTES = 'C', SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96,
};

ValuePtr make(Kind k) {
  auto v = std::make_shared<Value>();
  v->kind = k;
  return v;
}
ValuePtr make_int(int64_t i) {
  auto v = make(Kind::integer);
  v->integer = i;
  return v;
}
ValuePtr make_text(Kind k, std::string s) {
  auto v = make(k);
  v->text = std::move(s);
  return v;
}

class Machine {
public:
  Machine(std::span<const uint8_t> bytes, uint64_t pos, const std::string& name, const Hooks& hooks)
      : in_(bytes, name, pos), name_(name), hooks_(hooks) {}

  ValuePtr run(uint64_t& end) {
    for (;;) {
      op_pos_ = in_.pos();
      op_ = in_.read<uint8_t>("opcode");
      if (op_ == STOP) {
        fail_unless(stack_.size() == 1 && marks_.empty(), "STOP with ", stack_.size(),
                    " values on the stack (expected 1)");
        end = in_.pos();
        return stack_.back();
      }
      step();
    }
  }

private:
  template <class... A> [[noreturn]] void fail(A&&... a) {
    throw Error(str(name_, ": pickle opcode 0x", std::hex, int(op_), std::dec, " at offset ",
                    op_pos_, ": ", std::forward<A>(a)...));
  }
  template <class... A> void fail_unless(bool ok, A&&... a) {
    if (!ok) [[unlikely]] fail(std::forward<A>(a)...);
  }

  ValuePtr pop() {
    fail_unless(stack_.size() > floor(), "stack underflow");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    fail_unless(stack_.size() > floor(), "stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // The values pushed since the last MARK, which is removed.
  std::vector<ValuePtr> pop_mark() {
    fail_unless(!marks_.empty(), "no MARK on the stack");
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + marks_.back()),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr tuple(std::vector<ValuePtr> items) {
    auto t = make(Kind::tuple);
    t->items = std::move(items);
    return t;
  }

  std::string read_line() {
    std::string s;
    for (char c; (c = static_cast<char>(in_.read<uint8_t>("text operand"))) != '\n';) s += c;
    return s;
  }
  uint64_t checked_length(uint64_t n) {
    fail_unless(n <= in_.remaining(), "length ", n, " exceeds the ", in_.remaining(), " remaining bytes");
    return n;
  }
  ValuePtr read_long(uint64_t n) {
    auto b = in_.take(checked_length(n), "long");
    if (n > 8) return make_text(Kind::big_integer, std::string(b.begin(), b.end()));
    uint64_t u = 0;
    for (uint64_t i = 0; i < n; ++i) u |= uint64_t(b[i]) << (8 * i);
    if (n > 0 && n < 8 && (b[n - 1] & 0x80)) u |= ~uint64_t(0) << (8 * n);  // sign-extend
    return make_int(static_cast<int64_t>(u));
  }
  ValuePtr global(std::string module, std::string name) {
    return make_text(Kind::global, module + "." + name);
  }
  uint64_t text_key() {
    const std::string s = read_line();
    fail_unless(!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 19,
                "bad memo key '", s, "'");
    return std::stoull(s);
  }
  void memo_put(uint64_t key) { memo_[key] = top(); }
  void memo_get(uint64_t key) {
    auto it = memo_.find(key);
    fail_unless(it != memo_.end(), "memo key ", key, " was never stored");
    push(it->second);
  }
  // The constructors protocol 2 uses for plain Python values: OrderedDict(), set(list),
  // frozenset(list) and _codecs.encode(str, 'latin1') for bytes.
  ValuePtr builtin(const std::string& fn, const std::vector<ValuePtr>& args) {
    if (fn == "collections.OrderedDict" && args.empty()) return make(Kind::dict);
    const bool set = fn == "builtins.set" || fn == "builtins.frozenset" || fn == "__builtin__.set" ||
                     fn == "__builtin__.frozenset";
    if (set && args.size() == 1 && args[0]->is(Kind::list)) {
      auto v = make(Kind::set);
      v->items = args[0]->items;
      return v;
    }
    if (fn == "_codecs.encode" && args.size() == 2 && args[0]->is(Kind::string) &&
        args[1]->is(Kind::string) && args[1]->text == "latin1")
      return make_text(Kind::bytes, latin1(args[0]->text));
    return nullptr;
  }
  // UTF-8 text whose code points are all below 256 -> one byte per code point.
  std::string latin1(const std::string& utf8) {
    std::string out;
    for (size_t i = 0; i < utf8.size(); ++i) {
      const auto c = static_cast<uint8_t>(utf8[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
        continue;
      }
      fail_unless((c & 0xe0) == 0xc0 && i + 1 < utf8.size() && c <= 0xc3, "bytes with a non-latin1 character");
      out += static_cast<char>(((c & 0x1f) << 6) | (static_cast<uint8_t>(utf8[++i]) & 0x3f));
    }
    return out;
  }

  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
    fail_unless(args->is(Kind::tuple), "REDUCE arguments are a ", kind_name(args->kind), ", not a tuple");
    if (callable->is(Kind::global)) {
      if (hooks_.reduce)
        if (ValuePtr v = hooks_.reduce(callable->text, args)) return v;
      if (ValuePtr v = builtin(callable->text, args->items)) return v;
    }
    auto obj = make(Kind::object);
    obj->text = callable->is(Kind::global) ? callable->text : str("<", kind_name(callable->kind), ">");
    obj->items = args->items;
    return obj;
  }
  void set_items(ValuePtr& target, std::vector<ValuePtr>&& kv) {
    fail_unless(kv.size() % 2 == 0, "odd number of values for SETITEMS");
    fail_unless(target->is(Kind::dict) || target->is(Kind::object), "SETITEM on a ",
                kind_name(target->kind));
    for (size_t i = 0; i < kv.size(); i += 2) target->entries.emplace_back(kv[i], kv[i + 1]);
  }
  void append_items(ValuePtr& target, std::vector<ValuePtr>&& items, Kind want) {
    fail_unless(target->is(want) || target->is(Kind::object), "cannot add items to a ",
                kind_name(target->kind));
    for (auto& v : items) target->items.push_back(std::move(v));
  }

  void step() {
    switch (op_) {
    case PROTO: {
      const int proto = in_.read<uint8_t>("protocol");
      fail_unless(proto >= 2 && proto <= 5, "unsupported pickle protocol ", proto);
      return;
    }
    case FRAME: in_.read<uint64_t>("frame size"); return;  // framing is only a read-ahead hint
    case MARK: marks_.push_back(stack_.size()); return;
    case POP: pop(); return;
    case POP_MARK: pop_mark(); return;
    case DUP: push(top()); return;
    case NONE: push(make(Kind::none)); return;
    case NEWTRUE:
    case NEWFALSE: {
      auto v = make(Kind::boolean);
      v->boolean = op_ == NEWTRUE;
      push(v);
      return;
    }
    case BININT: push(make_int(in_.read<int32_t>("int"))); return;
    case BININT1: push(make_int(in_.read<uint8_t>("int"))); return;
    case BININT2: push(make_int(in_.read<uint16_t>("int"))); return;
    case LONG1: push(read_long(in_.read<uint8_t>("long length"))); return;
    case LONG4: {
      const int32_t n = in_.read<int32_t>("long length");
      fail_unless(n >= 0, "negative length");
      push(read_long(static_cast<uint64_t>(n)));
      return;
    }
    case INT:
    case LONG: {
      std::string s = read_line();
      if (!s.empty() && s.back() == 'L') s.pop_back();
      if (s == "00" || s == "01") {  // protocol 0 booleans
        auto v = make(Kind::boolean);
        v->boolean = s == "01";
        push(v);
        return;
      }
      try {
        size_t used = 0;
        const long long i = std::stoll(s, &used);
        fail_unless(used == s.size(), "bad integer '", s, "'");
        push(make_int(i));
      } catch (const std::logic_error&) {
        fail("bad integer '", s, "'");
      }
      return;
    }
    case BINFLOAT: {
      // Big-endian IEEE double.
      auto b = in_.take(8, "float");
      uint64_t u = 0;
      for (int i = 0; i < 8; ++i) u = (u << 8) | b[i];
      auto v = make(Kind::floating);
      std::memcpy(&v->floating, &u, 8);
      push(v);
      return;
    }
    case FLOAT: {
      const std::string s = read_line();
      auto v = make(Kind::floating);
      try {
        v->floating = std::stod(s);
      } catch (const std::logic_error&) {
        fail("bad float '", s, "'");
      }
      push(v);
      return;
    }
    case BINUNICODE: push(make_text(Kind::string, in_.read_string(checked_length(in_.read<uint32_t>("length")), "str"))); return;
    case SHORT_BINUNICODE: push(make_text(Kind::string, in_.read_string(in_.read<uint8_t>("length"), "str"))); return;
    case BINUNICODE8: push(make_text(Kind::string, in_.read_string(checked_length(in_.read<uint64_t>("length")), "str"))); return;
    case UNICODE: push(make_text(Kind::string, read_line())); return;
    case BINSTRING: push(make_text(Kind::string, in_.read_string(checked_length(in_.read<uint32_t>("length")), "str"))); return;
    case SHORT_BINSTRING: push(make_text(Kind::string, in_.read_string(in_.read<uint8_t>("length"), "str"))); return;
    case BINBYTES: push(make_text(Kind::bytes, in_.read_string(checked_length(in_.read<uint32_t>("length")), "bytes"))); return;
    case SHORT_BINBYTES: push(make_text(Kind::bytes, in_.read_string(in_.read<uint8_t>("length"), "bytes"))); return;
    case BINBYTES8:
    case BYTEARRAY8: push(make_text(Kind::bytes, in_.read_string(checked_length(in_.read<uint64_t>("length")), "bytes"))); return;
    case EMPTY_TUPLE: push(tuple({})); return;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
      const size_t n = op_ - TUPLE1 + 1;
      fail_unless(stack_.size() >= floor() + n, "stack underflow");
      std::vector<ValuePtr> items(stack_.end() - n, stack_.end());
      stack_.resize(stack_.size() - n);
      push(tuple(std::move(items)));
      return;
    }
    case TUPLE: push(tuple(pop_mark())); return;
    case EMPTY_LIST: push(make(Kind::list)); return;
    case LIST: {
      auto l = make(Kind::list);
      l->items = pop_mark();
      push(l);
      return;
    }
    case EMPTY_DICT: push(make(Kind::dict)); return;
    case DICT: {
      auto d = make(Kind::dict);
      set_items(d, pop_mark());
      push(d);
      return;
    }
    case EMPTY_SET: push(make(Kind::set)); return;
    case FROZENSET: {
      auto s = make(Kind::set);
      s->items = pop_mark();
      push(s);
      return;
    }
    case APPEND: {
      ValuePtr v = pop();
      append_items(top(), {v}, Kind::list);
      return;
    }
    case APPENDS: {
      auto items = pop_mark();
      append_items(top(), std::move(items), Kind::list);
      return;
    }
    case ADDITEMS: {
      auto items = pop_mark();
      append_items(top(), std::move(items), Kind::set);
      return;
    }
    case SETITEM: {
      ValuePtr v = pop(), k = pop();
      set_items(top(), {k, v});
      return;
    }
    case SETITEMS: {
      auto kv = pop_mark();
      set_items(top(), std::move(kv));
      return;
    }
    case GLOBAL: {
      std::string module = read_line();
      push(global(std::move(module), read_line()));
      return;
    }
    case STACK_GLOBAL: {
      ValuePtr name = pop(), module = pop();
      fail_unless(name->is(Kind::string) && module->is(Kind::string), "STACK_GLOBAL needs two strings");
      push(global(module->text, name->text));
      return;
    }
    case REDUCE: {
      ValuePtr args = pop(), callable = pop();
      push(reduce(callable, args));
      return;
    }
    case NEWOBJ: {
      ValuePtr args = pop(), cls = pop();
      push(reduce(cls, args));
      return;
    }
    case NEWOBJ_EX: {
      pop();  // keyword arguments: irrelevant for opaque objects
      ValuePtr args = pop(), cls = pop();
      push(reduce(cls, args));
      return;
    }
    case BUILD: {
      ValuePtr state = pop();
      ValuePtr& obj = top();
      // A dict's BUILD state is its attributes (torch's `_metadata` on state dicts): dropped.
      if (!obj->is(Kind::dict)) obj->state = state;
      return;
    }
    case BINPERSID:
    case PERSID: {
      ValuePtr pid = op_ == BINPERSID ? pop() : make_text(Kind::string, read_line());
      fail_unless(bool(hooks_.persistent_load), "persistent id without a loader");
      push(hooks_.persistent_load(pid));
      return;
    }
    case PUT: memo_put(text_key()); return;
    case BINPUT: memo_put(in_.read<uint8_t>("memo key")); return;
    case LONG_BINPUT: memo_put(in_.read<uint32_t>("memo key")); return;
    case MEMOIZE: memo_put(memo_.size()); return;
    case GET: memo_get(text_key()); return;
    case BINGET: memo_get(in_.read<uint8_t>("memo key")); return;
    case LONG_BINGET: memo_get(in_.read<uint32_t>("memo key")); return;
    default: fail("unsupported opcode");
    }
  }

  ByteReader in_;
  const std::string& name_;
  const Hooks& hooks_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
  uint8_t op_ = 0;
  uint64_t op_pos_ = 0;
};

} // namespace

ValuePtr load(std::span<const uint8_t> bytes, uint64_t& pos, const std::string& name, const Hooks& hooks) {
  Machine m(bytes, pos, name, hooks);
  return m.run(pos);
}

} // namespace splat::nn::pickle
