// reduce.cpp: reductions over axes (sum, mean, max, min, prod, logsumexp, argmax) and the
// row-wise normalisations softmax and log_softmax.
//
// Reductions take `axes` (an empty list means every axis; negative axes count from the
// end) and `keepdims`. The reference kernels visit, for each result element, the group
// of operand elements it reduces, and compute in double.
//
// mean, logsumexp, softmax and log_softmax also carry decompositions into sum/max and
// elementwise ops (the `decompose` pass uses them to feed the fusion pass); each keeps the
// reference kernel's edge cases: a fully -inf row gives softmax 0 and -inf otherwise, and
// never NaN.
#include "ir/builder.h"
#include "ir/graph.h"
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tevo::ir::ops {

namespace {

using Infer = Expected<std::vector<TensorType>>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Shape after reducing `axes` (sorted, normalised) of `s`.
Shape reduced_shape(const Shape& s, const std::vector<int64_t>& axes, bool keepdims) {
  Shape out;
  for (int64_t i = 0; i < s.rank(); ++i) {
    bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!r)
      out.push_back(s[i]);
    else if (keepdims)
      out.push_back(Dim(1));
  }
  return out;
}

/// Shared inference of the `axes`/`keepdims` reductions. `empty_ok`: whether reducing
/// an axis of extent 0 has a value (sum = 0, prod = 1, mean = NaN) or is an error.
Infer infer_reduction(const InferCtx& c, std::string_view name, Domain dom, bool empty_ok) {
  const auto& x = c.operands[0];
  if (auto d = need(c, 0, dom))
    return *d;
  const auto& given = c.attrs.i64_list("axes");
  auto axes = normalize_axes(given, x.shape.rank(), true);
  if (!axes)
    return make_diag("{}: {}", axes.error().message, x.str());
  if (!empty_ok)
    for (int64_t a : *axes)
      if (x.shape.dim(a) == 0)
        return make_diag("cannot reduce an empty axis with {}: axis {} of {}", name, a, x.str());
  return one(TensorType{x.dtype, reduced_shape(x.shape, *axes, c.attrs.boolean("keepdims"))});
}

/// The single `axis` of argmax/softmax/log_softmax, normalised.
Expected<int64_t> single_axis(const InferCtx& c) {
  const auto& x = c.operands[0];
  int64_t a = c.attrs.i64("axis");
  auto n = normalize_axis(a, x.shape.rank());
  if (!n)
    return make_diag("axis {} out of range for rank {}: {}", a, x.shape.rank(), x.str());
  return *n;
}

/// Calls fn(offsets) for each result element in row-major order, with the flat operand
/// offsets of the group it reduces (in row-major order of the reduced axes).
template <class Fn> void for_each_group(const Shape& in, const std::vector<int64_t>& axes, Fn fn) {
  // An empty operand has only empty groups or none; return before sizing anything from
  // the other extents (f32[0,2^40] over axis 1 has no group, not 2^40 offsets). The
  // empty groups are result elements, so the interpreter's size limit bounds this loop
  // for reductions; softmax (whose result is the empty operand) never gets here.
  if (in.numel() == 0) {
    Shape kept = reduced_shape(in, axes, false);
    if (kept.numel() == 0)
      return;
    std::vector<int64_t> none;
    for (int64_t o = 0; o < kept.numel(); ++o)
      fn(none);
    return;
  }
  std::vector<int64_t> strides = in.strides();
  std::vector<int64_t> kept_dims, kept_strides, red_dims, red_strides;
  for (int64_t i = 0; i < in.rank(); ++i) {
    bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    (r ? red_dims : kept_dims).push_back(in.dim(i));
    (r ? red_strides : kept_strides).push_back(strides[static_cast<size_t>(i)]);
  }
  int64_t n_out = Shape(kept_dims).numel(), n_red = Shape(red_dims).numel();
  std::vector<int64_t> offsets(static_cast<size_t>(n_red));
  for (int64_t o = 0; o < n_out; ++o) {
    int64_t base = interp::ravel(interp::unravel(o, kept_dims), kept_strides);
    for (int64_t r = 0; r < n_red; ++r)
      offsets[static_cast<size_t>(r)] =
          base + interp::ravel(interp::unravel(r, red_dims), red_strides);
    fn(offsets);
  }
}

/// Reference kernel of an `axes` reduction: result[o] = f(values of group o).
template <double (*F)(const std::vector<double>&)>
std::vector<interp::Array> eval_reduction(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  auto axes = normalize_axes(c.attrs.i64_list("axes"), x.shape().rank(), true).value();
  interp::Array out(c.results[0]);
  std::vector<double> vals;
  int64_t o = 0;
  for_each_group(x.shape(), axes, [&](const std::vector<int64_t>& offs) {
    vals.clear();
    for (int64_t f : offs)
      vals.push_back(x[f]);
    out[o++] = F(vals);
  });
  return {std::move(out)};
}

bool any_nan(const std::vector<double>& v) {
  for (double x : v)
    if (std::isnan(x))
      return true;
  return false;
}

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v)
    s += x;
  return s;
}
double mean_of(const std::vector<double>& v) {
  return v.empty() ? kNaN : sum_of(v) / static_cast<double>(v.size());
}
double prod_of(const std::vector<double>& v) {
  double p = 1;
  for (double x : v)
    p *= x;
  return p;
}
/// max and min over axes are IEEE 754-2019 maximum / minimum: NaN propagates and -0 ranks
/// below +0, so the result does not depend on the order the values are combined in (a
/// vectorised or split reduction gives the same bits, the sign of a zero included).
double max_of(const std::vector<double>& v) {
  if (any_nan(v))
    return kNaN;
  double m = -kInf;
  for (double x : v)
    m = x > m || (x == m && !std::signbit(x)) ? x : m;
  return m;
}
double min_of(const std::vector<double>& v) {
  if (any_nan(v))
    return kNaN;
  double m = kInf;
  for (double x : v)
    m = x < m || (x == m && std::signbit(x)) ? x : m;
  return m;
}
/// log(sum(exp(v))), shifted by the max so that no exp overflows. An all -inf (or
/// empty) group gives -inf and a group holding +inf gives +inf, instead of NaN from
/// inf - inf.
double logsumexp_of(const std::vector<double>& v) {
  double m = max_of(v);
  if (std::isnan(m) || std::isinf(m))
    return m;
  double s = 0;
  for (double x : v)
    s += std::exp(x - m);
  return m + std::log(s);
}

