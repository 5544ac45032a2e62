// gemm_call.h: when a plan's matmul step is one plain row-major GEMM call (dnnl_sgemm's
// form), and its arguments.
//
// oneDNN 2.6 has two f32 GEMMs: the matmul primitive (brgemm kernels on AVX-512) and
// dnnl_sgemm (its BLAS-style jit GEMM). On the development machine (Xeon, AVX-512)
// dnnl_sgemm was faster on 19 of 20 GPT-sized shape / thread-count pairs (2048^3: 154 vs
// 140 GFLOP/s at 1 thread, 296 vs 268 at 2; the table in docs/BACKEND.md), so a step
// it can express — f32, no post-ops but a Sum (its beta), one GEMM after folding batch
// dims into rows — runs there. Transposes are its 'T' flags; nothing is copied.
#pragma once

#include <cstdint>
#include <optional>

#include "runtime/plan.h"

namespace tevo::rt {

/// C[m x n] = op(A) op(B) + beta C, row-major, BLAS argument conventions: ta / tb are 'N'
/// (A is m x k with row stride lda) or 'T' (A is stored k x m, row stride lda).
struct GemmCall {
  char ta = 'N', tb = 'N';
  int64_t m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0;
  float beta = 0;
  bool operator==(const GemmCall&) const = default;
};

/// The GEMM call computing step `s`, or nullopt when it is not one: another dtype, a
/// post-op other than a single Sum, an empty extent, a matrix dim with stride <= 0 or
/// neither of a matrix's strides 1, C not row-major, or batch dims that do not fold into
/// C's rows (B broadcast over them, A and C contiguous across them).
std::optional<GemmCall> gemm_call(const MatmulStep& s);

} // namespace tevo::rt
