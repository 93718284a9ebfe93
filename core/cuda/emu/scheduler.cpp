#include "core/cuda/emu/scheduler.h"

#include "core/cuda/emu/sanitizers.h"

#include "core/error.h"

#include <boost/context/fiber.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <numeric>
#include <omp.h>
#include <random>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>


namespace splat::cuda::emu {
namespace ctx = boost::context;
namespace {

// Kernels keep small arrays on the stack; ASan's red zones make frames several times larger.
constexpr size_t kStackBytes = SPLAT_ASAN ? 512 * 1024 : 128 * 1024;
constexpr size_t kStaticSharedLimit = 48 * 1024;
constexpr size_t kRedZone = 64;  // poisoned gap after each shared slot (ASan builds)
constexpr int kWarpSize = 32;

// ---------------------------------------------------------------------------------------------
// Fiber stacks: mmap'd once per OS thread and reused, with a guard page below each, so a stack
// overflow faults instead of corrupting the neighbouring fiber.

struct StackPool {
  std::vector<ctx::stack_context> free;
  ~StackPool() {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    for (auto& s : free) munmap(static_cast<char*>(s.sp) - s.size - page, s.size + page);
  }
  ctx::stack_context get() {
    if (!free.empty()) {
      ctx::stack_context s = free.back();
      free.pop_back();
      // A fiber abandoned mid-kernel (after an error) leaves its frames' red zones poisoned.
      san::unpoison(static_cast<char*>(s.sp) - s.size, s.size);
      return s;
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* base = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    mprotect(base, page, PROT_NONE);
    ctx::stack_context s;
    s.size = kStackBytes;
    s.sp = static_cast<char*>(base) + page + kStackBytes;
    return s;
  }
};
thread_local StackPool t_stacks;

// Hands out pooled stacks and tells the sanitizers where each fiber's stack lies.
struct PooledStack {
  san::Stack* stack;
  ctx::stack_context allocate() {
    ctx::stack_context s = t_stacks.get();
    *stack = {static_cast<char*>(s.sp) - s.size, s.size};
    return s;
  }
  void deallocate(ctx::stack_context& s) noexcept { t_stacks.free.push_back(s); }
};

// ---------------------------------------------------------------------------------------------

enum class State : uint8_t { ready, at_barrier, at_warp, exited };

const char* state_name(State s) {
  switch (s) {
  case State::ready: return "ready";
  case State::at_barrier: return "at __syncthreads";
  case State::at_warp: return "at a warp intrinsic";
  case State::exited: return "exited";
  }
  return "?";
}

const char* op_name(WarpOp op) {
  switch (op) {
  case WarpOp::shfl: return "__shfl_sync";
  case WarpOp::shfl_up: return "__shfl_up_sync";
  case WarpOp::shfl_down: return "__shfl_down_sync";
  case WarpOp::shfl_xor: return "__shfl_xor_sync";
  case WarpOp::ballot: return "__ballot_sync";
  case WarpOp::any: return "__any_sync";
  case WarpOp::all: return "__all_sync";
  case WarpOp::sync: return "__syncwarp";
  }
  return "?";
}

std::string site_str(const std::source_location& s) {
  return str(s.file_name(), ":", s.line());
}

bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() && std::strcmp(a.file_name(), b.file_name()) == 0;
}

struct Thread {
  ctx::fiber fiber;      // this thread, while suspended
  ctx::fiber scheduler;  // the scheduler, while this thread runs
  State state = State::ready;
  ThreadVars vars{};
  std::source_location site;
  WarpOp op = WarpOp::sync;
  unsigned mask = 0;
  uint64_t value = 0, result = 0;
  int arg = 0, width = kWarpSize;
  san::Fiber san;  // what ASan and TSan need to follow switches to and from this fiber
};

// Thrown inside a fiber to abandon the kernel after a rule violation was recorded.
struct KernelAbort {};

struct Block {
  const LaunchConfig* cfg = nullptr;
  std::vector<Thread> threads;
  int live = 0;
  std::string error;
  std::mt19937_64 rng;
  Order order = Order::random;
  // Shared memory: [dynamic | static slots ...] in one arena reused across blocks.
  std::vector<std::byte>* arena = nullptr;
  size_t dynamic_bytes = 0, static_used = 0;
  std::vector<std::pair<const void*, size_t>> slots;
  san::Scheduler san;
  // Synchronisation objects for TSan: one for the block's barrier, one per warp.
  char barrier_sync = 0;
  char warp_sync[32] = {};
  const void* grid_done = nullptr;  // released by every finishing thread

