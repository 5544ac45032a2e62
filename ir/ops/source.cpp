// source.cpp: ops without operands: literals, fills, index ramps and seeded random tensors.
//
// A source op's result type comes from its attributes alone, so infer validates the shape
// attribute as strictly as the parser validates a written type (no negative dims, bounded
// element count). Random ops use the counter-based generator of ir/random.h, so every
// backend reproduces them element by element.
#include "ir/ops/common.h"
#include "ir/random.h"

#include <cmath>

namespace tevo::ir::ops {

namespace {

// arange's length is computed in double; beyond this it stops being exact (and useful).
constexpr double kMaxArange = 2147483648.0; // 2^31

/// The `shape` attribute as a Shape, or why it is unusable (with the parser's limits).
Expected<Shape> shape_attr(const InferCtx& c) {
  Shape shape(c.attrs.i64_list("shape"));
  if (shape.rank() > kMaxRank)
    return make_diag("shape {} has rank {}, above {}", shape.str(), shape.rank(), kMaxRank);
  for (Dim d : shape.dims()) {
    if (d.value() < 0)
      return make_diag("shape {} has a negative dimension", shape.str());
    if (d.value() > kMaxDim)
      return make_diag("shape {} has a dimension above 2^40", shape.str());
  }
  if (!checked_numel(shape))
    return make_diag("shape {} has more than 2^50 elements", shape.str());
  return shape;
}

DType dtype_attr(const InferCtx& c) {
  return c.attrs.get("dtype").dtype();
}

std::optional<Diag> need_float_or_int(DType t) {
  if (in_domain(t, Domain::Numeric))
    return std::nullopt;
  return make_diag("dtype must be a float or integer type, got {}", t);
}

std::optional<Diag> need_finite(const InferCtx& c, const char* name) {
  double v = c.attrs.f64(name);
  if (std::isfinite(v))
    return std::nullopt;
  return make_diag("{} must be finite, got {}", name, v);
}

Expected<std::vector<TensorType>> infer_constant(const InferCtx& c) {
  const DenseRef& d = c.attrs.get("value").dense();
  if (!d)
    return make_diag("value is a null dense literal");
  if (static_cast<int64_t>(d->bytes.size()) != d->type.bytes())
    return make_diag("dense literal of type {} holds {} bytes, expected {}", d->type.str(),
                     d->bytes.size(), d->type.bytes());
  return one(d->type);
}

std::vector<interp::Array> eval_constant(const EvalCtx& c) {
  const DenseData& d = *c.attrs.get("value").dense();
  return {interp::Array::from_bytes(d.type, d.bytes.data())};
}

Expected<std::vector<TensorType>> infer_full(const InferCtx& c) {
  auto s = shape_attr(c);
  if (!s)
    return s.error();
  DType t = dtype_attr(c);
  double v = c.attrs.f64("value");
  if ((is_int(t) || is_bool(t)) && !std::isfinite(v))
    return make_diag("value {} is not representable in {}", v, t);
  return one(TensorType{t, *s});
}

std::vector<interp::Array> eval_full(const EvalCtx& c) {
  interp::Array a(c.results[0]);
  double v = c.attrs.f64("value");
  for (auto& x : a.data)
    x = v; // complex: real part; the imaginary part stays 0
  return {a};
}

Expected<std::vector<TensorType>> infer_iota(const InferCtx& c) {
  auto s = shape_attr(c);
  if (!s)
    return s.error();
  DType t = dtype_attr(c);
  if (auto d = need_float_or_int(t))
    return *d;
  int64_t axis = c.attrs.i64("axis");
  if (!normalize_axis(axis, s->rank()))
    return make_diag("axis {} out of range for shape {}", axis, s->str());
  return one(TensorType{t, *s});
}

std::vector<interp::Array> eval_iota(const EvalCtx& c) {
  interp::Array a(c.results[0]);
  const Shape& s = a.shape();
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), s.rank());
  int64_t stride = s.strides()[static_cast<size_t>(axis)];
  int64_t n = s.dim(axis);
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = static_cast<double>((i / stride) % n);
  return {a};
}

Expected<std::vector<TensorType>> infer_arange(const InferCtx& c) {
  DType t = dtype_attr(c);
  if (auto d = need_float_or_int(t))
    return *d;
  for (const char* name : {"start", "limit", "step"})
    if (auto d = need_finite(c, name))
      return *d;
  double start = c.attrs.f64("start"), limit = c.attrs.f64("limit"), step = c.attrs.f64("step");
  if (step == 0)
    return make_diag("step must be nonzero");
  double len = std::ceil((limit - start) / step);
  if (!(len <= kMaxArange)) // also catches an overflowed quotient (inf)
    return make_diag("arange({}, {}, {}) has more than 2^31 elements", start, limit, step);
  int64_t n = len > 0 ? static_cast<int64_t>(len) : 0;
  return one(TensorType{t, Shape{n}});
}

std::vector<interp::Array> eval_arange(const EvalCtx& c) {
  interp::Array a(c.results[0]);
  double start = c.attrs.f64("start"), step = c.attrs.f64("step");
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = start + static_cast<double>(i) * step;
  return {a};
}

