// attention_gemm.h: the f32 tile products of the attention forward with AVX-512
// register-blocked micro-kernels (internal to runtime/kernels).
//
// The forward's products are small and lopsided: a score tile S = scale Q K^T is
// [256 x 512] with an inner extent of d (64), the value product acc += P V is [256 x 64]
// with an inner extent of 512. dnnl_sgemm packs both operands on every call and ran these
// at ~64% of the FMA peak; these kernels keep a block of C in registers for the whole inner
// loop, broadcast A from memory and read B as rows of 16-float vectors: K^T is packed once per
// key tile (pack_kt), V is read in place. The online-softmax correction of the
// accumulator (acc *= exp(m_old - m_new)) is folded into the value product's first touch of C.
#pragma once

#include <cstdint>

namespace tevo::rt::kernels::attn {

/// Whether the CPU runs the AVX-512 tile products (the forward falls back to dnnl_sgemm).
bool tile_gemm_available();

/// Floats pack_kt writes for nk keys of width d: nk rounded up to a panel (32 keys) times d.
int64_t packed_kt_floats(int64_t nk, int64_t d);

/// Packs K^T for keys [0, nk) of a head (element (j, p) at k[j * rs + p * cs]) into panels
/// of 32 keys: panel t holds, for each p, keys 32t .. 32t + 31 (zero past nk).
void pack_kt(const float* k, int64_t rs, int64_t cs, int64_t nk, int64_t d, float* out);

/// s[r * lds + c] = scale * sum_p q[r * ldq + p] K[c][p] for r < nq, c < nk, with K as
/// packed by pack_kt. Needs tile_gemm_available().
void scores_tile(const float* q,
                 int64_t ldq,
                 int64_t nq,
                 int64_t d,
                 const float* ktp,
                 int64_t nk,
                 float scale,
                 float* s,
                 int64_t lds);

/// acc[r * ldacc + t] = corr[r] * acc[r * ldacc + t] + sum_c p[r * ldp + c] v[c * ldv + t]
/// for r < nq, t < dv (corr null: 1). Needs tile_gemm_available().
void pv_tile(const float* p,
             int64_t ldp,
             int64_t nq,
             int64_t nk,
             const float* v,
             int64_t ldv,
             int64_t dv,
             const float* corr,
             float* acc,
             int64_t ldacc);

} // namespace tevo::rt::kernels::attn
