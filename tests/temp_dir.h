// A fresh directory under the system temp dir for tests that write files, removed with
// everything in it when the object dies.
#pragma once

#include "core/error.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace splat::test {

struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& prefix = "splat_test") {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          str(prefix, "_", ::getpid(), "_", counter++, "_",
              std::chrono::steady_clock::now().time_since_epoch().count());
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name = "") const {
    return name.empty() ? dir.string() : (dir / name).string();
  }
  // Names of the files in the directory, sorted (leftover temporaries show up here).
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

} // namespace splat::test