/// Streaming cost with `flops` operations and `transc` transcendentals per operand element.
Cost per_input_cost(const CostCtx& c, double flops, double transc) {
  Cost k = default_cost(c);
  double n = static_cast<double>(c.operands[0].numel());
  k.flops = n * flops;
  k.transcendentals = n * transc;
  return k;
}

OpDef reduction(std::string_view name, std::string_view summary, InferFn infer, EvalFn eval) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = "(x) -> y";
  o.min_operands = o.max_operands = 1;
  o.attrs = {attr("axes", AttrKind::I64List, Attr(std::vector<int64_t>{}),
                  "axes to reduce (negative from the end); [] means all"),
             attr("keepdims", AttrKind::Bool, Attr(false), "keep reduced axes with extent 1")};
  o.traits = kReduction;
  o.infer = infer;
  o.eval = eval;
  o.cost = [](const CostCtx& c) { return per_input_cost(c, 1, 0); };
  return o;
}

/// Softmax and log-softmax along one axis, max-subtracted so that large logits cannot
/// overflow. A row whose max is -inf (fully masked) gives softmax 0 and log_softmax -inf
/// everywhere instead of NaN; a row holding NaN or +inf gives NaN.
template <bool Log> std::vector<interp::Array> eval_softmax(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  interp::Array out(c.results[0]);
  if (x.numel() == 0) // nothing to write (and f32[2^40,0] has 2^40 empty rows to skip)
    return {std::move(out)};
  for_each_group(x.shape(), {axis}, [&](const std::vector<int64_t>& offs) {
    double m = -kInf;
    for (int64_t f : offs)
      m = std::isnan(x[f]) || std::isnan(m) ? kNaN : std::max(m, x[f]);
    if (m == -kInf) {
      for (int64_t f : offs)
        out[f] = Log ? -kInf : 0.0;
      return;
    }
    double s = 0;
    for (int64_t f : offs)
      s += std::exp(x[f] - m);
    double log_s = std::log(s);
    for (int64_t f : offs)
      out[f] = Log ? x[f] - m - log_s : std::exp(x[f] - m) / s;
  });
  return {std::move(out)};
}

