// rng.h: a tiny deterministic generator for random test graphs and data (splitmix64):
// the same sequence on every platform, unlike the standard distributions.
#pragma once

#include <cstdint>

namespace tevo::test {

class Rng {
public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n).
  int below(int n) {
    return static_cast<int>(next() % static_cast<uint64_t>(n));
  }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }

private:
  uint64_t s_;
};

} // namespace tevo::test
