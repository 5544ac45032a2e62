// attention_gemm.cpp: AVX-512 micro-kernels for the attention forward's tile products.
//
// One micro-kernel shape serves both products: a block of R rows of C times NV vectors of
// 16 columns lives in registers (R x NV <= 24 of the 32 zmm registers) for the whole inner
// loop; each step loads NV vectors of one row of B and broadcasts one element of A per row
// (an FMA with a memory broadcast operand). Columns past the edge are masked, so no tile
// extent needs padding. The runtime library is built for baseline x86-64: the kernels carry
// target attributes and are chosen at run time (tile_gemm_available).
#include "runtime/kernels/attention_gemm.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TEVO_TILE_GEMM 1
#else
#define TEVO_TILE_GEMM 0
#endif

namespace tevo::rt::kernels::attn {

namespace {

constexpr int64_t kPanel = kKtPanel;
constexpr int64_t kChunk = 128; ///< inner extent per pass of product_tile (V: 32 KiB at dv 64)

[[noreturn]] void unavailable() {
  std::fprintf(stderr, "tevo: internal error: AVX-512 attention tile kernels called on a CPU "
                       "without AVX-512\n");
  std::abort();
}

} // namespace

int64_t packed_kt_floats(int64_t nk, int64_t d) {
  return (nk + kPanel - 1) / kPanel * kPanel * d;
}

namespace {

/// Panel columns [j0, j1) of pack_kt, element by element (any strides; zero past nk).
void pack_cols(const float* k, int64_t rs, int64_t cs, int64_t nk, int64_t d, int64_t t,
               int64_t j0, int64_t j1, float* panel) {
  for (int64_t p = 0; p < d; ++p)
    for (int64_t j = j0; j < j1; ++j)
      panel[p * kPanel + j] = t + j < nk ? k[(t + j) * rs + p * cs] : 0.0f;
}

/// Transposes 16 keys x 16 features (key rows `rs` apart, features contiguous) into 16
/// panel rows (kPanel apart): two rounds of in-lane unpacks, two of 128-bit shuffles.
bool transpose16(const float* src, int64_t rs, float* dst);

} // namespace

void pack_kt(const float* k, int64_t rs, int64_t cs, int64_t nk, int64_t d, float* out) {
  for (int64_t t = 0; t < nk; t += kPanel) {
    float* panel = out + t * d;
    int64_t j = 0;
    // Full 16-key halves with contiguous features go through the register transpose.
    if (cs == 1)
      for (; j + 16 <= kPanel && t + j + 16 <= nk; j += 16) {
        int64_t p = 0;
        for (; p + 16 <= d; p += 16)
          if (!transpose16(k + (t + j) * rs + p, rs, panel + p * kPanel + j))
            break;
        if (p < d)
          pack_cols(k + p, rs, 1, nk, d - p, t, j, j + 16, panel + p * kPanel);
      }
    pack_cols(k, rs, cs, nk, d, t, j, kPanel, panel);
  }
}

int64_t KtCache::floats(int64_t m, int64_t d) {
  const int64_t panels = (m + kPanel - 1) / kPanel;
  const int64_t n = packed_kt_floats(m, d) + (panels + 3) / 4;
  return n * 4 <= kMaxBytes ? n : 0;
}

KtCache::KtCache(float* ws, int64_t m, int64_t d)
    : panels_(ws), done_(reinterpret_cast<uint8_t*>(ws + packed_kt_floats(m, d))), m_(m), d_(d) {}

const float* KtCache::panels(int64_t head,
                             const float* k,
                             int64_t rs,
                             int64_t cs,
                             int64_t j0,
                             int64_t nk) {
  if (head != head_) {
    std::memset(done_, 0, static_cast<size_t>((m_ + kPanel - 1) / kPanel));
    head_ = head;
  }
  // Whole panels of the head's keys (zero-padded only past M), so a later tile reaching
  // further finds its panels complete.
  for (int64_t j = j0; j < j0 + nk; j += kPanel)
    if (!done_[j / kPanel]) {
      pack_kt(k + j * rs, rs, cs, std::min(kPanel, m_ - j), d_, panels_ + j * d_);
      done_[j / kPanel] = 1;
    }
  return panels_ + j0 * d_;
}

#if TEVO_TILE_GEMM

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized
// reports at every inlined call site (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

/// What a micro-kernel does with alpha A B before storing C (pointers already at the block's
/// first row): C = alpha A B + (diag(corr) C with corr set, else C with add, else 0) + (D
/// with dm set: row r at dm + r * ldd); with vmax set, vmax[16 r + l] = max(vmax[16 r + l],
/// lane l of the stored row's vectors), masked lanes left out (a row max in 16 lanes).
struct Epilogue {
  float alpha = 1;
  const float* corr = nullptr;
  bool add = false;
  const float* dm = nullptr;
  int64_t ldd = 0;
  float* vmax = nullptr;

