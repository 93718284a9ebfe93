#include "core/cuda/launch_config.h"

#include "core/error.h"

#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace splat::cuda {
namespace {

std::mutex g_mu;
std::unordered_map<const void*, size_t>& limits() {
  static std::unordered_map<const void*, size_t> m;
  return m;
}

constexpr size_t kDefaultDynamicShared = 48 * 1024;

} // namespace

void set_max_dynamic_shared(const void* kernel, size_t bytes, std::source_location where) {
  const size_t optin = device_props(current_device()).max_shared_per_block_optin;
  SPLAT_CHECK(bytes <= optin, "cudaFuncSetAttribute at ", where.file_name(), ":", where.line(),
              ": ", bytes, " bytes of dynamic shared memory exceed the device's opt-in limit of ",
              optin);
  func_set_max_dynamic_shared(kernel, bytes, where);
  std::lock_guard lock(g_mu);
  limits()[kernel] = bytes;
}

size_t max_dynamic_shared(const void* kernel) {
  std::lock_guard lock(g_mu);
  auto it = limits().find(kernel);
  return it == limits().end() ? kDefaultDynamicShared : std::max(it->second, kDefaultDynamicShared);
}

std::string kernel_name(const void* kernel) {
  const char* symbol = kernel_symbol(kernel);
  if (symbol == nullptr) return str("at ", kernel);
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(symbol, nullptr, nullptr, &status),
                                                   &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(symbol);
}

std::string describe(const void* kernel, const LaunchConfig& cfg) {
  return str("kernel ", kernel_name(kernel), " launched at ", cfg.where.file_name(), ":",
             cfg.where.line(), " (grid (", cfg.grid.x,
             ", ", cfg.grid.y, ", ", cfg.grid.z, "), block (", cfg.block.x, ", ", cfg.block.y, ", ",
             cfg.block.z, "), ", cfg.shared_bytes, " bytes dynamic shared memory)");
}

void check_launch(const void* kernel, const LaunchConfig& cfg) {
  const Dim3 b = cfg.block, g = cfg.grid;
  SPLAT_CHECK(b.count() > 0 && g.count() > 0, describe(kernel, cfg), ": empty grid or block");
  SPLAT_CHECK(b.count() <= 1024, describe(kernel, cfg), ": ", b.count(),
              " threads per block exceed the limit of 1024");
  SPLAT_CHECK(b.x <= 1024 && b.y <= 1024 && b.z <= 64, describe(kernel, cfg),
              ": block dims exceed (1024, 1024, 64)");
  SPLAT_CHECK(g.x <= 2147483647u && g.y <= 65535 && g.z <= 65535, describe(kernel, cfg),
              ": grid dims exceed (2147483647, 65535, 65535)");
  const size_t limit = max_dynamic_shared(kernel);
  SPLAT_CHECK(cfg.shared_bytes <= limit, describe(kernel, cfg), ": ", cfg.shared_bytes,
              " bytes of dynamic shared memory exceed this kernel's limit of ", limit,
              " (raise it with set_max_dynamic_shared)");
}

} // namespace splat::cuda
