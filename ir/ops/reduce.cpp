// reduce.cpp: reductions over axes (sum, mean, max, min, prod, logsumexp, argmax) and the
// row-wise normalisations softmax and log_softmax.
//
// Reductions take `axes` (an empty list means every axis; negative axes count from the
// end) and `keepdims`. The reference kernels visit, for each result element, the group
// of operand elements it reduces, and compute in double.
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
double max_of(const std::vector<double>& v) {
  if (any_nan(v))
    return kNaN;
  double m = -kInf;
  for (double x : v)
    m = std::max(m, x);
  return m;
}
double min_of(const std::vector<double>& v) {
  if (any_nan(v))
    return kNaN;
  double m = kInf;
  for (double x : v)
    m = std::min(m, x);
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
  return reduction(
      "mean", "mean over axes (float; empty axis: NaN)",
      [](const InferCtx& c) { return infer_reduction(c, "mean", Domain::Float, true); },
      eval_reduction<mean_of>);
}
OpDef def_Max() {
  return reduction(
      "max", "maximum over axes (NaN propagates; empty axis is an error)",
      [](const InferCtx& c) { return infer_reduction(c, "max", Domain::Numeric, false); },
      eval_reduction<max_of>);
}
OpDef def_Min() {
  return reduction(
      "min", "minimum over axes (NaN propagates; empty axis is an error)",
      [](const InferCtx& c) { return infer_reduction(c, "min", Domain::Numeric, false); },
      eval_reduction<min_of>);
}
OpDef def_Prod() {
  return reduction(
      "prod", "product over axes (empty axis: 1)",
      [](const InferCtx& c) { return infer_reduction(c, "prod", Domain::Numeric, true); },
      eval_reduction<prod_of>);
}
OpDef def_Logsumexp() {
  OpDef o = reduction(
      "logsumexp", "log(sum(exp(x))) over axes, max-shifted (all -inf or empty: -inf)",
      [](const InferCtx& c) { return infer_reduction(c, "logsumexp", Domain::Float, true); },
      eval_reduction<logsumexp_of>);
  o.cost = [](const CostCtx& c) { return per_input_cost(c, 3, 1); };
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
  return softmax_like<false>("softmax",
                             "e^x / sum(e^x) along axis, max-shifted (fully -inf row: all 0)");
}
OpDef def_LogSoftmax() {
  return softmax_like<true>("log_softmax",
                            "x - logsumexp(x) along axis, max-shifted (fully -inf row: all -inf)");
}

} // namespace tevo::ir