Expected<std::vector<TensorType>>
infer_random(const InferCtx& c, const char* lo_name, const char* hi_name) {
  auto s = shape_attr(c);
  if (!s)
    return s.error();
  DType t = dtype_attr(c);
  if (!is_float(t))
    return make_diag("dtype must be a float type, got {}", t);
  for (const char* name : {lo_name, hi_name})
    if (auto d = need_finite(c, name))
      return *d;
  return one(TensorType{t, *s});
}

Expected<std::vector<TensorType>> infer_uniform(const InferCtx& c) {
  auto r = infer_random(c, "low", "high");
  if (r && !(c.attrs.f64("low") <= c.attrs.f64("high")))
    return make_diag("low {} is above high {}", c.attrs.f64("low"), c.attrs.f64("high"));
  return r;
}

Expected<std::vector<TensorType>> infer_normal(const InferCtx& c) {
  auto r = infer_random(c, "mean", "std");
  if (r && c.attrs.f64("std") < 0)
    return make_diag("std must be non-negative, got {}", c.attrs.f64("std"));
  return r;
}

std::vector<interp::Array> eval_uniform(const EvalCtx& c) {
  interp::Array a(c.results[0]);
  int64_t seed = c.attrs.i64("seed");
  double lo = c.attrs.f64("low"), hi = c.attrs.f64("high");
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = random::uniform(seed, static_cast<uint64_t>(i), lo, hi);
  return {a};
}

std::vector<interp::Array> eval_normal(const EvalCtx& c) {
  interp::Array a(c.results[0]);
  int64_t seed = c.attrs.i64("seed");
  double mean = c.attrs.f64("mean"), sd = c.attrs.f64("std");
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = random::normal(seed, static_cast<uint64_t>(i), mean, sd);
  return {a};
}

Cost cost_write_only(const CostCtx& c) {
  return streaming_cost(c, 0);
}
Cost cost_ramp(const CostCtx& c) {
  return streaming_cost(c, 1);
}
// Two splitmix64 rounds (~16 integer ops) and a scale per element.
Cost cost_uniform(const CostCtx& c) {
  return streaming_cost(c, 20);
}
// Two uniform draws plus log, sqrt and cos per element.
Cost cost_normal(const CostCtx& c) {
  return streaming_cost(c, 40, 3);
}

OpDef source(std::string_view name,
             std::string_view summary,
             std::vector<AttrSpec> attrs,
             InferFn infer,
             EvalFn eval,
             CostFn cost) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = "() -> y";
  o.min_operands = o.max_operands = 0;
  o.traits = kSource;
  o.attrs = std::move(attrs);
  o.infer = infer;
  o.eval = eval;
  o.cost = cost;
  return o;
}

AttrSpec shape_spec() {
  return required("shape", AttrKind::I64List, "result shape");
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Constant() {
  return source("constant", "a dense literal; the result type is the literal's type",
                {required("value", AttrKind::Dense, "the literal")}, infer_constant, eval_constant,
                cost_write_only);
}
OpDef def_Full() {
  return source("full", "a tensor filled with one value (converted like cast)",
                {shape_spec(), attr("value", AttrKind::F64, Attr(0.0), "fill value"),
                 attr("dtype", AttrKind::DType, Attr(DType::F32), "result dtype")},
                infer_full, eval_full, cost_write_only);
}
OpDef def_Iota() {
  return source("iota", "each element's index along `axis`",
                {shape_spec(),
                 required("axis", AttrKind::I64, "axis that counts (may be negative)"),
                 attr("dtype", AttrKind::DType, Attr(DType::I64), "result dtype (float or int)")},
                infer_iota, eval_iota, cost_ramp);
}
OpDef def_Arange() {
  return source("arange", "start + i * step for i < ceil((limit - start) / step) (NumPy arange)",
                {attr("start", AttrKind::F64, Attr(0.0), "first value"),
                 required("limit", AttrKind::F64, "exclusive bound"),
                 attr("step", AttrKind::F64, Attr(1.0), "increment (nonzero)"),
                 attr("dtype", AttrKind::DType, Attr(DType::I64), "result dtype (float or int)")},
                infer_arange, eval_arange, cost_ramp);
}
OpDef def_RandomUniform() {
  OpDef o = source("random_uniform", "uniform samples in [low, high) from a counter-based RNG",
                   {shape_spec(), required("seed", AttrKind::I64, "generator seed"),
                    attr("low", AttrKind::F64, Attr(0.0), "inclusive lower bound"),
                    attr("high", AttrKind::F64, Attr(1.0), "exclusive upper bound"),
                    attr("dtype", AttrKind::DType, Attr(DType::F32), "result dtype (float)")},
                   infer_uniform, eval_uniform, cost_uniform);
  o.traits |= kRandom | kNotDifferentiable;
  return o;
}
OpDef def_RandomNormal() {
  OpDef o = source("random_normal", "normal samples (Box-Muller) from a counter-based RNG",
                   {shape_spec(), required("seed", AttrKind::I64, "generator seed"),
                    attr("mean", AttrKind::F64, Attr(0.0), "mean"),
                    attr("std", AttrKind::F64, Attr(1.0), "standard deviation (>= 0)"),
                    attr("dtype", AttrKind::DType, Attr(DType::F32), "result dtype (float)")},
                   infer_normal, eval_normal, cost_normal);
  o.traits |= kRandom | kNotDifferentiable;
  return o;
}

} // namespace tevo::ir
