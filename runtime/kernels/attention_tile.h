// attention_tile.h: building blocks of the attention kernels (internal): per-head views of
// strided operands, tile fetches, tile GEMMs and the row-wise softmax primitives.
#pragma once

#include "runtime/kernels/attention.h"
#include "runtime/plan.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace tevo::rt::kernels::attn {

/// Flushes denormals to zero on this thread (MXCSR's FTZ and DAZ) while it lives, when `on`.
/// The f32 kernels run under it: a probability just above exp's cutoff (~1e-38) times a
/// value of moderate size is a denormal, and each denormal FMA result costs a microcode
/// assist (an ALiBi forward at N = 4k spent ~40% of its time there). Flushed values lie
/// below f32's smallest normal number, far under every tolerance the kernels keep.
class FlushDenormals {
public:
  explicit FlushDenormals(bool on) {
#if defined(__x86_64__) || defined(__i386__)
    saved_ = _mm_getcsr();
    if (on)
      _mm_setcsr(saved_ | 0x8040u); // FTZ (bit 15) | DAZ (bit 6)
#else
    (void)on;
#endif
  }
  ~FlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(saved_);
#endif
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
  unsigned saved_ = 0;
};

/// A [*B, H, R, C] operand addressed per (flat batch index, head): element strides.
struct HeadView {
  std::vector<int64_t> bdims, bstr; ///< batch dims and their strides
  int64_t hs = 0, rs = 0, cs = 0;   ///< head, row and column strides (rs < 0: a table)
  int64_t origin = 0;               ///< offset of (0, 0) within a head

  /// The view of an operand whose dims are [*B, H, R, C].
  static HeadView of(const StridedDesc& d);
  /// A bias / keep operand seen broadcast to the scores [*B, Hq, N, M] (stride 0 where
  /// broadcast). A relative-position table (`table`: [*B, Hq, N + M - 1]) reads element
  /// (i, j) at j - i + N - 1: row stride -cs, origin (N - 1) cs.
  static HeadView scores(const StridedDesc& d, const AttnGeo& g, bool table = false);
  /// The same broadcast over dense strides of d's own dims (the dbias result).
  static HeadView scores_dense(const StridedDesc& d, const AttnGeo& g, bool table = false);

  /// Element offset of (b, h, 0, 0).
  int64_t base(int64_t b, int64_t h) const {
    int64_t o = h * hs + origin;
    for (size_t t = bdims.size(); t-- > 0;) {
      o += (b % bdims[t]) * bstr[t];
      b /= bdims[t];
    }
    return o;
  }
};

/// What a keep operand holds, tile by tile: for each distinct mask (a keep broadcast over
/// batch and heads is one mask, scanned once rather than once per head) and each block of
/// a fixed grid (rb query rows x cb keys, from 0), whether no / some / every pair is kept.
/// The kernels skip tiles with nothing kept (every p is 0: no contribution to o, l or any
/// gradient) and mask only mixed ones, so masks written as data — block-local, dilated,
/// key padding — skip the tiles they remove, as the causal / sliding attributes do.
/// Lives in the step's workspace (no allocation per call).
class KeepMap {
public:
  /// Workspace bytes of a map over g with rb x cb blocks.
  static int64_t bytes(const AttnGeo& g, int64_t rb, int64_t cb);
  /// Scans `keep` (seen through v) into `ws` (bytes(g, rb, cb)), on up to `threads` threads.
  KeepMap(const uint8_t* keep,
          const HeadView& v,
          const AttnGeo& g,
          int64_t rb,
          int64_t cb,
          uint8_t* ws,
          int threads);
  /// 0 nothing kept, 1 some or unknown (mask the tile), 2 all kept, over query rows
  /// [i0, i0 + nq) x keys [j0, j0 + nk) of (flat batch b, head h); nq, nk >= 1.
  int state(int64_t b, int64_t h, int64_t i0, int64_t nq, int64_t j0, int64_t nk) const;

private:
  int64_t hq_, rb_, cb_, rblocks_, cblocks_;
  const int32_t* mask_of_ = nullptr; ///< per (b, h): which distinct mask
  const uint8_t* states_ = nullptr;  ///< [mask][row block][key block]
};

/// Sets st[r * ld + c] = -inf where the keep operand (head base `kb`, view v) is false,
/// over rows [i0, i0 + nq) x keys [j0, j0 + nk) (a branch-free select when the keep rows
/// are contiguous, so the compiler vectorises it).
template <class T>
void mask_tile(T* st,
               int64_t ld,
               const uint8_t* keep,
               int64_t kb,
               const HeadView& v,
               int64_t i0,
               int64_t nq,
               int64_t j0,
               int64_t nk) {
  const T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t r = 0; r < nq; ++r) {
    const uint8_t* row = keep + kb + (i0 + r) * v.rs + j0 * v.cs;
    T* x = st + r * ld;
    if (v.cs == 1)
      for (int64_t c = 0; c < nk; ++c)
        x[c] = row[c] ? x[c] : ninf;
    else
      for (int64_t c = 0; c < nk; ++c)
        x[c] = row[c * v.cs] ? x[c] : ninf;
  }
}

/// st[r * ld + c] += bias at (i0 + r, j0 + c) of the view v (head base `bb` included), over
/// rows [0, nq) x keys [0, nk): a contiguous loop the compiler vectorises when the bias rows
/// run along keys (scores-shaped biases and relative-position tables alike).
template <class T>
void add_bias(T* st,
              int64_t ld,
              const T* bias,
              int64_t bb,
              const HeadView& v,
              int64_t i0,
              int64_t nq,
              int64_t j0,
              int64_t nk) {
  for (int64_t r = 0; r < nq; ++r) {
    const T* row = bias + bb + (i0 + r) * v.rs + j0 * v.cs;
    T* x = st + r * ld;
    if (v.cs == 1)
      for (int64_t c = 0; c < nk; ++c)
        x[c] += row[c];
    else
      for (int64_t c = 0; c < nk; ++c)
        x[c] += row[c * v.cs];
  }
}

