// shape.cpp: layout ops: transpose, reshape, broadcast_to, slice, concat, pad, tril, triu.
//
// All are data movement (no arithmetic; 0 flops). The IR spells everything explicitly:
// no -1 in reshape, no negative slice bounds; the DSL resolves those before building nodes.
// Every op accepts any dtype.
#include <optional>

#include "ir/ops/common.h"
#include "ir/vjp.h"

namespace tevo::ir::ops {

namespace {

using Ints = std::vector<int64_t>;

/// "[1, 0]": the text format's spelling of an i64 list attribute.
std::string list_str(const Ints& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += fmt::format("{}{}", i ? ", " : "", v[i]);
  return s + "]";
}

/// Every entry of the list attribute `name` lies in [0, 2^40].
std::optional<Diag> check_extents(const char* name, const Ints& v) {
  for (int64_t x : v) {
    if (x < 0)
      return make_diag("{} {} has a negative entry", name, list_str(v));
    if (x > kMaxDim)
      return make_diag("{} {} has an entry above 2^40", name, list_str(v));
  }
  return std::nullopt;
}

/// The list attribute `name` has one entry per dim of x.
std::optional<Diag> check_len(const char* name, const Ints& v, const TensorType& x) {
  if (static_cast<int64_t>(v.size()) != x.shape.rank())
    return make_diag("{} {} has {} entries but {} has rank {}", name, list_str(v), v.size(),
                     x.str(), x.shape.rank());
  return std::nullopt;
}

/// Result of type t with out[f] = x[src(index of f)], or `fill` where src returns -1.
template <class F>
interp::Array remap(const interp::Array& x, const TensorType& t, F src, double fill = 0) {
  interp::Array out(t);
  Ints dims = t.shape.to_vector();
  for (int64_t f = 0; f < out.numel(); ++f) {
    int64_t s = src(interp::unravel(f, dims));
    out[f] = s < 0 ? fill : x[s];
    if (!out.imag.empty())
      out.imag[static_cast<size_t>(f)] = s < 0 ? 0.0 : x.imag[static_cast<size_t>(s)];
  }
  return out;
}

Cost movement_cost(const CostCtx& c) {
  return streaming_cost(c, 0);
}

OpDef movement(std::string_view name, std::string_view summary, std::string_view signature,
               uint32_t traits) {
  OpDef o;
  o.name = name;
  o.summary = summary;
  o.signature = signature;
  o.min_operands = o.max_operands = 1;
  o.traits = traits;
  o.cost = movement_cost;
  return o;
}

// ---- transpose ----

Expected<std::vector<TensorType>> infer_transpose(const InferCtx& c) {
  const auto& x = c.operands[0];
  const Ints& perm = c.attrs.i64_list("perm");
  int64_t r = x.shape.rank();
  if (auto d = check_len("perm", perm, x))
    return *d;
  std::vector<bool> seen(at(r), false);
  Ints dims;
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[at(p)])
      return make_diag("perm {} is not a permutation of 0..{} for {}", list_str(perm), r - 1,
                       x.str());
    seen[at(p)] = true;
    dims.push_back(x.shape.dim(p));
  }
  return one(TensorType{x.dtype, Shape(dims)});
}

std::vector<interp::Array> eval_transpose(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  const Ints& perm = c.attrs.i64_list("perm");
  Ints xs = x.shape().strides();
  return {remap(x, c.results[0], [&](const Ints& o) {
    int64_t s = 0;
    for (size_t i = 0; i < o.size(); ++i)
      s += o[i] * xs[at(perm[i])];
    return s;
  })};
}

// ---- reshape ----

Expected<std::vector<TensorType>> infer_reshape(const InferCtx& c) {
  const auto& x = c.operands[0];
  const Ints& shape = c.attrs.i64_list("shape");
  if (auto d = check_extents("shape", shape))
    return *d;
  auto n = checked_numel(shape);
  if (!n || *n != x.numel())
    return make_diag("cannot reshape {} ({} elements) to {}", x.str(), x.numel(),
                     list_str(shape));
  return one(TensorType{x.dtype, Shape(shape)});
}

