// compare_select.cpp: comparisons, boolean logic, select, cast and complex parts.
//
// All of these are elementwise and defined by their scalar maths (ScalarFn), so every
// code generator gets them from its scalar intrinsics. Binary and ternary ops broadcast
// NumPy-style; operands that meet in one computation must share a dtype (no implicit
// promotion: insert a cast).
#include "ir/ops/common.h"
#include "ir/vjp.h"

namespace tevo::ir::ops {

namespace {

using S = ScalarOp;
using Args = std::span<const SVal>;
using Infer = Expected<std::vector<TensorType>>;

/// Broadcast shape of all operands, or a Diag naming their types.
Expected<Shape> broadcast_all(const InferCtx& c) {
  Shape s = c.operands[0].shape;
  bool ok = true;
  for (size_t i = 1; i < c.operands.size() && ok; ++i) {
    auto b = broadcast_shapes(s, c.operands[i].shape);
    ok = b.has_value();
    if (ok)
      s = *b;
  }
  std::string types;
  for (const auto& t : c.operands)
    types += (types.empty() ? "" : " vs ") + t.str();
  if (!ok)
    return make_diag("shapes do not broadcast: {}", types);
  return s;
}

/// (x, y) -> bool: operands of one dtype in domain D, broadcast together.
template <Domain D> Infer infer_to_bool(const InferCtx& c) {
  const auto& a = c.operands[0];
  const auto& b = c.operands[1];
  if (auto d = need(c, 0, D))
    return *d;
  if (a.dtype != b.dtype)
    return make_diag("operand dtypes differ: {} vs {} (insert a cast)", a.str(), b.str());
  auto s = broadcast_all(c);
  if (!s)
    return s.error();
  return one(TensorType{DType::Bool, *s});
}

OpDef compare(std::string_view name,
              std::string_view summary,
              Domain d,
              ScalarFn fn,
              uint32_t extra_traits = 0) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = "(x, y) -> bool";
  o.min_operands = o.max_operands = 2;
  o.traits = kElementwise | kNotDifferentiable | extra_traits;
  o.infer = d == Domain::Any    ? infer_to_bool<Domain::Any>
            : d == Domain::Bool ? infer_to_bool<Domain::Bool>
                                : infer_to_bool<Domain::Numeric>;
  o.scalar = fn;
  return o;
}

/// real / imag: c64 -> f32, c128 -> f64.
Infer infer_part(const InferCtx& c) {
  const auto& x = c.operands[0];
  if (auto d = need(c, 0, is_complex(x.dtype), "a complex tensor (c64 or c128)"))
    return *d;
  return one(TensorType{x.dtype == DType::C64 ? DType::F32 : DType::F64, x.shape});
}

OpDef part(std::string_view name, std::string_view summary, ScalarFn fn) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = "(z) -> x";
  o.min_operands = o.max_operands = 1;
  o.traits = kElementwise;
  o.infer = infer_part;
  o.scalar = fn;
  return o;
}


} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Eq() {
  return compare(
      "eq", "x == y (complex: both parts equal; NaN != NaN)", Domain::Any,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Eq, a[0], a[1]); },
      kCommutative);
}
OpDef def_Ne() {
  return compare(
      "ne", "x != y (true for NaN)", Domain::Any,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Ne, a[0], a[1]); },
      kCommutative);
}
OpDef def_Lt() {
  return compare(
      "lt", "x < y (false for NaN)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Lt, a[0], a[1]); });
}
OpDef def_Le() {
  return compare(
      "le", "x <= y (false for NaN)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Le, a[0], a[1]); });
}
OpDef def_Gt() {
  return compare(
      "gt", "x > y (false for NaN)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Gt, a[0], a[1]); });
}
OpDef def_Ge() {
  return compare(
      "ge", "x >= y (false for NaN)", Domain::Numeric,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Ge, a[0], a[1]); });
}
OpDef def_LogicalAnd() {
  return compare(
      "logical_and", "x and y (bool)", Domain::Bool,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::And, a[0], a[1]); },
      kCommutative);
}
OpDef def_LogicalOr() {
  return compare(
      "logical_or", "x or y (bool)", Domain::Bool,
      [](ScalarBuilder& b, Args a, const AttrDict&) { return b.bin(S::Or, a[0], a[1]); },
      kCommutative);
}
OpDef def_LogicalNot() {
  OpDef o;
  o.name = "logical_not";
  o.summary = "not x (bool)";
  o.signature = "(x) -> bool";
  o.min_operands = o.max_operands = 1;
  o.traits = kElementwise | kNotDifferentiable;
  o.infer = [](const InferCtx& c) -> Infer {
    if (auto d = need(c, 0, Domain::Bool))
      return *d;
    return one(c.operands[0]);
  };
  o.scalar = [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Not, a[0]); };
  return o;
}

