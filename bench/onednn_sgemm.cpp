// onednn_sgemm.cpp: dnnl_sgemm and the matmul primitive, timed on their own.
#include "bench/onednn_sgemm.h"

#include <omp.h>

#include <cmath>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace tevo::bench {

namespace {

std::vector<float> uniform(int64_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v)
    x = static_cast<float>(static_cast<double>(g() >> 11) * 0x1.0p-52 - 1.0);
  return v;
}

/// One element of C recomputed in double: the call really computed A B.
void check(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
           int64_t N, int64_t K, int64_t i, int64_t j) {
  double s = 0;
  for (int64_t k = 0; k < K; ++k)
    s += static_cast<double>(a[static_cast<size_t>(i * K + k)]) *
         static_cast<double>(b[static_cast<size_t>(k * N + j)]);
  double got = c[static_cast<size_t>(i * N + j)];
  if (std::abs(got - s) > 1e-3 * std::sqrt(static_cast<double>(K)) + 1e-4 * std::abs(s))
    throw std::runtime_error("onednn_sgemm: wrong result at (" + std::to_string(i) + ", " +
                             std::to_string(j) + ")");
}

} // namespace

SgemmResult onednn_sgemm(const char* api, int64_t M, int64_t N, int64_t K, int threads,
                         const TimingOptions& opts) {
  omp_set_num_threads(threads);
  std::vector<float> a = uniform(M * K, 1), b = uniform(K * N, 2);
  std::vector<float> c(static_cast<size_t>(M * N));
  SgemmResult r;
  const std::string which = api;
  if (which == "sgemm") {
    r.timing = measure(
        [&] {
          if (dnnl_sgemm('N', 'N', M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N) !=
              dnnl_success)
            throw std::runtime_error("dnnl_sgemm failed");
        },
        opts);
  } else if (which == "matmul") {
    using namespace dnnl;
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    auto md = [](int64_t r0, int64_t c0) {
      return memory::desc({r0, c0}, memory::data_type::f32, memory::format_tag::ab);
    };
    memory ma(md(M, K), eng, a.data()), mb(md(K, N), eng, b.data()), mc(md(M, N), eng, c.data());
    matmul prim(matmul::primitive_desc(matmul::desc(md(M, K), md(K, N), md(M, N)), eng));
    r.timing = measure(
        [&] {
          prim.execute(s, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
          s.wait();
        },
        opts);
  } else {
    throw std::runtime_error("onednn_sgemm: unknown api '" + which + "' (sgemm, matmul)");
  }
  check(a, b, c, N, K, 0, 0);
  check(a, b, c, N, K, M - 1, N - 1);
  check(a, b, c, N, K, M / 2, N / 3);
  r.gflops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) /
             r.timing.median_s * 1e-9;
  return r;
}

} // namespace tevo::bench
