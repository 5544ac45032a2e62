// ops.cpp: DSL functions: argument conveniences resolved, then one IR node each.
#include "frontend/ops.h"

#include <algorithm>

#include "ir/op_registry.h"

namespace tevo {

using ir::OpKind;

std::vector<Tensor> emit(OpKind k, const std::vector<Tensor>& operands, const ir::AttrList& attrs,
                         Loc loc, Trace* trace) {
  Trace* t = trace;
  std::vector<ir::Value*> vs;
  for (const Tensor& x : operands) {
    if (!x.valid())
      throw ir::Error(ir::Diag{loc, fmt::format("[{}] operand is an empty Tensor handle",
                                                ir::op_def(k).name),
                               {}});
    if (!t)
      t = &x.trace();
    else if (t != &x.trace())
      throw ir::Error(ir::Diag{loc,
                               fmt::format("[{}] operands come from different traces",
                                           ir::op_def(k).name),
                               {}});
    vs.push_back(x.value());
  }
  TEVO_ASSERT(t != nullptr, "emit without operands needs a trace");
  std::string name = t->path().empty() ? std::string() : t->scoped(ir::op_def(k).name);
  ir::Node* n = t->builder().create(k, std::move(vs), attrs, loc, name);
  std::vector<Tensor> out;
  for (int i = 0; i < n->num_results(); ++i)
    out.emplace_back(t, n->result(i));
  return out;
}

Tensor emit1(OpKind k, const std::vector<Tensor>& operands, const ir::AttrList& attrs, Loc loc,
             Trace* trace) {
  return emit(k, operands, attrs, std::move(loc), trace)[0];
}

namespace {
Tensor un(OpKind k, Tensor x, Loc loc, const ir::AttrList& attrs = {}) {
  return emit1(k, {x}, attrs, std::move(loc));
}
Tensor bin(OpKind k, Tensor a, Tensor b, Loc loc) {
  return emit1(k, {a, b}, {}, std::move(loc));
}
/// Normalises `axis` against x's rank or throws a located error.
int64_t axis_of(const Tensor& x, int64_t axis, const char* fn, const Loc& loc) {
  auto a = ir::normalize_axis(axis, x.rank());
  if (!a)
    throw ir::Error(ir::Diag{loc, fmt::format("[{}] axis {} out of range for {}", fn, axis,
                                              x.type().str()),
                             {}});
  return *a;
}
} // namespace

Tensor neg(Tensor x, Loc loc) { return un(OpKind::Neg, x, loc); }
Tensor abs(Tensor x, Loc loc) { return un(OpKind::Abs, x, loc); }
Tensor exp(Tensor x, Loc loc) { return un(OpKind::Exp, x, loc); }
Tensor expm1(Tensor x, Loc loc) { return un(OpKind::Expm1, x, loc); }
Tensor log(Tensor x, Loc loc) { return un(OpKind::Log, x, loc); }
Tensor log1p(Tensor x, Loc loc) { return un(OpKind::Log1p, x, loc); }
Tensor sqrt(Tensor x, Loc loc) { return un(OpKind::Sqrt, x, loc); }
Tensor rsqrt(Tensor x, Loc loc) { return un(OpKind::Rsqrt, x, loc); }
Tensor reciprocal(Tensor x, Loc loc) { return un(OpKind::Reciprocal, x, loc); }
Tensor square(Tensor x, Loc loc) { return un(OpKind::Square, x, loc); }
Tensor tanh(Tensor x, Loc loc) { return un(OpKind::Tanh, x, loc); }
Tensor sigmoid(Tensor x, Loc loc) { return un(OpKind::Sigmoid, x, loc); }
Tensor relu(Tensor x, Loc loc) { return un(OpKind::Relu, x, loc); }
Tensor gelu(Tensor x, bool tanh_approximation, Loc loc) {
  return un(OpKind::Gelu, x, loc, {{"approximate", tanh_approximation ? "tanh" : "none"}});
}
Tensor silu(Tensor x, Loc loc) { return un(OpKind::Silu, x, loc); }
Tensor elu(Tensor x, double alpha, Loc loc) { return un(OpKind::Elu, x, loc, {{"alpha", alpha}}); }
Tensor softplus(Tensor x, Loc loc) { return un(OpKind::Softplus, x, loc); }
Tensor sin(Tensor x, Loc loc) { return un(OpKind::Sin, x, loc); }
Tensor cos(Tensor x, Loc loc) { return un(OpKind::Cos, x, loc); }
Tensor sign(Tensor x, Loc loc) { return un(OpKind::Sign, x, loc); }
Tensor erf(Tensor x, Loc loc) { return un(OpKind::Erf, x, loc); }
Tensor stop_gradient(Tensor x, Loc loc) { return un(OpKind::StopGradient, x, loc); }

Tensor add(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Add, a, b, loc); }
Tensor sub(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Sub, a, b, loc); }
Tensor mul(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Mul, a, b, loc); }
Tensor div(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Div, a, b, loc); }
Tensor pow(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Pow, a, b, loc); }
Tensor pow(Tensor a, double b, Loc loc) { return bin(OpKind::Pow, a, scalar_like(a, b, loc), loc); }
Tensor maximum(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Maximum, a, b, loc); }
Tensor minimum(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Minimum, a, b, loc); }

