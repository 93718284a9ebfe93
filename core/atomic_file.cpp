#include "core/atomic_file.h"

#include "core/error.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

namespace splat {

// The pid in the temporary name keeps two processes writing the same target (ranks sharing a
// work directory by mistake) from interleaving their bytes in one temporary file.
AtomicFile::AtomicFile(const std::string& path, const std::string& where)
    : path_(path), tmp_(str(path, ".tmp.", ::getpid())), where_(where) {
  f_.reset(std::fopen(tmp_.c_str(), "wb"));
  SPLAT_CHECK(f_ != nullptr, where_, ": cannot create the temporary file '", tmp_, "': ",
              std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  f_.reset();
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  SPLAT_CHECK(f_ != nullptr, where_, ": write after commit");
  SPLAT_CHECK(n == 0 || std::fwrite(data, 1, n, f_.get()) == n, where_, ": cannot write '", tmp_,
              "': ", std::strerror(errno));
}

void AtomicFile::commit() {
  SPLAT_CHECK(f_ != nullptr, where_, ": committed twice");
  SPLAT_CHECK(std::fflush(f_.get()) == 0 && ::fsync(::fileno(f_.get())) == 0, where_,
              ": cannot flush '", tmp_, "' to disk: ", std::strerror(errno));
  SPLAT_CHECK(std::fclose(f_.release()) == 0, where_, ": cannot close '", tmp_, "': ",
              std::strerror(errno));
  SPLAT_CHECK(std::rename(tmp_.c_str(), path_.c_str()) == 0, where_, ": cannot rename '", tmp_,
              "' over it: ", std::strerror(errno));
  committed_ = true;
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  SPLAT_CHECK(synced, where_, ": written, but its directory '", dir, "' could not be synced: ",
              std::strerror(err));
}

} // namespace splat
