// elementwise.cpp: unary and binary arithmetic ops, each defined by its scalar maths.
//
// An elementwise op is a ScalarFn (its definition for the interpreter and every code
// generator), a dtype rule and a cost. Binary ops broadcast NumPy-style and require both
// operands to have the same dtype (tevo has no implicit promotion: insert a cast).
#include <cmath>
#include <numbers>

#include "ir/ops/common.h"
#include "ir/vjp.h"

namespace tevo::ir::ops {

namespace {

using S = ScalarOp;

template <Domain D> Expected<std::vector<TensorType>> infer_unary(const InferCtx& c) {
  if (auto d = need(c, 0, D))
    return *d;
  return one(c.operands[0]);
}

template <Domain D> Expected<std::vector<TensorType>> infer_binary(const InferCtx& c) {
  const auto& a = c.operands[0];
  const auto& b = c.operands[1];
  if (auto d = need(c, 0, D))
    return *d;
  if (a.dtype != b.dtype)
    return make_diag("operand dtypes differ: {} vs {} (insert a cast)", a.str(), b.str());
  auto s = broadcast_shapes(a.shape, b.shape);
  if (!s)
    return make_diag("shapes do not broadcast: {} vs {}", a.str(), b.str());
  return one(TensorType{a.dtype, *s});
}

Cost cost_transcendental(const CostCtx& c) {
  return streaming_cost(c, 1, 1);
}

/// `transcendental`: the op evaluates one exp/log/tanh/... per element (for the cost model).
OpDef unary(std::string_view name, std::string_view summary, Domain d, ScalarFn fn,
            bool transcendental = false) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = "(x) -> y";
  o.min_operands = o.max_operands = 1;
  o.traits = kElementwise;
  switch (d) {
  case Domain::Float:
    o.infer = infer_unary<Domain::Float>;
    break;
  case Domain::Numeric:
    o.infer = infer_unary<Domain::Numeric>;
    break;
  case Domain::NumericOrComplex:
    o.infer = infer_unary<Domain::NumericOrComplex>;
    break;
  case Domain::Bool:
    o.infer = infer_unary<Domain::Bool>;
    break;
  case Domain::Any:
    o.infer = infer_unary<Domain::Any>;
    break;
  }
  o.scalar = fn;
  o.cost = transcendental ? cost_transcendental : nullptr;
  return o;
}

OpDef binary(std::string_view name, std::string_view summary, Domain d, ScalarFn fn,
             uint32_t extra_traits = 0) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = "(x, y) -> z";
  o.min_operands = o.max_operands = 2;
  o.traits = kElementwise | extra_traits;
  o.infer = d == Domain::Float              ? infer_binary<Domain::Float>
            : d == Domain::NumericOrComplex ? infer_binary<Domain::NumericOrComplex>
                                            : infer_binary<Domain::Numeric>;
  o.scalar = fn;
  return o;
}

using Args = std::span<const SVal>;

