// attention.h: the flash-style attention runtime kernels (forward and backward), internal
// to runtime/kernels; kernels.h documents the step layout and dispatches here.
//
// Both kernels tile the scores: a query tile meets key tiles (sizes below); only one tile
// of scores per thread exists (the workspace), never N x M. Tiles the mask attribute
// removes are never visited; tiles a keep operand leaves empty are skipped after a scan
// of the operand once per distinct mask (attn::KeepMap).
// f32 tile products run the AVX-512 micro-kernels of attention_gemm.h when the CPU has
// AVX-512, else oneDNN's dnnl_sgemm; f64 plain loops.
// The row-wise softmax work uses AVX-512 / AVX2 when the CPU has them. f32 kernels run with
// denormals flushed (attn::FlushDenormals).
#pragma once

#include "runtime/kernels/ops.h"
#include "runtime/plan.h"

#include <cstdint>
#include <vector>

namespace tevo::rt::kernels {

/// Backward tiles: query rows per tile, keys per tile.
constexpr int64_t kAttnBlockQ = 64;
constexpr int64_t kAttnBlockK = 256;
/// Forward tiles: kAttnFwdBlockQ query rows meet kAttnFwdBlockK keys once there are at least
/// kAttnFwdLongN query rows (below, kAttnBlockQ rows: more units for the threads). Larger
/// tiles than the backward's amortise the per-GEMM packing that dominates 64 x 256 tiles
/// (measured at N = 16k, d = 64: 256 x 512 is ~15% faster than 64 x 256 on 1 and 2 threads).
constexpr int64_t kAttnFwdBlockQ = 256;
constexpr int64_t kAttnFwdBlockK = 512;
constexpr int64_t kAttnFwdLongN = 768;

/// Geometry and attributes of a checked attention / attention_grad step.
struct AttnGeo {
  std::vector<int64_t> batch; ///< *B
  int64_t nb = 1;             ///< product of *B
  int64_t hq = 0, hkv = 0, n = 0, m = 0, d = 0, dv = 0;
  int mask = 0; ///< 0 none, 1 causal, 2 sliding
  int64_t window = 0;
  double scale = 1;
  bool has_bias = false, has_keep = false, has_dlse = false;
  bool bias_toeplitz = false; ///< bias is a table [*B, Hq, N + M - 1]: T[j - i + N - 1]

  int64_t off() const {
    return m - n;
  }
  int64_t group() const {
    return hq / hkv;
  }
  /// Keys [lo, hi) some query of rows [i0, i1) may see under the mask.
  void key_range(int64_t i0, int64_t i1, int64_t& lo, int64_t& hi) const;
  /// Queries [lo, hi) some key of [j0, j1) is visible to under the mask.
  void query_range(int64_t j0, int64_t j1, int64_t& lo, int64_t& hi) const;
  /// Whether every (query, key) of rows [i0, i1) x keys [j0, j1) is allowed by the mask.
  bool tile_full(int64_t i0, int64_t i1, int64_t j0, int64_t j1) const;
  /// Whether the mask allows query i to see key j.
  bool allowed(int64_t i, int64_t j) const {
    int64_t t = i + off() - j;
    return mask == 0 || (t >= 0 && (mask == 1 || t < window));
  }
};

/// Checks an "attention" (grad = false) or "attention_grad" step; throws rt::Error.
void check_attention(const RuntimeOpStep& s, bool grad);
/// The geometry of a checked step.
AttnGeo attn_geo(const RuntimeOpStep& s);
/// Workspace bytes of a checked step: per-thread tiles (independent of N and M), plus for
/// the backward (threads - 1) private dq (and dbias) accumulators.
int64_t attention_workspace(const RuntimeOpStep& s, int threads);

void attention_forward(const OpArgs& a);
void attention_backward(const OpArgs& a);

} // namespace tevo::rt::kernels