Tensor operator+(At a, Tensor b) { return add(a.t, b, a.loc); }
Tensor operator-(At a, Tensor b) { return sub(a.t, b, a.loc); }
Tensor operator*(At a, Tensor b) { return mul(a.t, b, a.loc); }
Tensor operator/(At a, Tensor b) { return div(a.t, b, a.loc); }
Tensor operator+(At a, double b) { return add(a.t, scalar_like(a.t, b, a.loc), a.loc); }
Tensor operator-(At a, double b) { return sub(a.t, scalar_like(a.t, b, a.loc), a.loc); }
Tensor operator*(At a, double b) { return mul(a.t, scalar_like(a.t, b, a.loc), a.loc); }
Tensor operator/(At a, double b) { return div(a.t, scalar_like(a.t, b, a.loc), a.loc); }
Tensor operator+(double a, At b) { return add(scalar_like(b.t, a, b.loc), b.t, b.loc); }
Tensor operator-(double a, At b) { return sub(scalar_like(b.t, a, b.loc), b.t, b.loc); }
Tensor operator*(double a, At b) { return mul(scalar_like(b.t, a, b.loc), b.t, b.loc); }
Tensor operator/(double a, At b) { return div(scalar_like(b.t, a, b.loc), b.t, b.loc); }
Tensor operator-(At a) { return neg(a.t, a.loc); }

Tensor eq(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Eq, a, b, loc); }
Tensor ne(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Ne, a, b, loc); }
Tensor lt(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Lt, a, b, loc); }
Tensor le(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Le, a, b, loc); }
Tensor gt(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Gt, a, b, loc); }
Tensor ge(Tensor a, Tensor b, Loc loc) { return bin(OpKind::Ge, a, b, loc); }
Tensor logical_and(Tensor a, Tensor b, Loc loc) { return bin(OpKind::LogicalAnd, a, b, loc); }
Tensor logical_or(Tensor a, Tensor b, Loc loc) { return bin(OpKind::LogicalOr, a, b, loc); }
Tensor logical_not(Tensor a, Loc loc) { return un(OpKind::LogicalNot, a, loc); }
Tensor where(Tensor cond, Tensor a, Tensor b, Loc loc) {
  return emit1(OpKind::Select, {cond, a, b}, {}, loc);
}
Tensor where(Tensor cond, Tensor a, double b, Loc loc) {
  return where(cond, a, scalar_like(a, b, loc), loc);
}
Tensor cast(Tensor x, DType to, Loc loc) { return un(OpKind::Cast, x, loc, {{"dtype", to}}); }
Tensor real(Tensor x, Loc loc) { return un(OpKind::Real, x, loc); }
Tensor imag(Tensor x, Loc loc) { return un(OpKind::Imag, x, loc); }
Tensor complex(Tensor re, Tensor im, Loc loc) { return bin(OpKind::Complex, re, im, loc); }

namespace {
Tensor reduce(OpKind k, Tensor x, Ints axes, bool keepdims, Loc loc) {
  return un(k, x, loc, {{"axes", std::move(axes)}, {"keepdims", keepdims}});
}
} // namespace
Tensor sum(Tensor x, Ints axes, bool k, Loc loc) { return reduce(OpKind::Sum, x, axes, k, loc); }
Tensor mean(Tensor x, Ints axes, bool k, Loc loc) { return reduce(OpKind::Mean, x, axes, k, loc); }
Tensor max(Tensor x, Ints axes, bool k, Loc loc) { return reduce(OpKind::Max, x, axes, k, loc); }
Tensor min(Tensor x, Ints axes, bool k, Loc loc) { return reduce(OpKind::Min, x, axes, k, loc); }
Tensor prod(Tensor x, Ints axes, bool k, Loc loc) { return reduce(OpKind::Prod, x, axes, k, loc); }
Tensor logsumexp(Tensor x, Ints axes, bool k, Loc loc) {
  return reduce(OpKind::Logsumexp, x, axes, k, loc);
}
Tensor argmax(Tensor x, int64_t axis, bool keepdims, Loc loc) {
  return un(OpKind::Argmax, x, loc, {{"axis", axis}, {"keepdims", keepdims}});
}
Tensor softmax(Tensor x, int64_t axis, Loc loc) { return un(OpKind::Softmax, x, loc, {{"axis", axis}}); }
Tensor log_softmax(Tensor x, int64_t axis, Loc loc) {
  return un(OpKind::LogSoftmax, x, loc, {{"axis", axis}});
}

