// Writes a file so that readers only ever see the old contents or the complete new ones: the
// bytes go to a temporary file beside the target, which commit() flushes to disk and renames
// over it. A failed or interrupted write (an exception, a crash, a full disk) leaves the previous
// file intact; the temporary file is removed unless the process dies.
#pragma once

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>

namespace splat {

class AtomicFile {
public:
  // where: what errors name the file as (e.g. "save_safetensors('ckpt.safetensors')").
  AtomicFile(const std::string& path, const std::string& where);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  void write(const void* data, size_t n);
  void write(const std::string& text) { write(text.data(), text.size()); }
  // fflush + fsync, rename over the target, fsync of the directory (the rename is durable only
  // once the directory entry is on disk). Nothing may be written afterwards.
  void commit();

private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_, tmp_, where_;
  std::unique_ptr<std::FILE, Closer> f_;
  bool committed_ = false;
};

} // namespace splat
