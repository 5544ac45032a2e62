// decay_scan.cpp: a masked decay matrix applied along the sequence -> a linear scan (R2's
// decay variants and the diagonal recurrences of issue 5).
//
// Why: SSMs (S5), RWKV's WKV, RetNet-style retention and AFT read naturally as
//   y = M X,   M[.., i, j] = exp(c (i - j) + f_j + r_i) for j <= i - s, else 0
// (optionally plus a diagonal term), the way the papers write the unrolled recurrence. As a
// matrix that is O(N^2) time and memory per channel; as the recurrence
//   h_i = a h_{i-1} + b_i,  a = exp(c),  b_j = exp(f_j) X_j   (linear_scan, O(N))
// it is linear. The pass proves the structure from the graph (no fixed spellings):
//   - the mask: a `select` whose predicate is a half-plane j <= i - s of iota arithmetic
//     (mask_affine.h; either branch order), or `tril(., k)` (s = -k), s >= 0;
//   - the kept value: a product of exp(L) factors, pow(beta, L) with beta positive by
//     construction (= exp(L log beta)) and data factors, each data factor varying with at
//     most one of i and j (its shape is 1 along the other grid axis); or a sum of such
//     products (one scan per term: the product is linear in the kept value), possibly
//     scaled by data (moved outside the mask);
//   - each exponent L: a sum of terms scale * data * (ci i + cj j + c), evaluated like
//     mask_affine's affine forms, where relu / abs of an index expression are resolved on
//     the mask's domain (relu(i - j - 1) is i - j - 1 wherever j <= i - 1). Terms with
//     ci = -cj make the decay rate c (it must not vary with i or j: a per-channel rate has
//     shape [.., 1, 1]); the others split into row, column and constant parts;
//   - the other branch: 0, or a diagonal select(i == j, D, 0) with D free of (i, j)
//     structure (RWKV's bonus e^{u + k_t}).
// Then, with R = the row part and F the column part,
//   sum_{j <= i - s} a^{i-j} e^{F_j} X_j = scan(a, shift_s(e^{F + s log a} X))_i,
//   y = e^R * scan(..) (+ D * X on the diagonal),
// built from linear_scan (or cumsum when there is no decay), exp, mul, pad and slice. A row
// and a column exponent that are views of one cumsum, exp(L_i - L_j), are a per-step decay:
// a time-varying scan. With a low-rank factor (M = (A B) ⊙ D, retention) the result is the
// chunked form (passes/decay/chunked.cpp): constant decay (retention) or per-step (SSD).
// The analysis of the matrix lives in passes/decay/decay_form.cpp. The
// roots are matmul(M, X) and the row sum sum(M, axis -1) (the same with X = 1: RWKV's
// denominator). The rewrite fires when the new nodes' roofline estimate is below the
// root's; otherwise, or when an exponent has the shape of a decay but not its structure
// (a rate that varies with i, an index term that is not a function of i - j), a missed
// remark says why. Matrices that contain no exp of an index expression are not near-matches
// and stay silent (causal linear attention's tril(QK^T) is reassociate-matmul's).
//
// Numerics: the scan evaluates the column part exp(F_j + s c) and the row part exp(R_i)
// apart from the decay a^(i-j), where the matrix evaluated them in one exp; the constants
// (a^s included) go with whichever side has an exponent, which is exactly the matrix's
// value at i - j = s, so neither side overflows where every matrix element is finite —
// and a row exponent together with a column exponent is refused (exp(R_i) exp(F_j) can
// overflow where exp(R_i + F_j) does not), unless the pair is a per-step decay
// exp(L_i - L_j), L = cumsum, which becomes a time-varying scan. Terms whose exponents
// overflow on their own (f32 F > 88 at i - j = s) overflow in the matrix too; RWKV's
// log-space scan with a running max would be the fix if a model needs it.
#include <algorithm>
#include <cmath>

#include "ir/cost.h"
#include "passes/decay/decay_form.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using namespace decay; // NOLINT: the pass is the analysis' only user

constexpr std::string_view kPass = "decay-scan";

