// attention_tile.cpp: per-head views, tile GEMMs and row softmax primitives of the
// attention kernels.
//
// The runtime library is compiled for baseline x86-64, so the row primitives (max, and
// exp with its sum: one exp per allowed score, ~1/10 of the forward's time at d = 64)
// carry AVX-512 and AVX2+FMA variants selected at run time (AVX-512 halves their time).
// gemm() here is the dnnl_sgemm path of CPUs without AVX-512 (and f64's plain loops);
// attention_gemm.h has the AVX-512 tile products.
#include "runtime/kernels/attention_tile.h"
#include "runtime/exp_poly.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <oneapi/dnnl/dnnl.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TEVO_ATTN_AVX2 1
#else
#define TEVO_ATTN_AVX2 0
#endif

namespace tevo::rt::kernels::attn {

HeadView HeadView::of(const StridedDesc& d) {
  HeadView v;
  size_t r = d.dims.size();
  v.bdims.assign(d.dims.begin(), d.dims.end() - 3);
  v.bstr.assign(d.strides.begin(), d.strides.end() - 3);
  v.hs = d.strides[r - 3];
  v.rs = d.strides[r - 2];
  v.cs = d.strides[r - 1];
  return v;
}

namespace {

/// A view over [*B, Hq, N, M] of an operand of dims `dims` and element strides `st`
/// (right-aligned; missing and extent-1 dims broadcast). A table is right-aligned to
/// [*B, Hq, N + M - 1] instead and read along diagonals.
HeadView broadcast_view(const std::vector<int64_t>& dims,
                        const std::vector<int64_t>& st,
                        const AttnGeo& g,
                        bool table) {
  size_t full = g.batch.size() + (table ? 2 : 3), lead = full - dims.size();
  std::vector<int64_t> s(full, 0);
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] != 1)
      s[lead + i] = st[i];
  HeadView v;
  v.bdims = g.batch;
  v.bstr.assign(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(g.batch.size()));
  v.hs = s[g.batch.size()];
  v.cs = s[full - 1];
  v.rs = table ? -v.cs : s[full - 2];
  v.origin = table ? (g.n - 1) * v.cs : 0;
  return v;
}

} // namespace

HeadView HeadView::scores(const StridedDesc& d, const AttnGeo& g, bool table) {
  return broadcast_view(d.dims, d.strides, g, table);
}

HeadView HeadView::scores_dense(const StridedDesc& d, const AttnGeo& g, bool table) {
  std::vector<int64_t> st(d.dims.size(), 1);
  for (size_t i = d.dims.size(); i-- > 1;)
    st[i - 1] = st[i] * d.dims[i];
  return broadcast_view(d.dims, st, g, table);
}

void gemm(char ta,
          char tb,
          int64_t m,
          int64_t n,
          int64_t k,
          float alpha,
          const float* a,
          int64_t lda,
          const float* b,
          int64_t ldb,
          float beta,
          float* c,
          int64_t ldc) {
  if (m <= 0 || n <= 0)
    return;
  dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (st != dnnl_success) { // arguments are derived from checked shapes: a bug, not input
    std::fprintf(stderr, "tevo: internal error: dnnl_sgemm failed (status %d)\n",
                 static_cast<int>(st));
    std::abort();
  }
}

void gemm(char ta,
          char tb,
          int64_t m,
          int64_t n,
          int64_t k,
          double alpha,
          const double* a,
          int64_t lda,
          const double* b,
          int64_t ldb,
          double beta,
          double* c,
          int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      c[i * ldc + j] = beta == 0 ? 0.0 : beta * c[i * ldc + j];
  bool at = ta == 'T', bt = tb == 'T';
  // i-p-j order: the innermost loop walks rows of B and C (unit stride when B is 'N').
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      double x = alpha * (at ? a[p * lda + i] : a[i * lda + p]);
      if (x == 0)
        continue;
      double* crow = c + i * ldc;
      if (bt)
        for (int64_t j = 0; j < n; ++j)
          crow[j] += x * b[j * ldb + p];
      else
        for (int64_t j = 0; j < n; ++j)
          crow[j] += x * b[p * ldb + j];
    }
}

