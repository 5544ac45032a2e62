// index.cpp: gathers by integer index (gather, take, embedding), their adjoint scatter_add,
// and index-producing ops (one_hot, topk).
//
// Indices are i32 or i64 tensors. An index outside [0, dim) is a data error raised by the
// reference kernel; there is no negative wraparound (the DSL normalises Python-style
// negative indices where it knows them statically).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ir/ops/common.h"
#include "ir/vjp.h"

namespace tevo::ir::ops {

namespace {

using Ints = std::vector<int64_t>;

bool is_index(DType t) {
  return t == DType::I32 || t == DType::I64;
}

/// Whether index element v (an integer held as double) lies in [0, dim).
bool in_range(double v, int64_t dim) {
  return v >= 0 && v < static_cast<double>(dim);
}

/// Index v of gather/take as an offset, or an ir::Error.
int64_t axis_index(double v, int64_t dim, int64_t axis, const interp::Array& x) {
  if (!in_range(v, dim))
    throw Error(make_diag("index {:.0f} out of range [0, {}) on axis {} of {}", v, dim, axis,
                          x.type.str()));
  return static_cast<int64_t>(v);
}

/// Writes x[s] (with its imaginary part) to out[f].
void copy_elem(interp::Array& out, int64_t f, const interp::Array& x, int64_t s) {
  out[f] = x[s];
  if (!out.imag.empty())
    out.imag[at(f)] = x.imag[at(s)];
}

Cost gather_cost(const CostCtx& c) {
  return streaming_cost(c, 0);
}

// ---- gather ----

Expected<std::vector<TensorType>> infer_gather(const InferCtx& c) {
  const auto& x = c.operands[0];
  const auto& idx = c.operands[1];
  if (auto d = need(c, 1, is_index(idx.dtype), "an i32 or i64 tensor"))
    return *d;
  int64_t axis_attr = c.attrs.i64("axis");
  auto axis = attr_axis(c, x);
  if (!axis)
    return axis.error();
  bool ok = idx.shape.rank() == x.shape.rank();
  for (int64_t i = 0; ok && i < x.shape.rank(); ++i)
    ok = i == *axis || idx.shape.dim(i) == x.shape.dim(i);
  if (!ok)
    return make_diag("indices {} must match {} except on axis {}", idx.str(), x.str(), axis_attr);
  return one(TensorType{x.dtype, idx.shape});
}

std::vector<interp::Array> eval_gather(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  const interp::Array& idx = c.in(1);
  interp::Array out(c.results[0]);
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  int64_t dim = x.shape().dim(axis);
  Ints dims = out.shape().to_vector(), xs = x.shape().strides();
  for (int64_t f = 0; f < out.numel(); ++f) {
    Ints o = interp::unravel(f, dims);
    o[at(axis)] = axis_index(idx[f], dim, axis, x);
    copy_elem(out, f, x, interp::ravel(o, xs));
  }
  return {std::move(out)};
}

// ---- take ----

Expected<std::vector<TensorType>> infer_take(const InferCtx& c) {
  const auto& x = c.operands[0];
  const auto& idx = c.operands[1];
  if (auto d = need(c, 1, is_index(idx.dtype), "an i32 or i64 tensor"))
    return *d;
  auto axis = attr_axis(c, x);
  if (!axis)
    return axis.error();
  Ints xd = x.shape.to_vector(), dims(xd.begin(), xd.begin() + *axis);
  for (Dim d : idx.shape.dims())
    dims.push_back(d.value());
  dims.insert(dims.end(), xd.begin() + *axis + 1, xd.end());
  return one(TensorType{x.dtype, Shape(dims)});
}

std::vector<interp::Array> eval_take(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  const interp::Array& idx = c.in(1);
  interp::Array out(c.results[0]);
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  int64_t dim = x.shape().dim(axis), ri = idx.shape().rank();
  Ints dims = out.shape().to_vector(), xs = x.shape().strides(), is = idx.shape().strides();
  for (int64_t f = 0; f < out.numel(); ++f) {
    Ints o = interp::unravel(f, dims);
    // o = outer[0:axis] + index coords[axis:axis+ri] + inner.
    Ints ic(o.begin() + axis, o.begin() + axis + ri);
    int64_t j = axis_index(idx[interp::ravel(ic, is)], dim, axis, x);
    Ints src(o.begin(), o.begin() + axis);
    src.push_back(j);
    src.insert(src.end(), o.begin() + axis + ri, o.end());
    copy_elem(out, f, x, interp::ravel(src, xs));
  }
  return {std::move(out)};
}

// ---- embedding ----

Expected<std::vector<TensorType>> infer_embedding(const InferCtx& c) {
  const auto& table = c.operands[0];
  const auto& ids = c.operands[1];
  if (!is_float(table.dtype) || table.shape.rank() != 2)
    return make_diag("table must be a rank-2 float tensor [V, C], got {}", table.str());
  if (auto d = need(c, 1, is_index(ids.dtype), "an i32 or i64 tensor"))
    return *d;
  Ints dims = ids.shape.to_vector();
  dims.push_back(table.shape.dim(1));
  return one(TensorType{table.dtype, Shape(dims)});
}

std::vector<interp::Array> eval_embedding(const EvalCtx& c) {
  const interp::Array& table = c.in(0);
  const interp::Array& ids = c.in(1);
  interp::Array out(c.results[0]);
  int64_t v = table.shape().dim(0), ch = table.shape().dim(1);
  for (int64_t i = 0; i < ids.numel(); ++i) {
    if (!in_range(ids[i], v))
      throw Error(make_diag("id {:.0f} out of range for a table of {} rows", ids[i], v));
    auto row = static_cast<int64_t>(ids[i]);
    for (int64_t j = 0; j < ch; ++j)
      out[i * ch + j] = table[row * ch + j];
  }
  return {std::move(out)};
}

// ---- one_hot ----

Expected<std::vector<TensorType>> infer_one_hot(const InferCtx& c) {
  const auto& ids = c.operands[0];
  if (auto d = need(c, 0, is_index(ids.dtype), "an i32 or i64 tensor"))
    return *d;
  int64_t depth = c.attrs.i64("depth");
  if (depth < 1 || depth > kMaxDim)
    return make_diag("depth {} must be in [1, 2^40]", depth);
  Ints dims = ids.shape.to_vector();
  dims.push_back(depth);
  return one(TensorType{c.attrs.get("dtype").dtype(), Shape(dims)});
}

std::vector<interp::Array> eval_one_hot(const EvalCtx& c) {
  const interp::Array& ids = c.in(0);
  interp::Array out(c.results[0]);
  int64_t depth = c.attrs.i64("depth");
  for (int64_t i = 0; i < ids.numel(); ++i) {
    if (!in_range(ids[i], depth))
      throw Error(make_diag("id {:.0f} out of range for depth {}", ids[i], depth));
    out[i * depth + static_cast<int64_t>(ids[i])] = 1;
  }
  return {std::move(out)};
}

// ---- topk ----

Expected<std::vector<TensorType>> infer_topk(const InferCtx& c) {
  const auto& x = c.operands[0];
  if (auto d = need(c, 0, Domain::Numeric))
    return *d;
  int64_t axis_attr = c.attrs.i64("axis");
  auto axis = attr_axis(c, x);
  if (!axis)
    return axis.error();
  int64_t k = c.attrs.i64("k"), dim = x.shape.dim(*axis);
  if (k < 0 || k > dim)
    return make_diag("k {} out of range [0, {}] for axis {} of {}", k, dim, axis_attr, x.str());
  Ints dims = x.shape.to_vector();
  dims[at(*axis)] = k;
  return std::vector<TensorType>{TensorType{x.dtype, Shape(dims)},
                                 TensorType{DType::I64, Shape(dims)}};
}

/// Orders a before b when a is larger; NaN is larger than every number.
bool greater(double a, double b) {
  if (std::isnan(a))
    return !std::isnan(b);
  return a > b; // false when b is NaN
}

std::vector<interp::Array> eval_topk(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  interp::Array values(c.results[0]), indices(c.results[1]);
  if (x.numel() == 0) // the line loops below could still be long (f32[2^40,0])
    return {std::move(values), std::move(indices)};
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  int64_t k = c.attrs.i64("k");
  bool largest = c.attrs.boolean("largest");
  Ints xd = x.shape().to_vector();
  int64_t n = xd[at(axis)], inner = 1, outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= xd[at(i)];
  for (size_t i = at(axis) + 1; i < xd.size(); ++i)
    inner *= xd[i];
  std::vector<int64_t> order(at(n));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto elem = [&](int64_t j) { return x[(o * n + j) * inner + in]; };
      std::iota(order.begin(), order.end(), int64_t{0});
      // Equal values keep ascending index order (an explicit tie-break rather than
      // std::stable_sort, whose libstdc++ 12 helper is deprecated under clang).
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        bool ab = largest ? greater(elem(a), elem(b)) : greater(elem(b), elem(a));
        bool ba = largest ? greater(elem(b), elem(a)) : greater(elem(a), elem(b));
        return ab || (!ba && a < b);
      });
      for (int64_t j = 0; j < k; ++j) {
        int64_t dst = (o * k + j) * inner + in;
        values[dst] = elem(order[at(j)]);
        indices[dst] = static_cast<double>(order[at(j)]);
      }
    }
  return {std::move(values), std::move(indices)};
}

