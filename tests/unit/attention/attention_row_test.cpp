// The attention kernels' f32 row primitives (max; exp with its sum) in every instruction
// set variant the CPU runs, against double-precision references: the AVX-512 variant is
// the one the kernels take on an AVX-512 host, so the AVX2 and scalar ones are only
// exercised here.
#include "runtime/kernels/attention_tile.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using tevo::rt::kernels::attn::row_exp_sum;
using tevo::rt::kernels::attn::row_isa_supported;
using tevo::rt::kernels::attn::row_max;
using tevo::rt::kernels::attn::RowIsa;

const char* isa_name(RowIsa isa) {
  switch (isa) {
  case RowIsa::Avx512:
    return "avx512";
  case RowIsa::Avx2:
    return "avx2";
  case RowIsa::Scalar:
    return "scalar";
  default:
    return "best";
  }
}

/// A row of n scores: normal values, a few -inf (masked) and a few far below exp's range.
std::vector<float> row(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, 4.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    float v = d(gen);
    if (j % 11 == 3)
      v = -std::numeric_limits<float>::infinity();
    else if (j % 13 == 5)
      v -= 200.0f; // exp underflows to exactly 0
    x[static_cast<size_t>(j)] = v;
  }
  return x;
}

} // namespace

TEST_CASE("attention rows: max and exp-sum agree with double references in every ISA") {
  for (RowIsa isa : {RowIsa::Best, RowIsa::Avx512, RowIsa::Avx2, RowIsa::Scalar}) {
    if (!row_isa_supported(isa))
      continue;
    for (int64_t n : {0, 1, 7, 15, 16, 17, 31, 33, 64, 100, 257, 512}) {
      std::string name = isa_name(isa);
      CAPTURE(name);
      CAPTURE(n);
      std::vector<float> x = row(n, static_cast<uint32_t>(n) + 7);
      double want_max = -std::numeric_limits<double>::infinity();
      for (float v : x)
        want_max = std::max(want_max, static_cast<double>(v));
      float m = row_max(x.data(), n, isa);
      CHECK(static_cast<double>(m) == want_max); // exact: max rounds nothing
      if (n == 0 || std::isinf(m))
        continue;
      std::vector<float> e = x;
      float s = row_exp_sum(e.data(), n, m, isa);
      double want_sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        // the argument as the kernels form it: x - m rounded to f32 (exact only when small)
        float arg = x[static_cast<size_t>(j)] - m;
        double want = std::exp(static_cast<double>(arg));
        want_sum += want;
        float got = e[static_cast<size_t>(j)];
        if (std::isinf(x[static_cast<size_t>(j)]) || x[static_cast<size_t>(j)] - m < -88.0f)
          CHECK(got == 0.0f); // masked or underflowing: exactly 0, never a denormal mess
        else
          CHECK(std::abs(got - want) <= 3e-7 * want); // the polynomial: ~2 ulp
      }
      CHECK(std::abs(s - want_sum) <= 1e-6 * want_sum);
    }
  }
}

TEST_CASE("attention rows: exp is within 2 ulp over [-87, 0] and exactly 1 at 0") {
  // Every 64th float of [-87, 0] (1.7 million arguments, all exponents), against exp in
  // double rounded to f32's ulp. The polynomial's f32 evaluation peaks at 2.01 ulp; a
  // coefficient off by one in its fourth digit or a lost Cody-Waite step goes far past 3.
  std::vector<float> args;
  for (float v = -0.0f; v >= -87.0f;) {
    args.push_back(v);
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bits += 64;
    std::memcpy(&v, &bits, sizeof v);
  }
  args.push_back(-87.0f);
  for (RowIsa isa : {RowIsa::Avx512, RowIsa::Avx2, RowIsa::Scalar}) {
    if (!row_isa_supported(isa))
      continue;
    std::string name = isa_name(isa);
    CAPTURE(name);
    std::vector<float> e = args;
    row_exp_sum(e.data(), static_cast<int64_t>(e.size()), 0.0f, isa);
    CHECK(e[0] == 1.0f); // the row's maximum weighs exactly 1
    double worst = 0;
    float worst_at = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      const double want = std::exp(static_cast<double>(args[i]));
      const float wf = static_cast<float>(want);
      const double ulp = static_cast<double>(std::nextafter(wf, std::numeric_limits<float>::infinity()) - wf);
      const double err = std::abs(static_cast<double>(e[i]) - want) / ulp;
      if (err > worst) {
        worst = err;
        worst_at = args[i];
      }
    }
    CAPTURE(worst_at);
    CHECK(worst <= 2.1);
  }
}

TEST_CASE("attention rows: FlushDenormals flushes on this thread only while it lives") {
  using tevo::rt::kernels::attn::FlushDenormals;
  volatile float tiny = 1e-39f; // a denormal
  volatile float one = 1.0f;
  CHECK(tiny * one != 0.0f);
  {
    FlushDenormals off(false);
    CHECK(tiny * one != 0.0f);
  }
  {
    FlushDenormals on(true);
#if defined(__x86_64__) || defined(__i386__)
    CHECK(tiny * one == 0.0f); // DAZ: the denormal operand reads as 0
#endif
  }
  CHECK(tiny * one != 0.0f); // the caller's floating-point state is back
}
