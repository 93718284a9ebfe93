#include "nn/pth.h"

#include "nn/byte_reader.h"
#include "nn/zip_archive.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

namespace splat::nn {
namespace {

using pickle::Kind;
using pickle::Value;
using pickle::ValuePtr;

// The file mapped read-only: checkpoints are hundreds of MB and every tensor is copied out once.
class MappedFile {
public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    SPLAT_CHECK(fd >= 0, path, ": cannot open: ", std::strerror(errno));
    struct stat st {};
    const bool ok = ::fstat(fd, &st) == 0;
    size_ = ok ? static_cast<size_t>(st.st_size) : 0;
    if (ok && size_ > 0) data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    SPLAT_CHECK(ok && data_ != MAP_FAILED, path, ": cannot read: ", std::strerror(err));
  }
  ~MappedFile() {
    if (data_ != nullptr && data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const uint8_t> bytes() const {
    return {static_cast<const uint8_t*>(data_ == MAP_FAILED ? nullptr : data_), size_};
  }

private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// How a torch storage type is stored on disk and what it becomes here.
struct StorageType {
  const char* torch_name;
  size_t disk_bytes;  // per element in the file
  DType dtype;        // what splat holds it as
};
constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", 4, DType::f32}, {"torch.DoubleStorage", 8, DType::f64},
    {"torch.HalfStorage", 2, DType::f32},  {"torch.BFloat16Storage", 2, DType::f32},
    {"torch.LongStorage", 8, DType::i64},  {"torch.IntStorage", 4, DType::i32},
    {"torch.ShortStorage", 2, DType::i32}, {"torch.CharStorage", 1, DType::i32},
    {"torch.ByteStorage", 1, DType::u8},   {"torch.BoolStorage", 1, DType::b8},
};

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | (uint32_t(112 - e) << 23) | ((mant & 0x3ff) << 13);
  }
  return std::bit_cast<float>(bits);
}

// Converts numel elements of a storage from their on-disk form into dst (contiguous, its dtype).
void fill_storage(const StorageType& type, std::span<const uint8_t> src, const Tensor& dst) {
  const int64_t n = dst.numel();
  const std::string_view name = type.torch_name;
  auto widen = [&]<class From, class To>(auto convert) {
    To* out = static_cast<To*>(dst.raw_data());
    for (int64_t i = 0; i < n; ++i) {
      From v;
      std::memcpy(&v, src.data() + i * sizeof(From), sizeof(From));
      out[i] = convert(v);
    }
  };
  if (name == "torch.HalfStorage") {
    widen.operator()<uint16_t, float>(half_to_float);
  } else if (name == "torch.BFloat16Storage") {
    widen.operator()<uint16_t, float>([](uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); });
  } else if (name == "torch.ShortStorage") {
    widen.operator()<int16_t, int32_t>([](int16_t v) { return int32_t(v); });
  } else if (name == "torch.CharStorage") {
    widen.operator()<int8_t, int32_t>([](int8_t v) { return int32_t(v); });
  } else if (name == "torch.BoolStorage") {
    widen.operator()<uint8_t, bool>([](uint8_t v) { return v != 0; });  // any nonzero byte is true
  } else if (!src.empty()) {  // an empty storage has no buffer to copy into
    std::memcpy(dst.raw_data(), src.data(), src.size());
  }
}

// A storage of the file: its type and its (flat, contiguous) tensor, filled once its bytes are
// known (immediately for zip files, after the object pickle for legacy ones).
struct FileStorage {
  const StorageType* type;
  Tensor flat;
};

std::shared_ptr<FileStorage> storage_of(const Value& v) {
  return v.is(Kind::opaque) && v.text == "torch storage" ? std::static_pointer_cast<FileStorage>(v.payload) : nullptr;
}

ValuePtr opaque(std::string tag, std::shared_ptr<void> payload) {
  auto v = std::make_shared<Value>();
  v->kind = Kind::opaque;
  v->text = std::move(tag);
  v->payload = std::move(payload);
  return v;
}