Tensor matmul(Tensor a, Tensor b, Loc loc) {
  bool va = a.rank() == 1, vb = b.rank() == 1;
  if (va)
    a = unsqueeze(a, 0, loc);
  if (vb)
    b = unsqueeze(b, 1, loc);
  Tensor r = bin(OpKind::Matmul, a, b, loc);
  if (vb)
    r = squeeze(r, -1, loc);
  if (va)
    r = squeeze(r, -2 + (vb ? 1 : 0), loc);
  return r;
}

Tensor permute(Tensor x, Ints perm, Loc loc) {
  for (auto& p : perm)
    if (p < 0)
      p += x.rank();
  return un(OpKind::Transpose, x, loc, {{"perm", perm}});
}
Tensor transpose(Tensor x, int64_t a, int64_t b, Loc loc) {
  int64_t i = axis_of(x, a, "transpose", loc), j = axis_of(x, b, "transpose", loc);
  Ints perm(static_cast<size_t>(x.rank()));
  for (int64_t k = 0; k < x.rank(); ++k)
    perm[static_cast<size_t>(k)] = k;
  std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
  return permute(x, perm, loc);
}

Tensor reshape(Tensor x, Ints shape, Loc loc) {
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0)
        throw ir::Error(ir::Diag{loc, fmt::format("[reshape] more than one -1 in {}",
                                                  ir::Shape(shape).str()),
                                 {}});
      infer_at = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || x.numel() % known != 0)
      throw ir::Error(ir::Diag{loc, fmt::format("[reshape] cannot reshape {} to {}: {} elements "
                                                "do not divide evenly",
                                                x.type().str(), ir::Shape(shape).str(), x.numel()),
                               {}});
    shape[static_cast<size_t>(infer_at)] = x.numel() / known;
  }
  return un(OpKind::Reshape, x, loc, {{"shape", shape}});
}
Tensor broadcast_to(Tensor x, Ints shape, Loc loc) {
  return un(OpKind::BroadcastTo, x, loc, {{"shape", shape}});
}
Tensor unsqueeze(Tensor x, int64_t axis, Loc loc) {
  auto s = x.shape();
  int64_t a = axis < 0 ? axis + x.rank() + 1 : axis;
  if (a < 0 || a > x.rank())
    throw ir::Error(ir::Diag{loc, fmt::format("[unsqueeze] axis {} out of range for {}", axis,
                                              x.type().str()),
                             {}});
  s.insert(s.begin() + a, 1);
  return reshape(x, s, loc);
}
Tensor squeeze(Tensor x, int64_t axis, Loc loc) {
  int64_t a = axis_of(x, axis, "squeeze", loc);
  if (x.dim(a) != 1)
    throw ir::Error(ir::Diag{loc, fmt::format("[squeeze] axis {} of {} has extent {}, not 1", axis,
                                              x.type().str(), x.dim(a)),
                             {}});
  auto s = x.shape();
  s.erase(s.begin() + a);
  return reshape(x, s, loc);
}
Tensor slice(Tensor x, int64_t axis, int64_t start, int64_t end, int64_t step, Loc loc) {
  int64_t a = axis_of(x, axis, "slice", loc);
  int64_t n = x.dim(a);
  auto clampi = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  int64_t s = clampi(start), e = std::max(clampi(end), s);
  Ints starts(static_cast<size_t>(x.rank()), 0), ends = x.shape(), steps(starts.size(), 1);
  starts[static_cast<size_t>(a)] = s;
  ends[static_cast<size_t>(a)] = e;
  steps[static_cast<size_t>(a)] = step;
  return un(OpKind::Slice, x, loc, {{"starts", starts}, {"ends", ends}, {"steps", steps}});
}
Tensor concat(const std::vector<Tensor>& xs, int64_t axis, Loc loc) {
  return emit1(OpKind::Concat, xs, {{"axis", axis}}, loc);
}
Tensor pad(Tensor x, Ints low, Ints high, double value, Loc loc) {
  return un(OpKind::Pad, x, loc, {{"low", low}, {"high", high}, {"value", value}});
}
Tensor tril(Tensor x, int64_t k, Loc loc) { return un(OpKind::Tril, x, loc, {{"k", k}}); }
Tensor triu(Tensor x, int64_t k, Loc loc) { return un(OpKind::Triu, x, loc, {{"k", k}}); }