  SPLAT_EMU_INTERNAL void fail(std::string message) {
    if (error.empty()) error = std::move(message);
  }
};

thread_local Block* t_block = nullptr;
thread_local Thread* t_thread = nullptr;
thread_local std::vector<std::byte> t_arena;

Thread& self() {
  SPLAT_CHECK(t_thread != nullptr, "CUDA device function called outside a kernel launch");
  return *t_thread;
}

// Switches from the running CUDA thread back to its block's scheduler, publishing the thread's
// writes on sync and taking everyone's when it is released.
SPLAT_EMU_INTERNAL void yield_to_scheduler(const void* sync) {
  Thread& t = self();
  Block& b = *t_block;
  san::release(sync);
  san::leave_fiber(b.san, t.san, /*exiting=*/false);
  t.scheduler = std::move(t.scheduler).resume();
  san::fiber_resumed(t.san);
  san::acquire(sync);
  if (!b.error.empty()) throw KernelAbort{};
}

SPLAT_EMU_INTERNAL std::vector<int> resume_order(Block& b) {
  std::vector<int> order(b.threads.size());
  std::iota(order.begin(), order.end(), 0);
  if (b.order == Order::reverse) std::reverse(order.begin(), order.end());
  else if (b.order == Order::random) std::shuffle(order.begin(), order.end(), b.rng);
  return order;
}

SPLAT_EMU_INTERNAL std::string thread_states(const Block& b) {
  std::string s;
  for (size_t i = 0; i < b.threads.size(); ++i) {
    const Thread& t = b.threads[i];
    s += str("\n  thread (", t.vars.thread_idx.x, ", ", t.vars.thread_idx.y, ", ", t.vars.thread_idx.z,
             "): ", state_name(t.state));
    if (t.state == State::at_barrier) s += " at " + site_str(t.site);
    if (t.state == State::at_warp) s += str(" ", op_name(t.op), " at ", site_str(t.site));
  }
  return s;
}

// Completes the warp intrinsics whose every masked lane has arrived. Returns whether any did.
SPLAT_EMU_INTERNAL bool resolve_warps(Block& b) {
  bool released = false;
  const int n = static_cast<int>(b.threads.size());
  for (int w0 = 0; w0 < n && b.error.empty(); w0 += kWarpSize) {
    for (int i = w0; i < std::min(n, w0 + kWarpSize); ++i) {
      Thread& t = b.threads[i];
      if (t.state != State::at_warp) continue;
      bool complete = true;
      for (int lane = 0; lane < kWarpSize && complete; ++lane) {
        if (!(t.mask >> lane & 1u)) continue;
        const int j = w0 + lane;
        if (j >= n || b.threads[j].state == State::exited) {
          b.fail(str(op_name(t.op), " at ", site_str(t.site), ": lane ", lane, " of mask 0x",
                     std::hex, t.mask, std::dec, j >= n ? " does not exist" : " has exited"));
          return false;
        }
        const Thread& u = b.threads[j];
        if (u.state != State::at_warp) complete = false;
        else if (u.op != t.op || u.mask != t.mask) {
          b.fail(str("warp lanes disagree: lane ", i - w0, " called ", op_name(t.op), " (mask 0x",
                     std::hex, t.mask, ") at ", site_str(t.site), ", lane ", lane, " called ",
                     op_name(u.op), " (mask 0x", u.mask, std::dec, ") at ", site_str(u.site)));
          return false;
        }
      }
      if (!complete) continue;
      // Every masked lane is here: compute all results, then release them together.
      uint64_t ballot = 0;
      for (int lane = 0; lane < kWarpSize; ++lane)
        if ((t.mask >> lane & 1u) && b.threads[w0 + lane].value != 0) ballot |= 1ull << lane;
      for (int lane = 0; lane < kWarpSize; ++lane) {
        if (!(t.mask >> lane & 1u)) continue;
        Thread& u = b.threads[w0 + lane];
        const int w = u.width, seg = lane & ~(w - 1);
        int src = lane;
        switch (u.op) {
        case WarpOp::shfl: src = seg + (u.arg & (w - 1)); break;
        case WarpOp::shfl_up: src = lane - u.arg >= seg ? lane - u.arg : lane; break;
        case WarpOp::shfl_down: src = lane + u.arg < seg + w ? lane + u.arg : lane; break;
        case WarpOp::shfl_xor: src = ((lane ^ u.arg) & ~(w - 1)) == seg ? lane ^ u.arg : lane; break;
        default: break;
        }
        if (!(t.mask >> src & 1u)) {
          b.fail(str(op_name(u.op), " at ", site_str(u.site), ": lane ", lane, " reads lane ", src,
                     ", which is not in mask 0x", std::hex, t.mask));
          return false;
        }
        switch (u.op) {
        case WarpOp::ballot: u.result = ballot; break;
        case WarpOp::any: u.result = ballot != 0; break;
        case WarpOp::all: u.result = ballot == (t.mask & 0xffffffffull); break;
        case WarpOp::sync: u.result = 0; break;
        default: u.result = b.threads[w0 + src].value; break;
        }
      }
      for (int lane = 0; lane < kWarpSize; ++lane)
        if (t.mask >> lane & 1u) b.threads[w0 + lane].state = State::ready;
      released = true;
    }
  }
  return released;
}

// Releases __syncthreads once every live thread waits at the same call site.
SPLAT_EMU_INTERNAL bool resolve_barrier(Block& b) {
  const Thread* first = nullptr;
  for (const Thread& t : b.threads) {
    if (t.state == State::exited) continue;
    if (t.state != State::at_barrier) return false;
    if (first == nullptr) first = &t;
    else if (!same_site(first->site, t.site)) {
      b.fail(str("divergent __syncthreads: threads wait at ", site_str(first->site), " and at ",
                 site_str(t.site), " (every live thread must reach the same barrier)"));
      return false;
    }
  }
  if (first == nullptr) return false;
  for (Thread& t : b.threads)
    if (t.state == State::at_barrier) t.state = State::ready;
  return true;
}

// Runs thread t until it reaches a barrier, a warp intrinsic or its end.
SPLAT_EMU_INTERNAL void resume(Thread& t) {
  t_thread = &t;
  void* fake = san::enter_fiber(t.san);
  t.fiber = std::move(t.fiber).resume();
  san::back_in_scheduler(fake);
  t_thread = nullptr;
}

// The body of every CUDA thread's fiber.
SPLAT_EMU_INTERNAL ctx::fiber thread_main(Block& b, Thread& t, const std::function<void()>& body,
                                         ctx::fiber&& sched) {
  t.scheduler = std::move(sched);
  san::fiber_started(b.san, t.san);
  try {
    if (b.error.empty()) body();  // a block that already failed starts no more threads
  } catch (const ctx::detail::forced_unwind&) {
    throw;
  } catch (const KernelAbort&) {
  } catch (const std::exception& e) {
    b.fail(e.what());
  } catch (...) {
    b.fail("a kernel threw a non-standard exception");
  }
  t.state = State::exited;
  --b.live;
  san::release(b.grid_done);  // the host acquires it after the whole grid
  san::leave_fiber(b.san, t.san, /*exiting=*/true);
  return std::move(t.scheduler);
}

SPLAT_EMU_INTERNAL void run_block(Block& b, const std::function<void()>& body, Index3 block_idx, const Index3& grid) {
  const LaunchConfig& cfg = *b.cfg;
  const Dim3 bd = cfg.block;
  const int n = static_cast<int>(bd.count());
  b.threads.clear();
  b.threads.resize(static_cast<size_t>(n));
  b.live = n;
  b.slots.clear();
  b.static_used = 0;
  // Shared memory starts as garbage on a GPU; 0xFF bytes make uninitialised floats NaN.
  const size_t arena_bytes = b.dynamic_bytes + kStaticSharedLimit + 64 * kRedZone;
  if (b.arena->size() < arena_bytes) b.arena->resize(arena_bytes);
  san::unpoison(b.arena->data(), b.arena->size());
  std::memset(b.arena->data(), 0xFF, b.dynamic_bytes);
  san::poison(b.arena->data() + b.dynamic_bytes, b.arena->size() - b.dynamic_bytes);

  for (int i = 0; i < n; ++i) {
    Thread& t = b.threads[static_cast<size_t>(i)];
    t.vars = {{i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y)}, block_idx, {bd.x, bd.y, bd.z}, grid};
    san::create(t.san);
    t.fiber = ctx::fiber(std::allocator_arg, PooledStack{&t.san.stack},
                         [&b, &t, &body](ctx::fiber&& sched) { return thread_main(b, t, body, std::move(sched)); });
  }

