// How the emulator tells AddressSanitizer and ThreadSanitizer about its fiber switches.
//
// ASan must know which stack is live after each switch (or it reports false stack overflows and
// misses real ones). TSan treats each CUDA thread as a fiber of its own: switches carry no
// synchronisation (so a missing __syncthreads shows up as a data race even when the schedule
// happens to hide it), and the emulator adds the happens-before edges a GPU guarantees:
// launch -> every thread, each barrier and warp intrinsic, every thread -> end of the grid.
// Emulator bookkeeping shared between fibers is excluded from TSan (SPLAT_EMU_INTERNAL).
// In builds without sanitizers all of this compiles to nothing.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SPLAT_ASAN 1
#else
#define SPLAT_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define SPLAT_TSAN 1
// Emulator internals: not instrumented (they are synchronised by the fiber switches themselves)
// and never inlined into instrumented code.
#define SPLAT_EMU_INTERNAL __attribute__((no_sanitize("thread"), noinline))
#else
#define SPLAT_TSAN 0
#define SPLAT_EMU_INTERNAL
#endif

namespace splat::cuda::emu::san {

// A stack as the sanitizers see it, and the per-fiber state they need.
struct Stack {
  const void* bottom = nullptr;
  size_t size = 0;
};
struct Fiber {
  Stack stack;
  void* fake_stack = nullptr;  // ASan
  void* tsan = nullptr;        // TSan fiber handle
  bool started = false;
};
struct Scheduler {
  Stack stack;       // learnt when the first fiber starts
  void* tsan = nullptr;
};

inline void init_scheduler(Scheduler& s) {
#if SPLAT_TSAN
  s.tsan = __tsan_get_current_fiber();
#else
  (void)s;
#endif
}

inline void create(Fiber& f) {
#if SPLAT_TSAN
  f.tsan = __tsan_create_fiber(0);
#else
  (void)f;
#endif
}

inline void destroy(Fiber& f) {
#if SPLAT_TSAN
  if (f.tsan != nullptr) __tsan_destroy_fiber(f.tsan);
  f.tsan = nullptr;
#else
  (void)f;
#endif
}

// Scheduler side, around resuming fiber f. Returns ASan's token for back_in_scheduler.
inline void* enter_fiber(Fiber& f) {
  void* fake = nullptr;
#if SPLAT_ASAN
  __sanitizer_start_switch_fiber(&fake, f.stack.bottom, f.stack.size);
#endif
#if SPLAT_TSAN
  // The first entry synchronises: everything before the launch happens before the thread.
  __tsan_switch_to_fiber(f.tsan, f.started ? __tsan_switch_to_fiber_no_sync : 0);
#endif
  f.started = true;
  return fake;
}
inline void back_in_scheduler(void* fake) {
#if SPLAT_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  (void)fake;
#endif
}

// Fiber side: first instructions of a fiber, and around each switch back to the scheduler.
inline void fiber_started(Scheduler& s, Fiber& f) {
#if SPLAT_ASAN
  __sanitizer_finish_switch_fiber(f.fake_stack, &s.stack.bottom, &s.stack.size);
#else
  (void)s, (void)f;
#endif
}
inline void leave_fiber(Scheduler& s, Fiber& f, bool exiting) {
#if SPLAT_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &f.fake_stack, s.stack.bottom, s.stack.size);
#endif
#if SPLAT_TSAN
  __tsan_switch_to_fiber(s.tsan, __tsan_switch_to_fiber_no_sync);
#endif
  (void)s, (void)f, (void)exiting;
}
inline void fiber_resumed(Fiber& f) {
#if SPLAT_ASAN
  __sanitizer_finish_switch_fiber(f.fake_stack, nullptr, nullptr);
#else
  (void)f;
#endif
}

// Happens-before edges: every release on an object before every later acquire on it.
inline void release(const void* sync) {
#if SPLAT_TSAN
  __tsan_release(const_cast<void*>(sync));
#else
  (void)sync;
#endif
}
inline void acquire(const void* sync) {
#if SPLAT_TSAN
  __tsan_acquire(const_cast<void*>(sync));
#else
  (void)sync;
#endif
}

inline void poison(void* p, size_t n) {
#if SPLAT_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}
inline void unpoison(void* p, size_t n) {
#if SPLAT_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}

} // namespace splat::cuda::emu::san
