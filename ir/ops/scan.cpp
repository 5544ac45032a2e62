// scan.cpp: prefix sums along an axis (cumsum).
//
// y[..., i, ...] = sum of x[..., j, ...] over j <= i (reverse: j >= i); exclusive drops the
// element itself (j < i, resp. j > i), so the first (resp. last) result is 0.
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