  while (b.live > 0 && b.error.empty()) {
    bool progressed = false;
    for (int i : resume_order(b)) {
      Thread& t = b.threads[static_cast<size_t>(i)];
      if (t.state != State::ready) continue;
      progressed = true;
      resume(t);
      if (!b.error.empty()) break;
    }
    if (b.live == 0 || !b.error.empty()) break;
    const bool released = resolve_warps(b) | (b.error.empty() && resolve_barrier(b));
    if (!b.error.empty()) break;
    if (!progressed && !released)
      b.fail(str("deadlock: no CUDA thread can proceed", thread_states(b)));
  }
  // After an error, every unfinished thread is resumed once more: it throws KernelAbort from its
  // pending barrier or warp call and unwinds its own stack (with the switches annotated for
  // ASan, which Boost's forced unwinding on destruction would not do).
  for (Thread& t : b.threads)
    if (t.state != State::exited && t.fiber) resume(t);
  for (Thread& t : b.threads) san::destroy(t.san);
  b.threads.clear();
  san::unpoison(b.arena->data(), b.arena->size());
}

std::atomic<Order> g_order{Order::random};
std::atomic<uint64_t> g_seed{0};
std::once_flag g_env_once;

void read_env() {
  std::call_once(g_env_once, [] {
    if (const char* o = std::getenv("SPLAT_EMU_ORDER")) {
      const std::string s = o;
      if (s == "inorder") g_order = Order::in_order;
      else if (s == "reverse") g_order = Order::reverse;
      else if (s == "random") g_order = Order::random;
      else throw Error(str("SPLAT_EMU_ORDER='", s, "' (expected inorder, reverse or random)"));
    }
    if (const char* seed = std::getenv("SPLAT_EMU_SEED")) g_seed = std::strtoull(seed, nullptr, 10);
  });
}

const char* order_name(Order o) {
  return o == Order::in_order ? "inorder" : o == Order::reverse ? "reverse" : "random";
}

} // namespace

