// depthwise_conv1d.cpp: direct grouped 1-D convolution with one output channel per group
// (conv1d with groups = C_out, weight [C_out, G, K], G = C_in / groups input channels per
// group; G = 1 is the depthwise convolution), stride 1, dilation 1. G > 1 is what conv1d's
// VJP builds for a depthwise convolution's weight gradient (the batch becomes G).
//
// Why not oneDNN: 2.6 runs this shape as im2col plus one matrix-vector product per channel
// through a K x N_out buffer — memory-bound, ~1.7 GFLOP/s at K = N = 1024 (60 ms for 64
// channels) — which also made the long-conv rewrite's cost crossover (direct vs FFT, priced
// at one FLOP rate) land at K ~ 100 instead of where the FFT really starts to pay.
//
// Here each (batch, output channel) row is independent (the OpenMP team splits rows; its G
// input rows are added in order): outputs in
// blocks of kBlock that stay in L1, and per tap j one shifted multiply-add over the block,
// y[t] += w[j] x[t + j - pad_l] (only the t whose input is inside the row: the padding is
// never materialised). Taps are added in order 0..K-1 for every output, so results do not
// depend on the thread count. The row loop is compiled for AVX-512, AVX2 and baseline
// x86-64 (target clones; the runtime library itself is baseline). A row whose input is not
// contiguous is copied first; the taps are copied once per row.
#include "runtime/kernels/depthwise_conv1d.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <omp.h>

#include "runtime/json.h"
#include "runtime/kernels/ops.h"

