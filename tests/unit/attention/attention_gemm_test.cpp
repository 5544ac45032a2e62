// The attention kernels' AVX-512 tile products (pack_kt, scores_tile, product_tile) against
// double-precision sums, on every edge the micro-kernels mask: row blocks that do not fill
// 12 (scores) or 6 / 8 (values) rows, key panels and value columns that stop inside a
// vector, strided and transposed K, and the elements past a tile that must stay untouched.
#include "runtime/kernels/attention_gemm.h"

#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

using namespace tevo::rt::kernels::attn;

constexpr float kSentinel = 12345.0f;

std::vector<float> randn(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& e : x)
    e = dist(gen);
  return x;
}

/// |got - want| within f32 accumulation error of a sum whose terms total `mag` in size.
bool close(float got, double want, double mag) {
  return std::fabs(static_cast<double>(got) - want) <= 1e-5 * (mag + 1e-30) + 1e-30;
}

} // namespace

TEST_CASE("attention tile products: scores = scale Q K^T (+ bias) over packed K^T panels") {
  if (!tile_gemm_available()) {
    MESSAGE("no AVX-512 on this CPU: the kernels use dnnl_sgemm, nothing to test here");
    return;
  }
  uint32_t seed = 1;
  for (int64_t nq : {1, 5, 12, 13, 25, 64})
    for (int64_t nk : {1, 15, 16, 17, 31, 32, 33, 100})
      for (int64_t d : {1, 3, 16, 17, 64})
        for (int layout = 0; layout < 3; ++layout) { // rows, padded rows, transposed
          CAPTURE(nq);
          CAPTURE(nk);
          CAPTURE(d);
          CAPTURE(layout);
          const int64_t rs = layout == 0 ? d : layout == 1 ? d + 3 : 1;
          const int64_t cs = layout == 2 ? nk + 2 : 1;
          std::vector<float> k = randn(nk * rs * cs + d * cs + nk * rs, seed++);
          const int64_t ldq = d + 1, lds = nk + 5;
          std::vector<float> q = randn(nq * ldq, seed++);
          std::vector<float> kt(static_cast<size_t>(packed_kt_floats(nk, d)), kSentinel);
          pack_kt(k.data(), rs, cs, nk, d, kt.data());
          // Bias: none, rows nk + 7 apart, or a relative-position table read along
          // diagonals (row stride -1: element (r, c) at origin + c - r).
          const int bias_mode = layout;
          const int64_t ldbias = bias_mode == 1 ? nk + 7 : -1;
          std::vector<float> table = randn(nq * (nk + 7) + nq + nk, seed++);
          const float* bias = bias_mode == 0   ? nullptr
                              : bias_mode == 1 ? table.data()
                                               : table.data() + (nq - 1);
          std::vector<float> s(static_cast<size_t>(nq * lds), kSentinel);
          const float scale = 0.125f;
          std::vector<float> vmax(static_cast<size_t>(16 * nq), kSentinel);
          scores_tile(q.data(), ldq, nq, d, kt.data(), nk, scale, bias, ldbias, s.data(), lds,
                      vmax.data());
          int bad = 0;
          for (int64_t r = 0; r < nq; ++r) {
            // the rows' maxima in 16 lanes: exactly the largest stored score
            float got_max = -std::numeric_limits<float>::infinity(), want_max = got_max;
            for (int64_t l = 0; l < 16; ++l)
              got_max = std::max(got_max, vmax[static_cast<size_t>(16 * r + l)]);
            for (int64_t c = 0; c < nk; ++c)
              want_max = std::max(want_max, s[static_cast<size_t>(r * lds + c)]);
            bad += got_max != want_max;
            for (int64_t c = 0; c < nk; ++c) {
              double want = 0, mag = 0;
              for (int64_t p = 0; p < d; ++p) {
                double t = static_cast<double>(q[static_cast<size_t>(r * ldq + p)]) *
                           k[static_cast<size_t>(c * rs + p * cs)];
                want += t;
                mag += std::fabs(t);
              }
              want *= scale;
              mag *= scale;
              if (bias) {
                want += bias[r * ldbias + c];
                mag += std::fabs(bias[r * ldbias + c]);
              }
              bad += !close(s[static_cast<size_t>(r * lds + c)], want, mag);
            }
            for (int64_t c = nk; c < lds; ++c)
              bad += s[static_cast<size_t>(r * lds + c)] != kSentinel;
          }
          CHECK(bad == 0);
        }
}

TEST_CASE("attention tile products: C = alpha A B + diag(corr) C / C / 0, A plain or transposed") {
  if (!tile_gemm_available()) {
    MESSAGE("no AVX-512 on this CPU: the kernels use dnnl_sgemm, nothing to test here");
    return;
  }
  uint32_t seed = 100;
  for (int64_t m : {1, 5, 6, 7, 13, 64})
    for (int64_t k : {0, 1, 16, 17, 127, 128, 129, 300})
      for (int64_t n : {1, 15, 16, 17, 48, 64, 65, 130})
        for (int mode = 0; mode < 3; ++mode) // corr, add, overwrite
          for (bool at : {false, true}) {
            CAPTURE(m);
            CAPTURE(k);
            CAPTURE(n);
            CAPTURE(mode);
            CAPTURE(at);
            // A is [m x k] with row stride k + 3, or stored transposed ([k x m], stride m + 2)
            const int64_t ars = at ? 1 : k + 3, acs = at ? m + 2 : 1;
            const int64_t ldb = n + 2, ldc = n + 4;
            std::vector<float> a = randn((at ? k * acs : m * ars) + 1, seed++);
            std::vector<float> b = randn(k * ldb + 1, seed++);
            std::vector<float> c = randn(m * ldc, seed++), corr = randn(m, seed++);
            for (int64_t r = 0; r < m; ++r)
              for (int64_t t = n; t < ldc; ++t)
                c[static_cast<size_t>(r * ldc + t)] = kSentinel;
            const std::vector<float> before = c;
            const float alpha = 0.75f;
            product_tile(m, n, k, alpha, a.data(), ars, acs, b.data(), ldb,
                         mode == 0 ? corr.data() : nullptr, mode == 1, c.data(), ldc);
            int bad = 0;
            for (int64_t r = 0; r < m; ++r) {
              const double keep = mode == 0 ? corr[static_cast<size_t>(r)] : mode == 1 ? 1 : 0;
              for (int64_t t = 0; t < n; ++t) {
                double want = keep * before[static_cast<size_t>(r * ldc + t)];
                double mag = std::fabs(want);
                for (int64_t p = 0; p < k; ++p) {
                  const double ap = a[static_cast<size_t>(r * ars + p * acs)];
                  double x = alpha * ap * b[static_cast<size_t>(p * ldb + t)];
                  want += x;
                  mag += std::fabs(x);
                }
                bad += !close(c[static_cast<size_t>(r * ldc + t)], want, mag);
              }
              for (int64_t t = n; t < ldc; ++t)
                bad += c[static_cast<size_t>(r * ldc + t)] != kSentinel;
            }
            CHECK(bad == 0);
          }
}
