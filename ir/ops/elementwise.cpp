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

// --- VJP helpers -------------------------------------------------------------------------

using Grads = std::vector<Value*>;

/// A rank-0 constant of operand 0's dtype (broadcasts against anything in the rule).
Value* k(VjpCtx& c, double v) {
  return c.scalar(v, c.x(0)->type.dtype);
}
Value* un(VjpCtx& c, OpKind op, Value* a) {
  return c.op(op, {a});
}
Value* bin(VjpCtx& c, OpKind op, Value* a, Value* b) {
  return c.op(op, {a, b});
}
/// Chain rule of a unary op whose local derivative is d: dx = dy * d.
Grads chain(VjpCtx& c, Value* d) {
  return {bin(c, OpKind::Mul, c.dy(), d)};
}
/// conj(v) for a complex v (complex(re, -im)); v itself for a real one.
Value* conj(VjpCtx& c, Value* v) {
  if (!is_complex(v->type.dtype))
    return v;
  return bin(c, OpKind::Complex, un(c, OpKind::Real, v),
             un(c, OpKind::Neg, un(c, OpKind::Imag, v)));
}

/// maximum / minimum: the cotangent goes to the operand that wins (`wins` = gt for
/// maximum, lt for minimum); ties split it evenly, as PyTorch does (this is also what
/// central differences see at a tie). Where the comparison is unordered (NaN) all of it
/// goes to y.
Grads extremum_vjp(VjpCtx& c, OpKind wins) {
  Value* x = c.x(0);
  Value* y = c.x(1);
  Value* g = c.dy();
  Value* zero = k(c, 0);
  Value* half = bin(c, OpKind::Mul, g, k(c, 0.5));
  Value* tie = c.op(OpKind::Select, {bin(c, OpKind::Eq, x, y), half, zero});
  Value* gx = c.op(OpKind::Select, {bin(c, wins, x, y), g, tie});
  return {c.needs(0) ? c.unbroadcast(gx, x->type) : nullptr,
          c.needs(1) ? c.unbroadcast(bin(c, OpKind::Sub, g, gx), y->type) : nullptr};
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
  OpDef o = unary("abs", "absolute value |x|", Domain::Numeric,
                  [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Abs, a[0]); });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // abs'(0) = 0, as PyTorch (sign(0) = 0).
    return chain(c, un(c, OpKind::Sign, c.x(0)));
  };
  return o;
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
  OpDef o = unary(
      "expm1", "e^x - 1, accurate near 0", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Expm1, a[0]); }, true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return chain(c, un(c, OpKind::Exp, c.x(0)));
  };
  return o;
}
OpDef def_Log() {
  OpDef o = unary(
      "log", "natural logarithm (log 0 = -inf)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Log, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {bin(c, OpKind::Div, c.dy(), c.x(0))};
  };
  return o;
}
OpDef def_Log1p() {
  OpDef o = unary(
      "log1p", "log(1 + x), accurate near 0", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Log1p, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {bin(c, OpKind::Div, c.dy(), bin(c, OpKind::Add, c.x(0), k(c, 1)))};
  };
  return o;
}
OpDef def_Sqrt() {
  OpDef o = unary(
      "sqrt", "square root", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Sqrt, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {bin(c, OpKind::Div, c.dy(), bin(c, OpKind::Mul, c.y(), k(c, 2)))};
  };
  return o;
}
OpDef def_Rsqrt() {
  OpDef o = unary(
      "rsqrt", "1 / sqrt(x)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) {
        return b.div(b.c(1, a[0]), b.un(S::Sqrt, a[0]));
      },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // d/dx x^-1/2 = -y / (2x)
    return chain(c, bin(c, OpKind::Div, bin(c, OpKind::Mul, c.y(), k(c, -0.5)), c.x(0)));
  };
  return o;
}
OpDef def_Reciprocal() {
  OpDef o = unary("reciprocal", "1 / x", Domain::Float,
                  [](ScalarBuilder& b, Args a, const AttrDict&) {
                    return b.div(b.c(1, a[0]), a[0]);
                  });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return chain(c, un(c, OpKind::Neg, un(c, OpKind::Square, c.y())));
  };
  return o;
}
OpDef def_Square() {
  OpDef o = unary("square", "x * x", Domain::Numeric,
                  [](ScalarBuilder& b, Args a, const AttrDict&) { return b.mul(a[0], a[0]); });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return chain(c, bin(c, OpKind::Mul, c.x(0), k(c, 2)));
  };
  return o;
}
OpDef def_Tanh() {
  OpDef o = unary(
      "tanh", "hyperbolic tangent", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Tanh, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return chain(c, bin(c, OpKind::Sub, k(c, 1), un(c, OpKind::Square, c.y())));
  };
  return o;
}
OpDef def_Sigmoid() {
  OpDef o = unary(
      "sigmoid", "1 / (1 + e^-x)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return sigmoid_of(b, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return chain(c, bin(c, OpKind::Mul, c.y(), bin(c, OpKind::Sub, k(c, 1), c.y())));
  };
  return o;
}
OpDef def_Relu() {
  OpDef o = unary("relu", "max(x, 0)", Domain::Numeric,
                  [](ScalarBuilder& b, Args a, const AttrDict&) {
                    return b.bin(S::Max, a[0], b.c(0, a[0]));
                  });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // relu'(0) = 0, as PyTorch.
    return {c.op(OpKind::Select, {bin(c, OpKind::Gt, c.x(0), k(c, 0)), c.dy(), k(c, 0)})};
  };
  return o;
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
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    Value* x = c.x(0);
    Value* x2 = un(c, OpKind::Square, x);
    Value* one = k(c, 1);
    if (c.attrs().get("approximate").str() == "tanh") {
      // y = x/2 (1 + t), t = tanh(u), u = s (x + a x^3):
      // y' = (1 + t)/2 + x/2 (1 - t^2) s (1 + 3a x^2)
      const double s = std::sqrt(2.0 / std::numbers::pi), a = 0.044715;
      Value* u = bin(c, OpKind::Mul, bin(c, OpKind::Add, x, bin(c, OpKind::Mul, k(c, a),
                                                                bin(c, OpKind::Mul, x2, x))),
                     k(c, s));
      Value* t = un(c, OpKind::Tanh, u);
      Value* lhs = bin(c, OpKind::Mul, bin(c, OpKind::Add, one, t), k(c, 0.5));
      Value* sech2 = bin(c, OpKind::Sub, one, un(c, OpKind::Square, t));
      Value* du = bin(c, OpKind::Add, one, bin(c, OpKind::Mul, x2, k(c, 3 * a)));
      Value* rhs = bin(c, OpKind::Mul, bin(c, OpKind::Mul, bin(c, OpKind::Mul, x, k(c, 0.5 * s)),
                                            sech2),
                       du);
      return chain(c, bin(c, OpKind::Add, lhs, rhs));
    }
    // y' = (1 + erf(x/sqrt 2))/2 + x exp(-x^2/2) / sqrt(2 pi)
    Value* e = un(c, OpKind::Erf, bin(c, OpKind::Mul, x, k(c, 1.0 / std::numbers::sqrt2)));
    Value* cdf = bin(c, OpKind::Mul, bin(c, OpKind::Add, one, e), k(c, 0.5));
    Value* pdf = bin(c, OpKind::Mul, un(c, OpKind::Exp, bin(c, OpKind::Mul, x2, k(c, -0.5))),
                     k(c, 1.0 / std::sqrt(2 * std::numbers::pi)));
    return chain(c, bin(c, OpKind::Add, cdf, bin(c, OpKind::Mul, x, pdf)));
  };
  return o;
}
OpDef def_Silu() {
  OpDef o = unary(
      "silu", "x * sigmoid(x) (swish)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.mul(a[0], sigmoid_of(b, a[0])); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // s (1 + x (1 - s)), s = sigmoid(x)
    Value* s = un(c, OpKind::Sigmoid, c.x(0));
    Value* inner = bin(c, OpKind::Mul, c.x(0), bin(c, OpKind::Sub, k(c, 1), s));
    return chain(c, bin(c, OpKind::Mul, s, bin(c, OpKind::Add, k(c, 1), inner)));
  };
  return o;
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
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // 1 for x > 0, else alpha e^x (alpha at 0, as PyTorch); min(x, 0) keeps e^x finite.
    Value* ex = un(c, OpKind::Exp, bin(c, OpKind::Minimum, c.x(0), k(c, 0)));
    Value* neg = bin(c, OpKind::Mul, c.dy(), bin(c, OpKind::Mul, ex, k(c, c.attrs().f64("alpha"))));
    return {c.op(OpKind::Select, {bin(c, OpKind::Gt, c.x(0), k(c, 0)), c.dy(), neg})};
  };
  return o;
}
OpDef def_Softplus() {
  OpDef o = unary(
      "softplus", "log(1 + e^x), computed stably as max(x,0) + log1p(e^-|x|)", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) {
        SVal x = a[0];
        SVal t = b.un(S::Log1p, b.un(S::Exp, b.un(S::Neg, b.un(S::Abs, x))));
        return b.add(b.bin(S::Max, x, b.c(0, x)), t);
      },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // sigmoid(x): finite for every x (e^-x overflows to inf, giving 0)
    return chain(c, un(c, OpKind::Sigmoid, c.x(0)));
  };
  return o;
}
OpDef def_Sin() {
  OpDef o = unary(
      "sin", "sine", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Sin, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return chain(c, un(c, OpKind::Cos, c.x(0)));
  };
  return o;
}
OpDef def_Cos() {
  OpDef o = unary(
      "cos", "cosine", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Cos, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return chain(c, un(c, OpKind::Neg, un(c, OpKind::Sin, c.x(0))));
  };
  return o;
}
OpDef def_Sign() {
  OpDef o = unary("sign", "-1, 0 or 1 (0 for NaN-free zero)", Domain::Numeric,
                  [](ScalarBuilder& b, Args a, const AttrDict&) {
                    SVal x = a[0];
                    SVal pos = b.select(b.bin(S::Gt, x, b.c(0, x)), b.c(1, x), b.c(0, x));
                    return b.select(b.bin(S::Lt, x, b.c(0, x)), b.c(-1, x), pos);
                  });
  o.vjp = [](VjpCtx&) -> std::vector<Value*> {
    // Zero almost everywhere (and 0 at 0, as PyTorch): no gradient flows.
    return {nullptr};
  };
  return o;
}
OpDef def_Erf() {
  OpDef o = unary(
      "erf", "Gauss error function", Domain::Float,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Erf, a[0]); },
      true);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // 2/sqrt(pi) e^(-x^2)
    Value* e = un(c, OpKind::Exp, un(c, OpKind::Neg, un(c, OpKind::Square, c.x(0))));
    return chain(c, bin(c, OpKind::Mul, e, k(c, 2.0 / std::sqrt(std::numbers::pi))));
  };
  return o;
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
    // dx = dz conj(y), dy = dz conj(x): the cotangent of a complex value is
    // dL/dRe + i dL/dIm (PyTorch's convention); for real operands conj is the identity.
    Value* gx = c.needs(0) ? bin(c, OpKind::Mul, c.dy(), conj(c, c.x(1))) : nullptr;
    Value* gy = c.needs(1) ? bin(c, OpKind::Mul, c.dy(), conj(c, c.x(0))) : nullptr;
    return {gx ? c.unbroadcast(gx, c.x(0)->type) : nullptr,
            gy ? c.unbroadcast(gy, c.x(1)->type) : nullptr};
  };
  return o;
}
OpDef def_Div() {
  OpDef o = binary("div", "x / y (integers: truncating, x / 0 = 0)", Domain::NumericOrComplex,
                   [](ScalarBuilder& b, Args a, const AttrDict&) { return b.div(a[0], a[1]); });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // dx = dz / y, dy = -dz z / y (complex: conjugated, dx = dz / conj(y),
    // dy = -dz conj(z / y)).
    Value* x = c.x(0);
    Value* y = c.x(1);
    Value* g = c.dy();
    Value* gx = nullptr;
    Value* gy = nullptr;
    if (c.needs(0))
      gx = c.unbroadcast(bin(c, OpKind::Div, g, conj(c, y)), x->type);
    if (c.needs(1)) {
      Value* zy = conj(c, bin(c, OpKind::Div, c.y(), y));
      gy = c.unbroadcast(un(c, OpKind::Neg, bin(c, OpKind::Mul, g, zy)), y->type);
    }
    return {gx, gy};
  };
  return o;
}
OpDef def_Pow() {
  OpDef o = binary("pow", "x ^ y", Domain::Float, [](ScalarBuilder& b, Args a, const AttrDict&) {
    return b.bin(S::Pow, a[0], a[1]);
  });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // dx = dz y x^(y-1) (0 where y == 0, so 0^0 does not give 0 * inf);
    // dy = dz z log x (0 where x == 0 and y >= 0: the limit of z log x), as PyTorch.
    Value* x = c.x(0);
    Value* y = c.x(1);
    Value* g = c.dy();
    Value* zero = k(c, 0);
    Value* gx = nullptr;
    Value* gy = nullptr;
    if (c.needs(0)) {
      Value* p = bin(c, OpKind::Pow, x, bin(c, OpKind::Sub, y, k(c, 1)));
      Value* d = bin(c, OpKind::Mul, g, bin(c, OpKind::Mul, y, p));
      d = c.op(OpKind::Select, {bin(c, OpKind::Eq, y, zero), zero, d});
      gx = c.unbroadcast(d, x->type);
    }
    if (c.needs(1)) {
      Value* d =
          bin(c, OpKind::Mul, g, bin(c, OpKind::Mul, c.y(), un(c, OpKind::Log, x)));
      Value* lim = bin(c, OpKind::LogicalAnd, bin(c, OpKind::Eq, x, zero),
                       bin(c, OpKind::Ge, y, zero));
      d = c.op(OpKind::Select, {lim, zero, d});
      gy = c.unbroadcast(d, y->type);
    }
    return {gx, gy};
  };
  return o;
}
OpDef def_Maximum() {
  OpDef o = binary(
      "maximum", "elementwise max (NaN propagates)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Max, a[0], a[1]); },
      kCommutative);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return extremum_vjp(c, OpKind::Gt);
  };
  return o;
}
OpDef def_Minimum() {
  OpDef o = binary(
      "minimum", "elementwise min (NaN propagates)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Min, a[0], a[1]); },
      kCommutative);
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return extremum_vjp(c, OpKind::Lt);
  };
  return o;
}

} // namespace tevo::ir::ops