template <bool Log> OpDef softmax_like(std::string_view name, std::string_view summary) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = "(x) -> y";
  o.min_operands = o.max_operands = 1;
  o.attrs = {
      attr("axis", AttrKind::I64, Attr(int64_t{-1}), "normalised axis (negative from the end)")};
  o.infer = [](const InferCtx& c) -> Infer {
    if (auto d = need(c, 0, Domain::Float))
      return *d;
    auto a = single_axis(c);
    if (!a)
      return a.error();
    return one(c.operands[0]);
  };
  o.eval = eval_softmax<Log>;
  o.cost = [](const CostCtx& c) { return streaming_cost(c, 5, 1); };
  return o;
}

// ---- VJP helpers -------------------------------------------------------------------

/// The normalised axes of a reduction node (its `axes` attribute; empty means all).
std::vector<int64_t> reduced_axes(const VjpCtx& c) {
  return normalize_axes(c.attrs().i64_list("axes"), c.x(0)->type.shape.rank(), true).value();
}

/// Reshapes `v` (shaped like the reduction's result) to the keepdims shape, so that it
/// broadcasts against the operand in elementwise ops.
Value* keep_shape(VjpCtx& c, Value* v) {
  std::vector<int64_t> dims = c.x(0)->type.shape.to_vector();
  for (int64_t a : reduced_axes(c))
    dims[static_cast<size_t>(a)] = 1;
  if (v->type.shape == Shape(dims))
    return v;
  return c.op(OpKind::Reshape, {v}, {{"shape", dims}});
}

/// reduce `v` over the node's axes, keeping them with extent 1.
Value* reduce_keep(VjpCtx& c, OpKind k, Value* v) {
  return c.op(k, {v}, {{"axes", reduced_axes(c)}, {"keepdims", true}});
}

/// Gradient of max/min: dy goes to the positions equal to the result, split evenly among
/// ties (PyTorch's amax/amin). When the result is NaN it came from the NaN positions, so
/// those share dy instead (PyTorch would give NaN everywhere in the group).
std::vector<Value*> vjp_extremum(VjpCtx& c) {
  Value* x = c.x(0);
  DType dt = x->type.dtype;
  Value* hit = c.op(OpKind::LogicalOr,
                    {c.op(OpKind::Eq, {x, keep_shape(c, c.y())}), c.op(OpKind::Ne, {x, x})});
  Value* m = c.op(OpKind::Cast, {hit}, {{"dtype", dt}});
  Value* share = c.op(OpKind::Div, {keep_shape(c, c.dy()), reduce_keep(c, OpKind::Sum, m)});
  return {c.op(OpKind::Mul, {m, share})};
}

// ---- decompositions ------------------------------------------------------------------

/// A rank-0 `full` of dtype t (broadcasts against anything in elementwise ops).
Value* scalar_full(Builder& b, double v, DType t, const Loc& loc) {
  return b.op(OpKind::Full, {},
              {{"shape", Attr(std::vector<int64_t>{})}, {"value", Attr(v)}, {"dtype", Attr(t)}},
              loc);
}

/// The node's `axes` attribute, normalised (empty means all).
std::vector<int64_t> node_axes(const Node& n) {
  return normalize_axes(n.attrs.i64_list("axes"), n.operand(0)->type.shape.rank(), true).value();
}

/// mean = sum * (1/n); an empty group gives 0 * inf = NaN, like the reference kernel.
std::vector<Value*> decompose_mean(Builder& b, const Node& n) {
  Value* x = n.operand(0);
  int64_t count = 1;
  for (int64_t a : node_axes(n))
    count *= x->type.shape.dim(a);
  Value* s = b.op(OpKind::Sum, {x},
                  {{"axes", Attr(node_axes(n))}, {"keepdims", n.attrs.get("keepdims")}}, n.loc);
  double inv = 1.0 / static_cast<double>(count); // inf when count == 0
  return {b.op(OpKind::Mul, {s, scalar_full(b, inv, x->type.dtype, n.loc)}, {}, n.loc)};
}

