// attention_gemm.h: the f32 tile products of the attention kernels with AVX-512
// register-blocked micro-kernels (internal to runtime/kernels).
//
// The products are small and lopsided: the forward's score tile S = scale Q K^T is
// [256 x 512] with an inner extent of d (64), its value product acc += P V is [256 x 64]
// with an inner extent of 512; the backward's are [64 x 256] and [256 x d] with inner
// extents of d, dv or 64. dnnl_sgemm packs both operands on every call (143 / 130 GFLOP/s on
// the forward's two, peak 150); these kernels keep a block of C in registers for the whole
// inner loop, broadcast A from memory (plain or transposed) and read B as rows of 16-float
// vectors (148 / 150): K^T is packed once per key tile (pack_kt), V and Q are read in place.
// The online-softmax correction (acc *= exp(m_old - m_new)) is folded into the value
// product's first pass over C.
#pragma once

#include <cstdint>
#include <type_traits>

namespace tevo::rt::kernels::attn {

/// Whether the CPU runs the AVX-512 tile products (else the kernels use dnnl_sgemm).
bool tile_gemm_available();
/// Whether kernels over elements of type T use them (f32 only).
template <class T> bool use_tile_gemm() {
  if constexpr (std::is_same_v<T, float>)
    return tile_gemm_available();
  else
    return false;
}

/// Keys per packed K^T panel (two 16-float vectors).
inline constexpr int64_t kKtPanel = 32;
/// Floats pack_kt writes for nk keys of width d: nk rounded up to a panel (32 keys) times d.
int64_t packed_kt_floats(int64_t nk, int64_t d);

/// Packs K^T for keys [0, nk) of a head (element (j, p) at k[j * rs + p * cs]) into panels
/// of 32 keys: panel t holds, for each p, keys 32t .. 32t + 31 (zero past nk). Any [nk x d]
/// operand read transposed packs the same way (the backward's V for dP = dO V^T).
void pack_kt(const float* k, int64_t rs, int64_t cs, int64_t nk, int64_t d, float* out);

/// A thread's packed K^T of one key/value head, panel by panel as its tiles ask for them.
/// Every query tile of a head meets the same keys: packing them once per head and thread
/// rather than once per query tile removes most transposes (3.7% of a 16k forward).
class KtCache {
public:
  /// Largest cache per thread; heads with more packed keys pack per tile instead.
  static constexpr int64_t kMaxBytes = int64_t{8} << 20;
  /// Floats of workspace for m keys of width d (panels, then one flag byte per panel);
  /// 0 when that exceeds kMaxBytes.
  static int64_t floats(int64_t m, int64_t d);
  /// Over `ws` (floats(m, d) > 0 floats): no head packed yet.
  KtCache(float* ws, int64_t m, int64_t d);
  /// Packed K^T panels for keys [j0, j0 + nk) of the head identified by `head` (its keys at
  /// k, element (j, p) at k[j * rs + p * cs]), packing the panels it has not packed since
  /// the head changed; j0 must be a multiple of the panel width (32).
  const float* panels(int64_t head,
                      const float* k,
                      int64_t rs,
                      int64_t cs,
                      int64_t j0,
                      int64_t nk);
  /// Whether a tile starting at key j0 can be served (panel-aligned).
  static bool aligned(int64_t j0) {
    return j0 % kKtPanel == 0;
  }

private:
  float* panels_;
  uint8_t* done_;
  int64_t m_, d_, head_ = -1;
};

/// s[r * lds + c] = scale * sum_p q[r * ldq + p] K[c][p] (+ bias[r * ldbias + c] when bias
/// is set: an additive score bias whose rows run along keys, added in the store) for
/// r < nq, c < nk, with K as packed by pack_kt. With vmax set (16 nq floats), also the
/// rows' maxima over the nk stored scores, in 16 lanes: row r's max is the largest of
/// vmax[16 r .. 16 r + 15] (-inf lanes where no score fell). Needs tile_gemm_available().
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
                 float* vmax = nullptr);

/// C[m x n] = alpha A B + (diag(corr) C when corr is set, else C when add, else 0), with
/// A(r, p) at a[r * ars + p * acs] (a row-major A: acs = 1; a transposed one: ars = 1) and
/// row p of B at b + p * ldb, for r < m, t < n. The forward's value product is
/// (nq, dv, nk, 1, P, ldp, 1, V, ldv, corr, true, acc, dv); the backward's P^T dO and
/// dS^T Q read A transposed. Needs tile_gemm_available().
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
                  int64_t ldc);

} // namespace tevo::rt::kernels::attn