std::vector<interp::Array> eval_reshape(const EvalCtx& c) {
  interp::Array out = c.in(0);
  out.type = c.results[0];
  return {std::move(out)};
}

// ---- broadcast_to ----

Expected<std::vector<TensorType>> infer_broadcast_to(const InferCtx& c) {
  const auto& x = c.operands[0];
  const Ints& shape = c.attrs.i64_list("shape");
  if (auto d = check_extents("shape", shape))
    return *d;
  int64_t r = static_cast<int64_t>(shape.size()), rx = x.shape.rank();
  bool ok = r >= rx;
  for (int64_t i = 0; ok && i < rx; ++i) {
    int64_t d = x.shape.dim(i), t = shape[at(r - rx + i)];
    ok = d == t || d == 1;
  }
  if (!ok)
    return make_diag("cannot broadcast {} to {}", x.str(), list_str(shape));
  return one(TensorType{x.dtype, Shape(shape)});
}

std::vector<interp::Array> eval_broadcast_to(const EvalCtx& c) {
  return {interp::broadcast_array(c.in(0), c.results[0].shape)};
}

// ---- slice ----

Expected<std::vector<TensorType>> infer_slice(const InferCtx& c) {
  const auto& x = c.operands[0];
  const Ints& starts = c.attrs.i64_list("starts");
  const Ints& ends = c.attrs.i64_list("ends");
  const Ints& steps = c.attrs.i64_list("steps");
  if (auto d = check_len("starts", starts, x))
    return *d;
  if (auto d = check_len("ends", ends, x))
    return *d;
  if (!steps.empty())
    if (auto d = check_len("steps", steps, x))
      return *d;
  Ints dims;
  for (int64_t i = 0; i < x.shape.rank(); ++i) {
    int64_t s = starts[at(i)], e = ends[at(i)], step = steps.empty() ? 1 : steps[at(i)];
    if (step < 1)
      return make_diag("step {} on axis {} must be >= 1", step, i);
    if (s < 0 || s > e || e > x.shape.dim(i))
      return make_diag("slice {}:{} on axis {} out of range for {} (need 0 <= start <= end "
                       "<= {})",
                       s, e, i, x.str(), x.shape.dim(i));
    dims.push_back(e == s ? 0 : (e - s - 1) / step + 1);
  }
  return one(TensorType{x.dtype, Shape(dims)});
}

std::vector<interp::Array> eval_slice(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  const Ints& starts = c.attrs.i64_list("starts");
  const Ints& steps = c.attrs.i64_list("steps");
  Ints xs = x.shape().strides();
  return {remap(x, c.results[0], [&](const Ints& o) {
    int64_t s = 0;
    for (size_t i = 0; i < o.size(); ++i)
      s += (starts[i] + o[i] * (steps.empty() ? 1 : steps[i])) * xs[i];
    return s;
  })};
}

// ---- concat ----

Expected<std::vector<TensorType>> infer_concat(const InferCtx& c) {
  const auto& x0 = c.operands[0];
  int64_t r = x0.shape.rank();
  int64_t axis_attr = c.attrs.i64("axis");
  auto axis = normalize_axis(axis_attr, r);
  if (!axis)
    return make_diag("axis {} out of range for {}", axis_attr, x0.str());
  Ints dims = x0.shape.to_vector();
  for (size_t i = 1; i < c.operands.size(); ++i) {
    const auto& xi = c.operands[i];
    if (xi.dtype != x0.dtype)
      return make_diag("operand dtypes differ: {} vs {} (insert a cast)", x0.str(), xi.str());
    bool same = xi.shape.rank() == r;
    for (int64_t k = 0; same && k < r; ++k)
      same = k == *axis || xi.shape.dim(k) == x0.shape.dim(k);
    if (!same)
      return make_diag("operand {} does not match operand 0 except on axis {}: {} vs {}", i,
                       axis_attr, xi.str(), x0.str());
    int64_t d = xi.shape.dim(*axis);
    if (d > kMaxDim - dims[at(*axis)])
      return make_diag("concatenated axis {} is longer than 2^40", axis_attr);
    dims[at(*axis)] += d;
  }
  return one(TensorType{x0.dtype, Shape(dims)});
}

