// Philox4x32-10 counter-based random numbers (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC'11) and the contract every random op follows.
//
// The contract, so that the CPU, the emulated CUDA device and a real GPU draw identical numbers
// for one seed, whatever the thread count or launch shape:
//  - A Generator holds (seed, offset). An op that needs n values reserves the counters
//    [offset, offset + n) (Generator::reserve_state), which advances the offset by n; so
//    consecutive ops never reuse a counter, and zero-size ops draw nothing.
//  - Element i of a fill (i counts the output's elements in row-major order of its shape, whatever
//    its strides) uses one Philox block: philox_block(seed, offset + i), i.e. counter words
//    {lo32(offset + i), hi32(offset + i), 0, 0} and key words {lo32(seed), hi32(seed)}.
//  - From that block's words w0..w3 (u64(a, b) = a | b << 32):
//      uniform f32 in [0, 1):  (w0 >> 8) * 2^-24                      (the 24 high bits of w0)
//      uniform f64 in [0, 1):  (u64(w0, w1) >> 11) * 2^-53            (53 bits)
//      normal:                 Box-Muller in double: u1 = ((u64(w0, w1) >> 11) + 1) * 2^-53 in
//                              (0, 1], u2 = (u64(w2, w3) >> 11) * 2^-53, z = sqrt(-2 ln u1) *
//                              cos(2 pi u2); mean + std * z, then cast to the output type. One
//                              normal per block (the sine half is dropped to keep i -> block 1:1).
//      uniform in [lo, hi):    lo + (hi - lo) * u in double, u the output type's uniform above,
//                              cast to the output type; a value that rounds up to hi is moved to
//                              the largest value below it.
//      randint in [low, high): low + u64(w0, w1) mod (high - low), in 64-bit two's complement.
//                              The modulo favours small residues by at most range / 2^64 (below
//                              1e-9 for ranges under 2^34): negligible for indices and
//                              augmentation.
//  - Doubles come from libm's log/cos (or CUDA's on a GPU), which may differ in the last ulp;
//    after the cast to f32 results agree except in vanishingly rare rounding ties.
//
// The block function and the conversions are SPLAT_HD constexpr/inline functions on plain
// integers so the CUDA kernels call the very same code.
#pragma once

#include <cmath>
#include <cstdint>
#include <mutex>

#include "core/cuda/hd.h"

namespace splat {

struct PhiloxBlock {
  uint32_t w[4];
};

namespace philox_detail {
constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;  // golden ratio, sqrt(3) - 1

SPLAT_HD constexpr PhiloxBlock round(PhiloxBlock c, uint32_t k0, uint32_t k1) {
  const uint64_t p0 = static_cast<uint64_t>(kMul0) * c.w[0];
  const uint64_t p1 = static_cast<uint64_t>(kMul1) * c.w[2];
  const auto hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
  const auto hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
  return PhiloxBlock{{hi1 ^ c.w[1] ^ k0, lo1, hi0 ^ c.w[3] ^ k1, lo0}};
}
} // namespace philox_detail

// The Philox4x32 bijection with 10 rounds: the key is bumped by the Weyl constants between rounds.
SPLAT_HD constexpr PhiloxBlock philox4x32_10(PhiloxBlock counter, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += philox_detail::kWeyl0;
      k1 += philox_detail::kWeyl1;
    }
    counter = philox_detail::round(counter, k0, k1);
  }
  return counter;
}

// The block for one element of the contract above.
SPLAT_HD constexpr PhiloxBlock philox_block(uint64_t seed, uint64_t counter) {
  return philox4x32_10(
      PhiloxBlock{{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u}},
      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

SPLAT_HD constexpr uint64_t philox_u64(uint32_t lo, uint32_t hi) {
  return static_cast<uint64_t>(lo) | static_cast<uint64_t>(hi) << 32;
}

// Uniform in [0, 1) with the output type's precision: 24 bits for float, 53 for double.
template <class T> SPLAT_HD constexpr T philox_uniform(const PhiloxBlock& b) {
  if constexpr (sizeof(T) == 4) return static_cast<T>(b.w[0] >> 8) * (1.0f / 16777216.0f);
  else return static_cast<T>(philox_u64(b.w[0], b.w[1]) >> 11) * (1.0 / 9007199254740992.0);
}

// lo + (hi - lo) * u, kept below hi (see the contract). Needs lo <= hi, both finite.
template <class T> SPLAT_HD inline T philox_uniform_in(const PhiloxBlock& b, double lo, double hi) {
  const double u = static_cast<double>(philox_uniform<T>(b));
  auto v = static_cast<T>(lo + (hi - lo) * u);
  const auto top = static_cast<T>(hi);
  if (v >= top && lo < hi) {
    v = std::nextafter(top, static_cast<T>(lo));
    if (v < static_cast<T>(lo)) v = static_cast<T>(lo);  // [lo, hi) holds no T value above lo
  }
  return v;
}

// A standard normal by Box-Muller, in double (see the contract).
SPLAT_HD inline double philox_normal(const PhiloxBlock& b) {
  constexpr double kTwoPi = 6.283185307179586476925;
  constexpr double k2m53 = 1.0 / 9007199254740992.0;
  const double u1 = static_cast<double>((philox_u64(b.w[0], b.w[1]) >> 11) + 1) * k2m53;
  const double u2 = static_cast<double>(philox_u64(b.w[2], b.w[3]) >> 11) * k2m53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

// low + (64 random bits mod range), for range = high - low as an unsigned 64-bit count (> 0).
SPLAT_HD constexpr int64_t philox_randint(const PhiloxBlock& b, int64_t low, uint64_t range) {
  return static_cast<int64_t>(static_cast<uint64_t>(low) + philox_u64(b.w[0], b.w[1]) % range);
}

// Where the next draw starts: counters [offset, offset + n) under key seed.
struct PhiloxState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

// A seed plus a running counter offset; thread-safe. Draws reserve disjoint counter ranges, so
// the numbers an op gets depend only on the seed and how many counters earlier ops took.
class Generator {
public:
  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Restarts the stream: seed, offset 0.
  void manual_seed(uint64_t seed);
  uint64_t seed() const;
  // For checkpoints: the exact position of the stream, and restoring it.
  PhiloxState state() const;
  void set_state(PhiloxState s);

  // Reserves n counters and returns the first. Throws when the 2^64 counters are exhausted.
  uint64_t reserve(uint64_t n);
  // The same, also returning the seed read under the same lock, so a manual_seed racing with
  // the draw cannot pair the new seed with a counter range of the old stream. Ops use this.
  PhiloxState reserve_state(uint64_t n);

private:
  mutable std::mutex mu_;
  PhiloxState state_;
};

// The process-wide generator used when an op gets no Generator (seed 0 until manual_seed).
Generator& default_generator();
// Reseeds the default generator (offset back to 0).
void manual_seed(uint64_t seed);

} // namespace splat