std::vector<int64_t> int_tuple(const Value& v, const std::string& path, const char* what) {
  SPLAT_CHECK(v.is(Kind::tuple) || v.is(Kind::list), path, ": tensor ", what, " is a ",
              pickle::kind_name(v.kind), ", expected a tuple of ints");
  std::vector<int64_t> out;
  for (const auto& i : v.items) {
    SPLAT_CHECK(i->is(Kind::integer), path, ": tensor ", what, " holds a ", pickle::kind_name(i->kind));
    out.push_back(i->integer);
  }
  return out;
}

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks
// [, metadata]) and the older _rebuild_tensor(storage, offset, size, stride).
ValuePtr rebuild_tensor(const ValuePtr& args, const std::string& path) {
  const auto& a = args->items;
  SPLAT_CHECK(a.size() >= 4, path, ": tensor rebuild with ", a.size(), " arguments (expected 4 to 7)");
  auto storage = storage_of(*a[0]);
  SPLAT_CHECK(storage != nullptr, path, ": tensor rebuilt from a ", pickle::kind_name(a[0]->kind),
              " instead of a storage");
  SPLAT_CHECK(a[1]->is(Kind::integer), path, ": tensor storage offset is not an int");
  const Shape size = int_tuple(*a[2], path, "size");
  const Strides stride = int_tuple(*a[3], path, "stride");
  SPLAT_CHECK(size.size() == stride.size(), path, ": tensor size ", shape_str(size), " and stride ",
              shape_str(stride), " differ in length");
  const int64_t base = storage->flat.offset(), numel = storage->flat.numel();
  int64_t first = a[1]->integer, last = a[1]->integer;  // element range the view touches
  bool empty = false;
  for (size_t d = 0; d < size.size(); ++d) {
    SPLAT_CHECK(size[d] >= 0 && stride[d] >= 0, path, ": tensor with size ", shape_str(size),
                " and stride ", shape_str(stride));
    empty = empty || size[d] == 0;
    if (size[d] > 0) last += (size[d] - 1) * stride[d];
  }
  SPLAT_CHECK(empty || (first >= 0 && last < numel), path, ": tensor of size ", shape_str(size),
              ", stride ", shape_str(stride), " at offset ", first, " reaches outside its storage of ",
              numel, " elements");
  Tensor t = storage->flat.as_strided(size, stride, base + (empty ? 0 : first));
  return opaque("torch tensor", std::make_shared<Tensor>(std::move(t)));
}

struct Loader {
  const std::string& path;
  std::span<const uint8_t> bytes;  // what unpickle() parses
  uint64_t file_size;              // bounds the element counts storages may claim
  // Storages by key, so tensors naming the same key share it.
  std::map<std::string, std::shared_ptr<FileStorage>> storages;
  std::function<void(const std::string& key, FileStorage&)> on_new_storage;

  ValuePtr persistent_load(const ValuePtr& pid) {
    const auto& p = pid->items;
    SPLAT_CHECK(pid->is(Kind::tuple) && p.size() >= 5 && p[0]->is(Kind::string) && p[0]->text == "storage",
                path, ": unsupported persistent id (expected ('storage', type, key, location, numel))");
    SPLAT_CHECK(p[1]->is(Kind::global), path, ": storage type is a ", pickle::kind_name(p[1]->kind));
    const StorageType* type = nullptr;
    for (const auto& t : kStorageTypes)
      if (p[1]->text == t.torch_name) type = &t;
    SPLAT_CHECK(type != nullptr, path, ": unsupported storage type ", p[1]->text);
    SPLAT_CHECK(p[2]->is(Kind::string) && p[4]->is(Kind::integer) && p[4]->integer >= 0, path,
                ": malformed storage reference");
    const std::string& key = p[2]->text;
    const int64_t numel = p[4]->integer;
    SPLAT_CHECK(static_cast<uint64_t>(numel) <= file_size / type->disk_bytes, path, ": storage '",
                key, "' claims ", numel, " elements, more than the file holds");
    auto& s = storages[key];
    if (!s) {
      s = std::make_shared<FileStorage>(FileStorage{type, Tensor::empty({numel}, type->dtype)});
      on_new_storage(key, *s);
    }
    SPLAT_CHECK(s->type == type && s->flat.numel() == numel, path, ": storage '", key,
                "' referenced with two types or sizes");
    std::shared_ptr<FileStorage> view = s;
    // Legacy files: a 6th element (view_key, offset, size) makes this a slice of the storage.
    if (p.size() >= 6 && !p[5]->is(Kind::none)) {
      const auto& m = p[5]->items;
      SPLAT_CHECK(p[5]->is(Kind::tuple) && m.size() == 3 && m[1]->is(Kind::integer) &&
                      m[2]->is(Kind::integer) && m[1]->integer >= 0 && m[2]->integer >= 0 &&
                      m[1]->integer + m[2]->integer <= numel,
                  path, ": malformed storage view of '", key, "'");
      view = std::make_shared<FileStorage>(FileStorage{type, s->flat.as_strided({m[2]->integer}, {1}, m[1]->integer)});
    }
    return opaque("torch storage", view);
  }

