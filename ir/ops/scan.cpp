// scan.cpp: scans along an axis: prefix sums (cumsum) and first-order linear recurrences
// (linear_scan).
//
// cumsum: y[..., i, ...] = sum of x[..., j, ...] over j <= i (reverse: j >= i); exclusive
// drops the element itself (j < i, resp. j > i), so the first (resp. last) result is 0.
//
// linear_scan(a, b): h_t = a_t * h_{t-1} + b_t along the axis, h_{-1} = 0 (reverse:
// h_t = a_t * h_{t+1} + b_t, h_N = 0). a broadcasts to b (NumPy rules, no wider than b):
// a per-channel constant decay is a with a size-1 axis. This is the diagonal linear
// recurrence of SSMs (S5), RWKV's WKV and decayed linear attention, and the scan the
// decay-scan rewrite turns masked decay matrices into: h_t = sum_{s <= t} (a_{s+1} ...
// a_t) b_s. Its VJP is the scan in the other direction with the decays shifted by one:
//   lambda_t = dh_t + a_{t+1} lambda_{t+1},  db = lambda,  da_t = lambda_t h_{t-1}
// (mirrored for reverse), summed back to a's shape where a was broadcast.
#include <algorithm>

#include "ir/ops/common.h"
#include "ir/vjp.h"

namespace tevo::ir::ops {

namespace {

Expected<std::vector<TensorType>> infer_cumsum(const InferCtx& c) {
  const auto& x = c.operands[0];
  if (auto d = need(c, 0, Domain::Numeric))
    return *d;
  int64_t axis = c.attrs.i64("axis");
  if (!normalize_axis(axis, x.shape.rank()))
    return make_diag("axis {} out of range for {}", axis, x.str());
  return one(x);
}

std::vector<interp::Array> eval_cumsum(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  interp::Array out(c.results[0]);
  if (out.numel() == 0) // the line loops below could still be long (f32[0,2^40])
    return {std::move(out)};
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  bool reverse = c.attrs.boolean("reverse"), exclusive = c.attrs.boolean("exclusive");
  std::vector<int64_t> d = x.shape().to_vector();
  int64_t n = d[static_cast<size_t>(axis)], outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= d[static_cast<size_t>(i)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < d.size(); ++i)
    inner *= d[i];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double s = 0;
      for (int64_t t = 0; t < n; ++t) {
        int64_t j = reverse ? n - 1 - t : t;
        int64_t f = (o * n + j) * inner + in;
        if (exclusive) {
          out[f] = s;
          s += x[f];
        } else {
          s += x[f];
          out[f] = s;
        }
      }
    }
  return {std::move(out)};
}

Cost cost_cumsum(const CostCtx& c) {
  return streaming_cost(c, 1);
}

Expected<std::vector<TensorType>> infer_linear_scan(const InferCtx& c) {
  const TensorType& a = c.operands[0];
  const TensorType& b = c.operands[1];
  if (b.dtype != DType::F32 && b.dtype != DType::F64)
    return make_diag("b must be f32 or f64, got {}", b.str());
  if (a.dtype != b.dtype)
    return make_diag("operand dtypes differ: {} vs {} (insert a cast)", a.str(), b.str());
  int64_t ra = a.shape.rank(), rb = b.shape.rank();
  bool fits = ra <= rb;
  for (int64_t d = 0; fits && d < ra; ++d) {
    int64_t e = a.shape.dim(d), f = b.shape.dim(rb - ra + d);
    fits = e == 1 || e == f;
  }
  if (!fits)
    return make_diag("a {} does not broadcast to b {} (a may only have size-1 dims b lacks)",
                     a.str(), b.str());
  int64_t axis = c.attrs.i64("axis");
  if (!normalize_axis(axis, rb))
    return make_diag("axis {} out of range for {}", axis, b.str());
  return one(b);
}

std::vector<interp::Array> eval_linear_scan(const EvalCtx& c) {
  const interp::Array& b = c.in(1);
  interp::Array h(c.results[0]);
  if (h.numel() == 0)
    return {std::move(h)};
  const interp::Array a = interp::broadcast_array(c.in(0), b.shape());
  std::vector<int64_t> d = b.shape().to_vector();
  int64_t rank = static_cast<int64_t>(d.size());
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), rank);
  bool reverse = c.attrs.boolean("reverse");
  int64_t n = d[at(axis)], outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= d[at(i)];
  for (int64_t i = axis + 1; i < rank; ++i)
    inner *= d[at(i)];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double s = 0;
      for (int64_t t = 0; t < n; ++t) {
        int64_t f = (o * n + (reverse ? n - 1 - t : t)) * inner + in;
        s = a[f] * s + b[f];
        h[f] = s;
      }
    }
  return {std::move(h)};
}