/// m + log(sum(exp(x - m))) with m the group max, shifted by 0 instead when m is +-inf so
/// that an all -inf group gives -inf and a group holding +inf gives +inf (not NaN).
std::vector<Value*> decompose_logsumexp(Builder& b, const Node& n) {
  Value* x = n.operand(0);
  DType t = x->type.dtype;
  const Loc& loc = n.loc;
  const TensorType& out = n.result(0)->type;
  if (x->type.numel() == 0) // empty groups (or no groups at all): -inf
    return {b.op(
        OpKind::Full, {},
        {{"shape", Attr(out.shape.to_vector())}, {"value", Attr(-kInf)}, {"dtype", Attr(t)}}, loc)};
  AttrList keep = {{"axes", Attr(node_axes(n))}, {"keepdims", Attr(true)}};
  Value* m = b.op(OpKind::Max, {x}, keep, loc);
  Value* inf_m =
      b.op(OpKind::Eq, {b.op(OpKind::Abs, {m}, {}, loc), scalar_full(b, kInf, t, loc)}, {}, loc);
  Value* shift = b.op(OpKind::Select, {inf_m, scalar_full(b, 0.0, t, loc), m}, {}, loc);
  Value* e = b.op(OpKind::Exp, {b.op(OpKind::Sub, {x, shift}, {}, loc)}, {}, loc);
  Value* s = b.op(OpKind::Sum, {e}, keep, loc);
  Value* r = b.op(OpKind::Add, {shift, b.op(OpKind::Log, {s}, {}, loc)}, {}, loc);
  if (!(r->type == out))
    r = b.op(OpKind::Reshape, {r}, {{"shape", Attr(out.shape.to_vector())}}, loc);
  return {r};
}

