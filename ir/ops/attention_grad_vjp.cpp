// attention_grad_vjp.cpp: the VJP of attention_grad (second-order attention gradients).
//
// Second derivatives are rare (gradient penalties, Hessian-vector products), so this rule
// favours clarity over memory: it materialises the [*B, Hq, N, M] scores with primitive
// ops and runs reverse mode over attention_grad's definition by hand, every input (o, lse,
// do and dlse included) independent:
//   S = scale q k^T + bias (masked: -inf), P = exp(S - lse) (0 where masked), dP = do v^T,
//   X = dP - D + dlse with D = rowsum(do o), dS = P X,
//   dq = scale dS k, dk = scale dS^T q, dv = P^T do, dbias = dS summed to bias's shape.
// With cotangents gq, gk, gv, gb of those results (absent ones are zero; gk, gv are read
// per query head through the head groups):
//   G = scale (gq k^T + q gk^T) + gb,  GP = do gv^T + G X,  GX = G P,
//   q' = scale (GS k + dS gk),  k' = scale (GS^T q + dS^T gq),  v' = GX^T do,
//   o' = -rowsum(GX) do,  do' = GX v - rowsum(GX) o + P gv,  dlse' = rowsum(GX),
//   lse' = -rowsum(GS),  bias' = GS (summed to bias's shape),  with GS = GP P;
// k' and v' are summed over each group's query heads; a gradient with no contributing
// cotangent is left absent (zero). A relative-position table (bias_toeplitz) is expanded
// to the scores by take(T, j - i + N - 1) and its cotangents sum the diagonals back
// (take's adjoint).
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <cmath>
#include <limits>

namespace tevo::ir::ops {

namespace {

/// Builds the rule's IR; names the pieces of one attention_grad node.
struct Builder2 {
  VjpCtx& c;
  DType t;
  std::vector<int64_t> batch;
  int64_t hq, hkv, n, m;
  double scale;