namespace tevo::rt::kernels {

namespace {

/// Outputs per block: 16 KiB of f32 or 32 KiB of f64, in L1 while the taps sweep over it.
constexpr int64_t kBlock = 4096;
/// Longest row accepted.
constexpr int64_t kMaxLen = int64_t{1} << 32;

template <class T>
inline __attribute__((always_inline)) void row_impl(const T* x, int64_t n, const T* w, int64_t k,
                                                    int64_t pl, T* y, int64_t nout, bool add) {
  for (int64_t t0 = 0; t0 < nout; t0 += kBlock) {
    const int64_t t1 = std::min(nout, t0 + kBlock);
    if (!add)
      std::fill(y + t0, y + t1, T(0));
    for (int64_t j = 0; j < k; ++j) {
      // input index t + j - pl must lie in [0, n)
      const int64_t lo = std::max(t0, pl - j), hi = std::min(t1, n + pl - j);
      const T wj = w[j];
      const int64_t shift = j - pl;
#pragma omp simd // y and x never overlap (an output and an input buffer)
      for (int64_t t = lo; t < hi; ++t)
        y[t] += wj * x[t + shift];
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TEVO_DW_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TEVO_DW_CLONES
#endif

TEVO_DW_CLONES void row(const float* x, int64_t n, const float* w, int64_t k, int64_t pl,
                        float* y, int64_t nout, bool add) {
  row_impl(x, n, w, k, pl, y, nout, add);
}
TEVO_DW_CLONES void row(const double* x, int64_t n, const double* w, int64_t k, int64_t pl,
                        double* y, int64_t nout, bool add) {
  row_impl(x, n, w, k, pl, y, nout, add);
}

template <class T> void run(const OpArgs& a) {
  const RuntimeOpStep& s = a.step;
  const StridedDesc &xd = s.operands[0], &wd = s.operands[1], &yd = s.results[0];
  const int64_t b = xd.dims[0], n = xd.dims[2], c = wd.dims[0], cin_g = wd.dims[1];
  const int64_t k = wd.dims[2], nout = yd.dims[2], pl = s.iattrs[0], rows = b * c;
  const T* x = static_cast<const T*>(a.in[0]);
  const T* w = static_cast<const T*>(a.in[1]);
  T* y = static_cast<T*>(a.out[0]);
  const int64_t per_thread = align64(n * static_cast<int64_t>(sizeof(T))) +
                             align64(k * static_cast<int64_t>(sizeof(T)));
  const int team = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(a.threads, rows)));
#pragma omp parallel num_threads(team)
  {
    uint8_t* ws = a.workspace + per_thread * omp_get_thread_num();
    T* xrow = reinterpret_cast<T*>(ws);
    T* taps = reinterpret_cast<T*>(ws + align64(n * static_cast<int64_t>(sizeof(T))));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t bi = r / c, ci = r % c;
      T* yr = y + bi * yd.strides[0] + ci * yd.strides[1];
      if (cin_g == 0)
        std::fill(yr, yr + nout, T(0));
      for (int64_t i = 0; i < cin_g; ++i) { // the group's input channels, in order
        const T* xr = x + bi * xd.strides[0] + (ci * cin_g + i) * xd.strides[1];
        if (xd.strides[2] != 1) {
          for (int64_t t = 0; t < n; ++t)
            xrow[t] = xr[t * xd.strides[2]];
          xr = xrow;
        }
        const T* wr = w + ci * wd.strides[0] + i * wd.strides[1];
        for (int64_t j = 0; j < k; ++j)
          taps[j] = wr[j * wd.strides[2]];
        row(xr, n, taps, k, pl, yr, nout, i > 0);
      }
    }
  }
}

} // namespace

void check_depthwise_conv1d(const RuntimeOpStep& s) {
  if (s.operands.size() != 2 || s.results.size() != 1 || s.iattrs.size() != 2 ||
      !s.fattrs.empty())
    bad(s, fmt::format("expected 2 operands, 1 result, 2 iattrs, 0 fattrs, got {}, {}, {}, {}",
                       s.operands.size(), s.results.size(), s.iattrs.size(), s.fattrs.size()));
  const StridedDesc &x = s.operands[0], &w = s.operands[1], &y = s.results[0];
  if (x.dtype != DType::F32 && x.dtype != DType::F64)
    bad(s, "x must be f32 or f64, got " + type_str(x));
  for (const StridedDesc* d : {&x, &w, &y})
    if (d->dtype != x.dtype || d->dims.size() != 3 || d->strides.size() != 3)
      bad(s, fmt::format("x, w, y must be rank-3 tensors of one dtype, got {}, {}, {}",
                         type_str(x), type_str(w), type_str(y)));
  const int64_t pl = s.iattrs[0], pr = s.iattrs[1];
  for (const StridedDesc* d : {&x, &w, &y})
    for (int64_t e : d->dims)
      if (e < 0 || e > kMaxLen)
        bad(s, "dims out of range: " + type_str(*d));
  if (pl < 0 || pr < 0 || pl > kMaxLen || pr > kMaxLen)
    bad(s, fmt::format("padding [{}, {}] out of range", pl, pr));
  const int64_t nout = x.dims[2] + pl + pr - w.dims[2] + 1;
  if (w.dims[0] * w.dims[1] != x.dims[1] || w.dims[2] < 1 || y.dims[0] != x.dims[0] ||
      y.dims[1] != w.dims[0] || y.dims[2] != std::max<int64_t>(nout, 0))
    bad(s, fmt::format("shapes do not fit x [B, C * G, N], w [C, G, K], y [B, C, N + {} + {} - K "
                       "+ 1]: {}, {}, {}",
                       pl, pr, type_str(x), type_str(w), type_str(y)));
  if (y.strides[2] != 1)
    bad(s, "y must be contiguous along its last dim, got strides " +
               fmt::format("[{}]", fmt::join(y.strides, ",")));
}

int64_t depthwise_conv1d_workspace(const RuntimeOpStep& s, int threads) {
  int64_t elem = s.operands[0].dtype == DType::F32 ? 4 : 8;
  return (align64(s.operands[0].dims[2] * elem) + align64(s.operands[1].dims[2] * elem)) *
         std::max(threads, 1);
}

void depthwise_conv1d(const OpArgs& a) {
  if (a.step.operands[0].dtype == DType::F32)
    run<float>(a);
  else
    run<double>(a);
}

} // namespace tevo::rt::kernels