/// softmax = e / s, log_softmax = (x - m) - log(s), with e = exp(x - m), s = sum(e) and m the
/// row max. A fully masked row (m = -inf) is shifted by 0 and divided by 1 instead, giving 0
/// (softmax) and -inf (log_softmax) rather than NaN.
template <bool Log> std::vector<Value*> decompose_softmax(Builder& b, const Node& n) {
  Value* x = n.operand(0);
  if (x->type.numel() == 0)
    return {x};
  DType t = x->type.dtype;
  const Loc& loc = n.loc;
  int64_t axis = *normalize_axis(n.attrs.i64("axis"), x->type.shape.rank());
  AttrList keep = {{"axes", Attr(std::vector<int64_t>{axis})}, {"keepdims", Attr(true)}};
  Value* m = b.op(OpKind::Max, {x}, keep, loc);
  Value* masked = b.op(OpKind::Eq, {m, scalar_full(b, -kInf, t, loc)}, {}, loc);
  Value* shift = b.op(OpKind::Select, {masked, scalar_full(b, 0.0, t, loc), m}, {}, loc);
  Value* d = b.op(OpKind::Sub, {x, shift}, {}, loc);
  Value* e = b.op(OpKind::Exp, {d}, {}, loc);
  Value* s = b.op(OpKind::Sum, {e}, keep, loc);
  Value* safe = b.op(OpKind::Select, {masked, scalar_full(b, 1.0, t, loc), s}, {}, loc);
  if (Log)
    return {b.op(OpKind::Sub, {d, b.op(OpKind::Log, {safe}, {}, loc)}, {}, loc)};
  return {b.op(OpKind::Div, {e, safe}, {}, loc)};
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Sum() {
  OpDef o = reduction(
      "sum", "sum over axes (empty axis: 0)",
      [](const InferCtx& c) { return infer_reduction(c, "sum", Domain::Numeric, true); },
      eval_reduction<sum_of>);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {c.expand_reduced(c.dy(), c.attrs().i64_list("axes"), c.attrs().boolean("keepdims"),
                             c.x(0)->type)};
  };
  return o;
}
OpDef def_Mean() {
  OpDef o = reduction(
      "mean", "mean over axes (float; empty axis: NaN)",
      [](const InferCtx& c) { return infer_reduction(c, "mean", Domain::Float, true); },
      eval_reduction<mean_of>);
  o.traits |= kComposite;
  o.decompose = decompose_mean;
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    const TensorType& t = c.x(0)->type;
    int64_t n = 1;
    for (int64_t a : reduced_axes(c))
      n *= t.shape.dim(a);
    if (n == 0) // an empty group means an empty operand: its gradient has no elements
      return {c.fill(0.0, t)};
    Value* g = c.op(OpKind::Div, {c.dy(), c.scalar(static_cast<double>(n), t.dtype)});
    return {c.expand_reduced(g, c.attrs().i64_list("axes"), c.attrs().boolean("keepdims"), t)};
  };
  return o;
}
OpDef def_Max() {
  OpDef o = reduction(
      "max", "maximum over axes (NaN propagates, -0 < +0; empty axis is an error)",
      [](const InferCtx& c) { return infer_reduction(c, "max", Domain::Numeric, false); },
      eval_reduction<max_of>);
  o.vjp = vjp_extremum;
  return o;
}
OpDef def_Min() {
  OpDef o = reduction(
      "min", "minimum over axes (NaN propagates, -0 < +0; empty axis is an error)",
      [](const InferCtx& c) { return infer_reduction(c, "min", Domain::Numeric, false); },
      eval_reduction<min_of>);
  o.vjp = vjp_extremum;
  return o;
}
OpDef def_Prod() {
  OpDef o = reduction(
      "prod", "product over axes (empty axis: 1)",
      [](const InferCtx& c) { return infer_reduction(c, "prod", Domain::Numeric, true); },
      eval_reduction<prod_of>);
  // dx_i = dy * (product of the other elements of the group), exact at zeros: with p the
  // product of the group's non-zero elements and z its number of zeros, that is p / x_i
  // when z = 0, p at the zero and 0 elsewhere when z = 1, and 0 everywhere when z >= 2.
  // (p / x_i rather than an exclusive product: it may overflow where the true cofactor
  // would not, for groups whose full product is beyond the dtype's range.)
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    Value* x = c.x(0);
    DType dt = x->type.dtype;
    Value* zero = c.scalar(0.0, dt);
    Value* one = c.scalar(1.0, dt);
    Value* is0 = c.op(OpKind::Eq, {x, zero});
    Value* safe = c.op(OpKind::Select, {is0, one, x});
    Value* p = reduce_keep(c, OpKind::Prod, safe);
    Value* z = reduce_keep(c, OpKind::Sum, c.op(OpKind::Cast, {is0}, {{"dtype", dt}}));
    Value* at_zero = c.op(OpKind::Select, {c.op(OpKind::Eq, {z, one}), p, zero});
    Value* elsewhere =
        c.op(OpKind::Select, {c.op(OpKind::Eq, {z, zero}), c.op(OpKind::Div, {p, safe}), zero});
    Value* cofactor = c.op(OpKind::Select, {is0, at_zero, elsewhere});
    return {c.op(OpKind::Mul, {cofactor, keep_shape(c, c.dy())})};
  };
  return o;
}
OpDef def_Logsumexp() {
  OpDef o = reduction(
      "logsumexp", "log(sum(exp(x))) over axes, max-shifted (all -inf or empty: -inf)",
      [](const InferCtx& c) { return infer_reduction(c, "logsumexp", Domain::Float, true); },
      eval_reduction<logsumexp_of>);
  o.cost = [](const CostCtx& c) { return per_input_cost(c, 3, 1); };
  o.traits |= kComposite;
  o.decompose = decompose_logsumexp;
  // dx = dy * exp(x - y) = dy * softmax(x). An all -inf group (y = -inf) gets gradient 0
  // rather than NaN from -inf - -inf: it is shifted by 0 instead of y. (A group holding
  // +inf has y = +inf: 0 at its finite elements, NaN at the +inf ones.)
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    DType dt = c.x(0)->type.dtype;
    Value* y = keep_shape(c, c.y());
    Value* masked = c.op(OpKind::Eq, {y, c.scalar(-kInf, dt)});
    Value* shift = c.op(OpKind::Select, {masked, c.scalar(0.0, dt), y});
    Value* w = c.op(OpKind::Exp, {c.op(OpKind::Sub, {c.x(0), shift})});
    return {c.op(OpKind::Mul, {w, keep_shape(c, c.dy())})};
  };
  return o;
}

