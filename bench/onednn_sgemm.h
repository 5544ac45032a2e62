// onednn_sgemm.h: oneDNN's own f32 GEMM called directly (no tevo in between), the
// reference the sgemm cases are judged against.
#pragma once

#include <cstdint>

#include "bench/timing.h"

namespace tevo::bench {

struct SgemmResult {
  Timing timing;
  double gflops = 0;
};

/// C[M,N] = A[M,K] B[K,N], row-major f32, inputs uniform in [-1, 1). `api` is "sgemm"
/// (dnnl_sgemm) or "matmul" (a matmul primitive, created once). Threads: the OpenMP
/// runtime oneDNN uses, set to `threads`.
SgemmResult onednn_sgemm(const char* api, int64_t M, int64_t N, int64_t K, int threads,
                         const TimingOptions& opts);

} // namespace tevo::bench