Cost topk_cost(const CostCtx& c) {
  Cost r = default_cost(c);
  // About log2(k) comparisons per element with a heap of size k.
  double k = static_cast<double>(c.attrs.i64("k"));
  r.flops = static_cast<double>(c.operands[0].numel()) * std::max(1.0, std::log2(k));
  return r;
}

// ---- scatter_add ----

Expected<std::vector<TensorType>> infer_scatter_add(const InferCtx& c) {
  const auto& base = c.operands[0];
  const auto& idx = c.operands[1];
  const auto& upd = c.operands[2];
  if (auto d = need(c, 0, Domain::NumericOrComplex))
    return *d;
  if (auto d = need(c, 1, is_index(idx.dtype), "an i32 or i64 tensor"))
    return *d;
  if (upd.dtype != base.dtype)
    return make_diag("operand dtypes differ: {} vs {} (insert a cast)", base.str(), upd.str());
  int64_t axis_attr = c.attrs.i64("axis");
  auto axis = attr_axis(c, base);
  if (!axis)
    return axis.error();
  if (!(idx.shape == upd.shape))
    return make_diag("indices {} and updates {} must have the same shape", idx.str(), upd.str());
  bool ok = idx.shape.rank() == base.shape.rank();
  for (int64_t i = 0; ok && i < base.shape.rank(); ++i)
    ok = i == *axis || idx.shape.dim(i) == base.shape.dim(i);
  if (!ok)
    return make_diag("indices {} must match {} except on axis {}", idx.str(), base.str(),
                     axis_attr);
  return one(base);
}

