// scan_sort.cpp: runtime kernels along one axis: cumsum, topk, argmax and scatter_add.
//
// Each works on lanes (the axis at fixed other indices), lanes split over OpenMP threads.
// Semantics follow the IR reference kernels exactly: cumsum sums in double (int64 for
// integers), topk orders NaN above every number and ties by index, argmax takes the first
// NaN or else the first maximum, scatter_add adds updates in row-major order.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include <fmt/format.h>
#include <omp.h>

#include "runtime/json.h"
#include "runtime/kernels/ops.h"
#include "runtime/kernels/strided.h"

namespace tevo::rt::kernels {

namespace {

/// Element count below which a kernel stays on one thread.
constexpr int64_t kParallelMin = 1 << 15;

int team(const OpArgs& a, int64_t lanes, int64_t elements) {
  if (lanes < 2 || elements < kParallelMin)
    return 1;
  return static_cast<int>(std::min<int64_t>(a.threads, lanes));
}

/// Offset of lane (o, i) element 0 in view d, whose dims are [.., n, ..] around axis.
int64_t lane_base(const StridedDesc& d, const Lanes& l, int64_t o, int64_t i) {
  return offset_of_flat(d, o * l.n * l.inner + i);
}

/// x > y with NaN above every number (the IR's topk order).
bool greater(double x, double y) {
  if (std::isnan(x))
    return !std::isnan(y);
  return x > y;
}

} // namespace

void cumsum(const OpArgs& a, int64_t axis) {
  const StridedDesc& x = a.step.operands[0];
  const DType t = x.dtype;
  const Lanes l = lanes(x.dims, axis);
  if (l.outer * l.n * l.inner == 0)
    return;
  const bool exclusive = a.step.iattrs[1] != 0, reverse = a.step.iattrs[2] != 0;
  const int64_t xs = x.strides[static_cast<size_t>(axis)], lanes_n = l.outer * l.inner;
  const bool ints = t == DType::I32 || t == DType::I64;
  const void* in = a.in[0];
  void* out = a.out[0];
#pragma omp parallel for num_threads(team(a, lanes_n, lanes_n * l.n)) schedule(static)
  for (int64_t lane = 0; lane < lanes_n; ++lane) {
    int64_t o = lane / l.inner, i = lane % l.inner;
    int64_t xb = lane_base(x, l, o, i), yb = o * l.n * l.inner + i;
    double s = 0;
    int64_t si = 0; // integers sum exactly, wrapping like two's complement
    for (int64_t step = 0; step < l.n; ++step) {
      int64_t j = reverse ? l.n - 1 - step : step;
      int64_t yo = yb + j * l.inner;
      if (ints) {
        int64_t v = load_int(t, in, xb + j * xs);
        if (exclusive)
          store_int(t, out, yo, si);
        si = static_cast<int64_t>(static_cast<uint64_t>(si) + static_cast<uint64_t>(v));
        if (!exclusive)
          store_int(t, out, yo, si);
      } else {
        double v = load(t, in, xb + j * xs);
        if (exclusive)
          store(t, out, yo, s);
        s += v;
        if (!exclusive)
          store(t, out, yo, s);
      }
    }
  }
}

int64_t topk_workspace(int64_t n, int threads) {
  return align64(n * 16) * threads;
}

void topk(const OpArgs& a, int64_t axis) {
  const StridedDesc& x = a.step.operands[0];
  const DType t = x.dtype;
  const Lanes l = lanes(x.dims, axis);
  const int64_t k = a.step.iattrs[0];
  const bool largest = a.step.iattrs[2] != 0;
  if (l.outer * l.n * l.inner == 0 || k == 0)
    return;
  const int64_t xs = x.strides[static_cast<size_t>(axis)], lanes_n = l.outer * l.inner;
  const int64_t per_thread = align64(l.n * 16);
  const void* in = a.in[0];
  void *values = a.out[0], *indices = a.out[1];
  uint8_t* ws = a.workspace;
#pragma omp parallel num_threads(team(a, lanes_n, lanes_n * l.n))
  {
    auto* v = reinterpret_cast<double*>(ws + per_thread * omp_get_thread_num());
    auto* order = reinterpret_cast<int64_t*>(v + l.n);
#pragma omp for schedule(static)
    for (int64_t lane = 0; lane < lanes_n; ++lane) {
      int64_t o = lane / l.inner, i = lane % l.inner, xb = lane_base(x, l, o, i);
      for (int64_t j = 0; j < l.n; ++j) {
        v[j] = load(t, in, xb + j * xs);
        order[j] = j;
      }
      // A strict total order (index breaks ties), so the first k are unique.
      auto before = [&](int64_t p, int64_t q) {
        bool pq = largest ? greater(v[p], v[q]) : greater(v[q], v[p]);
        bool qp = largest ? greater(v[q], v[p]) : greater(v[p], v[q]);
        return pq || (!qp && p < q);
      };
      std::partial_sort(order, order + k, order + l.n, before);
      for (int64_t j = 0; j < k; ++j) {
        int64_t dst = (o * k + j) * l.inner + i;
        store(t, values, dst, v[order[j]]);
        store(DType::I64, indices, dst, static_cast<double>(order[j]));
      }
    }
  }
}

void argmax(const OpArgs& a, int64_t axis) {
  const StridedDesc& x = a.step.operands[0];
  const DType t = x.dtype;
  const Lanes l = lanes(x.dims, axis);
  const int64_t xs = x.strides[static_cast<size_t>(axis)], lanes_n = l.outer * l.inner;
  if (lanes_n * l.n == 0)
    return;
  const void* in = a.in[0];
  auto* out = static_cast<int64_t*>(a.out[0]);
#pragma omp parallel for num_threads(team(a, lanes_n, lanes_n * l.n)) schedule(static)
  for (int64_t lane = 0; lane < lanes_n; ++lane) {
    int64_t o = lane / l.inner, i = lane % l.inner, xb = lane_base(x, l, o, i);
    int64_t best = 0;
    double bv = load(t, in, xb);
    for (int64_t j = 1; j < l.n && !std::isnan(bv); ++j) {
      double v = load(t, in, xb + j * xs);
      if (std::isnan(v) || v > bv) {
        best = j;
        bv = v;
      }
    }
    out[o * l.inner + i] = best;
  }
}

void scatter_add(const OpArgs& a, int64_t axis) {
  const StridedDesc &base = a.step.operands[0], &idx = a.step.operands[1],
                    &upd = a.step.operands[2];
  const DType t = base.dtype;
  void* out = a.out[0];
  int64_t total = 1;
  for (int64_t d : base.dims)
    total *= d;
  const int64_t es = ir::dtype_size(t);
  for (int64_t f = 0; f < total; ++f) // y = base
    std::memmove(static_cast<uint8_t*>(out) + f * es,
                static_cast<const uint8_t*>(a.in[0]) + offset_of_flat(base, f) * es,
                static_cast<size_t>(es));
  const Lanes lu = lanes(upd.dims, axis);
  const int64_t dim = base.dims[static_cast<size_t>(axis)], lanes_n = lu.outer * lu.inner;
  if (lanes_n * lu.n == 0)
    return;
  const int64_t is = idx.strides[static_cast<size_t>(axis)];
  const int64_t us = upd.strides[static_cast<size_t>(axis)];
  const bool ints = t == DType::I32 || t == DType::I64;
  // Lanes write disjoint parts of y and each adds in row-major order, so splitting lanes
  // over threads changes nothing. The first bad index in row-major order is reported.
  int64_t bad_f = INT64_MAX;
#pragma omp parallel for num_threads(team(a, lanes_n, lanes_n * lu.n)) schedule(static) \
    reduction(min : bad_f)
  for (int64_t lane = 0; lane < lanes_n; ++lane) {
    int64_t o = lane / lu.inner, i = lane % lu.inner;
    int64_t ib = lane_base(idx, lu, o, i), ub = lane_base(upd, lu, o, i);
    for (int64_t j = 0; j < lu.n; ++j) {
      int64_t iv = load_int(idx.dtype, a.in[1], ib + j * is);
      if (iv < 0 || iv >= dim) {
        bad_f = std::min(bad_f, (o * lu.n + j) * lu.inner + i);
        break;
      }
      int64_t yo = (o * dim + iv) * lu.inner + i;
      if (ints) {
        auto sum = static_cast<uint64_t>(load_int(t, out, yo)) +
                   static_cast<uint64_t>(load_int(t, a.in[2], ub + j * us));
        store_int(t, out, yo, static_cast<int64_t>(sum));
      } else {
        store(t, out, yo, load(t, out, yo) + load(t, a.in[2], ub + j * us));
      }
    }
  }
  if (bad_f != INT64_MAX) {
    int64_t iv = load_int(idx.dtype, a.in[1], offset_of_flat(idx, bad_f));
    throw Error(fmt::format("index {} out of range [0, {}) on axis {} of {}[{}]", iv, dim,
                            axis, ir::dtype_name(t), fmt::join(base.dims, ",")));
  }
}

} // namespace tevo::rt::kernels