OpDef def_Select() {
  OpDef o;
  o.name = "select";
  o.summary = "cond ? a : b, elementwise; all three broadcast together";
  o.signature = "(cond, a, b) -> y";
  o.min_operands = o.max_operands = 3;
  o.traits = kElementwise;
  o.infer = [](const InferCtx& c) -> Infer {
    const auto& cond = c.operands[0];
    const auto& a = c.operands[1];
    const auto& b = c.operands[2];
    if (!is_bool(cond.dtype))
      return make_diag("condition (operand 0) must be a bool tensor, got {}", cond.str());
    if (a.dtype != b.dtype)
      return make_diag("branch dtypes differ: {} vs {} (insert a cast)", a.str(), b.str());
    auto s = broadcast_all(c);
    if (!s)
      return s.error();
    return one(TensorType{a.dtype, *s});
  };
  o.scalar = [](ScalarBuilder& b, Args a, const AttrDict&) { return b.select(a[0], a[1], a[2]); };
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // The cotangent goes to a where cond holds, to b elsewhere; cond gets none.
    Value* zero = c.scalar(0, c.dy()->type.dtype);
    Value* ga = nullptr;
    Value* gb = nullptr;
    if (c.needs(1))
      ga = c.unbroadcast(c.op(OpKind::Select, {c.x(0), c.dy(), zero}), c.x(1)->type);
    if (c.needs(2))
      gb = c.unbroadcast(c.op(OpKind::Select, {c.x(0), zero, c.dy()}), c.x(2)->type);
    return {nullptr, ga, gb};
  };
  return o;
}

OpDef def_Cast() {
  OpDef o;
  o.name = "cast";
  o.summary = "converts to `dtype` (float->int truncates toward zero and saturates, NaN -> 0; "
              "->bool is x != 0)";
  o.signature = "(x) -> y";
  o.min_operands = o.max_operands = 1;
  o.attrs = {required("dtype", AttrKind::DType, "target dtype")};
  o.traits = kElementwise;
  o.infer = [](const InferCtx& c) -> Infer {
    const auto& x = c.operands[0];
    DType to = c.attrs.get("dtype").dtype();
    if (is_complex(x.dtype) && !is_complex(to))
      return make_diag("cannot cast {} to {}: use real or imag", x.str(), dtype_name(to));
    return one(TensorType{to, x.shape});
  };
  o.scalar = [](ScalarBuilder& b, Args a, const AttrDict& at) {
    return b.cast(a[0], at.get("dtype").dtype());
  };
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // Between float/complex dtypes the cotangent is cast back (real -> complex: its real
    // part); through an int or bool on either side no gradient flows.
    DType from = c.x(0)->type.dtype;
    auto smooth = [](DType t) { return is_float(t) || is_complex(t); };
    if (!c.needs(0) || !c.dy() || !smooth(from) || !smooth(c.y()->type.dtype))
      return {nullptr};
    Value* g = c.dy();
    if (is_complex(g->type.dtype) && !is_complex(from))
      g = c.op(OpKind::Real, {g});
    if (g->type.dtype != from)
      g = c.op(OpKind::Cast, {g}, {{"dtype", from}});
    return {g};
  };
  return o;
}

OpDef def_Real() {
  OpDef o = part("real", "real part of a complex tensor (c64 -> f32, c128 -> f64)",
                 [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Real, a[0]); });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // dz = dx + 0i (cotangent convention dL/dRe + i dL/dIm)
    return {c.op(OpKind::Complex, {c.dy(), c.scalar(0, c.dy()->type.dtype)})};
  };
  return o;
}
OpDef def_Imag() {
  OpDef o = part("imag", "imaginary part of a complex tensor (c64 -> f32, c128 -> f64)",
                 [](ScalarBuilder& b, Args a, const AttrDict&) { return b.un(S::Imag, a[0]); });
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // dz = 0 + dx i
    return {c.op(OpKind::Complex, {c.scalar(0, c.dy()->type.dtype), c.dy()})};
  };
  return o;
}

OpDef def_Complex() {
  OpDef o;
  o.name = "complex";
  o.summary = "re + i im from two float tensors (f32 -> c64, f64 -> c128); broadcasts";
  o.signature = "(re, im) -> z";
  o.min_operands = o.max_operands = 2;
  o.traits = kElementwise;
  o.infer = [](const InferCtx& c) -> Infer {
    const auto& re = c.operands[0];
    const auto& im = c.operands[1];
    if (auto d =
            need(c, 0, re.dtype == DType::F32 || re.dtype == DType::F64, "an f32 or f64 tensor"))
      return *d;
    if (re.dtype != im.dtype)
      return make_diag("operand dtypes differ: {} vs {} (insert a cast)", re.str(), im.str());
    auto s = broadcast_all(c);
    if (!s)
      return s.error();
    return one(TensorType{re.dtype == DType::F32 ? DType::C64 : DType::C128, *s});
  };
  o.scalar = [](ScalarBuilder& b, Args a, const AttrDict&) {
    return b.bin(S::MakeComplex, a[0], a[1]);
  };
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    // dre = Re(dz), dim = Im(dz), summed over broadcast axes.
    Value* gre = nullptr;
    Value* gim = nullptr;
    if (c.needs(0))
      gre = c.unbroadcast(c.op(OpKind::Real, {c.dy()}), c.x(0)->type);
    if (c.needs(1))
      gim = c.unbroadcast(c.op(OpKind::Imag, {c.dy()}), c.x(1)->type);
    return {gre, gim};
  };
  return o;
}

} // namespace tevo::ir
