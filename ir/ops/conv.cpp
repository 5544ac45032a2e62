// conv.cpp: 1-D convolution with PyTorch's layout and cross-correlation semantics.
//
// x [B, Cin, L] and w [Cout, Cin/groups, K] give y [B, Cout, Lout] with
//   y[b, o, t] = sum_{c < Cin/groups, k < K} x[b, g*Cin/groups + c, t*stride + k*dilation - left]
//                                            * w[o, c, k],        g = o / (Cout/groups),
// where x is zero outside [0, L) (the padding) and
//   Lout = (L + left + right - dilation*(K-1) - 1) / stride + 1.
// A causal convolution is padding = [dilation*(K-1), 0].
//
// Gradients are conv1d's again, with roles swapped (see vjp_conv1d):
//   dx: dy with stride-1 zeros between its samples, correlated with the channel-transposed,
//       flipped kernel (a transposed convolution);
//   dw: x with batch and channels swapped, correlated with dy as the kernel (dilation =
//       stride, stride = dilation).
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <algorithm>

namespace tevo::ir::ops {

namespace {

// Attributes are bounded by kMaxDim (2^40), which keeps the length arithmetic below far from
// int64 overflow; the result's element count is checked centrally (infer_result_types).
std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}
std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

struct Conv {
  int64_t batch, cin, len, cout, cin_g, k, stride, left, right, dilation, groups, lout;
};

/// Validates everything and computes the geometry; `lout` is filled.
Expected<Conv> geometry(std::span<const TensorType> ops, const AttrDict& at) {
  const TensorType& x = ops[0];
  const TensorType& w = ops[1];
  if (!is_float(x.dtype))
    return make_diag("operand 0 must be a float tensor, got {}", x.str());
  if (x.dtype != w.dtype)
    return make_diag("operand dtypes differ: {} vs {} (insert a cast)", x.str(), w.str());
  if (x.shape.rank() != 3)
    return make_diag("x must be [batch, channels, length], got {}", x.str());
  if (w.shape.rank() != 3)
    return make_diag("w must be [out_channels, in_channels/groups, kernel], got {}", w.str());
  Conv c{};
  c.batch = x.shape.dim(0);
  c.cin = x.shape.dim(1);
  c.len = x.shape.dim(2);
  c.cout = w.shape.dim(0);
  c.cin_g = w.shape.dim(1);
  c.k = w.shape.dim(2);
  c.stride = at.i64("stride");
  c.dilation = at.i64("dilation");
  c.groups = at.i64("groups");
  const auto& pad = at.i64_list("padding");
  if (c.stride < 1 || c.stride > kMaxDim)
    return make_diag("stride must be in [1, 2^40], got {}", c.stride);
  if (c.dilation < 1 || c.dilation > kMaxDim)
    return make_diag("dilation must be in [1, 2^40], got {}", c.dilation);
  if (c.groups < 1)
    return make_diag("groups must be at least 1, got {}", c.groups);
  if (pad.size() != 2)
    return make_diag("padding must be [left, right], got {} values", pad.size());
  c.left = pad[0];
  c.right = pad[1];
  if (c.left < 0 || c.right < 0 || c.left > kMaxDim || c.right > kMaxDim)
    return make_diag("padding [{}, {}] must be in [0, 2^40]", c.left, c.right);
  if (c.cin % c.groups != 0 || c.cout % c.groups != 0)
    return make_diag("groups = {} must divide the {} input and {} output channels: {} * {}",
                     c.groups, c.cin, c.cout, x.str(), w.str());
  if (c.cin_g != c.cin / c.groups)
    return make_diag("w has {} input channels per group, expected {} ({} channels / {} groups): "
                     "{} * {}",
                     c.cin_g, c.cin / c.groups, c.cin, c.groups, x.str(), w.str());
  if (c.k < 1)
    return make_diag("kernel size must be at least 1: {} * {}", x.str(), w.str());
  auto padded = checked_add(c.len, c.left + c.right);
  auto reach = checked_mul(c.dilation, c.k - 1); // dilated kernel extent minus one
  if (!padded || !reach || *reach >= *padded)
    return make_diag("padded input length {} is shorter than the dilated kernel ({} taps, "
                     "dilation {}): {} * {}",
                     padded ? *padded : INT64_MAX, c.k, c.dilation, x.str(), w.str());
  c.lout = (*padded - *reach - 1) / c.stride + 1;
  return c;
}

Expected<std::vector<TensorType>> infer_conv1d(const InferCtx& ctx) {
  auto c = geometry(ctx.operands, ctx.attrs);
  if (!c)
    return c.error();
  return one(TensorType{ctx.operands[0].dtype, Shape{c->batch, c->cout, c->lout}});
}

std::vector<interp::Array> eval_conv1d(const EvalCtx& ctx) {
  const TensorType types[2] = {ctx.in(0).type, ctx.in(1).type};
  Conv c = geometry(types, ctx.attrs).take();
  const interp::Array& x = ctx.in(0);
  const interp::Array& w = ctx.in(1);
  interp::Array y(ctx.results[0]);
  int64_t cout_g = c.cout / c.groups;
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t o = 0; o < c.cout; ++o) {
      int64_t first_in = (o / cout_g) * c.cin_g;
      for (int64_t t = 0; t < c.lout; ++t) {
        double acc = 0;
        for (int64_t ci = 0; ci < c.cin_g; ++ci)
          for (int64_t k = 0; k < c.k; ++k) {
            int64_t p = t * c.stride + k * c.dilation - c.left;
            if (p < 0 || p >= c.len)
              continue; // zero padding
            acc += x[(b * c.cin + first_in + ci) * c.len + p] * w[(o * c.cin_g + ci) * c.k + k];
          }
        y[(b * c.cout + o) * c.lout + t] = acc;
      }
    }
  return {y};
}