SVal sigmoid_of(ScalarBuilder& b, SVal x) {
  return b.div(b.c(1, x), b.add(b.c(1, x), b.un(S::Exp, b.un(S::Neg, x))));
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Neg() {
  OpDef o = unary("neg", "negation -x", Domain::NumericOrComplex,
               [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Neg, a[0]); });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {c.op(OpKind::Neg, {c.dy()})};
  };
  return o;
}
OpDef def_Abs() {
  return unary("abs", "absolute value |x|", Domain::Numeric,
               [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Abs, a[0]); });
}
OpDef def_Exp() {
  OpDef o = unary(
      "exp", "e^x", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Exp, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {c.op(OpKind::Mul, {c.dy(), c.y()})};
  };
  return o;
}
OpDef def_Expm1() {
  return unary(
      "expm1", "e^x - 1, accurate near 0", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Expm1, a[0]); }, true);
}
OpDef def_Log() {
  return unary(
      "log", "natural logarithm (log 0 = -inf)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Log, a[0]); },
      true);
}
OpDef def_Log1p() {
  return unary(
      "log1p", "log(1 + x), accurate near 0", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Log1p, a[0]); },
      true);
}
OpDef def_Sqrt() {
  return unary(
      "sqrt", "square root", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Sqrt, a[0]); },
      true);
}
OpDef def_Rsqrt() {
  return unary(
      "rsqrt", "1 / sqrt(x)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) {
        return b.div(b.c(1, a[0]), b.un(S::Sqrt, a[0]));
      },
      true);
}
OpDef def_Reciprocal() {
  return unary("reciprocal", "1 / x", Domain::Float,
               [](ScalarBuilder& b, Args a, const AttrDict&) { return b.div(b.c(1, a[0]), a[0]); });
}
OpDef def_Square() {
  return unary("square", "x * x", Domain::Numeric,
               [](ScalarBuilder& b, Args a, const AttrDict&) { return b.mul(a[0], a[0]); });
}
OpDef def_Tanh() {
  return unary(
      "tanh", "hyperbolic tangent", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Tanh, a[0]); },
      true);
}
OpDef def_Sigmoid() {
  return unary(
      "sigmoid", "1 / (1 + e^-x)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return sigmoid_of(b, a[0]); },
      true);
}
OpDef def_Relu() {
  return unary("relu", "max(x, 0)", Domain::Numeric,
               [](ScalarBuilder& b, Args a, const AttrDict&) {
                 return b.bin(S::Max, a[0], b.c(0, a[0]));
               });
}
OpDef def_Gelu() {
  OpDef o = unary(
      "gelu", "Gaussian error linear unit; approximate = \"none\" (erf) or \"tanh\"",
      Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict& at) {
        SVal x = a[0];
        SVal half_x = b.mul(b.c(0.5, x), x);
        if (at.get("approximate").str() == "tanh") {
          // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
          SVal x3 = b.mul(b.mul(x, x), x);
          SVal inner = b.mul(b.c(std::sqrt(2.0 / std::numbers::pi), x),
                             b.add(x, b.mul(b.c(0.044715, x), x3)));
          return b.mul(half_x, b.add(b.c(1, x), b.un(S::Tanh, inner)));
        }
        // 0.5 x (1 + erf(x / sqrt 2))
        SVal e = b.un(S::Erf, b.mul(x, b.c(1.0 / std::numbers::sqrt2, x)));
        return b.mul(half_x, b.add(b.c(1, x), e));
      },
      true);
  o.attrs = {attr("approximate", AttrKind::Str, Attr("none"), "\"none\" (erf form) or \"tanh\"")};
  o.infer = [](const InferCtx& c) -> Expected<std::vector<TensorType>> {
    const auto& ap = c.attrs.get("approximate").str();
    if (ap != "none" && ap != "tanh")
      return make_diag("approximate must be \"none\" or \"tanh\", got \"{}\"", ap);
    return infer_unary<Domain::Float>(c);
  };
  return o;
}
OpDef def_Silu() {
  return unary(
      "silu", "x * sigmoid(x) (swish)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.mul(a[0], sigmoid_of(b, a[0])); },
      true);
}
OpDef def_Elu() {
  OpDef o = unary(
      "elu", "x if x > 0 else alpha * (e^x - 1)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict& at) {
        SVal x = a[0];
        SVal neg = b.mul(b.c(at.f64("alpha"), x), b.un(S::Expm1, b.bin(S::Min, x, b.c(0, x))));
        return b.select(b.bin(S::Gt, x, b.c(0, x)), x, neg);
      },
      true);
  o.attrs = {attr("alpha", AttrKind::F64, Attr(1.0), "scale of the negative branch")};
  return o;
}
OpDef def_Softplus() {
  return unary(
      "softplus", "log(1 + e^x), computed stably as max(x,0) + log1p(e^-|x|)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) {
        SVal x = a[0];
        SVal t = b.un(S::Log1p, b.un(S::Exp, b.un(S::Neg, b.un(S::Abs, x))));
        return b.add(b.bin(S::Max, x, b.c(0, x)), t);
      },
      true);
}
OpDef def_Sin() {
  return unary(
      "sin", "sine", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Sin, a[0]); },
      true);
}
OpDef def_Cos() {
  return unary(
      "cos", "cosine", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Cos, a[0]); },
      true);
}
OpDef def_Sign() {
  return unary("sign", "-1, 0 or 1 (0 for NaN-free zero)", Domain::Numeric,
               [](ScalarBuilder& b, Args a, const AttrDict&) {
                 SVal x = a[0];
                 SVal pos = b.select(b.bin(S::Gt, x, b.c(0, x)), b.c(1, x), b.c(0, x));
                 return b.select(b.bin(S::Lt, x, b.c(0, x)), b.c(-1, x), pos);
               });
}
OpDef def_Erf() {
  return unary(
      "erf", "Gauss error function", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Erf, a[0]); },
      true);
}
OpDef def_StopGradient() {
  OpDef o = unary("stop_gradient", "identity whose gradient is zero", Domain::Any,
                  [](ScalarBuilder&, Args a, const AttrDict&) { return a[0]; });
  o.traits |= kNotDifferentiable;
  return o;
}

OpDef def_Add() {
  OpDef o = binary(
      "add", "x + y", Domain::NumericOrComplex,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.add(a[0], a[1]); }, kCommutative);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {c.needs(0) ? c.unbroadcast(c.dy(), c.x(0)->type) : nullptr,
            c.needs(1) ? c.unbroadcast(c.dy(), c.x(1)->type) : nullptr};
  };
  return o;
}
OpDef def_Sub() {
  OpDef o = binary("sub", "x - y", Domain::NumericOrComplex,
                [](ScalarBuilder& b, Args a, const AttrDict&) { return b.sub(a[0], a[1]); });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {c.needs(0) ? c.unbroadcast(c.dy(), c.x(0)->type) : nullptr,
            c.needs(1) ? c.unbroadcast(c.op(OpKind::Neg, {c.dy()}), c.x(1)->type) : nullptr};
  };
  return o;
}
OpDef def_Mul() {
  OpDef o = binary(
      "mul", "x * y", Domain::NumericOrComplex,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.mul(a[0], a[1]); }, kCommutative);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // d(xy) = y dx + x dy (complex: the conjugate convention is not needed for C->R
    // losses built from real/imag, which is how tevo differentiates complex values).
    return {c.needs(0) ? c.unbroadcast(c.op(OpKind::Mul, {c.dy(), c.x(1)}), c.x(0)->type) : nullptr,
            c.needs(1) ? c.unbroadcast(c.op(OpKind::Mul, {c.dy(), c.x(0)}), c.x(1)->type) : nullptr};
  };
  return o;
}
OpDef def_Div() {
  return binary("div", "x / y (integers: truncating, x / 0 = 0)", Domain::NumericOrComplex,
                [](ScalarBuilder& b, Args a, const AttrDict&) { return b.div(a[0], a[1]); });
}
OpDef def_Pow() {
  return binary("pow", "x ^ y", Domain::Float, [](ScalarBuilder& b, Args a, const AttrDict&) {
    return b.bin(S::Pow, a[0], a[1]);
  });
}
OpDef def_Maximum() {
  return binary(
      "maximum", "elementwise max (NaN propagates)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Max, a[0], a[1]); },
      kCommutative);
}
OpDef def_Minimum() {
  return binary(
      "minimum", "elementwise min (NaN propagates)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Min, a[0], a[1]); },
      kCommutative);
}

} // namespace tevo::ir::ops