/// One multiply-add per element; a is read as often as b.
Cost cost_linear_scan(const CostCtx& c) {
  return streaming_cost(c, 2);
}

/// x shifted by one along `axis` towards higher indices (down = true: y_t = x_{t-1}, y_0 = 0)
/// or lower ones (y_t = x_{t+1}, y_{N-1} = 0).
Value* shift(VjpCtx& c, Value* x, int64_t axis, bool down) {
  const Shape& s = x->type.shape;
  int64_t n = s.dim(axis), rank = s.rank();
  std::vector<int64_t> lo(at(rank), 0), hi(at(rank), 0), starts(at(rank), 0);
  std::vector<int64_t> ends = s.to_vector();
  (down ? lo : hi)[at(axis)] = 1;
  if (!down) {
    starts[at(axis)] = 1;
    ends[at(axis)] = n + 1;
  }
  Value* p = c.op(OpKind::Pad, {x}, {{"low", lo}, {"high", hi}});
  return c.op(OpKind::Slice, {p}, {{"starts", starts}, {"ends", ends}});
}

std::vector<Value*> vjp_linear_scan(VjpCtx& c) {
  Value* a = c.x(0);
  Value* h = c.y();
  const Shape& bs = c.x(1)->type.shape;
  int64_t axis = *normalize_axis(c.attrs().i64("axis"), bs.rank());
  bool reverse = c.attrs().boolean("reverse");
  // a as a rank-of-b value, so the axis means the same in both.
  Value* af = a;
  int64_t ra = a->type.shape.rank(), rb = bs.rank();
  if (ra < rb) {
    std::vector<int64_t> dims(at(rb - ra), 1);
    for (int64_t k = 0; k < ra; ++k)
      dims.push_back(a->type.shape.dim(k));
    af = c.op(OpKind::Reshape, {a}, {{"shape", dims}});
  }
  // The adjoint scan runs the other way with a's neighbour on the far side. A decay
  // broadcast along the axis (size 1 there) is its own neighbour; the value it would shift
  // in at the end is never read (it multiplies the state before the first step, 0).
  Value* a_next = af->type.shape.dim(axis) == 1 ? af : shift(c, af, axis, reverse);
  Value* lambda = c.op(OpKind::LinearScan, {a_next, c.dy()},
                       {{"axis", axis}, {"reverse", !reverse}});
  Value* da = nullptr;
  if (c.needs(0)) {
    Value* prod = c.op(OpKind::Mul, {lambda, shift(c, h, axis, !reverse)});
    da = c.unbroadcast(prod, a->type);
  }
  return {da, c.needs(1) ? lambda : nullptr};
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Cumsum() {
  OpDef o;
  o.name = "cumsum";
  o.summary = "prefix sums along axis (reverse: suffix sums; exclusive: without the element)";
  o.signature = "(x) -> y";
  o.min_operands = o.max_operands = 1;
  o.attrs = {required("axis", AttrKind::I64, "axis to scan along (negative counts from the end)"),
             attr("reverse", AttrKind::Bool, Attr(false), "sum from the end of the axis"),
             attr("exclusive", AttrKind::Bool, Attr(false), "leave out the element itself")};
  o.infer = infer_cumsum;
  o.eval = eval_cumsum;
  o.cost = cost_cumsum;
  // dx_j = sum of dy_i over the i whose sum includes x_j: the scan in the opposite
  // direction, exclusive exactly when the forward one is.
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {c.op(OpKind::Cumsum, {c.dy()},
                 {{"axis", c.attrs().i64("axis")},
                  {"reverse", !c.attrs().boolean("reverse")},
                  {"exclusive", c.attrs().boolean("exclusive")}})};
  };
  return o;
}

} // namespace tevo::ir

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_LinearScan() {
  OpDef o;
  o.name = "linear_scan";
  o.summary = "first-order linear recurrence h_t = a_t h_{t-1} + b_t along axis (a broadcasts to b)";
  o.signature = "(a, b) -> h";
  o.min_operands = o.max_operands = 2;
  o.attrs = {required("axis", AttrKind::I64, "axis to scan along (negative counts from the end)"),
             attr("reverse", AttrKind::Bool, Attr(false),
                  "run from the end: h_t = a_t h_{t+1} + b_t")};
  o.infer = infer_linear_scan;
  o.eval = eval_linear_scan;
  o.cost = cost_linear_scan;
  o.vjp = vjp_linear_scan;
  return o;
}

} // namespace tevo::ir