/// 2 * B * Cout * Lout * (Cin/groups) * K flops (one multiply and one add per tap).
Cost cost_conv1d(const CostCtx& ctx) {
  Cost k = default_cost(ctx);
  const Shape& w = ctx.operands[1].shape;
  const Shape& y = ctx.results[0].shape;
  k.flops = 2.0 * static_cast<double>(y.numel()) * static_cast<double>(w.dim(1)) *
            static_cast<double>(w.dim(2));
  return k;
}

using Ints = std::vector<int64_t>;

/// dx[b, c, p] = sum over (o, t, k) with t*stride + k*dilation - left = p of
/// dy[b, o, t] w[o, c, k]: a stride-1 grouped conv1d of the zero-dilated dy with
/// w2[g*cin_g + c, j, K-1-k] = w[g*cout_g + j, c, k].
Value* conv1d_input_grad(VjpCtx& ctx, const Conv& c, Value* dy, Value* w) {
  // Only outputs t whose taps reach x itself (not its padding) matter: t*stride in
  // [left - reach, left + len - 1]. Dropping the others bounds the work by x's length
  // rather than the padding's.
  int64_t reach = c.dilation * (c.k - 1);
  int64_t t0 = c.left - reach <= 0 ? 0 : (c.left - reach + c.stride - 1) / c.stride;
  int64_t t1 = std::min(c.lout - 1, (c.left + c.len - 1) / c.stride);
  if (t0 > t1)
    return ctx.fill(0, ctx.x(0)->type);
  int64_t count = t1 - t0 + 1;
  if (count < c.lout)
    dy = ctx.op(OpKind::Slice, {dy},
                {{"starts", Ints{0, 0, t0}}, {"ends", Ints{c.batch, c.cout, t1 + 1}}});
  // dyd[q] = dy[t0 + q / stride] where stride divides q, else 0.
  Value* dyd = dy;
  int64_t dlen = count;
  if (c.stride > 1 && count > 1) {
    Value* d4 = ctx.op(OpKind::Reshape, {dy}, {{"shape", Ints{c.batch, c.cout, count, 1}}});
    d4 = ctx.op(OpKind::Pad, {d4},
                {{"low", Ints{0, 0, 0, 0}}, {"high", Ints{0, 0, 0, c.stride - 1}}});
    dlen = count * c.stride;
    dyd = ctx.op(OpKind::Reshape, {d4}, {{"shape", Ints{c.batch, c.cout, dlen}}});
  }
  int64_t cout_g = c.cout / c.groups;
  Value* w2 = nullptr;
  if (c.groups == 1) {
    w2 = ctx.op(OpKind::Transpose, {w}, {{"perm", Ints{1, 0, 2}}});
  } else {
    w2 = ctx.op(OpKind::Reshape, {w}, {{"shape", Ints{c.groups, cout_g, c.cin_g, c.k}}});
    w2 = ctx.op(OpKind::Transpose, {w2}, {{"perm", Ints{0, 2, 1, 3}}});
    w2 = ctx.op(OpKind::Reshape, {w2}, {{"shape", Ints{c.cin, cout_g, c.k}}});
  }
  if (c.k > 1) {
    Value* rev = ctx.op(OpKind::Arange, {},
                        {{"start", static_cast<double>(c.k - 1)},
                         {"limit", -1.0},
                         {"step", -1.0},
                         {"dtype", DType::I64}});
    w2 = ctx.op(OpKind::Take, {w2, rev}, {{"axis", int64_t{2}}});
  }
  // x position p reads dyd[p - lo + k*dilation] for the flipped taps k, and the result must
  // be len long; a negative lo or hi is applied by slicing the result instead of padding.
  int64_t lo = reach - c.left + t0 * c.stride;
  int64_t hi = c.len + reach - dlen - lo;
  int64_t pl = std::max<int64_t>(lo, 0), pr = std::max<int64_t>(hi, 0);
  Value* z = ctx.op(OpKind::Conv1d, {dyd, w2},
                    {{"padding", Ints{pl, pr}}, {"dilation", c.dilation}, {"groups", c.groups}});
  int64_t off = pl - lo, zlen = dlen + pl + pr - reach;
  if (off == 0 && zlen == c.len)
    return z;
  return ctx.op(OpKind::Slice, {z},
                {{"starts", Ints{0, 0, off}}, {"ends", Ints{c.batch, c.cin, off + c.len}}});
}