OpDef def_Argmax() {
  OpDef o;
  o.name = "argmax";
  o.summary = "index (i64) of the maximum along axis; first on ties, NaN counts as maximum";
  o.signature = "(x) -> i64";
  o.min_operands = o.max_operands = 1;
  o.attrs = {
      attr("axis", AttrKind::I64, Attr(int64_t{-1}), "axis searched (negative from the end)"),
      attr("keepdims", AttrKind::Bool, Attr(false), "keep the axis with extent 1")};
  o.traits = kReduction | kNotDifferentiable;
  o.infer = [](const InferCtx& c) -> Infer {
    const auto& x = c.operands[0];
    if (auto d = need(c, 0, Domain::Numeric))
      return *d;
    auto a = single_axis(c);
    if (!a)
      return a.error();
    if (x.shape.dim(*a) == 0)
      return make_diag("cannot reduce an empty axis with argmax: axis {} of {}", *a, x.str());
    return one(TensorType{DType::I64, reduced_shape(x.shape, {*a}, c.attrs.boolean("keepdims"))});
  };
  o.eval = [](const EvalCtx& c) -> std::vector<interp::Array> {
    const interp::Array& x = c.in(0);
    int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
    interp::Array out(c.results[0]);
    int64_t o_idx = 0;
    for_each_group(x.shape(), {axis}, [&](const std::vector<int64_t>& offs) {
      // NumPy: the first NaN wins; otherwise the first occurrence of the maximum.
      size_t best = 0;
      for (size_t i = 1; i < offs.size() && !std::isnan(x[offs[best]]); ++i)
        if (std::isnan(x[offs[i]]) || x[offs[i]] > x[offs[best]])
          best = i;
      out[o_idx++] = static_cast<double>(best);
    });
    return {std::move(out)};
  };
  o.cost = [](const CostCtx& c) { return per_input_cost(c, 1, 0); };
  return o;
}

OpDef def_Softmax() {
  OpDef o = softmax_like<false>("softmax",
                                "e^x / sum(e^x) along axis, max-shifted (fully -inf row: all 0)");
  o.traits |= kComposite;
  o.decompose = decompose_softmax<false>;
  // dx = y * (dy - sum(dy * y)): written in y, so a fully masked row (y = 0) gets 0.
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    Value* y = c.y();
    Value* s = c.op(OpKind::Sum, {c.op(OpKind::Mul, {c.dy(), y})},
                    {{"axes", std::vector<int64_t>{c.attrs().i64("axis")}}, {"keepdims", true}});
    return {c.op(OpKind::Mul, {y, c.op(OpKind::Sub, {c.dy(), s})})};
  };
  return o;
}
OpDef def_LogSoftmax() {
  OpDef o = softmax_like<true>(
      "log_softmax", "x - logsumexp(x) along axis, max-shifted (fully -inf row: all -inf)");
  o.traits |= kComposite;
  o.decompose = decompose_softmax<true>;
  // dx = dy - exp(y) * sum(dy). A -inf element of a partly masked row gets dy (dy_i/dx_i
  // = 1, as in PyTorch); a fully masked row, whose value is the constant -inf, gets 0.
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    const TensorType& t = c.x(0)->type;
    int64_t axis = c.attrs().i64("axis");
    if (t.shape.dim(*normalize_axis(axis, t.shape.rank())) == 0)
      return {c.fill(0.0, t)}; // empty rows: max below would reject the empty axis
    AttrList keep = {{"axes", std::vector<int64_t>{axis}}, {"keepdims", true}};
    Value* s = c.op(OpKind::Sum, {c.dy()}, keep);
    Value* d = c.op(OpKind::Sub, {c.dy(), c.op(OpKind::Mul, {c.op(OpKind::Exp, {c.y()}), s})});
    Value* masked = c.op(OpKind::Eq, {c.op(OpKind::Max, {c.x(0)}, keep), c.scalar(-kInf, t.dtype)});
    return {c.op(OpKind::Select, {masked, c.scalar(0.0, t.dtype), d})};
  };
  return o;
}

} // namespace tevo::ir
