// machine.cpp: the FMA peak and copy bandwidth kernels (intrinsics, runtime ISA dispatch).
//
// The FMA loop must not be folded: acc = acc * x + y with x, y opaque to the optimiser
// (an empty asm that claims to change them) cannot be reassociated or evaluated in
// closed form without -ffast-math. `objdump -d tevo-bench | grep -c vfmadd` shows the 16
// chains (bench/README.md says how to check).
#include "bench/machine.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace tevo::bench {

namespace {

constexpr int kChains = 16;

__attribute__((target("avx512f"), noinline)) float fma_loop_avx512(int64_t iters) {
  __m512 acc[kChains];
#pragma GCC unroll 16
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_ps(0.5f + 0.01f * static_cast<float>(c));
  __m512 x = _mm512_set1_ps(0.9999f), y = _mm512_set1_ps(1e-4f);
  for (int64_t i = 0; i < iters; ++i) {
    asm volatile("" : "+v"(x), "+v"(y));
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_fmadd_ps(acc[c], x, y);
  }
  __m512 s = acc[0];
#pragma GCC unroll 16
  for (int c = 1; c < kChains; ++c)
    s = _mm512_add_ps(s, acc[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float r = 0;
  for (float v : lanes)
    r += v;
  return r;
}

__attribute__((target("avx2,fma"), noinline)) float fma_loop_avx2(int64_t iters) {
  __m256 acc[kChains];
#pragma GCC unroll 16
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm256_set1_ps(0.5f + 0.01f * static_cast<float>(c));
  __m256 x = _mm256_set1_ps(0.9999f), y = _mm256_set1_ps(1e-4f);
  for (int64_t i = 0; i < iters; ++i) {
    asm volatile("" : "+x"(x), "+x"(y));
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm256_fmadd_ps(acc[c], x, y);
  }
  __m256 s = acc[0];
#pragma GCC unroll 16
  for (int c = 1; c < kChains; ++c)
    s = _mm256_add_ps(s, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float r = 0;
  for (float v : lanes)
    r += v;
  return r;
}

bool has_avx512() {
  return __builtin_cpu_supports("avx512f");
}

/// Runs the FMA loop on `threads` threads at once; returns a value that depends on the
/// result so that nothing is dead.
float fma_parallel(int threads, int64_t iters, bool avx512) {
  float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  total += avx512 ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
  return total;
}

__attribute__((target("avx512f"), noinline)) void copy_avx512(const float* src, float* dst,
                                                              int64_t n) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 a = _mm512_load_ps(src + i), b = _mm512_load_ps(src + i + 16);
    __m512 c = _mm512_load_ps(src + i + 32), d = _mm512_load_ps(src + i + 48);
    _mm512_store_ps(dst + i, a);
    _mm512_store_ps(dst + i + 16, b);
    _mm512_store_ps(dst + i + 32, c);
    _mm512_store_ps(dst + i + 48, d);
  }
  for (; i < n; ++i)
    dst[i] = src[i];
}

__attribute__((target("avx2"), noinline)) void copy_avx2(const float* src, float* dst,
                                                         int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 a = _mm256_load_ps(src + i), b = _mm256_load_ps(src + i + 8);
    __m256 c = _mm256_load_ps(src + i + 16), d = _mm256_load_ps(src + i + 24);
    _mm256_store_ps(dst + i, a);
    _mm256_store_ps(dst + i + 8, b);
    _mm256_store_ps(dst + i + 16, c);
    _mm256_store_ps(dst + i + 24, d);
  }
  for (; i < n; ++i)
    dst[i] = src[i];
}

struct FreeDeleter {
  void operator()(float* p) const {
    std::free(p);
  }
};
using Buf = std::unique_ptr<float, FreeDeleter>;

Buf alloc_floats(int64_t n) {
  auto bytes = static_cast<size_t>((n * 4 + 4095) / 4096 * 4096);
  auto* p = static_cast<float*>(std::aligned_alloc(4096, bytes));
  if (!p)
    throw std::runtime_error("copy_bandwidth: out of memory");
  return Buf(p);
}

/// [begin, end) of thread `t` of `threads` over n elements, in 64-element (256 B) units so
/// that every chunk stays aligned.
void chunk(int64_t n, int threads, int t, int64_t& begin, int64_t& end) {
  int64_t units = (n + 63) / 64;
  int64_t per = (units + threads - 1) / threads;
  begin = std::min(n, per * t * 64);
  end = std::min(n, per * (t + 1) * 64);
}

} // namespace

PeakResult fma_peak(int threads, const TimingOptions& opts) {
  PeakResult r;
  bool avx512 = has_avx512();
  r.isa = avx512 ? "avx512" : "avx2";
  const int64_t lanes = avx512 ? 16 : 8;
  // Calibrate: about 0.2 s per run.
  int64_t iters = 1 << 20;
  volatile float sink = 0;
  double t0 = now_s();
  sink = sink + fma_parallel(threads, iters, avx512);
  double dt = now_s() - t0;
  iters = std::max<int64_t>(iters, static_cast<int64_t>(static_cast<double>(iters) * 0.2 /
                                                        std::max(dt, 1e-6)));
  r.timing = measure([&] { sink = sink + fma_parallel(threads, iters, avx512); }, opts);
  r.flops_per_run = static_cast<int64_t>(threads) * iters * kChains * lanes * 2;
  r.gflops = static_cast<double>(r.flops_per_run) / r.timing.min_s * 1e-9;
  return r;
}

CopyResult copy_bandwidth(int threads, int64_t bytes, const TimingOptions& opts) {
  CopyResult r;
  r.bytes = bytes;
  const int64_t n = bytes / 4;
  Buf src = alloc_floats(n), dst = alloc_floats(n);
  float* s = src.get();
  float* d = dst.get();
  // First touch on the threads that copy (pages land where they are used).
#pragma omp parallel num_threads(threads)
  {
    int64_t b = 0, e = 0;
    chunk(n, threads, omp_get_thread_num(), b, e);
    for (int64_t i = b; i < e; ++i) {
      s[i] = static_cast<float>(i % 1000);
      d[i] = 0;
    }
  }
  bool avx512 = has_avx512();
  auto vector_copy = [&] {
#pragma omp parallel num_threads(threads)
    {
      int64_t b = 0, e = 0;
      chunk(n, threads, omp_get_thread_num(), b, e);
      if (avx512)
        copy_avx512(s + b, d + b, e - b);
      else
        copy_avx2(s + b, d + b, e - b);
    }
  };
  auto libc_copy = [&] {
#pragma omp parallel num_threads(threads)
    {
      int64_t b = 0, e = 0;
      chunk(n, threads, omp_get_thread_num(), b, e);
      std::memcpy(d + b, s + b, static_cast<size_t>(e - b) * 4);
    }
  };
  r.timing = measure(vector_copy, opts);
  if (std::memcmp(s, d, static_cast<size_t>(n) * 4) != 0)
    throw std::runtime_error("copy_bandwidth: the copy is wrong");
  Timing tm = measure(libc_copy, opts);
  const double moved = 2.0 * static_cast<double>(n) * 4;
  r.gbps = moved / r.timing.min_s * 1e-9;
  r.memcpy_gbps = moved / tm.min_s * 1e-9;
  return r;
}

} // namespace tevo::bench
