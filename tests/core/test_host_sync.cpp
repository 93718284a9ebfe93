// The runtime layer counts every call that makes the host wait for the device
// (core/cuda/host_sync.h): device-to-host copies, stream and device synchronisations, blocking
// event waits; host-to-device and device-to-device copies are not counted.
#include "core/cuda/host_sync.h"
#include "ops/copy.h"
#include "tests/helpers.h"

#include <thread>

using namespace splat;
using cuda::HostSyncCounter;
using cuda::HostSyncCounts;

TEST_SUITE_BEGIN("cuda host sync" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("reading a CUDA tensor back counts one device-to-host copy; uploads do not count") {
  HostSyncCounter counter;
  const Tensor host = ops::from_vector(std::vector<float>{1, 2, 3}, {3});
  const Tensor dev = ops::to(host, Device::cuda(0));  // host to device
  const Tensor dev2 = ops::clone(dev);                 // on the device
  CHECK(counter.counts().total() == 0);
  (void)ops::to(dev2, Device::cpu());
  CHECK(counter.counts().device_to_host_copies == 1);
  CHECK(ops::slice(dev, 0, 1, 2).item<float>() == 2.0f);
  CHECK(counter.counts().device_to_host_copies == 2);
  CHECK(counter.counts().total() == 2);
  const auto calls = counter.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].starts_with("device_to_host_copy (unstated) at "));
}

TEST_CASE("stream, device and event synchronisations are counted by kind") {
  HostSyncCounter counter;
  cuda::synchronize({});
  cuda::device_synchronize();
  cuda::device_synchronize();
  const cuda::Event e = cuda::create_event();
  cuda::record_event(e, {});
  CHECK(cuda::query_event(e));  // a query never blocks: not counted
  cuda::synchronize_event(e);
  cuda::destroy_event(e);
  const HostSyncCounts c = counter.counts();
  CHECK(c.stream_synchronizes == 1);
  CHECK(c.device_synchronizes == 2);
  CHECK(c.event_synchronizes == 1);
  CHECK(c.device_to_host_copies == 0);
  CHECK(c.total() == 4);
}

TEST_CASE("counters nest, start at zero, and count calls from every thread") {
  HostSyncCounter outer;
  cuda::synchronize({});
  {
    HostSyncCounter inner;
    CHECK(inner.counts().total() == 0);
    std::thread([] { cuda::synchronize({}); }).join();
    cuda::device_synchronize();
    CHECK(inner.counts().total() == 2);
  }
  cuda::synchronize({});
  CHECK(outer.counts().stream_synchronizes == 3);
  CHECK(outer.counts().device_synchronizes == 1);
  HostSyncCounter later;
  CHECK(later.counts().total() == 0);
}

TEST_CASE("a reason scope labels the syncs of its thread; the innermost scope wins") {
  using cuda::HostSyncReason;
  HostSyncCounter counter;
  cuda::synchronize({});
  {
    cuda::HostSyncReasonScope outer(HostSyncReason::logging);
    cuda::synchronize({});
    {
      cuda::HostSyncReasonScope inner(HostSyncReason::output_size);
      cuda::synchronize({});
      std::thread([] { cuda::synchronize({}); }).join();  // another thread: its own (no) reason
    }
    cuda::synchronize({});
  }
  const HostSyncCounts c = counter.counts();
  CHECK(c.of(HostSyncReason::unstated) == 2);
  CHECK(c.of(HostSyncReason::logging) == 2);
  CHECK(c.of(HostSyncReason::output_size) == 1);
  CHECK(c.of(HostSyncReason::bounds_check) == 0);
  CHECK(c.total() == 5);
  CHECK(counter.calls()[1].starts_with("stream_synchronize (logging) at "));
}

TEST_SUITE_END();