/// The parts of a kept value: log a, and the row / column / constant exponents and data.
struct Parts {
  Value* log_a = nullptr; // [.., 1, 1], or [.., N, 1] for a per-step decay
  Value* row = nullptr; // multiplies the output rows (exp(R) * row data * constants)
  Value* col = nullptr; // multiplies the input rows (exp(F) * column data), as [.., 1, N]
};

/// The element of `terms` whose factors are `fs` in any order (a like term), appended
/// (zero-initialised) when there is none.
template <class T>
T& like_term(std::vector<T>& terms, const std::vector<Value*>& fs) {
  for (T& t : terms)
    if (std::is_permutation(t.factors.begin(), t.factors.end(), fs.begin(), fs.end()))
      return t;
  terms.push_back(T{fs});
  return terms.back();
}

/// sum of coef * prod(factors) with like terms (the same factors, in any order) merged:
/// RWKV's exp(w) from the constant of -w (i - 1 - j) cancels against a^s = exp(-w s).
struct LinSum {
  struct Part {
    std::vector<Value*> factors;
    double coef = 0;
  };
  std::vector<Part> parts;
  void add(const std::vector<Value*>& fs, double coef) {
    like_term(parts, fs).coef += coef;
  }
  Value* build(Builder& b) const {
    Value* v = nullptr;
    for (const Part& p : parts)
      if (p.coef != 0)
        v = b.add(v, b.term(p.factors, p.coef));
    return v;
  }
};

/// Splits the kept value into the decay a = exp(log a) (per step when a row and a column
/// exponent are views of one cumsum) and the factors of the output rows and of the input
/// rows; the constants, a^s for a mask that skips s steps included, join the side that has
/// an exponent.
std::optional<Parts> split(Builder& b, const Factors& f, int64_t s, int64_t rank, Why& why) {
  // Like terms first (w i - w j is one term w (i - j)), then each by what it varies with.
  struct Merged {
    std::vector<Value*> factors;
    double ci = 0, cj = 0, c = 0;
  };
  std::vector<Merged> terms;
  for (const Term& t : f.exps) {
    Merged& m = like_term(terms, t.factors);
    m.ci += t.scale * t.ci;
    m.cj += t.scale * t.cj;
    m.c += t.scale * t.c;
  }
  LinSum log_a, row, col, consts; // exponents; consts vary with neither i nor j
  for (const Merged& t : terms) {
    Dep dep = dep_of_all(t.factors);
    if (dep == Dep::Both) {
      why.fail("an exponent term multiplies a row value by a column value", true);
      return std::nullopt;
    }
    if (t.ci != 0 || t.cj != 0) {
      if (t.ci != -t.cj) {
        why.fail(fmt::format("exponent term {:.6g} i {} {:.6g} j is not a function of i - j", t.ci,
                             t.cj < 0 ? '-' : '+', std::abs(t.cj)),
                 true);
        return std::nullopt;
      }
      if (dep != Dep::None) {
        why.fail("the rate c of c (i - j) varies with the position (a per-step decay reads "
                 "exp(L_i - L_j) with L = cumsum(log a))",
                 true);
        return std::nullopt;
      }
      log_a.add(t.factors, t.ci);
      consts.add(t.factors, t.ci * static_cast<double>(s)); // a^s: the steps the mask skips
    }
    if (t.c != 0)
      (dep == Dep::Col ? col : dep == Dep::Row ? row : consts).add(t.factors, t.c);
  }
  // exp(c (L_i - L_j)) with L = cumsum(x) along the sequence: a per-step decay
  // a_t = exp(c x_t) (Mamba / GLA-style selective decays). Evaluated as exp(c L_i) and
  // exp(-c L_j) apart, it would overflow for long sequences; as a scan it cannot.
  Value* log_tv = nullptr;
  for (LinSum::Part& r : row.parts) {
    if (r.coef == 0 || r.factors.size() != 1)
      continue;
    const ir::Shape& rs = r.factors[0]->type.shape;
    Value* x = cumsum_operand(r.factors[0], rs.dim(rs.rank() - 2));
    if (!x)
      continue;
    for (LinSum::Part& q : col.parts)
      if (q.coef == -r.coef && q.factors.size() == 1 &&
          transposed_views(r.factors[0], q.factors[0], rank)) {
        Value* lx = b.mul(b.t().reshape(x, rs.to_vector()),
                          r.coef == 1 ? nullptr : b.splat(r.coef));
        log_tv = b.add(log_tv, lx);
        r.coef = q.coef = 0;
        break;
      }
  }
  bool row_exp = false, col_exp = false;
  for (const LinSum::Part& r : row.parts)
    row_exp = row_exp || r.coef != 0;
  for (const LinSum::Part& q : col.parts)
    col_exp = col_exp || q.coef != 0;
  if (row_exp && col_exp) {
    why.fail("exp(R_i + F_j) would be evaluated as exp(R_i) exp(F_j), which can overflow "
             "where the sum does not",
             true);
    return std::nullopt;
  }
  if (log_tv && s != 0) {
    why.fail("a time-varying decay with a strict mask (not implemented)", true);
    return std::nullopt;
  }
  // The constants (a^s included) join the side that has an exponent: the matrix evaluates
  // exp(F_j + s c) at i - j = s, so exp(F_j) alone could overflow where it does not; and
  // like terms cancel there (RWKV: the +w of -w (i - 1 - j) against a^1 = exp(-w)).
  LinSum& side = row_exp ? row : col;
  for (const LinSum::Part& k : consts.parts)
    side.add(k.factors, k.coef);
  Parts p;
  p.log_a = b.add(log_a.build(b), log_tv);
  Value *rowd = nullptr, *cold = nullptr;
  for (Value* v : f.data) {
    if (dep_of(v) == Dep::Col)
      cold = b.mul(cold, v);
    else
      rowd = b.mul(rowd, v);
  }
  Value* ef = col.build(b);
  p.col = b.mul(ef ? b.t().op(OpKind::Exp, {ef}) : nullptr, cold);
  Value* er = row.build(b);
  p.row = b.mul(er ? b.t().op(OpKind::Exp, {er}) : nullptr, rowd);
  if (f.scale != 1)
    p.row = b.mul(p.row, b.splat(f.scale));
  return p;
}

