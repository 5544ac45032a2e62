// The attention forward's AVX-512 tile products (pack_kt, scores_tile, pv_tile) against
// double-precision sums, on every edge the micro-kernels mask: row blocks that do not fill
// 12 (scores) or 6 / 8 (values) rows, key panels and value columns that stop inside a
// vector, strided and transposed K, and the elements past a tile that must stay untouched.
#include "runtime/kernels/attention_gemm.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
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

TEST_CASE("attention tile products: scores = scale Q K^T over packed K^T panels") {
  if (!tile_gemm_available()) {
    MESSAGE("no AVX-512 on this CPU: the forward uses dnnl_sgemm, nothing to test here");
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
          std::vector<float> s(static_cast<size_t>(nq * lds), kSentinel);
          const float scale = 0.125f;
          scores_tile(q.data(), ldq, nq, d, kt.data(), nk, scale, s.data(), lds);
          int bad = 0;
          for (int64_t r = 0; r < nq; ++r) {
            for (int64_t c = 0; c < nk; ++c) {
              double want = 0, mag = 0;
              for (int64_t p = 0; p < d; ++p) {
                double t = static_cast<double>(q[static_cast<size_t>(r * ldq + p)]) *
                           k[static_cast<size_t>(c * rs + p * cs)];
                want += t;
                mag += std::fabs(t);
              }
              bad += !close(s[static_cast<size_t>(r * lds + c)], scale * want, scale * mag);
            }
            for (int64_t c = nk; c < lds; ++c)
              bad += s[static_cast<size_t>(r * lds + c)] != kSentinel;
          }
          CHECK(bad == 0);
        }
}

TEST_CASE("attention tile products: acc = diag(corr) acc + P V, masked columns and rows") {
  if (!tile_gemm_available()) {
    MESSAGE("no AVX-512 on this CPU: the forward uses dnnl_sgemm, nothing to test here");
    return;
  }
  uint32_t seed = 100;
  for (int64_t nq : {1, 5, 6, 7, 13, 64})
    for (int64_t nk : {1, 16, 17, 127, 128, 129, 300})
      for (int64_t dv : {1, 15, 16, 17, 48, 64, 65, 130})
        for (bool with_corr : {false, true}) {
          CAPTURE(nq);
          CAPTURE(nk);
          CAPTURE(dv);
          CAPTURE(with_corr);
          const int64_t ldp = nk + 3, ldv = dv + 2, ldacc = dv + 4;
          std::vector<float> p = randn(nq * ldp, seed++), v = randn(nk * ldv, seed++);
          std::vector<float> acc = randn(nq * ldacc, seed++), corr = randn(nq, seed++);
          for (int64_t r = 0; r < nq; ++r)
            for (int64_t t = dv; t < ldacc; ++t)
              acc[static_cast<size_t>(r * ldacc + t)] = kSentinel;
          const std::vector<float> before = acc;
          pv_tile(p.data(), ldp, nq, nk, v.data(), ldv, dv, with_corr ? corr.data() : nullptr,
                  acc.data(), ldacc);
          int bad = 0;
          for (int64_t r = 0; r < nq; ++r) {
            const double cr = with_corr ? corr[static_cast<size_t>(r)] : 1.0;
            for (int64_t t = 0; t < dv; ++t) {
              double want = cr * before[static_cast<size_t>(r * ldacc + t)];
              double mag = std::fabs(want);
              for (int64_t c = 0; c < nk; ++c) {
                double x = static_cast<double>(p[static_cast<size_t>(r * ldp + c)]) *
                           v[static_cast<size_t>(c * ldv + t)];
                want += x;
                mag += std::fabs(x);
              }
              bad += !close(acc[static_cast<size_t>(r * ldacc + t)], want, mag);
            }
            for (int64_t t = dv; t < ldacc; ++t)
              bad += acc[static_cast<size_t>(r * ldacc + t)] != kSentinel;
          }
          CHECK(bad == 0);
        }
}