namespace {

#if TEVO_ATTN_AVX2
/// exp's constants: clamp range, log2(e), ln(2) split in two (Cody-Waite); the polynomial
/// is runtime/exp_poly.h's (the generated code's exp uses it too). Cephes' degree-7 form
/// was 1.26 / 0.35 ulp and three more vector operations per 16 lanes (~10% of a long
/// attention forward). exp8 and exp16 share them.
constexpr float kExpLo = -87.0f, kExpHi = 88.0f, kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr const float (&kExpPoly)[5] = rt::kExpPolyF32;

bool have_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/// exp of 8 floats (Cody-Waite range reduction and kExpPoly, <= 2 ulp); arguments below
/// -87 (and -inf) give exactly 0, NaN stays NaN.
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(kExpLo), hi = _mm256_set1_ps(kExpHi);
  __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_min_ps(hi, _mm256_max_ps(lo, x)); // second operand wins on NaN: x stays NaN
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(kLn2Hi), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(kLn2Lo), x);
  __m256 y = _mm256_set1_ps(kExpPoly[0]);
  for (int i = 1; i < 5; ++i)
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(kExpPoly[i]));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.0f));
  __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(under, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

__attribute__((target("avx2,fma"))) float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float row_max_avx2(const float* x, int64_t n) {
  __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    m = _mm256_max_ps(m, _mm256_loadu_ps(x + j));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
  float r = _mm_cvtss_f32(h);
  for (; j < n; ++j)
    r = std::max(r, x[j]);
  return r;
}

__attribute__((target("avx2,fma"))) float row_exp_sum_avx2(float* x, int64_t n, float m) {
  __m256 vm = _mm256_set1_ps(m), s = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm));
    _mm256_storeu_ps(x + j, e);
    s = _mm256_add_ps(s, e);
  }
  float r = hsum(s);
  for (; j < n; ++j) {
    x[j] = std::exp(x[j] - m);
    r += x[j];
  }
  return r;
}

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized
// reports at every inlined call site (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
bool have_avx512() {
  return __builtin_cpu_supports("avx512f");
}

/// exp8's range reduction and polynomial on 16 lanes; the power of two is applied by
/// vscalefps, which also gives +inf past exp's range. Lanes below -87 (and -inf) are
/// zeroed by the final masked scalef, so nothing is clamped: what their reduction computes
/// (-inf - -inf = NaN) is discarded. NaN stays NaN.
__attribute__((target("avx512f"))) inline __m512 exp16(__m512 x) {
  const __mmask16 keep =
      _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpLo), _CMP_NLT_UQ); // x >= lo or NaN
  __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(kLn2Hi), x);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(kLn2Lo), x);
  __m512 y = _mm512_set1_ps(kExpPoly[0]);
  for (int i = 1; i < 5; ++i)
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(kExpPoly[i]));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(keep, y, fx);
}

__attribute__((target("avx512f"))) float row_max_avx512(const float* x, int64_t n) {
  __m512 m = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    m = _mm512_max_ps(m, _mm512_loadu_ps(x + j));
  if (j < n)
    m = _mm512_mask_max_ps(m, static_cast<__mmask16>((1u << (n - j)) - 1), m,
                           _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << (n - j)) - 1),
                                                 x + j));
  return _mm512_reduce_max_ps(m);
}

__attribute__((target("avx512f"))) float row_exp_sum_avx512(float* x, int64_t n, float m) {
  __m512 vm = _mm512_set1_ps(m), s = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j), vm));
    _mm512_storeu_ps(x + j, e);
    s = _mm512_add_ps(s, e);
  }
  if (j < n) {
    __mmask16 k = static_cast<__mmask16>((1u << (n - j)) - 1);
    __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), vm));
    _mm512_mask_storeu_ps(x + j, k, e);
    s = _mm512_mask_add_ps(s, k, s, e);
  }
  return _mm512_reduce_add_ps(s);
}
#pragma GCC diagnostic pop
#endif

template <class T> T row_max_scalar(const T* x, int64_t n) {
  T r = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < n; ++j)
    r = std::max(r, x[j]);
  return r;
}

template <class T> T row_exp_sum_scalar(T* x, int64_t n, T m) {
  T r = 0;
  for (int64_t j = 0; j < n; ++j) {
    x[j] = std::exp(x[j] - m);
    r += x[j];
  }
  return r;
}

} // namespace

bool row_isa_supported(RowIsa isa) {
#if TEVO_ATTN_AVX2
  if (isa == RowIsa::Avx512)
    return have_avx512();
  if (isa == RowIsa::Avx2)
    return have_avx2();
#endif
  return isa == RowIsa::Best || isa == RowIsa::Scalar;
}

namespace {

/// The ISA to run: `isa` when the CPU has it, the widest available for Best, else Scalar.
RowIsa pick(RowIsa isa) {
#if TEVO_ATTN_AVX2
  if (isa == RowIsa::Best)
    return have_avx512() ? RowIsa::Avx512 : have_avx2() ? RowIsa::Avx2 : RowIsa::Scalar;
#endif
  return row_isa_supported(isa) && isa != RowIsa::Best ? isa : RowIsa::Scalar;
}

} // namespace

float row_max(const float* x, int64_t n, RowIsa isa) {
  switch (pick(isa)) {
#if TEVO_ATTN_AVX2
  case RowIsa::Avx512:
    return row_max_avx512(x, n);
  case RowIsa::Avx2:
    return row_max_avx2(x, n);
#endif
  default:
    return row_max_scalar(x, n);
  }
}
double row_max(const double* x, int64_t n) {
  return row_max_scalar(x, n);
}

float row_exp_sum(float* x, int64_t n, float m, RowIsa isa) {
  switch (pick(isa)) {
#if TEVO_ATTN_AVX2
  case RowIsa::Avx512:
    return row_exp_sum_avx512(x, n, m);
  case RowIsa::Avx2:
    return row_exp_sum_avx2(x, n, m);
#endif
  default:
    return row_exp_sum_scalar(x, n, m);
  }
}
double row_exp_sum(double* x, int64_t n, double m) {
  return row_exp_sum_scalar(x, n, m);
}

} // namespace tevo::rt::kernels::attn