  ValuePtr unpickle(uint64_t& pos) {
    pickle::Hooks hooks;
    hooks.persistent_load = [this](const ValuePtr& pid) { return persistent_load(pid); };
    hooks.reduce = [this](const std::string& fn, const ValuePtr& args) -> ValuePtr {
      if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor")
        return rebuild_tensor(args, path);
      // nn.Parameter: the tensor is its first argument.
      if ((fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") &&
          !args->items.empty() && tensor_of(*args->items[0]))
        return args->items[0];
      return nullptr;
    };
    return pickle::load(bytes, pos, path, hooks);
  }
};

ValuePtr load_zip(Loader& loader) {
  ZipArchive zip(loader.bytes, loader.path);
  const ZipArchive::Entry* pkl = nullptr;
  for (const auto& e : zip.entries())
    if (e.name.ends_with("/data.pkl") && e.name.find('/') == e.name.size() - 9) pkl = &e;
  SPLAT_CHECK(pkl != nullptr, loader.path, ": zip archive without a <folder>/data.pkl entry (not a torch.save file?)");
  const std::string root = pkl->name.substr(0, pkl->name.size() - 8);
  loader.on_new_storage = [&](const std::string& key, FileStorage& s) {
    const ZipArchive::Entry* e = zip.find(root + "data/" + key);
    SPLAT_CHECK(e != nullptr, loader.path, ": storage '", key, "' has no entry ", root, "data/", key);
    const uint64_t need = static_cast<uint64_t>(s.flat.numel()) * s.type->disk_bytes;
    SPLAT_CHECK(e->size >= need, loader.path, ": entry ", e->name, " holds ", e->size, " bytes, but its ",
                s.type->torch_name, " of ", s.flat.numel(), " elements needs ", need);
    fill_storage(*s.type, zip.read(*e).subspan(0, need), s.flat);
  };
  loader.bytes = zip.read(*pkl);
  uint64_t pos = 0;
  return loader.unpickle(pos);
}

// Legacy: five pickles (magic, protocol, sys info, object, storage keys), then per key in the
// order of that list: int64 element count and the raw elements.
ValuePtr load_legacy(Loader& loader) {
  // 0x1950a86a20f9469cfc6c, little-endian, as pickled with LONG1.
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  uint64_t pos = 0;
  const ValuePtr magic = pickle::load(loader.bytes, pos, loader.path);
  SPLAT_CHECK(magic->is(Kind::big_integer) && magic->text == kMagic, loader.path,
              ": not a PyTorch checkpoint (neither a zip archive nor the legacy magic number)");
  const ValuePtr protocol = pickle::load(loader.bytes, pos, loader.path);
  SPLAT_CHECK(protocol->is(Kind::integer) && protocol->integer == 1001, loader.path,
              ": unsupported legacy checkpoint protocol");
  const ValuePtr info = pickle::load(loader.bytes, pos, loader.path);
  for (const auto& [k, v] : info->entries)
    if (k->text == "little_endian")
      SPLAT_CHECK(v->is(Kind::boolean) && v->boolean, loader.path, ": big-endian checkpoints are not supported");
  loader.on_new_storage = [](const std::string&, FileStorage&) {};
  ValuePtr root = loader.unpickle(pos);
  const ValuePtr keys = pickle::load(loader.bytes, pos, loader.path);
  SPLAT_CHECK(keys->is(Kind::list), loader.path, ": legacy storage key list is a ", pickle::kind_name(keys->kind));
  ByteReader data(loader.bytes, loader.path, pos);
  for (const auto& k : keys->items) {
    SPLAT_CHECK(k->is(Kind::string), loader.path, ": storage key is a ", pickle::kind_name(k->kind));
    auto it = loader.storages.find(k->text);
    SPLAT_CHECK(it != loader.storages.end(), loader.path, ": storage '", k->text, "' is listed but never used");
    FileStorage& s = *it->second;
    const int64_t n = data.read<int64_t>("storage size");
    SPLAT_CHECK(n == s.flat.numel(), loader.path, ": storage '", k->text, "' holds ", n,
                " elements but is referenced with ", s.flat.numel());
    fill_storage(*s.type, data.take(static_cast<uint64_t>(n) * s.type->disk_bytes, "storage data"), s.flat);
  }
  SPLAT_CHECK(keys->items.size() == loader.storages.size(), loader.path, ": ", loader.storages.size(),
              " storages are used but ", keys->items.size(), " are stored");
  return root;
}

} // namespace