  explicit Builder2(VjpCtx& ctx)
      : c(ctx), t(ctx.x(0)->type.dtype), scale(ctx.attrs().f64("scale")) {
    const Shape& q = c.x(0)->type.shape;
    int64_t r = q.rank();
    for (int64_t i = 0; i + 3 < r; ++i)
      batch.push_back(q.dim(i));
    hq = q.dim(r - 3);
    n = q.dim(r - 2);
    hkv = c.x(1)->type.shape.dim(r - 3);
    m = c.x(1)->type.shape.dim(r - 2);
  }
  std::vector<int64_t> dims(std::initializer_list<int64_t> tail) const {
    std::vector<int64_t> s = batch;
    s.insert(s.end(), tail);
    return s;
  }
  int64_t rank() const {
    return static_cast<int64_t>(batch.size()) + 3;
  }
  Value* op(OpKind k, std::vector<Value*> ops, const AttrList& a = {}) {
    return c.op(k, std::move(ops), a);
  }
  Value* add(Value* a, Value* b) {
    return a ? (b ? op(OpKind::Add, {a, b}) : a) : b;
  }
  Value* mul(Value* a, Value* b) {
    return op(OpKind::Mul, {a, b});
  }
  Value* scaled(Value* a) {
    return mul(a, c.scalar(scale, t));
  }
  Value* mm(Value* a, Value* b) {
    return op(OpKind::Matmul, {a, b});
  }
  Value* tr(Value* a) {
    return op(OpKind::Transpose, {a}, {{"perm", swap_last_two_perm(rank())}});
  }
  /// Row sums over the last axis, kept as [..., 1].
  Value* rowsum(Value* a) {
    return op(OpKind::Sum, {a}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", true}});
  }
  /// [*B, Hkv, R, C] -> [*B, Hq, R, C]: each query head's key/value head.
  Value* to_query_heads(Value* x) {
    if (hq == hkv)
      return x;
    const Shape& s = x->type.shape;
    int64_t rr = s.dim(rank() - 2), cc = s.dim(rank() - 1), g = hq / hkv;
    Value* r5 = op(OpKind::Reshape, {x}, {{"shape", dims({hkv, 1, rr, cc})}});
    Value* b5 = op(OpKind::BroadcastTo, {r5}, {{"shape", dims({hkv, g, rr, cc})}});
    return op(OpKind::Reshape, {b5}, {{"shape", dims({hq, rr, cc})}});
  }
  /// [*B, Hq, R, C] -> [*B, Hkv, R, C]: sums each group's query heads.
  Value* to_kv_heads(Value* x) {
    if (hq == hkv)
      return x;
    const Shape& s = x->type.shape;
    int64_t rr = s.dim(rank() - 2), cc = s.dim(rank() - 1), g = hq / hkv;
    Value* r5 = op(OpKind::Reshape, {x}, {{"shape", dims({hkv, g, rr, cc})}});
    return op(OpKind::Sum, {r5}, {{"axes", std::vector<int64_t>{rank() - 2}}, {"keepdims", false}});
  }
  /// i64 [N, M]: j - i + N - 1, where a relative-position table is read.
  Value* toeplitz_index() {
    Value* qi = op(OpKind::Iota, {}, {{"shape", std::vector<int64_t>{n, m}}, {"axis", int64_t{0}}});
    Value* kj = op(OpKind::Iota, {}, {{"shape", std::vector<int64_t>{n, m}}, {"axis", int64_t{1}}});
    return op(OpKind::Add,
              {op(OpKind::Sub, {kj, qi}), c.scalar(static_cast<double>(n - 1), DType::I64)});
  }
  /// A table [.., N + M - 1] as the [.., N, M] bias it stands for.
  Value* expand_table(Value* table) {
    return op(OpKind::Take, {table, toeplitz_index()}, {{"axis", int64_t{-1}}});
  }
  /// The cotangent of a table from that of the scores: summed to the table's leading
  /// dims, then each diagonal into its entry (scatter_add, take's adjoint).
  Value* table_cotangent(Value* gs, const TensorType& table) {
    std::vector<int64_t> lead = table.shape.to_vector();
    lead.pop_back();
    std::vector<int64_t> full = lead, flat = lead, ones(lead.size(), 1);
    full.insert(full.end(), {n, m});
    Value* g = c.unbroadcast(gs, TensorType{t, Shape(full)});
    flat.push_back(n * m);
    ones.push_back(n * m);
    g = op(OpKind::Reshape, {g}, {{"shape", flat}});
    Value* idx = op(OpKind::Reshape, {toeplitz_index()}, {{"shape", ones}});
    if (!(idx->type.shape == Shape(flat)))
      idx = op(OpKind::BroadcastTo, {idx}, {{"shape", flat}});
    return op(OpKind::ScatterAdd, {c.fill(0, table), idx, g}, {{"axis", int64_t{-1}}});
  }
  /// bool [N, M]: the mask's allowed (query, key) pairs.
  Value* allowed() {
    const std::string& mask = c.attrs().get("mask").str();
    if (mask == "none")
      return c.fill(1, TensorType{DType::Bool, Shape{n, m}});
    Value* qi = op(OpKind::Iota, {}, {{"shape", std::vector<int64_t>{n, m}}, {"axis", int64_t{0}}});
    Value* kj = op(OpKind::Iota, {}, {{"shape", std::vector<int64_t>{n, m}}, {"axis", int64_t{1}}});
    // dist = i + (M - N) - j: how far key j lies behind query i.
    Value* shifted = op(OpKind::Add, {qi, c.scalar(static_cast<double>(m - n), DType::I64)});
    Value* dist = op(OpKind::Sub, {shifted, kj});
    Value* ok = op(OpKind::Ge, {dist, c.scalar(0, DType::I64)});
    if (mask == "sliding")
      ok = op(OpKind::LogicalAnd,
              {ok, op(OpKind::Lt,
                      {dist, c.scalar(static_cast<double>(c.attrs().i64("window")), DType::I64)})});
    return ok;
  }
};

} // namespace

std::vector<Value*> vjp_attention_grad(VjpCtx& c) {
  const AttrDict& a = c.attrs();
  const bool has_bias = a.boolean("has_bias"), has_keep = a.boolean("has_keep"),
             has_dlse = a.boolean("has_dlse"), toeplitz = a.boolean("bias_toeplitz");
  const int opt = (has_bias ? 1 : 0) + (has_keep ? 1 : 0), tail = 3 + opt;
  std::vector<Value*> out(static_cast<size_t>(c.node.num_operands()), nullptr);
  bool any_in = false;
  for (int i = 0; i < c.node.num_operands(); ++i)
    any_in = any_in || c.needs(i);
  bool any_out = false;
  for (int i = 0; i < c.node.num_results(); ++i)
    any_out = any_out || c.dy(i) != nullptr;
  if (!any_in || !any_out)
    return out;
  Builder2 b(c);
  Value *q = c.x(0), *kk = b.to_query_heads(c.x(1)), *vv = b.to_query_heads(c.x(2));
  Value *o = c.x(tail), *lse = c.x(tail + 1), *dout = c.x(tail + 2);
  Value* bias = has_bias ? (toeplitz ? b.expand_table(c.x(3)) : c.x(3)) : nullptr;
  const TensorType st{b.t, Shape(b.dims({b.hq, b.n, b.m}))};
  // Forward recomputation: S, ok (allowed and live), P, X, dS.
  Value* s = b.scaled(b.mm(q, b.tr(kk)));
  if (bias)
    s = b.op(OpKind::Add, {s, bias});
  Value* ok = b.allowed();
  if (has_keep)
    ok = b.op(OpKind::LogicalAnd, {ok, c.x(3 + (has_bias ? 1 : 0))});
  Value* ninf = c.scalar(-std::numeric_limits<double>::infinity(), b.t);
  Value* lse_col = b.op(OpKind::Reshape, {lse}, {{"shape", b.dims({b.hq, b.n, 1})}});
  Value* live = b.op(OpKind::Ne, {lse_col, ninf});
  ok = b.op(OpKind::LogicalAnd, {ok, live});
  Value* zero = c.scalar(0, b.t);
  Value* safe_s = b.op(OpKind::Select, {ok, s, zero});
  Value* safe_lse = b.op(OpKind::Select, {live, lse_col, zero});
  Value* p =
      b.op(OpKind::Select, {ok, b.op(OpKind::Exp, {b.op(OpKind::Sub, {safe_s, safe_lse})}), zero});
  Value* dd = b.rowsum(b.mul(dout, o));
  Value* x = b.op(OpKind::Sub, {b.mm(dout, b.tr(vv)), dd});
  if (has_dlse)
    x = b.op(OpKind::Add,
             {x, b.op(OpKind::Reshape, {c.x(tail + 3)}, {{"shape", b.dims({b.hq, b.n, 1})}})});
  Value* ds = b.mul(p, x);
  // Cotangents of the results (nullptr: zero).
  Value *gq = c.dy(0), *gk = c.dy(1) ? b.to_query_heads(c.dy(1)) : nullptr,
        *gv = c.dy(2) ? b.to_query_heads(c.dy(2)) : nullptr;
  Value* gb = has_bias ? c.dy(3) : nullptr;
  if (gb && toeplitz)
    gb = b.expand_table(gb);
  Value* g = nullptr; // cotangent of dS
  if (gq)
    g = b.add(g, b.scaled(b.mm(gq, b.tr(kk))));
  if (gk)
    g = b.add(g, b.scaled(b.mm(q, b.tr(gk))));
  if (gb)
    g = b.add(g, b.op(OpKind::BroadcastTo, {gb}, {{"shape", st.shape.to_vector()}}));
  Value* gp = gv ? b.mm(dout, b.tr(gv)) : nullptr; // cotangent of P
  Value* gx = nullptr;                             // cotangent of X (= of dP)
  if (g) {
    gp = b.add(gp, b.mul(g, x));
    gx = b.mul(g, p);
  }
  Value* gs = gp ? b.mul(gp, p) : nullptr; // cotangent of S
  Value* gx_sum = gx ? b.rowsum(gx) : nullptr;
  // Operand gradients.
  if (c.needs(0)) {
    Value* r = nullptr;
    if (gs)
      r = b.add(r, b.scaled(b.mm(gs, kk)));
    if (gk)
      r = b.add(r, b.scaled(b.mm(ds, gk)));
    out[0] = r;
  }
  if (c.needs(1)) {
    Value* r = nullptr;
    if (gs)
      r = b.add(r, b.scaled(b.mm(b.tr(gs), q)));
    if (gq)
      r = b.add(r, b.scaled(b.mm(b.tr(ds), gq)));
    out[1] = r ? b.to_kv_heads(r) : nullptr;
  }
  if (c.needs(2))
    out[2] = gx ? b.to_kv_heads(b.mm(b.tr(gx), dout)) : nullptr;
  if (has_bias && c.needs(3))
    out[3] = !gs ? nullptr : toeplitz ? b.table_cotangent(gs, c.x(3)->type)
                                      : c.unbroadcast(gs, bias->type);
  if (c.needs(tail)) // o
    out[at(tail)] = gx ? b.op(OpKind::Neg, {b.mul(gx_sum, dout)}) : nullptr;
  if (c.needs(tail + 1)) { // lse
    Value* r =
        gs ? b.op(OpKind::Neg, {b.op(OpKind::Sum, {gs},
                                     {{"axes", std::vector<int64_t>{-1}}, {"keepdims", false}})})
           : nullptr;
    out[at(tail + 1)] = r;
  }
  if (c.needs(tail + 2)) { // do
    Value* r = nullptr;
    if (gx)
      r = b.op(OpKind::Sub, {b.mm(gx, vv), b.mul(gx_sum, o)});
    if (gv)
      r = b.add(r, b.mm(p, gv));
    out[at(tail + 2)] = r;
  }
  if (has_dlse && c.needs(tail + 3)) {
    Value* r =
        gx ? b.op(OpKind::Sum, {gx}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", false}})
           : nullptr;
    out[at(tail + 3)] = r;
  }
  return out;
}

} // namespace tevo::ir::ops
