// linear_scan.cpp: h_t = a_t h_{t-1} + b_t along one axis (reverse: h_t = a_t h_{t+1} + b_t),
// the op linear_scan (ir/ops/scan.cpp): diagonal SSM recurrences, RWKV's WKV sums and the
// scans the decay-scan rewrite makes of masked decay matrices.
//
// The recurrence is sequential along the axis but independent across every other index
// (a lane): blocks of up to kBlock consecutive lanes advance together one step at a time —
// with dims after the axis, a dense b/h then reads and writes contiguous runs; with none
// (S5's [B, P, N, 1]), the block's chains are independent, so the multiply-adds overlap
// instead of waiting on one chain's latency. Blocks are shared by the OpenMP team (smaller
// blocks when there are few lanes, so each thread gets some); each lane runs the same
// arithmetic whatever the block, so results do not depend on the thread count. The state is kept in double (as the interpreter does):
// with |a| ~ 1 an f32 state would drift like an f32 running sum. a is read through its own
// strides broadcast to b's dims (a per-channel decay is a stride-0 axis), b through its
// view; the result is dense.
#include "runtime/kernels/linear_scan.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <omp.h>

#include "runtime/json.h"
#include "runtime/kernels/strided.h"

namespace tevo::rt::kernels {

namespace {

/// Inner indices advanced together: the state of a block stays in registers / L1.
constexpr int64_t kBlock = 64;
/// Steps per time tile of a block whose lanes are far apart in memory.
constexpr int64_t kTile = 32;
/// Element count below which the scan stays on one thread.
constexpr int64_t kParallelMin = 1 << 15;

/// a's strides over b's dims: a is right-aligned, its size-1 dims (and the dims it lacks)
/// broadcast with stride 0.
std::vector<int64_t> broadcast_strides(const StridedDesc& a, const StridedDesc& b) {
  size_t rb = b.dims.size(), ra = a.dims.size();
  std::vector<int64_t> s(rb, 0);
  for (size_t k = 0; k < ra; ++k)
    if (a.dims[k] != 1)
      s[rb - ra + k] = a.strides[k];
  return s;
}

template <class T>
void scan(const OpArgs& args, int64_t axis, bool reverse) {
  const StridedDesc& ad = args.step.operands[0];
  const StridedDesc& bd = args.step.operands[1];
  const auto* av = static_cast<const T*>(args.in[0]);
  const auto* bv = static_cast<const T*>(args.in[1]);
  auto* hv = static_cast<T*>(args.out[0]);
  const Lanes l = lanes(bd.dims, axis);
  const StridedDesc a_view{ad.at, ad.dtype, bd.dims, broadcast_strides(ad, bd)}; // a over b's dims
  const int64_t sa = a_view.strides[static_cast<size_t>(axis)];
  const int64_t sb = bd.strides[static_cast<size_t>(axis)];
  // Lane k = o * inner + i: consecutive lanes are neighbours in memory when inner > 1, and
  // independent chains (instruction-level parallelism) either way. Blocks are split so that
  // every thread gets one when there are few lanes (S5: B * P lanes of length N).
  const int64_t total_lanes = l.outer * l.inner, total = total_lanes * l.n;
  const int team = total < kParallelMin || total_lanes < 2
                       ? 1
                       : static_cast<int>(std::min<int64_t>(args.threads, total_lanes));
  const int64_t block = std::clamp<int64_t>((total_lanes + team - 1) / team, 1, kBlock);
  const int64_t work = (total_lanes + block - 1) / block;
#pragma omp parallel for num_threads(team) schedule(static)
  for (int64_t w = 0; w < work; ++w) {
    const int64_t k0 = w * block, m = std::min(block, total_lanes - k0);
    int64_t a0[kBlock], b0[kBlock], h0[kBlock];
    double h[kBlock];
    for (int64_t k = 0; k < m; ++k) {
      const int64_t o = (k0 + k) / l.inner, i = (k0 + k) % l.inner;
      const int64_t flat = o * l.n * l.inner + i; // element (o, t = 0, i)
      a0[k] = offset_of_flat(a_view, flat);
      b0[k] = offset_of_flat(bd, flat);
      h0[k] = flat;
      h[k] = 0;
    }
    if (l.inner >= m) { // the block's lanes are neighbours in memory: step them directly
      for (int64_t step = 0; step < l.n; ++step) {
        const int64_t t = reverse ? l.n - 1 - step : step;
        for (int64_t k = 0; k < m; ++k) {
          h[k] = static_cast<double>(av[a0[k] + t * sa]) * h[k] +
                 static_cast<double>(bv[b0[k] + t * sb]);
          hv[h0[k] + t * l.inner] = static_cast<T>(h[k]);
        }
      }
      continue;
    }
    // Lanes of different outer indices lie n * inner elements apart (a power of two in
    // practice): stepping them together, every load of b followed a store to h 4 KiB-aliased
    // with it and the core serialised them (S5's [1, 16, 65536, 1]: 10 ms at 1 thread). So
    // time is tiled: each lane's tile of a and b is read as a contiguous run into L1, the
    // block steps through the tile there, and each lane's results are written as a run.
    T at[kTile][kBlock], bt[kTile][kBlock], ht[kTile][kBlock];
    for (int64_t s0 = 0; s0 < l.n; s0 += kTile) {
      const int64_t len = std::min(kTile, l.n - s0);
      for (int64_t k = 0; k < m; ++k)
        for (int64_t u = 0; u < len; ++u) {
          const int64_t t = reverse ? l.n - 1 - (s0 + u) : s0 + u;
          at[u][k] = av[a0[k] + t * sa];
          bt[u][k] = bv[b0[k] + t * sb];
        }
      for (int64_t u = 0; u < len; ++u)
        for (int64_t k = 0; k < m; ++k) {
          h[k] = static_cast<double>(at[u][k]) * h[k] + static_cast<double>(bt[u][k]);
          ht[u][k] = static_cast<T>(h[k]);
        }
      for (int64_t k = 0; k < m; ++k)
        for (int64_t u = 0; u < len; ++u) {
          const int64_t t = reverse ? l.n - 1 - (s0 + u) : s0 + u;
          hv[h0[k] + t * l.inner] = ht[u][k];
        }
    }
  }
}

} // namespace

void check_linear_scan(const RuntimeOpStep& s) {
  if (s.operands.size() != 2 || s.results.size() != 1 || s.iattrs.size() != 2 ||
      !s.fattrs.empty())
    bad(s, fmt::format("expected 2 operands, 1 result, 2 iattrs, 0 fattrs; got {}, {}, {}, {}",
                       s.operands.size(), s.results.size(), s.iattrs.size(), s.fattrs.size()));
  const StridedDesc &a = s.operands[0], &b = s.operands[1], &h = s.results[0];
  if (b.dtype != DType::F32 && b.dtype != DType::F64)
    bad(s, "b must be f32 or f64, got " + type_str(b));
  if (a.dtype != b.dtype)
    bad(s, fmt::format("a {} and b {} differ in dtype", type_str(a), type_str(b)));
  bool fits = a.dims.size() <= b.dims.size();
  for (size_t k = 0; fits && k < a.dims.size(); ++k) {
    int64_t e = a.dims[k], f = b.dims[b.dims.size() - a.dims.size() + k];
    fits = e == 1 || e == f;
  }
  if (!fits)
    bad(s, fmt::format("a {} does not broadcast to b {}", type_str(a), type_str(b)));
  int64_t r = static_cast<int64_t>(b.dims.size()), axis = s.iattrs[0];
  if (axis < -r || axis >= r)
    bad(s, fmt::format("axis {} out of range for {}", axis, type_str(b)));
  if (s.iattrs[1] != 0 && s.iattrs[1] != 1)
    bad(s, fmt::format("iattr 1 (reverse) must be 0 or 1, got {}", s.iattrs[1]));
  if (h.dtype != b.dtype || h.dims != b.dims)
    bad(s, fmt::format("result is {}, expected {}", type_str(h), type_str(b)));
}

void linear_scan(const OpArgs& a) {
  const StridedDesc& b = a.step.operands[1];
  for (int64_t d : b.dims)
    if (d == 0)
      return;
  int64_t axis = a.step.iattrs[0];
  if (axis < 0)
    axis += static_cast<int64_t>(b.dims.size());
  bool reverse = a.step.iattrs[1] != 0;
  if (b.dtype == DType::F32)
    scan<float>(a, axis, reverse);
  else
    scan<double>(a, axis, reverse);
}

} // namespace tevo::rt::kernels
