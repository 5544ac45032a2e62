// random.h: the counter-based random generator behind random_uniform and random_normal.
//
// Every element is a pure function of (seed, flat row-major element index), so any backend
// (interpreter, CPU, CUDA, one thread per element) reproduces a tensor bit for bit without
// shared state. The definition, which code generators must follow exactly:
//
//   mix(z)        = splitmix64 finaliser of z + 0x9E3779B97F4A7C15 (all arithmetic mod 2^64):
//                   z += 0x9E3779B97F4A7C15
//                   z  = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//                   z  = (z ^ (z >> 27)) * 0x94D049BB133111EB
//                   z  =  z ^ (z >> 31)
//   bits(s, c)    = mix(mix(uint64(s)) ^ c)         s: the i64 seed (two's complement),
//                                                   c: a 64-bit counter
//   u01(s, c)     = (bits(s, c) >> 11) * 2^-53       in [0, 1), 53 random bits
//
//   random_uniform element i = low + (high - low) * u01(seed, i)
//   random_normal  element i = mean + std * sqrt(-2 ln(1 - u1)) * cos(2 pi u2)
//                  with u1 = u01(seed, 2i), u2 = u01(seed, 2i + 1)   (Box-Muller, cosine
//                  branch only; 1 - u1 is in (0, 1], so the logarithm is finite)
//
// All of this is computed in double and rounded once to the result dtype.
// Header-only and dependency-free so that runtimes and generated code can share it.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace tevo::ir::random {

/// splitmix64's step and finaliser applied to z.
constexpr uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// 64 random bits for counter c under seed s.
constexpr uint64_t bits(int64_t seed, uint64_t c) {
  return mix(mix(static_cast<uint64_t>(seed)) ^ c);
}

/// A uniform double in [0, 1) from the top 53 bits.
constexpr double u01(int64_t seed, uint64_t c) {
  return static_cast<double>(bits(seed, c) >> 11) * 0x1.0p-53;
}

/// Element i of random_uniform{seed, low, high}, before rounding to the dtype.
inline double uniform(int64_t seed, uint64_t i, double low, double high) {
  return low + (high - low) * u01(seed, i);
}

/// A standard normal sample for element i (Box-Muller on counters 2i and 2i + 1).
inline double standard_normal(int64_t seed, uint64_t i) {
  double u1 = u01(seed, 2 * i);
  double u2 = u01(seed, 2 * i + 1);
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// Element i of random_normal{seed, mean, std}, before rounding to the dtype.
inline double normal(int64_t seed, uint64_t i, double mean, double std_dev) {
  return mean + std_dev * standard_normal(seed, i);
}

} // namespace tevo::ir::random