SPLAT_EMU_INTERNAL const ThreadVars& vars() { return self().vars; }

Schedule schedule() {
  read_env();
  return {g_order.load(), g_seed.load()};
}

void set_schedule(Schedule s) {
  read_env();
  g_order = s.order;
  g_seed = s.seed;
}

SPLAT_EMU_INTERNAL void block_barrier(const std::source_location& site) {
  Thread& t = self();
  t.state = State::at_barrier;
  t.site = site;
  yield_to_scheduler(&t_block->barrier_sync);
}

SPLAT_EMU_INTERNAL uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width,
                       const std::source_location& site) {
  Thread& t = self();
  const Block& b = *t_block;
  const int index = static_cast<int>(&t - b.threads.data());
  const int lane = index % kWarpSize;
  SPLAT_CHECK(mask >> lane & 1u, op_name(op), " at ", site_str(site), ": calling lane ", lane,
              " is not in mask 0x", std::hex, mask);
  SPLAT_CHECK(width > 0 && width <= kWarpSize && (width & (width - 1)) == 0, op_name(op), " at ",
              site_str(site), ": width ", width, " is not a power of two up to 32");
  t.state = State::at_warp;
  t.op = op;
  t.mask = mask;
  t.value = value;
  t.arg = arg;
  t.width = width;
  t.site = site;
  yield_to_scheduler(&t_block->warp_sync[index / kWarpSize % 32]);
  return t.result;
}