/// Sets st[r * ld + c] = -inf where the mask attribute (causal / sliding) hides key j0 + c
/// from query i0 + r, over rows [i0, i0 + nq) x keys [j0, j0 + nk): each row sees one
/// interval of keys, so the rest of the row is two fills.
template <class T>
void mask_attr(
    T* st, int64_t ld, const AttnGeo& g, int64_t i0, int64_t nq, int64_t j0, int64_t nk) {
  const T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t r = 0; r < nq; ++r) {
    int64_t lo = 0, hi = 0;
    g.key_range(i0 + r, i0 + r + 1, lo, hi);
    lo = std::clamp<int64_t>(lo - j0, 0, nk);
    hi = std::clamp<int64_t>(hi - j0, lo, nk);
    std::fill(st + r * ld, st + r * ld + lo, ninf);
    std::fill(st + r * ld + hi, st + r * ld + nk, ninf);
  }
}

/// Asks for rows [r0, r1) x `cols` columns of the view at `p` (already offset to the head)
/// to be brought into L2: the forward spreads the next key tile's K and V over the current
/// tile's row loop, so a tile coming from L3 or memory is there before its products start.
template <class T>
void prefetch_rows(const T* p, const HeadView& v, int64_t r0, int64_t r1, int64_t cols) {
  constexpr int64_t line = 64 / sizeof(T);
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = p + r * v.rs;
    if (v.cs == 1)
      for (int64_t c = 0; c < cols; c += line)
        __builtin_prefetch(row + c, 0, 2);
    else
      for (int64_t c = 0; c < cols; ++c)
        __builtin_prefetch(row + c * v.cs, 0, 2);
  }
}

/// Rows [r0, r0 + rows) x all `cols` columns of the view at `p` (already offset to the
/// head) as a row-major matrix: the operand itself when its rows are unit-stride with a
/// usable leading dimension, else a copy packed into `pack`. Sets `ld`.
template <class T>
const T*
fetch(const T* p, const HeadView& v, int64_t r0, int64_t rows, int64_t cols, T* pack, int64_t& ld) {
  p += r0 * v.rs;
  if (v.cs == 1 && (rows <= 1 || v.rs >= cols) && cols > 0) {
    ld = rows <= 1 ? cols : v.rs;
    return p;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      pack[r * cols + c] = p[r * v.rs + c * v.cs];
  ld = std::max<int64_t>(cols, 1);
  return pack;
}

/// C[m x n] = alpha op(A) op(B) + beta C, row-major; op(X) = X^T when tX is 'T'.
/// f32 runs dnnl_sgemm; f64 plain loops.
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
          int64_t ldc);
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
          int64_t ldc);

/// Instruction sets of the f32 row primitives: Best picks the widest the CPU has; tests
/// name one to cover every variant on any machine (unsupported ones fall back to Scalar).
enum class RowIsa { Best, Avx512, Avx2, Scalar };
/// Whether the CPU runs `isa` (Best and Scalar: always).
bool row_isa_supported(RowIsa isa);

/// Largest element of x[0, n) (-inf when n = 0).
float row_max(const float* x, int64_t n, RowIsa isa = RowIsa::Best);
double row_max(const double* x, int64_t n);
/// x = exp(x - m) in place (m finite; -inf elements give 0); returns the sum.
float row_exp_sum(float* x, int64_t n, float m, RowIsa isa = RowIsa::Best);
double row_exp_sum(double* x, int64_t n, double m);

/// Backward tile extents for a problem: the block sizes, or less for a smaller problem.
inline int64_t tile_q(const AttnGeo& g) {
  return std::clamp<int64_t>(g.n, 1, kAttnBlockQ);
}
inline int64_t tile_k(const AttnGeo& g) {
  return std::clamp<int64_t>(g.m, 1, kAttnBlockK);
}
/// Forward tile extents (see kAttnFwdBlockQ).
inline int64_t fwd_tile_q(const AttnGeo& g) {
  return std::clamp<int64_t>(g.n, 1, g.n >= kAttnFwdLongN ? kAttnFwdBlockQ : kAttnBlockQ);
}
inline int64_t fwd_tile_k(const AttnGeo& g) {
  return std::clamp<int64_t>(g.m, 1, kAttnFwdBlockK);
}

/// Carves 64-byte-aligned arrays of T out of a workspace.
struct Carver {
  uint8_t* p;
  int64_t elem;
  template <class T> T* take(int64_t count) {
    T* r = reinterpret_cast<T*>(p);
    p += align64(count * elem);
    return r;
  }
  /// Bytes that take() carves for these counts, in any order (a kernel's tile list).
  template <class Counts> int64_t bytes(const Counts& counts) const {
    int64_t b = 0;
    for (int64_t c : counts)
      b += align64(c * elem);
    return b;
  }
};

/// Per-thread tiles of the backward (attention_grad.cpp's backward_tiles).
int64_t backward_thread_bytes(const AttnGeo& g, int64_t elem);

/// Product of dims.
inline int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t e : dims)
    n *= e;
  return n;
}

/// Work units per thread team: at most `threads`, at least 1.
inline int team_size(int threads, int64_t units) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, units)));
}

} // namespace tevo::rt::kernels::attn