  /// The same for the rows from r on.
  Epilogue at(int64_t r) const {
    Epilogue e = *this;
    e.corr = corr ? corr + r : nullptr;
    e.dm = dm ? dm + r * ldd : nullptr;
    e.vmax = vmax ? vmax + 16 * r : nullptr;
    return e;
  }
};

/// C[R x 16 NV] = alpha A B and the epilogue `e`, A(r, p) at a[r * ars + p * acs], B's row
/// p at b + p * ldb, C's row r at c + r * ldc. The last vector of each row of C is masked by
/// `last`, and of B too when TAIL (else B is read in full: a zero-padded panel). Rows are
/// addressed from one pointer per three rows (base + 0, ars or 2 ars), which keeps the loop
/// within the general registers.
template <int R, int NV, bool TAIL>
__attribute__((target("avx512f"))) void micro(int64_t k,
                                              const float* a,
                                              int64_t ars,
                                              int64_t acs,
                                              const float* b,
                                              int64_t ldb,
                                              __mmask16 last,
                                              const Epilogue& e,
                                              float* c,
                                              int64_t ldc) {
  constexpr int G = (R + 2) / 3;
  __m512 acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm512_setzero_ps();
  const float* ag[G];
#pragma GCC unroll 4
  for (int t = 0; t < G; ++t)
    ag[t] = a + 3 * t * ars;
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = TAIL && v == NV - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v)
                                  : _mm512_loadu_ps(b + 16 * v);
    b += ldb;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(ag[r / 3][(r % 3) * ars]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
#pragma GCC unroll 4
    for (int t = 0; t < G; ++t)
      ag[t] += acs;
  }
  const __m512 va = _mm512_set1_ps(e.alpha);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    __m512 rmax = e.vmax ? _mm512_loadu_ps(e.vmax + 16 * r) : _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m = v == NV - 1 ? last : static_cast<__mmask16>(0xFFFF);
      float* cp = c + r * ldc + 16 * v;
      __m512 x = _mm512_mul_ps(va, acc[r][v]);
      if (e.corr)
        x = _mm512_fmadd_ps(_mm512_set1_ps(e.corr[r]), _mm512_maskz_loadu_ps(m, cp), x);
      else if (e.add)
        x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, cp), x);
      if (e.dm)
        x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, e.dm + r * e.ldd + 16 * v), x);
      _mm512_mask_storeu_ps(cp, m, x);
      if (e.vmax)
        rmax = _mm512_mask_max_ps(rmax, m, rmax, x);
    }
    if (e.vmax)
      _mm512_storeu_ps(e.vmax + 16 * r, rmax);
  }
}

using Micro = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, __mmask16,
                       const Epilogue&, float*, int64_t);

/// Rows per block for NV vectors: 24 accumulators (12 x 2, 8 x 3, 6 x 4).
constexpr int rows_for(int nv) {
  return nv <= 2 ? 12 : nv == 3 ? 8 : 6;
}

template <int NV, bool TAIL, int... Rs>
constexpr std::array<Micro, 12> row_table(std::integer_sequence<int, Rs...>) {
  return {&micro<Rs + 1, NV, TAIL>...};
}

using Table = std::array<std::array<Micro, 12>, 4>;

/// kMicro[tail][nv - 1][rows - 1] for nv in 1..4, rows in 1..rows_for(nv).
template <bool TAIL> Table micro_table() {
  return {row_table<1, TAIL>(std::make_integer_sequence<int, rows_for(1)>{}),
          row_table<2, TAIL>(std::make_integer_sequence<int, rows_for(2)>{}),
          row_table<3, TAIL>(std::make_integer_sequence<int, rows_for(3)>{}),
          row_table<4, TAIL>(std::make_integer_sequence<int, rows_for(4)>{})};
}
const std::array<Table, 2> kMicro = {micro_table<false>(), micro_table<true>()};

/// Lanes [0, n) of a 16-lane mask (n clamped to [0, 16]).
__mmask16 lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
                 : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
}

/// C[m x w] = alpha A B and the epilogue over column block [0, w), w <= 64: rows in blocks of
/// rows_for(nv). `padded`: B's rows hold whole vectors (zeros past w), so only C's edge is
/// masked.
void rows(int64_t m,
          int64_t w,
          int64_t k,
          const float* a,
          int64_t ars,
          int64_t acs,
          const float* b,
          int64_t ldb,
          bool padded,
          const Epilogue& e,
          float* c,
          int64_t ldc) {
  const int nv = static_cast<int>((w + 15) / 16);
  const __mmask16 last = lanes(w - 16 * (nv - 1));
  const auto& table = kMicro[!padded && last != 0xFFFF][static_cast<size_t>(nv - 1)];
  const int64_t rb = rows_for(nv);
  for (int64_t r = 0; r < m; r += rb) {
    const int64_t nr = m - r < rb ? m - r : rb;
    table[static_cast<size_t>(nr - 1)](k, a + r * ars, ars, acs, b, ldb, last, e.at(r),
                                       c + r * ldc, ldc);
  }
}