std::vector<interp::Array> eval_scatter_add(const EvalCtx& c) {
  const interp::Array& base = c.in(0);
  const interp::Array& idx = c.in(1);
  const interp::Array& upd = c.in(2);
  interp::Array out = base;
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), base.shape().rank());
  int64_t dim = base.shape().dim(axis);
  Ints dims = upd.shape().to_vector(), os = base.shape().strides();
  for (int64_t f = 0; f < upd.numel(); ++f) {
    Ints o = interp::unravel(f, dims);
    o[at(axis)] = axis_index(idx[f], dim, axis, base);
    int64_t t = interp::ravel(o, os);
    out[t] += upd[f];
    if (!out.imag.empty())
      out.imag[at(t)] += upd.imag[at(f)];
  }
  return {std::move(out)};
}

Cost scatter_add_cost(const CostCtx& c) {
  Cost r = default_cost(c);
  r.flops = static_cast<double>(c.operands[2].numel()); // one add per update
  return r;
}

// ---- gradients ----

/// scatter_add(zeros like x, idx, g) along axis: the adjoint of gather(x, idx).
Value* scatter_into_zeros(VjpCtx& c, Value* idx, Value* g, int64_t axis) {
  return c.op(OpKind::ScatterAdd, {c.fill(0, c.x(0)->type), idx, g}, {{"axis", axis}});
}