std::vector<interp::Array> eval_concat(const EvalCtx& c) {
  interp::Array out(c.results[0]);
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), out.shape().rank());
  Ints os = out.shape().strides();
  int64_t offset = 0;
  for (const interp::Array* x : c.operands) {
    Ints dims = x->shape().to_vector();
    for (int64_t f = 0; f < x->numel(); ++f) {
      Ints idx = interp::unravel(f, dims);
      idx[at(axis)] += offset;
      int64_t o = interp::ravel(idx, os);
      out[o] = (*x)[f];
      if (!out.imag.empty())
        out.imag[at(o)] = x->imag[at(f)];
    }
    offset += dims[at(axis)];
  }
  return {std::move(out)};
}

// ---- pad ----

Expected<std::vector<TensorType>> infer_pad(const InferCtx& c) {
  const auto& x = c.operands[0];
  const Ints& low = c.attrs.i64_list("low");
  const Ints& high = c.attrs.i64_list("high");
  if (auto d = check_len("low", low, x))
    return *d;
  if (auto d = check_len("high", high, x))
    return *d;
  if (auto d = check_extents("low", low))
    return *d;
  if (auto d = check_extents("high", high))
    return *d;
  Ints dims;
  for (int64_t i = 0; i < x.shape.rank(); ++i) {
    // low, high <= 2^40 were checked, so the subtraction cannot overflow.
    if (x.shape.dim(i) > kMaxDim - low[at(i)] - high[at(i)])
      return make_diag("padded axis {} of {} is longer than 2^40", i, x.str());
    dims.push_back(low[at(i)] + x.shape.dim(i) + high[at(i)]);
  }
  return one(TensorType{x.dtype, Shape(dims)});
}

std::vector<interp::Array> eval_pad(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  const Ints& low = c.attrs.i64_list("low");
  Ints xd = x.shape().to_vector(), xs = x.shape().strides();
  return {remap(
      x, c.results[0],
      [&](const Ints& o) {
        int64_t s = 0;
        for (size_t i = 0; i < o.size(); ++i) {
          int64_t k = o[i] - low[i];
          if (k < 0 || k >= xd[i])
            return int64_t{-1};
          s += k * xs[i];
        }
        return s;
      },
      c.attrs.f64("value"))};
}

// ---- tril / triu ----

Expected<std::vector<TensorType>> infer_triangle(const InferCtx& c) {
  const auto& x = c.operands[0];
  if (x.shape.rank() < 2)
    return make_diag("operand must have rank >= 2, got {}", x.str());
  return one(x);
}

/// Keeps x[..., i, j] where (j - i <= k) for tril, (j - i >= k) for triu; zero elsewhere.
/// Written as j - i against k so that any k (even near the int64 limits) is safe.
template <bool Lower> std::vector<interp::Array> eval_triangle(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  int64_t k = c.attrs.i64("k");
  size_t r = static_cast<size_t>(x.shape().rank());
  Ints xs = x.shape().strides();
  return {remap(x, c.results[0], [&](const Ints& o) {
    int64_t diff = o[r - 1] - o[r - 2];
    if (Lower ? diff > k : diff < k)
      return int64_t{-1};
    return interp::ravel(o, xs);
  })};
}

// ---- gradients ----
// Every op here is linear with 0/1 coefficients, so each VJP is the adjoint data movement
// (no conjugation needed for complex values).

std::vector<Value*> vjp_transpose(VjpCtx& c) {
  const Ints& perm = c.attrs().i64_list("perm");
  Ints inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inv[at(perm[i])] = static_cast<int64_t>(i);
  return {c.op(OpKind::Transpose, {c.dy()}, {{"perm", inv}})};
}

