// linear_scan.cpp: h_t = a_t h_{t-1} + b_t along one axis (reverse: h_t = a_t h_{t+1} + b_t),
// the op linear_scan (ir/ops/scan.cpp): diagonal SSM recurrences, RWKV's WKV sums and the
// scans the decay-scan rewrite makes of masked decay matrices.
//
// The recurrence is sequential along the axis but independent across every other index,
// so the work is split into lanes: for each outer index (dims before the axis), blocks of
// up to kBlock consecutive inner indices (dims after it) advance together one step at a
// time — a dense b/h then reads and writes whole contiguous rows of the block. Blocks are
// shared by the OpenMP team; each lane runs the same arithmetic whatever the thread count,
// so results do not depend on it. The state is kept in double (as the interpreter does):
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

/// Element offset of flat index `flat` of dims `dims` under `strides`.
int64_t offset(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
               int64_t flat) {
  int64_t o = 0;
  for (size_t i = dims.size(); i-- > 0;) {
    o += (flat % dims[i]) * strides[i];
    flat /= dims[i];
  }
  return o;
}

template <class T>
void scan(const OpArgs& args, int64_t axis, bool reverse) {
  const StridedDesc& ad = args.step.operands[0];
  const StridedDesc& bd = args.step.operands[1];
  const auto* av = static_cast<const T*>(args.in[0]);
  const auto* bv = static_cast<const T*>(args.in[1]);
  auto* hv = static_cast<T*>(args.out[0]);
  const Lanes l = lanes(bd.dims, axis);
  const std::vector<int64_t> as = broadcast_strides(ad, bd);
  const int64_t sa = as[static_cast<size_t>(axis)], sb = bd.strides[static_cast<size_t>(axis)];
  const int64_t blocks_per_outer = (l.inner + kBlock - 1) / kBlock;
  const int64_t work = l.outer * blocks_per_outer, total = l.outer * l.n * l.inner;
  const int team =
      total < kParallelMin || work < 2 ? 1 : static_cast<int>(std::min<int64_t>(args.threads, work));
#pragma omp parallel for num_threads(team) schedule(static)
  for (int64_t w = 0; w < work; ++w) {
    const int64_t o = w / blocks_per_outer, i0 = (w % blocks_per_outer) * kBlock;
    const int64_t m = std::min(kBlock, l.inner - i0);
    int64_t a0[kBlock], b0[kBlock];
    double h[kBlock];
    for (int64_t i = 0; i < m; ++i) {
      int64_t flat = o * l.n * l.inner + i0 + i; // element (o, t = 0, i0 + i)
      a0[i] = offset(bd.dims, as, flat);
      b0[i] = offset(bd.dims, bd.strides, flat);
      h[i] = 0;
    }
    for (int64_t step = 0; step < l.n; ++step) {
      const int64_t t = reverse ? l.n - 1 - step : step;
      T* out = hv + (o * l.n + t) * l.inner + i0;
      for (int64_t i = 0; i < m; ++i) {
        h[i] = static_cast<double>(av[a0[i] + t * sa]) * h[i] +
               static_cast<double>(bv[b0[i] + t * sb]);
        out[i] = static_cast<T>(h[i]);
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