/// Reshapes v to `shape` unless it already has it.
Value* reshape_to(VjpCtx& c, Value* v, const Ints& shape) {
  if (v->type.shape.to_vector() == shape)
    return v;
  return c.op(OpKind::Reshape, {v}, {{"shape", shape}});
}

/// Broadcasts v to `shape` unless it already has it.
Value* broadcast_if_needed(VjpCtx& c, Value* v, const Ints& shape) {
  if (v->type.shape.to_vector() == shape)
    return v;
  return c.op(OpKind::BroadcastTo, {v}, {{"shape", shape}});
}

/// take(x, idx, axis) equals gather(x, I, axis) on x[:axis] + [n] + x[axis+1:] with the n
/// flattened indices broadcast to I; its adjoint scatters the reshaped cotangent.
std::vector<Value*> vjp_take(VjpCtx& c) {
  if (!c.needs(0))
    return {nullptr, nullptr};
  Ints xd = c.x(0)->type.shape.to_vector();
  int64_t axis = *normalize_axis(c.attrs().i64("axis"), static_cast<int64_t>(xd.size()));
  Ints gd = xd, id(xd.size(), 1);
  gd[at(axis)] = id[at(axis)] = c.x(1)->type.numel();
  Value* idx = broadcast_if_needed(c, reshape_to(c, c.x(1), id), gd);
  return {scatter_into_zeros(c, idx, reshape_to(c, c.dy(), gd), axis), nullptr};
}

/// embedding(table, ids) is take(table, ids, axis 0): scatter rows of the cotangent.
std::vector<Value*> vjp_embedding(VjpCtx& c) {
  if (!c.needs(0))
    return {nullptr, nullptr};
  int64_t n = c.x(1)->type.numel(), ch = c.x(0)->type.shape.dim(1);
  Value* ids = broadcast_if_needed(c, reshape_to(c, c.x(1), {n, 1}), {n, ch});
  return {scatter_into_zeros(c, ids, reshape_to(c, c.dy(), {n, ch}), 0), nullptr};
}

/// gather's adjoint scatters the cotangent into zeros. One pick per row (idx of extent 1
/// along axis, x's extents elsewhere: cross-entropy's target) is the same as a select,
/// dx[.., j, ..] = j == idx[.., 0, ..] ? dy[.., 0, ..] : 0, which is elementwise and fuses
/// into the loop group that consumes it (log_softmax's backward) instead of a scatter
/// over a zeroed [rows, classes] buffer. An index out of range has already failed in the
/// forward gather.
std::vector<Value*> vjp_gather(VjpCtx& c) {
  if (!c.needs(0))
    return {nullptr, nullptr};
  Ints xd = c.x(0)->type.shape.to_vector();
  int64_t axis = *normalize_axis(c.attrs().i64("axis"), static_cast<int64_t>(xd.size()));
  // idx matches x on every other axis (gather's type rule): one pick per row when its
  // extent along `axis` is 1.
  if (c.x(1)->type.shape.dim(axis) != 1)
    return {scatter_into_zeros(c, c.x(1), c.dy(), axis), nullptr};
  Value* pos = c.op(OpKind::Iota, {},
                    {{"shape", xd}, {"axis", axis}, {"dtype", c.x(1)->type.dtype}});
  Value* hit = c.op(OpKind::Eq, {pos, c.x(1)});
  Value* zero = c.fill(0, TensorType{c.dy()->type.dtype, Shape(Ints{})});
  return {c.op(OpKind::Select, {hit, c.dy(), zero}), nullptr};
}

