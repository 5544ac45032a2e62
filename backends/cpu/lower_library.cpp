// lower_library.cpp: oneDNN library calls: `fused {kind = "library"}` groups (a matmul
// and an epilogue of post-ops), bare matmuls and conv1d.
//
// Operand views are folded into the call's strided descriptors: a transposed weight is
// a descriptor with swapped strides, not a copy. Conventions of the descriptors (what the
// executor maps onto oneDNN memory descriptors): matmul a, b and c all have c's rank;
// a batch dim that an operand broadcasts has extent 1 in that operand (oneDNN's
// broadcast), never stride 0 with the full extent; the same holds for a binary post-op's
// second operand. A matrix dim that is broadcast (stride 0 with extent > 1), or a view
// that strides cannot express, is first copied densely by a synthetic loop group.
// Matmuls whose dtype oneDNN lacks (f64, integers) become a synthetic reduce loop group.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>

#include "backends/cpu/lower_internal.h"
#include "ir/op_def.h"

namespace tevo::cpu::detail {

namespace {

using ir::OpKind;
using Alg = dnnl::algorithm;

size_t at(int64_t i) {
  return static_cast<size_t>(i);
}

int32_t alg(Alg a) {
  return static_cast<int32_t>(a);
}

bool onednn_dtype(ir::DType t) {
  return t == ir::DType::F32 || t == ir::DType::BF16 || t == ir::DType::F16;
}

/// `l` with leading extent-1 dims up to `rank`, and stride-0 dims before `keep_from` set to
/// extent 1 (the oneDNN spelling of a broadcast dim). Extent-1 dims get the stride a dense
/// layout would give them, so that no descriptor has a zero stride.
Layout onednn_layout(Layout l, int64_t rank, int64_t keep_from) {
  while (l.rank() < rank) {
    l.dims.insert(l.dims.begin(), 1);
    l.strides.insert(l.strides.begin(), 0);
  }
  for (int64_t i = 0; i < std::min(rank, keep_from); ++i)
    if (l.strides[at(i)] == 0)
      l.dims[at(i)] = 1;
  for (int64_t i = rank - 1; i >= 0; --i)
    if (l.dims[at(i)] == 1)
      l.strides[at(i)] = i + 1 < rank ? l.strides[at(i + 1)] * l.dims[at(i + 1)] : 1;
  return l;
}

/// No dim from `from` on is broadcast (stride 0 with extent > 1).
bool no_broadcast_from(const Layout& l, int64_t from) {
  for (int64_t i = from; i < l.rank(); ++i)
    if (l.strides[at(i)] == 0 && l.dims[at(i)] > 1)
      return false;
  return true;
}

/// Library operand: fused-graph value `v` seen through body views `chain`; copied densely
/// when strides cannot express it or `usable` rejects the layout.
template <class F>
Placed library_operand(Lowerer& L, const ir::Value* v, const std::vector<const ir::Node*>& chain,
                       F usable, const ir::Node& origin) {
  Placed p = L.at(v);
  bool ok = true;
  for (const ir::Node* n : chain) {
    std::optional<Layout> l = apply_view(p.layout, *n);
    if (!l) {
      ok = false;
      break;
    }
    p.layout = *l;
  }
  if (ok && usable(p.layout))
    return p;
  std::vector<const ir::Node*> views = chain;
  const ir::Value* base = v;
  if (views.empty()) { // v itself is an alias: redo the view that made it
    TEVO_ASSERT(v->producer && is_layout_view(v->producer->op), "unusable dense operand");
    views = {v->producer};
    base = v->producer->operand(0);
  }
  return L.materialize_chain(L.at(base), base->type, views, origin);
}

rt::StridedDesc with_layout(const Lowerer& L, Placed p, Layout l) {
  p.layout = std::move(l);
  return L.desc(p);
}

/// Inside a library body: `v` traced back through view ops to a body input; the views in
/// application order. nullptr when v does not come from a body input that way.
const ir::Value* trace_views(const ir::Value* v, std::vector<const ir::Node*>& chain) {
  while (v->producer && is_layout_view(v->producer->op)) {
    chain.insert(chain.begin(), v->producer);
    v = v->producer->operand(0);
  }
  return v->producer ? nullptr : v;
}

/// The value of a body-internal scalar constant (`full`, or a one-element `constant`,
/// possibly through views), if `v` is one.
std::optional<double> scalar_constant(const ir::Value* v) {
  while (v->producer && is_layout_view(v->producer->op))
    v = v->producer->operand(0);
  if (!v->producer)
    return std::nullopt;
  const ir::Node& n = *v->producer;
  if (n.op == OpKind::Full)
    return n.attrs.f64("value");
  if (n.op == OpKind::Constant && n.attrs.get("value").dense()->type.numel() == 1)
    return n.attrs.get("value").dense()->at(0);
  return std::nullopt;
}

rt::PostOp eltwise(Alg a, float alpha = 0, float beta = 0) {
  rt::PostOp p;
  p.kind = rt::PostOp::Kind::Eltwise;
  p.alg = alg(a);
  p.alpha = alpha;
  p.beta = beta;
  return p;
}

/// The eltwise post-op of unary op node `u`, if oneDNN has it.
std::optional<rt::PostOp> unary_post_op(const ir::Node& u) {
  switch (u.op) {
  case OpKind::Relu:
    return eltwise(Alg::eltwise_relu);
  case OpKind::Gelu:
    return eltwise(u.attrs.get("approximate").str() == "tanh" ? Alg::eltwise_gelu_tanh
                                                              : Alg::eltwise_gelu_erf);
  case OpKind::Silu:
    return eltwise(Alg::eltwise_swish, 1.0f);
  case OpKind::Tanh:
    return eltwise(Alg::eltwise_tanh);
  case OpKind::Sigmoid:
    return eltwise(Alg::eltwise_logistic);
  case OpKind::Exp:
    return eltwise(Alg::eltwise_exp);
  case OpKind::Elu:
    return eltwise(Alg::eltwise_elu, static_cast<float>(u.attrs.f64("alpha")));
  case OpKind::Square:
    return eltwise(Alg::eltwise_square);
  case OpKind::Abs:
    return eltwise(Alg::eltwise_abs);
  case OpKind::Sqrt:
    return eltwise(Alg::eltwise_sqrt);
  case OpKind::Log:
    return eltwise(Alg::eltwise_log);
  case OpKind::Neg:
    return eltwise(Alg::eltwise_linear, -1.0f, 0.0f);
  default:
    return std::nullopt;
  }
}

/// out = x op c (c a scalar constant; `c_first`: out = c op x) as eltwise_linear.
std::optional<rt::PostOp> linear_post_op(OpKind op, double c, bool c_first) {
  auto f = [](double x) { return static_cast<float>(x); };
  switch (op) {
  case OpKind::Mul:
    return eltwise(Alg::eltwise_linear, f(c), 0.0f);
  case OpKind::Add:
    return eltwise(Alg::eltwise_linear, 1.0f, f(c));
  case OpKind::Sub:
    return c_first ? eltwise(Alg::eltwise_linear, -1.0f, f(c))
                   : eltwise(Alg::eltwise_linear, 1.0f, f(-c));
  case OpKind::Div:
    if (c_first || c == 0)
      return std::nullopt;
    return eltwise(Alg::eltwise_linear, f(1.0 / c), 0.0f);
  default:
    return std::nullopt;
  }
}

/// The binary algorithm of `op` with the accumulator as operand `acc_pos`.
std::optional<Alg> binary_alg(OpKind op, int acc_pos) {
  switch (op) {
  case OpKind::Add:
    return Alg::binary_add;
  case OpKind::Mul:
    return Alg::binary_mul;
  case OpKind::Maximum:
    return Alg::binary_max;
  case OpKind::Minimum:
    return Alg::binary_min;
  case OpKind::Sub:
    return acc_pos == 0 ? std::optional<Alg>(Alg::binary_sub) : std::nullopt;
  case OpKind::Div:
    return acc_pos == 0 ? std::optional<Alg>(Alg::binary_div) : std::nullopt;
  default:
    return std::nullopt;
  }
}

/// Whether oneDNN's optimised matmul takes `l` as an operand: the matrix dims not
/// broadcast and one of them unit-stride (row-major or transposed), and every batch dim
/// (extent > 1, not broadcast) outside the matrix and the batch dims after it. Anything
/// else (e.g. a transpose that moves the head dim inside the matrix, `adbc`) makes
/// oneDNN 2.6 fall back to its reference kernel, tens of times slower than a copy.
bool matmul_layout_fast(const Layout& l) {
  int64_t r = l.rank();
  if (!no_broadcast_from(l, r - 2))
    return false;
  int64_t rows = l.dims[at(r - 2)], cols = l.dims[at(r - 1)];
  int64_t rs = l.strides[at(r - 2)], cs = l.strides[at(r - 1)];
  bool row_major = cols == 1 || cs == 1;
  bool col_major = rows == 1 || rs == 1;
  if (!row_major && !col_major)
    return false;
  // The span one matrix covers; each batch dim must step over everything inside it.
  int64_t inner = (rows - 1) * rs + (cols - 1) * cs + 1;
  for (int64_t i = r - 3; i >= 0; --i) {
    int64_t e = l.dims[at(i)], st = l.strides[at(i)];
    if (e == 1 || st == 0)
      continue;
    if (st < inner)
      return false;
    inner = (e - 1) * st + inner;
  }
  return true;
}

/// Whether a binary post-op's second operand with layout `l` (right-aligned against the
/// result dims `r`) is a broadcast oneDNN 2.6's optimised matmul takes: none (the full
/// tensor) or along every dim but the last (a scalar, a per-column bias). Others (a
/// broadcast_to view of a per-row value) are copied densely first: the reference
/// kernel it would otherwise select is far slower than the copy.
bool binary_src_fast(const Layout& l, const std::vector<int64_t>& r) {
  int64_t lead = static_cast<int64_t>(r.size()) - l.rank();
  if (lead < 0)
    return false;
  bool full = true, per_column = true;
  for (int64_t i = 0; i < static_cast<int64_t>(r.size()); ++i) {
    int64_t want = r[static_cast<size_t>(i)];
    bool bcast = want > 1 && (i < lead || l.dims[at(i - lead)] == 1 || l.strides[at(i - lead)] == 0);
    full = full && !bcast;
    if (i + 1 < static_cast<int64_t>(r.size()))
      per_column = per_column && (want == 1 || bcast);
  }
  return full || per_column;
}

/// A matmul operand, copied densely unless oneDNN's fast path takes its layout.
Placed matmul_operand(Lowerer& L, const ir::Value* v, const std::vector<const ir::Node*>& chain,
                      const ir::Node& origin) {
  return library_operand(L, v, chain, matmul_layout_fast, origin);
}

/// Whether dims [0, r - 2] of `l` (the batch dims and the rows) step like one dim: each
/// stride is the next one's times its extent (extent-1 dims do not matter).
bool rows_collapse(const Layout& l) {
  int64_t r = l.rank(), step = l.strides[at(r - 2)] * l.dims[at(r - 2)];
  for (int64_t i = r - 3; i >= 0; --i) {
    if (l.dims[at(i)] == 1)
      continue;
    if (l.strides[at(i)] != step)
      return false;
    step *= l.dims[at(i)];
  }
  return true;
}

/// [*, M, X] as [numel(*) M, X] (rows_collapse(l) holds), or as [1, X] when `broadcast`.
Layout collapse_rows(const Layout& l, bool broadcast) {
  int64_t r = l.rank(), rows = 1;
  for (int64_t i = 0; i < r - 1; ++i)
    rows *= l.dims[at(i)];
  Layout out;
  out.dims = {broadcast ? 1 : rows, l.dims[at(r - 1)]};
  out.strides = {l.strides[at(r - 2)], l.strides[at(r - 1)]};
  out.offset = l.offset;
  if (out.dims[0] == 1)
    out.strides[0] = out.dims[1] * std::max<int64_t>(1, out.strides[1]);
  return out;
}

/// Folds the batch dims into the rows when b broadcasts every batch dim: [*, M, K] x
/// [K, N] runs as one [B M, K] x [K, N] GEMM instead of B GEMMs of M rows (a linear
/// layer over [batch, sequence, features]; oneDNN blocks a long M far better). Needs a,
/// c and every binary post-op source to step over batch and rows as one dim (a source may
/// instead broadcast over all of them: a per-column bias). Layouts are oneDNN's
/// (onednn_layout); false leaves them alone.
bool fold_batch_into_rows(Layout& a, Layout& b, Layout& c, std::vector<Layout*>& srcs) {
  int64_t r = c.rank();
  if (r < 3)
    return false;
  for (int64_t i = 0; i < r - 2; ++i)
    if (b.dims[at(i)] != 1 || a.dims[at(i)] != c.dims[at(i)])
      return false;
  if (!rows_collapse(a) || !rows_collapse(c))
    return false;
  std::vector<bool> bcast;
  for (const Layout* s : srcs) {
    bool all_one = true, same = true;
    for (int64_t i = 0; i < r - 1; ++i) {
      all_one = all_one && s->dims[at(i)] == 1;
      same = same && s->dims[at(i)] == c.dims[at(i)];
    }
    if (!all_one && !(same && rows_collapse(*s)))
      return false;
    bcast.push_back(all_one);
  }
  a = collapse_rows(a, false);
  Layout b2;
  b2.dims = {b.dims[at(r - 2)], b.dims[at(r - 1)]};
  b2.strides = {b.strides[at(r - 2)], b.strides[at(r - 1)]};
  b2.offset = b.offset;
  b = b2;
  c = collapse_rows(c, false);
  for (size_t i = 0; i < srcs.size(); ++i)
    *srcs[i] = collapse_rows(*srcs[i], bcast[i]);
  return true;
}

/// Emits the MatmulStep for a x b -> result (placed), with `post` ops.
void emit_matmul(Lowerer& L, const Placed& a, const Placed& b, const ir::Value* result,
                 std::vector<rt::PostOp> post, const std::vector<Placed>& post_src,
                 const ir::Node& origin) {
  int64_t rank = result->type.shape.rank();
  rt::MatmulStep m;
  Layout la = onednn_layout(a.layout, rank, rank - 2);
  Layout lb = onednn_layout(b.layout, rank, rank - 2);
  Placed c = L.place_result(result);
  Layout lc = c.layout;
  std::vector<Layout> ls(post.size());
  std::vector<Layout*> binary;
  for (size_t i = 0; i < post.size(); ++i)
    if (post[i].kind == rt::PostOp::Kind::Binary) {
      ls[i] = onednn_layout(post_src[i].layout, rank, rank);
      binary.push_back(&ls[i]);
    }
  fold_batch_into_rows(la, lb, lc, binary);
  m.a = with_layout(L, a, la);
  m.b = with_layout(L, b, lb);
  m.c = with_layout(L, c, lc);
  std::vector<int32_t> touched{a.buffer, b.buffer};
  for (size_t i = 0; i < post.size(); ++i)
    if (post[i].kind == rt::PostOp::Kind::Binary) {
      post[i].src1 = with_layout(L, post_src[i], ls[i]);
      touched.push_back(post_src[i].buffer);
    }
  touched.push_back(c.buffer);
  m.post_ops = std::move(post);
  rt::Plan& p = L.out.plan;
  p.matmuls.push_back(std::move(m));
  L.add_step(rt::Step::Kind::Matmul, static_cast<int32_t>(p.matmuls.size() - 1), origin, touched);
}

/// A matmul whose dtype oneDNN lacks, as a loop group: a[..., M, K, 1] * b[..., 1, K, N]
/// broadcast to [..., M, K, N] and summed over K.
void matmul_as_loop(Lowerer& L, const ir::Node& n) {
  const ir::TensorType& ta = n.operand(0)->type;
  const ir::TensorType& tb = n.operand(1)->type;
  const ir::TensorType& tc = n.result(0)->type;
  std::vector<int64_t> cs = tc.shape.to_vector();
  int64_t r = tc.shape.rank(), k = ta.shape.dim(ta.shape.rank() - 1);
  const ir::Node& g = L.make_group(
      {ta, tb},
      [&](ir::Builder& b, std::vector<ir::Value*> in) {
        if (k == 0)
          return std::vector<ir::Value*>{
              b.op(OpKind::Full, {}, {{"shape", cs}, {"value", 0.0}, {"dtype", tc.dtype}}, n.loc)};
        std::vector<int64_t> sa = ta.shape.to_vector(), sb = tb.shape.to_vector(), full = cs;
        sa.push_back(1);
        sb.insert(sb.end() - 2, 1);
        full.insert(full.end() - 1, k); // [..., M, K, N]
        ir::Value* a = b.op(OpKind::Reshape, {in[0]}, {{"shape", sa}}, n.loc);
        ir::Value* bb = b.op(OpKind::Reshape, {in[1]}, {{"shape", sb}}, n.loc);
        a = b.op(OpKind::BroadcastTo, {a}, {{"shape", full}}, n.loc);
        bb = b.op(OpKind::BroadcastTo, {bb}, {{"shape", full}}, n.loc);
        ir::Value* m = b.op(OpKind::Mul, {a, bb}, {}, n.loc);
        ir::Value* y = k == 1 ? b.op(OpKind::Reshape, {m}, {{"shape", cs}}, n.loc)
                              : b.op(OpKind::Sum, {m}, {{"axes", std::vector<int64_t>{r - 1}}},
                                     n.loc);
        return std::vector<ir::Value*>{y};
      },
      n);
  L.emit_kernel(g, {L.at(n.operand(0)), L.at(n.operand(1))}, {L.place_result(n.result(0))}, n);
}

} // namespace

void lower_matmul(Lowerer& L, const ir::Node& n) {
  if (!onednn_dtype(n.result(0)->type.dtype)) {
    matmul_as_loop(L, n);
    return;
  }
  Placed a = matmul_operand(L, n.operand(0), {}, n);
  Placed b = matmul_operand(L, n.operand(1), {}, n);
  emit_matmul(L, a, b, n.result(0), {}, {}, n);
}

void lower_library_group(Lowerer& L, const ir::Node& n) {
  const ir::Graph& body = *n.attrs.get("body").region();
  const ir::Node* mm = nullptr;
  for (const auto& b : body.nodes())
    if (b->op == OpKind::Matmul) {
      if (mm)
        L.fail(n, "library group holds more than one matmul");
      mm = b.get();
    }
  if (!mm)
    L.fail(n, "library group holds no matmul");
  if (body.outputs.size() != 1)
    L.fail(n, "library group must have exactly one result");
  const ir::Value* c = mm->result(0);
  if (!onednn_dtype(c->type.dtype))
    L.fail(n, fmt::format("library group on {}: oneDNN matmul takes f32, f16 or bf16",
                          ir::dtype_name(c->type.dtype)));
  auto outer = [&](const ir::Value* body_input) { return n.operand(body_input->index); };
  Placed ab[2];
  for (int i = 0; i < 2; ++i) {
    std::vector<const ir::Node*> chain;
    const ir::Value* in = trace_views(mm->operand(i), chain);
    if (!in)
      L.fail(n, fmt::format("library group: matmul operand {} is not a group operand (through "
                            "views)", i));
    ab[i] = matmul_operand(L, outer(in), chain, n);
  }
  // The epilogue: a chain of single-use elementwise ops from the matmul to the result.
  std::vector<rt::PostOp> post;
  std::vector<Placed> post_src;
  const ir::Value* cur = c;
  while (cur != body.outputs[0]) {
    const ir::Node* user = nullptr;
    int uses = 0;
    for (const auto& b : body.nodes())
      for (int i = 0; i < b->num_operands(); ++i)
        if (b->operand(i) == cur) {
          user = b.get();
          ++uses;
        }
    if (uses != 1)
      L.fail(n, "library group: an epilogue value is used more than once");
    const ir::Value* r = user->result(0);
    std::string op(user->def().name);
    if (!(r->type == c->type))
      L.fail(n, fmt::format("library group: epilogue op {} changes the type to {}", op,
                            r->type.str()));
    std::optional<rt::PostOp> po;
    Placed src;
    if (user->num_operands() == 1) {
      po = unary_post_op(*user);
    } else if (user->num_operands() == 2) {
      int acc = user->operand(0) == cur ? 0 : 1;
      const ir::Value* other = user->operand(1 - acc);
      if (auto k = scalar_constant(other)) {
        po = linear_post_op(user->op, *k, acc == 1);
      } else if (auto a = binary_alg(user->op, acc)) {
        std::vector<const ir::Node*> chain;
        const ir::Value* in = trace_views(other, chain);
        if (!in)
          L.fail(n, fmt::format("library group: the second operand of {} is not a group "
                                "operand (through views)", op));
        std::vector<int64_t> rdims = n.result(0)->type.shape.to_vector();
        src = library_operand(
            L, outer(in), chain,
            [&rdims](const Layout& l) { return binary_src_fast(l, rdims); }, n);
        po = rt::PostOp{};
        po->kind = rt::PostOp::Kind::Binary;
        po->alg = alg(*a);
      }
    }
    if (!po)
      L.fail(n, fmt::format("library group: {} cannot be a oneDNN post-op", op));
    post.push_back(*po);
    post_src.push_back(src);
    cur = r;
  }
  emit_matmul(L, ab[0], ab[1], n.result(0), std::move(post), post_src, n);
}

void lower_conv1d(Lowerer& L, const ir::Node& n) {
  if (is_depthwise_conv1d(n)) {
    lower_depthwise_conv1d(L, n);
    return;
  }
  // f64 runs on the executor's reference loops (oneDNN has no f64 convolution).
  if (!onednn_dtype(n.result(0)->type.dtype) && n.result(0)->type.dtype != ir::DType::F64)
    L.fail(n, fmt::format("conv1d on {} is not supported by the CPU backend (f32, f16, bf16 "
                          "through oneDNN, f64 through reference loops)",
                          ir::dtype_name(n.result(0)->type.dtype)));
  auto dense_enough = [](const Layout& l) { return no_broadcast_from(l, 0); };
  Placed x = library_operand(L, n.operand(0), {}, dense_enough, n);
  Placed w = library_operand(L, n.operand(1), {}, dense_enough, n);
  Placed y = L.place_result(n.result(0));
  rt::Conv1dStep c;
  c.x = L.desc(x);
  c.w = L.desc(w);
  c.y = L.desc(y);
  c.stride = n.attrs.i64("stride");
  c.padding_l = n.attrs.i64_list("padding")[0];
  c.padding_r = n.attrs.i64_list("padding")[1];
  c.dilation = n.attrs.i64("dilation");
  c.groups = n.attrs.i64("groups");
  rt::Plan& p = L.out.plan;
  p.convs.push_back(std::move(c));
  L.add_step(rt::Step::Kind::Conv1d, static_cast<int32_t>(p.convs.size() - 1), n,
             {x.buffer, w.buffer, y.buffer});
}

std::string dnnl_alg_name(int32_t a) {
  static const std::pair<Alg, const char*> kNames[] = {
      {Alg::eltwise_relu, "relu"},         {Alg::eltwise_gelu_erf, "gelu_erf"},
      {Alg::eltwise_gelu_tanh, "gelu_tanh"}, {Alg::eltwise_swish, "swish"},
      {Alg::eltwise_tanh, "tanh"},         {Alg::eltwise_logistic, "logistic"},
      {Alg::eltwise_exp, "exp"},           {Alg::eltwise_elu, "elu"},
      {Alg::eltwise_square, "square"},     {Alg::eltwise_abs, "abs"},
      {Alg::eltwise_sqrt, "sqrt"},         {Alg::eltwise_log, "log"},
      {Alg::eltwise_linear, "linear"},     {Alg::binary_add, "add"},
      {Alg::binary_mul, "mul"},            {Alg::binary_sub, "sub"},
      {Alg::binary_div, "div"},            {Alg::binary_max, "max"},
      {Alg::binary_min, "min"},
  };
  for (const auto& [k, name] : kNames)
    if (alg(k) == a)
      return name;
  return fmt::format("alg{}", a);
}

} // namespace tevo::cpu::detail