std::vector<Value*> vjp_broadcast_to(VjpCtx& c) {
  const TensorType& t = c.x(0)->type;
  if (!is_complex(t.dtype) || c.dy()->type.shape == t.shape)
    return {c.unbroadcast(c.dy(), t)};
  // sum has no complex kernel: reduce the two parts separately.
  Value* re = c.op(OpKind::Real, {c.dy()});
  TensorType part{re->type.dtype, t.shape};
  re = c.unbroadcast(re, part);
  Value* im = c.unbroadcast(c.op(OpKind::Imag, {c.dy()}), part);
  return {c.op(OpKind::Complex, {re, im})};
}

/// Scatters g (the slice result's cotangent) into zeros of x's shape. A strided axis is
/// first interleaved with zeros (reshape [n] -> [n, 1], pad to [n, step], reshape to
/// [n * step]); then one pad places the box at `starts`.
std::vector<Value*> vjp_slice(VjpCtx& c) {
  Ints xd = c.x(0)->type.shape.to_vector();
  const Ints& starts = c.attrs().i64_list("starts");
  const Ints& steps = c.attrs().i64_list("steps");
  Value* g = c.dy();
  Ints n = g->type.shape.to_vector();
  // A step only matters on an axis with 2 or more results; there (n - 1) * step < 2^40,
  // so n * step cannot overflow.
  auto step = [&](size_t i) { return steps.empty() || n[i] < 2 ? int64_t{1} : steps[i]; };
  Ints len = n; // extent of g along each axis, counted from starts
  bool strided = false;
  for (size_t i = 0; i < xd.size(); ++i)
    strided |= step(i) > 1;
  if (strided) {
    Ints split, high, merged;
    for (size_t i = 0; i < xd.size(); ++i) {
      split.push_back(n[i]);
      high.push_back(0);
      if (step(i) > 1) {
        split.push_back(1);
        high.push_back(step(i) - 1);
      }
      len[i] = n[i] * step(i);
      merged.push_back(len[i]);
    }
    g = c.op(OpKind::Reshape, {g}, {{"shape", split}});
    g = c.op(OpKind::Pad, {g}, {{"low", Ints(split.size(), 0)}, {"high", high}});
    g = c.op(OpKind::Reshape, {g}, {{"shape", merged}});
    // The last block's trailing zeros may run past the end of x: trim them.
    Ints ends = len;
    bool trim = false;
    for (size_t i = 0; i < xd.size(); ++i)
      if (len[i] > xd[i] - starts[i]) {
        ends[i] = len[i] = xd[i] - starts[i];
        trim = true;
      }
    if (trim)
      g = c.op(OpKind::Slice, {g}, {{"starts", Ints(xd.size(), 0)}, {"ends", ends}});
  }
  Ints high;
  bool any = false;
  for (size_t i = 0; i < xd.size(); ++i) {
    high.push_back(xd[i] - starts[i] - len[i]);
    any |= starts[i] != 0 || high.back() != 0;
  }
  if (!any)
    return {g};
  return {c.op(OpKind::Pad, {g}, {{"low", starts}, {"high", high}})};
}

/// Each operand's gradient is its block of the cotangent.
std::vector<Value*> vjp_concat(VjpCtx& c) {
  Ints dims = c.dy()->type.shape.to_vector();
  int64_t axis = *normalize_axis(c.attrs().i64("axis"), static_cast<int64_t>(dims.size()));
  std::vector<Value*> out;
  int64_t offset = 0;
  for (int i = 0; i < c.node.num_operands(); ++i) {
    int64_t d = c.x(i)->type.shape.dim(axis);
    if (!c.needs(i)) {
      out.push_back(nullptr);
    } else if (c.node.num_operands() == 1) {
      out.push_back(c.dy());
    } else {
      Ints starts(dims.size(), 0), ends = dims;
      starts[at(axis)] = offset;
      ends[at(axis)] = offset + d;
      out.push_back(c.op(OpKind::Slice, {c.dy()}, {{"starts", starts}, {"ends", ends}}));
    }
    offset += d;
  }
  return out;
}

std::vector<Value*> vjp_pad(VjpCtx& c) {
  const Ints& low = c.attrs().i64_list("low");
  Ints ends = c.x(0)->type.shape.to_vector();
  for (size_t i = 0; i < ends.size(); ++i)
    ends[i] += low[i];
  return {c.op(OpKind::Slice, {c.dy()}, {{"starts", low}, {"ends", ends}})};
}