OpDef index_op(std::string_view name, std::string_view summary, std::string_view signature,
               int operands) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = signature;
  o.min_operands = o.max_operands = operands;
  o.cost = gather_cost;
  return o;
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Gather() {
  OpDef o = index_op("gather",
                     "y[..., i, ...] = x[..., idx[..., i, ...], ...] along axis "
                     "(torch.gather, np.take_along_axis)",
                     "(x, idx) -> y", 2);
  o.attrs = {required("axis", AttrKind::I64, "axis indexed by idx (negative counts from the end)")};
  o.infer = infer_gather;
  o.eval = eval_gather;
  o.vjp = vjp_gather;
  return o;
}
OpDef def_ScatterAdd() {
  OpDef o = index_op("scatter_add",
                     "y = base; y[..., idx[..., i, ...], ...] += updates[..., i, ...] along "
                     "axis (torch scatter_add; the adjoint of gather)",
                     "(base, idx, updates) -> y", 3);
  o.attrs = {required("axis", AttrKind::I64, "axis indexed by idx (negative counts from the end)")};
  o.infer = infer_scatter_add;
  o.eval = eval_scatter_add;
  o.cost = scatter_add_cost;
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    Value* dupd = nullptr;
    if (c.needs(2))
      dupd = c.op(OpKind::Gather, {c.dy(), c.x(1)}, {{"axis", c.attrs().i64("axis")}});
    return {c.needs(0) ? c.dy() : nullptr, nullptr, dupd};
  };
  return o;
}
OpDef def_Take() {
  OpDef o = index_op("take", "selects slices of x along axis by idx; idx's dims replace axis "
                             "(np.take)",
                     "(x, idx) -> y", 2);
  o.attrs = {required("axis", AttrKind::I64, "axis indexed by idx (negative counts from the end)")};
  o.infer = infer_take;
  o.eval = eval_take;
  o.vjp = vjp_take;
  return o;
}
OpDef def_Embedding() {
  OpDef o = index_op("embedding", "rows of table[V, C] selected by ids: ids.shape + [C]",
                     "(table, ids) -> y", 2);
  o.infer = infer_embedding;
  o.eval = eval_embedding;
  o.vjp = vjp_embedding;
  return o;
}
OpDef def_OneHot() {
  OpDef o = index_op("one_hot", "ids.shape + [depth], 1 where the last index equals the id",
                     "(ids) -> y", 1);
  o.attrs = {required("depth", AttrKind::I64, "number of classes (>= 1)"),
             attr("dtype", AttrKind::DType, Attr(DType::F32), "result dtype")};
  o.traits = kNotDifferentiable;
  o.infer = infer_one_hot;
  o.eval = eval_one_hot;
  return o;
}
OpDef def_Topk() {
  OpDef o = index_op("topk",
                     "k largest (or smallest) along axis, sorted, ties by lower index; "
                     "NaN counts as larger than every number",
                     "(x) -> (values, indices)", 1);
  o.attrs = {required("k", AttrKind::I64, "how many (0 <= k <= dim)"),
             attr("axis", AttrKind::I64, Attr(int64_t{-1}), "axis to select along"),
             attr("largest", AttrKind::Bool, Attr(true), "largest first; false: smallest first")};
  o.infer = infer_topk;
  o.eval = eval_topk;
  o.cost = topk_cost;
  // Differentiable in the values (the i64 indices get no cotangent): each selected value's
  // cotangent flows back to the element it came from. Ties pick the element topk picked.
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    if (!c.needs(0) || !c.dy(0))
      return {nullptr};
    return {scatter_into_zeros(c, c.y(1), c.dy(0), c.attrs().i64("axis"))};
  };
  return o;
}

} // namespace tevo::ir