SPLAT_EMU_INTERNAL unsigned active_mask() {
  Thread& t = self();
  const Block& b = *t_block;
  const int index = static_cast<int>(&t - b.threads.data());
  const int w0 = index / kWarpSize * kWarpSize;
  unsigned mask = 0;
  for (int lane = 0; lane < kWarpSize && w0 + lane < static_cast<int>(b.threads.size()); ++lane)
    if (b.threads[static_cast<size_t>(w0 + lane)].state != State::exited) mask |= 1u << lane;
  return mask;
}

SPLAT_EMU_INTERNAL void* static_shared(const void* tag, size_t bytes, const std::source_location& site) {
  Block& b = *t_block;
  for (const auto& [key, offset] : b.slots)
    if (key == tag) return b.arena->data() + offset;
  // The first thread of the block to reach the declaration carves its slot.
  const size_t aligned = (bytes + 15) / 16 * 16;
  SPLAT_CHECK(b.static_used + aligned <= kStaticSharedLimit, "shared memory declared at ",
              site_str(site), ": ", b.static_used + aligned, " bytes of static shared memory "
              "exceed the 48 KiB limit");
  const size_t offset = (b.dynamic_bytes + 15) / 16 * 16 + b.static_used + b.slots.size() * kRedZone;
  b.static_used += aligned;
  b.slots.emplace_back(tag, offset);
  std::byte* p = b.arena->data() + offset;
  san::unpoison(p, bytes);
  std::memset(p, 0xFF, bytes);
  return p;
}

void* dynamic_shared() { return t_block->arena->data(); }

SPLAT_EMU_INTERNAL void run_grid(const void* kernel, const LaunchConfig& cfg,
                                 const std::function<void()>& body) {
  check_launch(kernel, cfg);
  const Schedule sched = schedule();
  const Dim3 g = cfg.grid;
  const int64_t nblocks = static_cast<int64_t>(g.count());
  std::vector<int64_t> blocks(static_cast<size_t>(nblocks));
  std::iota(blocks.begin(), blocks.end(), 0);
  if (sched.order == Order::reverse) std::reverse(blocks.begin(), blocks.end());
  else if (sched.order == Order::random) {
    std::mt19937_64 rng(sched.seed * 0x9E3779B97F4A7C15ull + 1);
    std::shuffle(blocks.begin(), blocks.end(), rng);
  }
  std::mutex mu;
  std::string first_error;
  std::atomic<bool> abort{false};
  const Index3 grid{g.x, g.y, g.z};
  // Under TSan blocks run on the calling thread: libgomp is not instrumented, and the fiber
  // annotations already expose races between the threads of a block.
  const bool parallel = !omp_in_parallel() && nblocks > 1 && !SPLAT_TSAN;
  const char grid_done = 0;
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
  for (int64_t i = 0; i < nblocks; ++i) {
    if (abort.load(std::memory_order_relaxed)) continue;
    const int64_t id = blocks[static_cast<size_t>(i)];
    Block b;
    b.cfg = &cfg;
    b.order = sched.order;
    b.rng.seed(sched.seed ^ (static_cast<uint64_t>(id) * 0xBF58476D1CE4E5B9ull));
    b.arena = &t_arena;
    b.dynamic_bytes = cfg.shared_bytes;
    b.grid_done = &grid_done;
    san::init_scheduler(b.san);
    Block* const saved = t_block;
    t_block = &b;
    try {
      run_block(b, body, {static_cast<unsigned>(id % g.x), static_cast<unsigned>(id / g.x % g.y),
                          static_cast<unsigned>(id / (1ll * g.x * g.y))}, grid);
    } catch (const std::exception& e) {
      b.fail(e.what());
    }
    t_block = saved;
    if (!b.error.empty()) {
      std::lock_guard lock(mu);
      if (first_error.empty())
        first_error = str("block (", id % g.x, ", ", id / g.x % g.y, ", ", id / (1ll * g.x * g.y),
                          "): ", b.error);
      abort = true;
    }
  }
  san::acquire(&grid_done);  // every thread's writes happen before the launch returns
  SPLAT_CHECK(first_error.empty(), describe(kernel, cfg), " failed under emulator schedule ",
              order_name(sched.order), " seed ", sched.seed, ": ", first_error);
}

} // namespace splat::cuda::emu
