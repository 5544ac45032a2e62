// norm.cpp: layer_norm and rms_norm over the last axis, with decompositions into primitives.
//
// Each op has a direct reference kernel (eval) and a decomposition into mean, sub, mul, add,
// rsqrt and a scalar `full` for eps, which passes use to lower them; the two must agree.
// Variance is biased (divides by C), as in PyTorch.
//
// Gradients, with xhat the normalised x, rstd = 1 / sqrt(var + eps) and g = dy * gamma
// (means over the last axis, sums over all the others):
//   layer_norm: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
//               dgamma = sum(dy * xhat), dbeta = sum(dy);
//   rms_norm:   dx = rstd * (g - xhat * mean(g * xhat)), dgamma = sum(dy * xhat).
#include "ir/builder.h"
#include "ir/graph.h"
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <cmath>

namespace tevo::ir::ops {

namespace {

/// Checks x (float, rank >= 1), eps, and that every further operand is a [C] scale or shift
/// of x's dtype, C being x's last dimension.
Expected<std::vector<TensorType>> infer_norm(const InferCtx& c) {
  const TensorType& x = c.operands[0];
  if (auto d = need(c, 0, Domain::Float))
    return *d;
  if (x.shape.rank() < 1)
    return make_diag("x must have rank >= 1 (normalises over the last axis), got {}", x.str());
  double eps = c.attrs.f64("eps");
  if (!std::isfinite(eps) || eps < 0)
    return make_diag("eps must be finite and non-negative, got {}", eps);
  int64_t ch = x.shape.dim(x.shape.rank() - 1);
  const char* names[] = {"x", "gamma", "beta"};
  for (size_t i = 1; i < c.operands.size(); ++i) {
    const TensorType& p = c.operands[i];
    if (p.dtype != x.dtype)
      return make_diag("operand dtypes differ: {} vs {} (insert a cast)", x.str(), p.str());
    if (!(p.shape == Shape{ch}))
      return make_diag("{} must be [{}] (the last dimension of x), got {} for x {}", names[i], ch,
                       p.str(), x.str());
  }
  return one(x);
}

/// Normalises each row of C elements; `center`: subtract the mean (layer_norm) or not
/// (rms_norm, whose "variance" is then the mean square).
std::vector<interp::Array> eval_norm(const EvalCtx& c, bool center) {
  const interp::Array& x = c.in(0);
  const interp::Array& gamma = c.in(1);
  const interp::Array* beta = center ? &c.in(2) : nullptr;
  interp::Array y(c.results[0]);
  double eps = c.attrs.f64("eps");
  int64_t ch = x.shape().dim(x.shape().rank() - 1);
  int64_t rows = ch > 0 ? x.numel() / ch : 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * ch;
    double mean = 0;
    if (center) {
      for (int64_t j = 0; j < ch; ++j)
        mean += x[base + j];
      mean /= static_cast<double>(ch);
    }
    double var = 0;
    for (int64_t j = 0; j < ch; ++j)
      var += (x[base + j] - mean) * (x[base + j] - mean);
    var /= static_cast<double>(ch);
    double denom = std::sqrt(var + eps);
    for (int64_t j = 0; j < ch; ++j)
      y[base + j] = (x[base + j] - mean) / denom * gamma[j] + (beta ? (*beta)[j] : 0.0);
  }
  return {y};
}

Value* mean_last(Builder& b, Value* v, const Loc& loc) {
  return b.op(OpKind::Mean, {v},
              {{"axes", Attr(std::vector<int64_t>{-1})}, {"keepdims", Attr(true)}}, loc);
}

/// rsqrt(v + eps), with eps as a rank-0 constant of v's dtype.
Value* rsqrt_plus_eps(Builder& b, Value* v, double eps, const Loc& loc) {
  Value* e = b.op(OpKind::Full, {},
                  {{"shape", Attr(std::vector<int64_t>{})},
                   {"value", Attr(eps)},
                   {"dtype", Attr(v->type.dtype)}},
                  loc);
  return b.op(OpKind::Rsqrt, {b.op(OpKind::Add, {v, e}, {}, loc)}, {}, loc);
}

std::vector<Value*> decompose_layer_norm(Builder& b, const Node& n) {
  Value* x = n.operand(0);
  const Loc& loc = n.loc;
  Value* d = b.op(OpKind::Sub, {x, mean_last(b, x, loc)}, {}, loc);
  Value* var = mean_last(b, b.op(OpKind::Mul, {d, d}, {}, loc), loc);
  Value* xhat = b.op(OpKind::Mul, {d, rsqrt_plus_eps(b, var, n.attrs.f64("eps"), loc)}, {}, loc);
  Value* scaled = b.op(OpKind::Mul, {xhat, n.operand(1)}, {}, loc);
  return {b.op(OpKind::Add, {scaled, n.operand(2)}, {}, loc)};
}

std::vector<Value*> decompose_rms_norm(Builder& b, const Node& n) {
  Value* x = n.operand(0);
  const Loc& loc = n.loc;
  Value* ms = mean_last(b, b.op(OpKind::Mul, {x, x}, {}, loc), loc);
  Value* xhat = b.op(OpKind::Mul, {x, rsqrt_plus_eps(b, ms, n.attrs.f64("eps"), loc)}, {}, loc);
  return {b.op(OpKind::Mul, {xhat, n.operand(1)}, {}, loc)};
}

Value* mean_last(VjpCtx& c, Value* v) {
  return c.op(OpKind::Mean, {v}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", true}});
}

/// Sums a [..., C] tensor over every axis but the last, giving [C].
Value* sum_leading(VjpCtx& c, Value* v) {
  int64_t rank = v->type.shape.rank();
  if (rank == 1)
    return v;
  std::vector<int64_t> axes;
  for (int64_t i = 0; i + 1 < rank; ++i)
    axes.push_back(i);
  return c.op(OpKind::Sum, {v}, {{"axes", axes}, {"keepdims", false}});
}

/// Gradients of layer_norm (center) or rms_norm; the statistics are recomputed.
std::vector<Value*> vjp_norm(VjpCtx& c, bool center) {
  std::vector<Value*> out(center ? 3 : 2, nullptr);
  Value* dy = c.dy();
  if (center && c.needs(2))
    out[2] = sum_leading(c, dy);
  if (!c.needs(0) && !c.needs(1))
    return out;
  Value* x = c.x(0);
  Value* d = center ? c.op(OpKind::Sub, {x, mean_last(c, x)}) : x;
  Value* var = mean_last(c, c.op(OpKind::Mul, {d, d}));
  Value* eps = c.scalar(c.attrs().f64("eps"), x->type.dtype);
  Value* rstd = c.op(OpKind::Rsqrt, {c.op(OpKind::Add, {var, eps})});
  Value* xhat = c.op(OpKind::Mul, {d, rstd});
  if (c.needs(0)) {
    Value* g = c.op(OpKind::Mul, {dy, c.x(1)});
    Value* proj = c.op(OpKind::Mul, {xhat, mean_last(c, c.op(OpKind::Mul, {g, xhat}))});
    Value* inner = c.op(OpKind::Sub, {g, proj});
    if (center)
      inner = c.op(OpKind::Sub, {inner, mean_last(c, g)});
    out[0] = c.op(OpKind::Mul, {inner, rstd});
  }
  if (c.needs(1))
    out[1] = sum_leading(c, c.op(OpKind::Mul, {dy, xhat}));
  return out;
}

/// Per element: layer_norm ~ 8 flops (two reductions, centre, square, scale, shift),
/// rms_norm ~ 5; one rsqrt per row.
template <int FlopsPerElement> Cost cost_norm(const CostCtx& c) {
  Cost k = default_cost(c);
  const TensorType& x = c.operands[0];
  int64_t ch = x.shape.dim(x.shape.rank() - 1);
  k.flops = FlopsPerElement * static_cast<double>(x.numel());
  k.transcendentals = ch > 0 ? static_cast<double>(x.numel() / ch) : 0;
  return k;
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_LayerNorm() {
  OpDef o;
  o.name = "layer_norm";
  o.summary = "(x - mean) / sqrt(var + eps) * gamma + beta over the last axis (biased var)";
  o.signature = "(x, gamma, beta) -> y";
  o.min_operands = o.max_operands = 3;
  o.attrs = {attr("eps", AttrKind::F64, Attr(1e-5), "added to the variance")};
  o.traits = kComposite;
  o.infer = infer_norm;
  o.eval = [](const EvalCtx& c) { return eval_norm(c, true); };
  o.cost = cost_norm<8>;
  o.decompose = decompose_layer_norm;
  o.vjp = [](VjpCtx& c) { return vjp_norm(c, true); };
  return o;
}
OpDef def_RmsNorm() {
  OpDef o;
  o.name = "rms_norm";
  o.summary = "x / sqrt(mean(x^2) + eps) * gamma over the last axis";
  o.signature = "(x, gamma) -> y";
  o.min_operands = o.max_operands = 2;
  o.attrs = {attr("eps", AttrKind::F64, Attr(1e-6), "added to the mean square")};
  o.traits = kComposite;
  o.infer = infer_norm;
  o.eval = [](const EvalCtx& c) { return eval_norm(c, false); };
  o.cost = cost_norm<5>;
  o.decompose = decompose_rms_norm;
  o.vjp = [](VjpCtx& c) { return vjp_norm(c, false); };
  return o;
}

} // namespace tevo::ir