/// The diagonal term's value as a row factor ([.., N, 1]): D times the factors outside the
/// mask (on the diagonal a column factor is a row factor).
Value* diagonal_factor(Builder& b, const Masked& m) {
  Value* dg = dep_of(m.diag) == Dep::Col ? b.swap_last2(m.diag) : m.diag;
  for (Value* o : m.outer)
    dg = b.mul(dg, dep_of(o) == Dep::Col ? b.swap_last2(o) : o);
  return dg;
}

/// y = M X (x = nullptr: X = 1, the row sum) in scan form, shaped `out` ([.., N, K]);
/// nullptr with t.failed() or a reason in `why`.
Value* scan_form(Builder& b, const Node& at, const Masked& m, Value* x, const ir::Shape& out,
                 Why& why) {
  int64_t r = out.rank(), n = out.dim(r - 2);
  Domain d{n, m.s};
  const Node* vp = m.value->producer;
  if (vp && !m.diag && (vp->op == OpKind::Mul || vp->op == OpKind::Div) &&
      dep_of(m.value) == Dep::Both) {
    // A kept value scaled by data ((1 - beta^(d+1)) / (1 - beta)): the scale moves outside
    // the mask (no diagonal term shares it), so a sum underneath can be split.
    for (int k = vp->op == OpKind::Div ? 1 : 0; k < 2; ++k) {
      Value* w = vp->operand(k);
      if (dep_of(w) == Dep::Both)
        continue;
      const Node* ip = vp->operand(1 - k)->producer;
      if (!ip || !(ip->op == OpKind::Add || ip->op == OpKind::Sub || ip->op == OpKind::Mul ||
                   ip->op == OpKind::Div))
        break; // a plain product: factors() reads it as it is
      Masked inner = m;
      inner.value = vp->operand(1 - k);
      inner.outer.push_back(vp->op == OpKind::Div ? b.t().op(OpKind::Div, {b.splat(1.0), w}) : w);
      return scan_form(b, at, inner, x, out, why);
    }
  }
  if (vp && (vp->op == OpKind::Add || vp->op == OpKind::Sub) && dep_of(m.value) == Dep::Both) {
    // A sum of decay terms (momentum's (1 - beta^(d+1)) / (1 - beta)): the product is
    // linear in the kept value, so each term gets its own scan; the diagonal once.
    Masked first = m, second = m;
    first.value = vp->operand(0);
    second.value = vp->operand(1);
    second.diag = nullptr;
    first.in_sum = second.in_sum = true;
    Value* y1 = scan_form(b, at, first, x, out, why);
    Value* y2 = y1 ? scan_form(b, at, second, x, out, why) : nullptr;
    if (!y2)
      return nullptr;
    return b.t().op(vp->op, {y1, y2});
  }
  Factors f;
  if (!factors(b, m.value, d, f, why))
    return nullptr;
  for (Value* o : m.outer)
    if (!factors(b, o, d, f, why))
      return nullptr;
  auto parts = split(b, f, m.lr_a ? 0 : m.s, out.rank(), why);
  if (!parts)
    return nullptr;
  Tentative& t = b.t();
  Value* col = parts->col ? b.swap_last2(parts->col) : nullptr;
  if (m.lr_a) {
    if (m.s > 1 || (!parts->log_a && !m.in_sum)) {
      why.fail(m.s > 1 ? "a mask skipping more than the diagonal with a low-rank factor "
                         "(not implemented)"
                       : "a low-rank factor without a decay (reassociate-matmul's)",
               m.s > 1);
      return nullptr;
    }
    int64_t c = chunk_of(n);
    if (c == 0) {
      why.fail(fmt::format("no chunk size in 8..64 divides N={}", n), true);
      return nullptr;
    }
    Value* xin = x ? x : b.ones(n);
    Value* log_a = parts->log_a ? parts->log_a : b.splat(0.0); // a = 1 in a sum's term
    Value* y = chunked_lowrank(b, at, m.lr_a, m.lr_b, b.mul(col, xin), log_a,
                               dep_of(log_a) == Dep::Row, m.s == 1, out, c, why);
    y = b.mul(parts->row, y);
    if (m.diag) { // D_i (A_i . B_i) X_i: the bonus of the current step
      Value* bn = t.op(OpKind::Transpose, {m.lr_b}, {{"perm", last2_swapped(m.lr_b)}});
      Value* rowdot = t.op(OpKind::Sum, {b.mul(m.lr_a, bn)},
                           {{"axes", Ints{-1}}, {"keepdims", true}});
      y = b.add(y, b.mul(b.mul(diagonal_factor(b, m), rowdot), xin));
    }
    return b.broadcast(y, out.to_vector());
  }
  Value* in = x ? b.mul(col, x) : col;
  in = b.broadcast(in ? in : b.ones(n), out.to_vector());
  if (m.s > 0) // row i reads rows <= i - s
    in = b.shift_down(in, r - 2, m.s);
  Value* h = parts->log_a ? t.op(OpKind::LinearScan, {t.op(OpKind::Exp, {parts->log_a}), in},
                                 {{"axis", r - 2}})
                          : t.op(OpKind::Cumsum, {in}, {{"axis", r - 2}});
  Value* y = b.mul(parts->row, h);
  if (m.diag) {
    Value* dg = diagonal_factor(b, m);
    y = b.add(y, x ? b.mul(dg, x) : dg);
  }
  return b.broadcast(y, out.to_vector());
}