Tensor gather(Tensor x, Tensor idx, int64_t axis, Loc loc) {
  return emit1(OpKind::Gather, {x, idx}, {{"axis", axis}}, loc);
}
Tensor take(Tensor x, Tensor idx, int64_t axis, Loc loc) {
  return emit1(OpKind::Take, {x, idx}, {{"axis", axis}}, loc);
}
Tensor embedding(Tensor table, Tensor ids, Loc loc) {
  return emit1(OpKind::Embedding, {table, ids}, {}, loc);
}
Tensor one_hot(Tensor ids, int64_t depth, DType dtype, Loc loc) {
  return un(OpKind::OneHot, ids, loc, {{"depth", depth}, {"dtype", dtype}});
}
std::pair<Tensor, Tensor> topk(Tensor x, int64_t k, int64_t axis, bool largest, Loc loc) {
  auto r = emit(OpKind::Topk, {x}, {{"k", k}, {"axis", axis}, {"largest", largest}}, loc);
  return {r[0], r[1]};
}
Tensor cumsum(Tensor x, int64_t axis, bool reverse, bool exclusive, Loc loc) {
  return un(OpKind::Cumsum, x, loc,
            {{"axis", axis}, {"reverse", reverse}, {"exclusive", exclusive}});
}
Tensor linear_scan(Tensor a, Tensor b, int64_t axis, bool reverse, Loc loc) {
  return emit1(OpKind::LinearScan, {a, b}, {{"axis", axis}, {"reverse", reverse}}, std::move(loc));
}

Tensor full(Trace& t, Ints shape, double value, DType dtype, Loc loc) {
  return emit1(OpKind::Full, {}, {{"shape", shape}, {"value", value}, {"dtype", dtype}}, loc, &t);
}
Tensor scalar_like(Tensor x, double value, Loc loc) {
  return full(x.trace(), {}, value, x.dtype(), loc);
}
Tensor zeros_like(Tensor x, Loc loc) { return full(x.trace(), x.shape(), 0.0, x.dtype(), loc); }
Tensor ones_like(Tensor x, Loc loc) { return full(x.trace(), x.shape(), 1.0, x.dtype(), loc); }
Tensor constant(Trace& t, Ints shape, const std::vector<double>& values, DType dtype, Loc loc) {
  ir::TensorType tt{dtype, ir::Shape(shape)};
  if (!ir::checked_numel(shape) || static_cast<int64_t>(values.size()) != tt.numel())
    throw ir::Error(ir::Diag{loc, fmt::format("[constant] {} values given for {}", values.size(),
                                              tt.str()),
                             {}});
  return emit1(OpKind::Constant, {}, {{"value", ir::DenseData::from_doubles(tt, values)}}, loc, &t);
}
Tensor iota(Trace& t, Ints shape, int64_t axis, DType dtype, Loc loc) {
  return emit1(OpKind::Iota, {}, {{"shape", shape}, {"axis", axis}, {"dtype", dtype}}, loc, &t);
}
Tensor arange(Trace& t, double start, double limit, double step, DType dtype, Loc loc) {
  return emit1(OpKind::Arange, {},
               {{"start", start}, {"limit", limit}, {"step", step}, {"dtype", dtype}}, loc, &t);
}
Tensor random_uniform(Trace& t, Ints shape, int64_t seed, double low, double high, DType dtype,
                      Loc loc) {
  return emit1(OpKind::RandomUniform, {},
               {{"shape", shape}, {"seed", seed}, {"low", low}, {"high", high}, {"dtype", dtype}},
               loc, &t);
}
Tensor random_normal(Trace& t, Ints shape, int64_t seed, double mean, double std, DType dtype,
                     Loc loc) {
  return emit1(OpKind::RandomNormal, {},
               {{"shape", shape}, {"seed", seed}, {"mean", mean}, {"std", std}, {"dtype", dtype}},
               loc, &t);
}

Tensor rfft(Tensor x, int64_t axis, Loc loc) { return un(OpKind::Rfft, x, loc, {{"axis", axis}}); }
Tensor irfft(Tensor x, int64_t n, int64_t axis, Loc loc) {
  return un(OpKind::Irfft, x, loc, {{"axis", axis}, {"n", n}});
}
Tensor conv1d(Tensor x, Tensor w, Conv1dOptions o, Loc loc) {
  return emit1(OpKind::Conv1d, {x, w},
               {{"stride", o.stride},
                {"padding", Ints{o.padding_left, o.padding_right}},
                {"dilation", o.dilation},
                {"groups", o.groups}},
               loc);
}
Tensor layer_norm(Tensor x, Tensor gamma, Tensor beta, double eps, Loc loc) {
  return emit1(OpKind::LayerNorm, {x, gamma, beta}, {{"eps", eps}}, loc);
}
Tensor rms_norm(Tensor x, Tensor gamma, double eps, Loc loc) {
  return emit1(OpKind::RmsNorm, {x, gamma}, {{"eps", eps}}, loc);
}

} // namespace tevo