__attribute__((target("avx512f"))) void transpose16_avx512(const float* src, int64_t rs,
                                                            float* dst) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_loadu_ps(src + i * rs);
  // Round 1: interleave pairs of rows (elements), round 2: pairs of pairs (64-bit), round
  // 3 and 4: 128-bit lanes across groups of four and eight rows.
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4)
    for (int h = 0; h < 2; ++h) {
      __m512d a = _mm512_castps_pd(t[i + h]), b = _mm512_castps_pd(t[i + 2 + h]);
      r[i + h] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      r[i + 2 + h] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
  for (int i = 0; i < 16; i += 8)
    for (int h = 0; h < 4; ++h) {
      t[i + h] = _mm512_shuffle_f32x4(r[i + h], r[i + 4 + h], 0x88);
      t[i + 4 + h] = _mm512_shuffle_f32x4(r[i + h], r[i + 4 + h], 0xDD);
    }
  for (int h = 0; h < 8; ++h) {
    r[h] = _mm512_shuffle_f32x4(t[h], t[h + 8], 0x88);
    r[h + 8] = _mm512_shuffle_f32x4(t[h], t[h + 8], 0xDD);
  }
  // r[x] now holds feature f(x) of the 16 keys; f undoes the interleaving above.
  for (int x = 0; x < 16; ++x) {
    const int f = (x & 12) | (x & 1) << 1 | (x >> 1 & 1); // rounds 1-2 swap bits 0 and 1
    _mm512_storeu_ps(dst + f * kPanel, r[x]);
  }
}

bool transpose16(const float* src, int64_t rs, float* dst) {
  if (!__builtin_cpu_supports("avx512f"))
    return false;
  transpose16_avx512(src, rs, dst);
  return true;
}

} // namespace

bool tile_gemm_available() {
  return __builtin_cpu_supports("avx512f");
}

void scores_tile(const float* q,
                 int64_t ldq,
                 int64_t nq,
                 int64_t d,
                 const float* ktp,
                 int64_t nk,
                 float scale,
                 const float* bias,
                 int64_t ldbias,
                 float* s,
                 int64_t lds,
                 float* vmax) {
  if (!tile_gemm_available())
    unavailable();
  if (vmax)
    std::fill(vmax, vmax + 16 * nq, -std::numeric_limits<float>::infinity());
  // Panel outer: a panel (32 keys x d) stays in L1 while the query rows stream past it.
  for (int64_t t = 0; t < nk; t += kPanel) {
    Epilogue e;
    e.alpha = scale;
    e.dm = bias ? bias + t : nullptr;
    e.ldd = ldbias;
    e.vmax = vmax;
    rows(nq, nk - t < kPanel ? nk - t : kPanel, d, q, ldq, 1, ktp + t * d, kPanel, true, e,
         s + t, lds);
  }
}

void product_tile(int64_t m,
                  int64_t n,
                  int64_t k,
                  float alpha,
                  const float* a,
                  int64_t ars,
                  int64_t acs,
                  const float* b,
                  int64_t ldb,
                  const float* corr,
                  bool add,
                  float* c,
                  int64_t ldc) {
  if (!tile_gemm_available())
    unavailable();
  if (k <= 0) { // no products: only the scaling or clearing of C
    for (int64_t r = 0; r < m; ++r)
      for (int64_t t = 0; t < n; ++t)
        c[r * ldc + t] = corr ? corr[r] * c[r * ldc + t] : add ? c[r * ldc + t] : 0.0f;
    return;
  }
  // Columns in blocks of 64, the inner extent in chunks of kChunk (a chunk of B stays in L1
  // while every row block passes over it); C's scaling or clearing happens on the first.
  for (int64_t t = 0; t < n; t += 64)
    for (int64_t p0 = 0; p0 < k; p0 += kChunk) {
      const int64_t kc = k - p0 < kChunk ? k - p0 : kChunk;
      Epilogue e;
      e.alpha = alpha;
      e.corr = p0 == 0 ? corr : nullptr;
      e.add = p0 == 0 ? add : true;
      rows(m, n - t < 64 ? n - t : 64, kc, a + p0 * acs, ars, acs, b + p0 * ldb + t, ldb, false,
           e, c + t, ldc);
    }
}

#pragma GCC diagnostic pop

#else

namespace {
bool transpose16(const float*, int64_t, float*) {
  return false;
}
} // namespace

bool tile_gemm_available() {
  return false;
}
void scores_tile(const float*, int64_t, int64_t, int64_t, const float*, int64_t, float,
                 const float*, int64_t, float*, int64_t, float*) {
  unavailable();
}
void product_tile(int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t,
                  const float*, int64_t, const float*, bool, float*, int64_t) {
  unavailable();
}

#endif

} // namespace tevo::rt::kernels::attn