/// The root's matrix operand and its grid extent, when it is a square f32/f64 matrix.
std::optional<int64_t> grid_extent(const Value* m) {
  const ir::TensorType& t = m->type;
  int64_t r = t.shape.rank();
  if ((t.dtype != ir::DType::F32 && t.dtype != ir::DType::F64) || r < 2)
    return std::nullopt;
  int64_t n = t.shape.dim(r - 1);
  if (n < 2 || t.shape.dim(r - 2) != n)
    return std::nullopt;
  return n;
}

std::string costs(const ir::Cost& matrix, const ir::Cost& scan) {
  return fmt::format("cost {} (matrix) vs {} (scan)", ir::format_flops(matrix.flops),
                     ir::format_flops(scan.flops));
}

/// Cost of the nodes computing `v` that nothing else reads: v's producer when v has this one
/// use and varies with both i and j, and recursively its operands'.
ir::Cost dead_with(const Value* v, const UseInfo& uses) {
  ir::Cost c;
  if (!v->producer || uses.count(v) != 1 || dep_of(v) != Dep::Both)
    return c;
  c += ir::node_cost(*v->producer);
  for (const Value* x : v->producer->operands)
    c += dead_with(x, uses);
  return c;
}

/// Rewrites `root` (result shaped like y = M X, `x` nullptr for the row sum) when M is a
/// masked decay matrix and the scan form is cheaper.
Outcome rewrite(RewriteCtx& ctx, Value* m, Value* x, bool keepdims) {
  Node& root = ctx.root();
  if (root.result(0)->name.find(kIntraChunk) != std::string::npos) // (scoped, uniquified)
    return Outcome::no_match();
  auto n = grid_extent(m);
  if (!n)
    return Outcome::no_match();
  auto mk = masked(m, *n);
  if (!mk)
    return Outcome::no_match();
  const ir::TensorType& yt = root.result(0)->type;
  ir::Shape out = yt.shape;
  if (!keepdims) {
    Ints d = out.to_vector();
    d.push_back(1);
    out = ir::Shape(d);
  }
  Tentative t(ctx.graph(), root);
  Builder b(t, m->type.dtype);
  Why why;
  Value* y = scan_form(b, root, *mk, x, out, why);
  if (y && !keepdims)
    y = t.reshape(y, yt.shape.to_vector());
  if (!y || t.failed() || !(y->type == yt)) {
    std::string msg = why.msg.empty() ? t.error() : why.msg;
    t.discard();
    if (!why.near)
      return Outcome::no_match();
    return Outcome::missed(fmt::format("kept masked matrix: {} (N={})", msg, *n));
  }
  // The matrix form's price: the root, plus the [N, N] nodes that only feed it (the
  // decay matrix's construction, retention's Q K^T), which go with it.
  ir::Cost matrix = ir::node_cost(root) + dead_with(m, ctx.uses()), scan = t.cost();
  std::string sizes = mk->s == 0 ? fmt::format("N={}, mask j <= i", *n)
                                  : fmt::format("N={}, mask j <= i - {}", *n, mk->s);
  if (!(ir::estimate_seconds(scan) < ir::estimate_seconds(matrix))) {
    std::string msg = fmt::format("kept masked matrix: {}, {}", sizes, costs(matrix, scan));
    t.discard();
    return Outcome::missed(std::move(msg));
  }
  ctx.replace(root.result(0), y);
  return Outcome::applied(fmt::format("{}: {}, {}",
                                      mk->lr_a ? "chunked decayed scan" : "linear scan", sizes,
                                      costs(matrix, scan)));
}

class MatmulPattern final : public RewritePattern {
public:
  std::string_view name() const override {
    return "matmul";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Matmul;
  }
  Outcome apply(RewriteCtx& ctx) const override {
    Node& mm = ctx.root();
    return rewrite(ctx, mm.operand(0), mm.operand(1), true);
  }
};

class RowSumPattern final : public RewritePattern {
public:
  std::string_view name() const override {
    return "row-sum";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Sum;
  }
  Outcome apply(RewriteCtx& ctx) const override {
    Node& s = ctx.root();
    Value* m = s.operand(0);
    int64_t r = m->type.shape.rank();
    const Ints& axes = s.attrs.i64_list("axes");
    if (axes.size() != 1 || ir::normalize_axis(axes[0], r) != r - 1)
      return Outcome::no_match();
    return rewrite(ctx, m, nullptr, s.attrs.boolean("keepdims"));
  }
};

} // namespace

std::unique_ptr<Pass> create_decay_scan() {
  PatternList patterns;
  patterns.push_back(std::make_unique<MatmulPattern>());
  patterns.push_back(std::make_unique<RowSumPattern>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