/// dw[o, c, k] = sum over (b, t) of xpad[b, g*cin_g + c, t*stride + k*dilation] dy[b, o, t]:
/// a conv1d whose batch is x's channels within a group, whose channels are (group, batch)
/// and whose kernel is dy, dilated by the stride.
Value* conv1d_weight_grad(VjpCtx& ctx, const Conv& c, Value* x, Value* dy) {
  // Only padded positions up to the last one a tap reads matter; cropping x (or the right
  // padding) to them makes the result exactly K long.
  int64_t need = (c.lout - 1) * c.stride + c.dilation * (c.k - 1) + 1;
  int64_t keep = std::min(c.len, need - c.left);
  if (keep <= 0) // every tap reads padding
    return ctx.fill(0, ctx.x(1)->type);
  if (keep < c.len)
    x = ctx.op(OpKind::Slice, {x},
               {{"starts", Ints{0, 0, 0}}, {"ends", Ints{c.batch, c.cin, keep}}});
  Value* in = nullptr;
  if (c.groups == 1) {
    in = ctx.op(OpKind::Transpose, {x}, {{"perm", Ints{1, 0, 2}}});
  } else {
    in = ctx.op(OpKind::Reshape, {x}, {{"shape", Ints{c.batch, c.groups, c.cin_g, keep}}});
    in = ctx.op(OpKind::Transpose, {in}, {{"perm", Ints{2, 1, 0, 3}}});
    in = ctx.op(OpKind::Reshape, {in}, {{"shape", Ints{c.cin_g, c.groups * c.batch, keep}}});
  }
  Value* kern = ctx.op(OpKind::Transpose, {dy}, {{"perm", Ints{1, 0, 2}}});
  Value* z = ctx.op(OpKind::Conv1d, {in, kern},
                    {{"stride", c.dilation},
                     {"padding", Ints{c.left, need - c.left - keep}},
                     {"dilation", c.stride},
                     {"groups", c.groups}});
  return ctx.op(OpKind::Transpose, {z}, {{"perm", Ints{1, 0, 2}}});
}

std::vector<Value*> vjp_conv1d(VjpCtx& ctx) {
  Value* x = ctx.x(0);
  Value* w = ctx.x(1);
  Value* dy = ctx.dy();
  const TensorType types[2] = {x->type, w->type};
  Conv c = geometry(types, ctx.attrs()).take();
  // With an empty operand or result every gradient is zero (and the convolutions above
  // would not be valid).
  bool empty = x->type.numel() == 0 || w->type.numel() == 0 || dy->type.numel() == 0;
  Value* dx = nullptr;
  Value* dw = nullptr;
  if (ctx.needs(0))
    dx = empty ? ctx.fill(0, x->type) : conv1d_input_grad(ctx, c, dy, w);
  if (ctx.needs(1))
    dw = empty ? ctx.fill(0, w->type) : conv1d_weight_grad(ctx, c, x, dy);
  return {dx, dw};
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Conv1d() {
  OpDef o;
  o.name = "conv1d";
  o.summary = "1-D cross-correlation, PyTorch layout: x[B,Cin,L] * w[Cout,Cin/groups,K]";
  o.signature = "(x, w) -> y";
  o.min_operands = o.max_operands = 2;
  o.attrs = {attr("stride", AttrKind::I64, Attr(1), "step between output positions"),
             attr("padding", AttrKind::I64List, Attr(std::vector<int64_t>{0, 0}),
                  "zeros added [left, right]; causal: [dilation*(K-1), 0]"),
             attr("dilation", AttrKind::I64, Attr(1), "spacing between kernel taps"),
             attr("groups", AttrKind::I64, Attr(1), "channel groups (divides Cin and Cout)")};
  o.infer = infer_conv1d;
  o.eval = eval_conv1d;
  o.cost = cost_conv1d;
  o.vjp = vjp_conv1d;
  return o;
}

} // namespace tevo::ir