/// tril and triu are masks: the adjoint applies the same mask.
std::vector<Value*> vjp_triangle(VjpCtx& c) {
  return {c.op(c.node.op, {c.dy()}, {{"k", c.attrs().i64("k")}})};
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Transpose() {
  OpDef o = movement("transpose", "permutes dims: y.shape[i] = x.shape[perm[i]]", "(x) -> y",
                     kView);
  o.attrs = {required("perm", AttrKind::I64List, "a permutation of 0..rank-1")};
  o.infer = infer_transpose;
  o.eval = eval_transpose;
  o.vjp = vjp_transpose;
  return o;
}
OpDef def_Reshape() {
  OpDef o = movement("reshape", "same elements in row-major order, new shape", "(x) -> y", kView);
  o.attrs = {required("shape", AttrKind::I64List,
                      "the new shape; entries >= 0, same element count (no -1)")};
  o.infer = infer_reshape;
  o.eval = eval_reshape;
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    return {c.op(OpKind::Reshape, {c.dy()}, {{"shape", c.x(0)->type.shape.to_vector()}})};
  };
  return o;
}
OpDef def_BroadcastTo() {
  OpDef o = movement("broadcast_to", "repeats x to a NumPy-broadcast-compatible shape",
                     "(x) -> y", kView);
  o.attrs = {required("shape", AttrKind::I64List, "target shape; x broadcasts to it")};
  o.infer = infer_broadcast_to;
  o.eval = eval_broadcast_to;
  o.vjp = vjp_broadcast_to;
  return o;
}
OpDef def_Slice() {
  OpDef o = movement("slice", "strided box x[starts:ends:steps] (0 <= start <= end <= dim)",
                     "(x) -> y", kView);
  o.attrs = {required("starts", AttrKind::I64List, "first index per axis"),
             required("ends", AttrKind::I64List, "one past the last index per axis"),
             attr("steps", AttrKind::I64List, Attr(Ints{}),
                  "stride per axis (>= 1); [] means all 1")};
  o.infer = infer_slice;
  o.eval = eval_slice;
  o.vjp = vjp_slice;
  return o;
}
OpDef def_Concat() {
  OpDef o = movement("concat", "joins operands along axis (other dims equal)",
                     "(x0, x1, ...) -> y", kVariadic);
  o.min_operands = 1;
  o.max_operands = 0;
  o.attrs = {required("axis", AttrKind::I64, "axis to join along (negative counts from the end)")};
  o.infer = infer_concat;
  o.eval = eval_concat;
  o.vjp = vjp_concat;
  return o;
}
OpDef def_Pad() {
  OpDef o = movement("pad", "constant padding: low[i] before and high[i] after axis i",
                     "(x) -> y", 0);
  o.attrs = {required("low", AttrKind::I64List, "elements added before each axis (>= 0)"),
             required("high", AttrKind::I64List, "elements added after each axis (>= 0)"),
             attr("value", AttrKind::F64, Attr(0.0),
                  "fill value, converted to the dtype as cast does")};
  o.infer = infer_pad;
  o.eval = eval_pad;
  o.vjp = vjp_pad;
  return o;
}
OpDef def_Tril() {
  OpDef o = movement("tril", "keeps x[..., i, j] with j <= i + k, zeroes the rest", "(x) -> y", 0);
  o.attrs = {attr("k", AttrKind::I64, Attr(int64_t{0}), "diagonal offset (> 0: above the main)")};
  o.infer = infer_triangle;
  o.eval = eval_triangle<true>;
  o.vjp = vjp_triangle;
  return o;
}
OpDef def_Triu() {
  OpDef o = movement("triu", "keeps x[..., i, j] with j >= i + k, zeroes the rest", "(x) -> y", 0);
  o.attrs = {attr("k", AttrKind::I64, Attr(int64_t{0}), "diagonal offset (> 0: above the main)")};
  o.infer = infer_triangle;
  o.eval = eval_triangle<false>;
  o.vjp = vjp_triangle;
  return o;
}

} // namespace tevo::ir
