#include "core/storage.h"

#include "core/allocator.h"
#include "core/profile.h"

namespace splat {
namespace {
std::atomic<int64_t> g_live_storages{0};
}

Storage::Storage(size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), allocator_(&allocator_for(device)) {
  data_ = allocator_->allocate(nbytes);
  profile::note_allocation(nbytes);
  ++g_live_storages;
}

Storage::Storage(size_t nbytes, Device device, Allocator& allocator)
    : nbytes_(nbytes), device_(device), allocator_(&allocator) {
  data_ = allocator_->allocate(nbytes);
  profile::note_allocation(nbytes);
  ++g_live_storages;
}

Storage::~Storage() {
  allocator_->deallocate(data_, nbytes_);
  --g_live_storages;
}

int64_t Storage::live_count() { return g_live_storages.load(); }

} // namespace splat