const Tensor* tensor_of(const Value& v) {
  return v.is(Kind::opaque) && v.text == "torch tensor" ? static_cast<const Tensor*>(v.payload.get()) : nullptr;
}

ValuePtr load_pth(std::span<const uint8_t> bytes, const std::string& name) {
  Loader loader{name, bytes, bytes.size(), {}, {}};
  return ZipArchive::looks_like_zip(bytes) ? load_zip(loader) : load_legacy(loader);
}

ValuePtr load_pth(const std::string& path) {
  MappedFile file(path);
  return load_pth(file.bytes(), path);
}

std::map<std::string, Tensor> state_dict_of(const ValuePtr& root, const std::string& path) {
  SPLAT_CHECK(root->is(Kind::dict), path, ": the checkpoint holds a ", pickle::kind_name(root->kind),
              ", not a dict");
  auto all_tensors = [](const Value& d) {
    for (const auto& [k, v] : d.entries)
      if (!tensor_of(*v)) return false;
    return !d.entries.empty();
  };
  const Value* dict = nullptr;
  if (all_tensors(*root)) dict = root.get();
  for (const char* name : {"state_dict", "model"})
    for (const auto& [k, v] : root->entries)
      if (!dict && k->is(Kind::string) && k->text == name && v->is(Kind::dict)) dict = v.get();
  if (!dict) {
    std::string keys;
    for (const auto& [k, v] : root->entries) keys += (keys.empty() ? "" : ", ") + k->text;
    throw Error(str(path, ": no state dict found: the top-level dict has keys {", keys,
                    "}, neither tensors only nor a 'state_dict' or 'model' entry"));
  }
  std::map<std::string, Tensor> out;
  for (const auto& [k, v] : dict->entries) {
    SPLAT_CHECK(k->is(Kind::string), path, ": state dict key is a ", pickle::kind_name(k->kind));
    const Tensor* t = tensor_of(*v);
    SPLAT_CHECK(t != nullptr, path, ": state dict entry '", k->text, "' is a ",
                pickle::kind_name(v->kind), ", not a tensor");
    SPLAT_CHECK(out.emplace(k->text, *t).second, path, ": duplicate state dict key '", k->text, "'");
  }
  return out;
}

std::map<std::string, Tensor> load_pth_state_dict(const std::string& path) {
  return state_dict_of(load_pth(path), path);
}

} // namespace splat::nn
