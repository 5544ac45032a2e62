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
// chunked form (chunked_lowrank). The
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
#include "passes/attention/mask_affine.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using attention::Affine;
using ir::Node;
using ir::OpKind;
using ir::Value;
using Ints = std::vector<int64_t>;

constexpr std::string_view kPass = "decay-scan";
/// Name of the masked product inside a chunked scan's chunks (never rewritten again: it is
/// already the intra-chunk part, and chunking it would recurse).
constexpr std::string_view kIntraChunk = "decay_intra_chunk";

/// How a value, broadcast against the [.., N, N] grid, varies with the grid indices.
enum class Dep { None, Row, Col, Both };

Dep dep_of(const Value* v) {
  const ir::Shape& s = v->type.shape;
  int64_t r = s.rank();
  bool row = r >= 2 && s.dim(r - 2) != 1, col = r >= 1 && s.dim(r - 1) != 1;
  return row ? (col ? Dep::Both : Dep::Row) : (col ? Dep::Col : Dep::None);
}

Dep join(Dep a, Dep b) {
  if (a == Dep::None || a == b)
    return b;
  if (b == Dep::None)
    return a;
  return Dep::Both;
}

/// scale * prod(factors) * (ci i + cj j + c): one additive term of an exponent. Factors
/// are values without joint (i, j) dependence.
struct Term {
  std::vector<Value*> factors;
  double scale = 1, ci = 0, cj = 0, c = 0;
};
using Terms = std::vector<Term>;

/// The analysis of one matrix: what failed, and whether the failure was inside an
/// exponent of an index expression (a near-match worth a remark).
struct Why {
  std::string msg;
  bool near = false;
  void fail(std::string m, bool in_exp) {
    if (msg.empty()) {
      msg = std::move(m);
      near = in_exp;
    }
  }
};

/// Pairs (i, j) the mask keeps: s <= i - j <= n - 1.
struct Domain {
  int64_t n = 0, s = 0;
};

std::string_view op_name(const Value* v) {
  return v->producer ? v->producer->def().name : std::string_view("input");
}

/// An index expression of i - j only, resolved through relu / abs on the domain.
std::optional<Affine> index_on_domain(const Value* v, const Domain& d, Why& why) {
  const Node* p = v->producer;
  if (p && (p->op == OpKind::Relu || p->op == OpKind::Abs)) {
    auto a = index_on_domain(p->operand(0), d, why);
    if (!a)
      return std::nullopt;
    if (a->ci != -a->cj) {
      why.fail(fmt::format("{} of an index expression that is not a function of i - j",
                           p->def().name),
               true);
      return std::nullopt;
    }
    double lo = std::min(a->ci * static_cast<double>(d.s), a->ci * static_cast<double>(d.n - 1)),
           hi = std::max(a->ci * static_cast<double>(d.s), a->ci * static_cast<double>(d.n - 1));
    lo += a->c;
    hi += a->c;
    if (lo >= 0)
      return a;
    if (hi <= 0)
      return p->op == OpKind::Relu ? Affine{} : Affine{-a->ci, -a->cj, -a->c};
    why.fail(fmt::format("{} changes sign inside the mask", p->def().name), true);
    return std::nullopt;
  }
  return attention::affine_of(v, d.n, d.n);
}

std::optional<Terms> exponent(Value* v, const Domain& d, Why& why) {
  if (auto s = splat_value(v))
    return Terms{Term{{}, 1, 0, 0, *s}};
  if (dep_of(v) != Dep::Both)
    return Terms{Term{{v}, 1, 0, 0, 1}};
  const Node* p = v->producer;
  if (p && (p->op == OpKind::Relu || p->op == OpKind::Abs || p->op == OpKind::Iota)) {
    auto a = index_on_domain(v, d, why);
    if (!a) {
      why.fail(fmt::format("exponent term {} is not an index expression", op_name(v)), true);
      return std::nullopt;
    }
    return Terms{Term{{}, 1, a->ci, a->cj, a->c}};
  }
  if (auto a = attention::affine_of(v, d.n, d.n))
    return Terms{Term{{}, 1, a->ci, a->cj, a->c}};
  if (!p) {
    why.fail("exponent depends on an input that varies with both i and j", true);
    return std::nullopt;
  }
  switch (p->op) {
  case OpKind::Add:
  case OpKind::Sub: {
    auto a = exponent(p->operand(0), d, why);
    auto b = exponent(p->operand(1), d, why);
    if (!a || !b)
      return std::nullopt;
    for (Term& t : *b) {
      if (p->op == OpKind::Sub)
        t.scale = -t.scale;
      a->push_back(std::move(t));
    }
    return a;
  }
  case OpKind::Neg: {
    auto a = exponent(p->operand(0), d, why);
    if (a)
      for (Term& t : *a)
        t.scale = -t.scale;
    return a;
  }
  case OpKind::Select: {
    // select(keep, x, y) with keep true on the whole mask domain (an exponent masked
    // before exp so that the dropped half never overflows) is x there; the mirrored
    // predicate picks y.
    auto h = attention::half_plane(p->operand(0), d.n, d.n);
    if (h && h->ci == -1 && h->cj == 1 && h->c <= static_cast<double>(d.s))
      return exponent(p->operand(1), d, why);
    if (h && h->ci == 1 && h->cj == -1 && 1 - h->c <= static_cast<double>(d.s))
      return exponent(p->operand(2), d, why);
    why.fail("exponent selects by a predicate that is not the mask", true);
    return std::nullopt;
  }
  case OpKind::Mul:
    for (int k = 0; k < 2; ++k) {
      Value* w = p->operand(k);
      auto s = splat_value(w);
      if (!s && dep_of(w) == Dep::Both)
        continue;
      auto a = exponent(p->operand(1 - k), d, why);
      if (a)
        for (Term& t : *a) {
          if (s)
            t.scale *= *s;
          else
            t.factors.push_back(w);
        }
      return a;
    }
    why.fail("exponent multiplies two values that vary with both i and j", true);
    return std::nullopt;
  default:
    why.fail(fmt::format("exponent depends on (i, j) through {}", p->def().name), true);
    return std::nullopt;
  }
}

/// Nodes of the scan form, built tentatively before the root.
class Builder {
public:
  Builder(Tentative& t, ir::DType dt) : t_(t), dt_(dt) {}

  Value* splat(double v) {
    return t_.op(OpKind::Full, {}, {{"shape", Ints{}}, {"value", v}, {"dtype", dt_}});
  }
  Value* mul(Value* a, Value* b) {
    return !a ? b : !b ? a : t_.op(OpKind::Mul, {a, b});
  }
  Value* add(Value* a, Value* b) {
    return !a ? b : !b ? a : t_.op(OpKind::Add, {a, b});
  }
  /// scale * prod(factors) (nullptr for an empty product of scale 1).
  Value* product(const std::vector<Value*>& fs, double scale) {
    Value* p = nullptr;
    for (Value* f : fs)
      p = mul(p, f);
    return scale == 1 ? p : mul(p, splat(scale));
  }
  /// A [.., 1, N] value as [.., N, 1] (and vice versa): one of the two dims is 1.
  Value* swap_last2(Value* v) {
    Ints d = v->type.shape.to_vector();
    while (d.size() < 2)
      d.insert(d.begin(), 1);
    std::swap(d[d.size() - 1], d[d.size() - 2]);
    return t_.reshape(v, d);
  }
  /// scale * prod(factors), a constant when there are no factors.
  Value* term(const std::vector<Value*>& fs, double scale) {
    Value* p = product(fs, scale);
    return p ? p : splat(scale);
  }
  Tentative& t() {
    return t_;
  }
  ir::DType dtype() const {
    return dt_;
  }

private:
  Tentative& t_;
  ir::DType dt_;
};

/// The kept value as prod(exp(exponents)) * prod(data) * scale.
struct Factors {
  Terms exps;
  std::vector<Value*> data;
  double scale = 1;
  bool has_exp = false;
};

/// Whether v is positive by construction (log v is defined): exp, sigmoid, softplus.
bool positive(const Value* v) {
  if (auto s = splat_value(v))
    return *s > 0;
  const Node* p = v->producer;
  return p && (p->op == OpKind::Exp || p->op == OpKind::Sigmoid || p->op == OpKind::Softplus);
}

bool factors(Builder& b, Value* v, const Domain& d, Factors& f, Why& why) {
  if (auto s = splat_value(v)) {
    f.scale *= *s;
    return true;
  }
  if (dep_of(v) != Dep::Both) {
    f.data.push_back(v);
    return true;
  }
  const Node* p = v->producer;
  if (p && p->op == OpKind::Exp) {
    f.has_exp = true;
    auto e = exponent(p->operand(0), d, why);
    if (!e)
      return false;
    f.exps.insert(f.exps.end(), e->begin(), e->end());
    return true;
  }
  if (p && p->op == OpKind::Pow && dep_of(p->operand(0)) != Dep::Both &&
      positive(p->operand(0))) {
    // beta^e = exp(e log beta) for a positive base (momentum's beta^(i-j+1), ETS's (1-a)^t).
    f.has_exp = true;
    auto e = exponent(p->operand(1), d, why);
    if (!e)
      return false;
    auto sb = splat_value(p->operand(0));
    Value* lb = sb ? nullptr : b.t().op(OpKind::Log, {p->operand(0)});
    for (Term& t : *e) {
      if (sb)
        t.scale *= std::log(*sb);
      else
        t.factors.push_back(lb);
      f.exps.push_back(std::move(t));
    }
    return true;
  }
  if (p && p->op == OpKind::Mul)
    return factors(b, p->operand(0), d, f, why) && factors(b, p->operand(1), d, f, why);
  if (p && p->op == OpKind::Neg) {
    f.scale = -f.scale;
    return factors(b, p->operand(0), d, f, why);
  }
  why.fail(fmt::format("kept value {} varies with both i and j", op_name(v)), false);
  return false;
}

/// A masked decay matrix: keeps `value` where j <= i - s; `diag` (nullable) on i == j when
/// the mask drops the diagonal.
struct Masked {
  int64_t s = 0;
  Value* value = nullptr;
  Value* diag = nullptr;
  /// Factors the masked matrix is multiplied by outside the mask (they scale the kept
  /// value and the diagonal alike).
  std::vector<Value*> outer;
  /// A low-rank factor A B (A [.., N, d], B [.., d, N]) multiplying the masked matrix:
  /// decayed causal linear attention (retention), run as a chunked scan.
  Value* lr_a = nullptr;
  Value* lr_b = nullptr;
  /// One term of a sum of decay terms (a term without a decay is fine then).
  bool in_sum = false;
};

/// D when `v` is select(i == j, D, 0) with D free of joint (i, j) dependence.
Value* diagonal_of(Value* v, int64_t n) {
  const Node* p = v->producer;
  if (!p || p->op != OpKind::Select || splat_value(p->operand(2)) != 0.0)
    return nullptr;
  const Node* e = p->operand(0)->producer;
  if (!e || e->op != OpKind::Eq || dep_of(p->operand(1)) == Dep::Both)
    return nullptr;
  auto a = attention::affine_of(e->operand(0), n, n);
  auto b = attention::affine_of(e->operand(1), n, n);
  if (!a || !b)
    return nullptr;
  double ci = a->ci - b->ci, cj = a->cj - b->cj, c = a->c - b->c;
  return (c == 0 && ci == -cj && ci != 0) ? p->operand(1) : nullptr;
}

std::optional<Masked> masked(Value* m, int64_t n) {
  const Node* p = m->producer;
  if (!p)
    return std::nullopt;
  if (p->op == OpKind::Mul) { // a masked matrix times a data factor (a gate g_j, a scale)
    for (int k = 0; k < 2; ++k)
      if (dep_of(p->operand(k)) != Dep::Both) {
        auto r = masked(p->operand(1 - k), n);
        if (r)
          r->outer.push_back(p->operand(k));
        return r;
      }
    // ... or times a product A B of rank d < N (Q K^T of retention).
    for (int k = 0; k < 2; ++k) {
      const Node* mm = p->operand(k)->producer;
      if (!mm || mm->op != OpKind::Matmul)
        continue;
      auto r = masked(p->operand(1 - k), n);
      if (!r || r->lr_a)
        return std::nullopt;
      r->lr_a = mm->operand(0);
      r->lr_b = mm->operand(1);
      return r;
    }
  }
  Masked r;
  if (p->op == OpKind::Tril) {
    r.s = -p->attrs.i64("k");
    r.value = p->operand(0);
  } else if (p->op == OpKind::Select) {
    auto h = attention::half_plane(p->operand(0), n, n);
    Value* other = nullptr;
    if (h && h->ci == -1 && h->cj == 1) { // j - i + c <= 0: keep j <= i - c
      r.s = static_cast<int64_t>(h->c);
      r.value = p->operand(1);
      other = p->operand(2);
    } else if (h && h->ci == 1 && h->cj == -1) { // i - j + c <= 0: else-branch keeps j < i + c
      r.s = static_cast<int64_t>(1 - h->c);
      r.value = p->operand(2);
      other = p->operand(1);
    } else {
      return std::nullopt;
    }
    if (splat_value(other) != 0.0) {
      r.diag = diagonal_of(other, n);
      if (!r.diag)
        return std::nullopt;
      if (r.s == 0) // the diagonal is kept: the other branch is never read
        r.diag = nullptr;
    }
  } else {
    return std::nullopt;
  }
  if (r.s < 0 || r.s >= n)
    return std::nullopt;
  return r;
}


/// The parts of a kept value: log a, and the row / column / constant exponents and data.
struct Parts {
  Value* log_a = nullptr; // [.., 1, 1], or [.., N, 1] for a time-varying decay
  bool time_varying = false;
  Value* row = nullptr; // multiplies the output rows (exp(R) * row data * constants)
  Value* col = nullptr; // multiplies the input rows (exp(F) * column data), as [.., 1, N]
};

/// sum of coef * prod(factors) with like terms (the same factors, in any order) merged:
/// RWKV's exp(w) from the constant of -w (i - 1 - j) cancels against a^s = exp(-w s).
struct LinSum {
  struct Part {
    std::vector<Value*> factors;
    double coef;
  };
  std::vector<Part> parts;
  void add(const std::vector<Value*>& fs, double coef) {
    for (Part& p : parts)
      if (std::is_permutation(p.factors.begin(), p.factors.end(), fs.begin(), fs.end())) {
        p.coef += coef;
        return;
      }
    parts.push_back({fs, coef});
  }
  Value* build(Builder& b) const {
    Value* v = nullptr;
    for (const Part& p : parts)
      if (p.coef != 0)
        v = b.add(v, b.term(p.factors, p.coef));
    return v;
  }
};

/// The dims of v's shape that are not 1, in order.
Ints non_unit(const Value* v) {
  Ints d;
  for (int64_t e : v->type.shape.to_vector())
    if (e != 1)
      d.push_back(e);
  return d;
}

/// Whether view node p maps its operand's non-unit dims to its result's in order (a
/// reshape or transpose that only inserts, removes or moves unit dims): then element
/// (.., i, ..) of the non-unit dims is the same element on both sides.
bool keeps_non_unit_order(const Node& p) {
  const Value* in = p.operand(0);
  const Value* out = p.result(0);
  if (non_unit(in) != non_unit(out))
    return false;
  if (p.op == OpKind::Reshape)
    return true; // row-major order of the non-unit dims is unchanged
  if (p.op != OpKind::Transpose)
    return false;
  const Ints& perm = p.attrs.i64_list("perm");
  int64_t last = -1;
  for (size_t k = 0; k < perm.size(); ++k)
    if (out->type.shape.dim(static_cast<int64_t>(k)) != 1) {
      if (perm[k] <= last)
        return false;
      last = perm[k];
    }
  return true;
}

/// v through reshapes and transposes that keep its non-unit dims in order.
const Value* strip_views(const Value* v) {
  while (v->producer && keeps_non_unit_order(*v->producer))
    v = v->producer->operand(0);
  return v;
}

/// Positions of v's non-unit dims when v is broadcast (right-aligned) to rank r.
Ints aligned_non_unit(const Value* v, int64_t r) {
  Ints pos;
  int64_t rv = v->type.shape.rank();
  for (int64_t d = 0; d < rv; ++d)
    if (v->type.shape.dim(d) != 1)
      pos.push_back(r - rv + d);
  return pos;
}

/// Whether row view `rv` ([.., N, 1]) and column view `cv` ([.., 1, N]) of one value put
/// each batch index at the same grid dim and its sequence index at i (rv) and j (cv).
bool transposed_views(const Value* rv, const Value* cv, int64_t r) {
  if (strip_views(rv) != strip_views(cv))
    return false;
  Ints pr = aligned_non_unit(rv, r), pc = aligned_non_unit(cv, r);
  if (pr.empty() || pr.size() != pc.size() || pr.back() != r - 2 || pc.back() != r - 1)
    return false;
  pr.pop_back();
  pc.pop_back();
  return pr == pc;
}

/// The operand x of an inclusive forward cumsum over the sequence (extent n, the last
/// non-unit dim) that `v` is a view of, else nullptr: L_i - L_j with L = cumsum(x) is the
/// sum of x over (j, i], a per-step (time-varying) log decay.
Value* cumsum_operand(const Value* v, int64_t n) {
  const Value* base = strip_views(v);
  const Node* p = base->producer;
  if (!p || p->op != OpKind::Cumsum || p->attrs.boolean("reverse") ||
      p->attrs.boolean("exclusive"))
    return nullptr;
  const ir::Shape& s = base->type.shape;
  auto axis = ir::normalize_axis(p->attrs.i64("axis"), s.rank());
  if (!axis || s.dim(*axis) != n)
    return nullptr;
  for (int64_t k = *axis + 1; k < s.rank(); ++k)
    if (s.dim(k) != 1)
      return nullptr;
  return p->operand(0);
}

Dep dep_of_all(const std::vector<Value*>& fs) {
  Dep d = Dep::None;
  for (Value* v : fs)
    d = join(d, dep_of(v));
  return d;
}

/// Splits the kept value into the decay a = exp(log a) and the factors of the output rows
/// (including a^s for a mask that skips s steps) and of the input rows.
std::optional<Parts> split(Builder& b, const Factors& f, int64_t s, int64_t rank, Why& why) {
  // Like terms first (w i - w j is one term w (i - j)), then each by what it varies with.
  struct Merged {
    std::vector<Value*> factors;
    double ci = 0, cj = 0, c = 0;
  };
  std::vector<Merged> terms;
  for (const Term& t : f.exps) {
    auto it = std::find_if(terms.begin(), terms.end(), [&](const Merged& m) {
      return std::is_permutation(m.factors.begin(), m.factors.end(), t.factors.begin(),
                                 t.factors.end());
    });
    if (it == terms.end())
      it = terms.insert(terms.end(), Merged{t.factors});
    it->ci += t.scale * t.ci;
    it->cj += t.scale * t.cj;
    it->c += t.scale * t.c;
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
        why.fail(fmt::format("exponent term {} i {} {} j is not a function of i - j", t.ci,
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
  p.time_varying = log_tv != nullptr;
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

/// The permutation that swaps a value's last two dims.
Ints last2_swapped(const Value* v) {
  Ints perm(static_cast<size_t>(v->type.shape.rank()));
  for (size_t k = 0; k < perm.size(); ++k)
    perm[k] = static_cast<int64_t>(k);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return perm;
}

/// The chunk of a chunked scan over N: 64, or the largest power of two below it that
/// divides N (>= 8); 0 when none does. Intra-chunk work grows with c and the carried
/// states shrink with it; 64 keeps the [c, c] blocks and the [d, dv] states about even
/// for the head sizes transformers use.
int64_t chunk_of(int64_t n) {
  for (int64_t c = 64; c >= 8; c /= 2)
    if (n % c == 0 && n > c)
      return c;
  return 0;
}

/// (A B ⊙ D) X with D the decay matrix a^(i-j) (j <= i), chunk c, as RetNet's chunkwise
/// form: inside a chunk the masked product (A_C B_C^T ⊙ D_c) X_C; across chunks the
/// states S_C = sum_v a^(c-1-v) B_v^T X_v carried by an exclusive linear_scan with decay
/// a^c and read as (A_C ⊙ a^(u+1)) H_C. `log_a` broadcasts like the matrix's batch dims.
Value* chunked_lowrank(Builder& b, const Node& at, Value* A, Value* Bt, Value* X, Value* log_a,
                       const ir::Shape& out, int64_t c, Why& why) {
  Tentative& t = b.t();
  int64_t r = out.rank(), n = out.dim(r - 2), dv = out.dim(r - 1);
  int64_t d = A->type.shape.dim(A->type.shape.rank() - 1);
  if (Bt->type.shape.dim(Bt->type.shape.rank() - 2) != d) {
    why.fail("low-rank factor shapes do not chain", true);
    return nullptr;
  }
  Ints batch = out.to_vector();
  batch.resize(static_cast<size_t>(r - 2));
  auto full = [&](Ints tail) {
    Ints s2 = batch;
    s2.insert(s2.end(), tail.begin(), tail.end());
    return s2;
  };
  auto bcast = [&](Value* v, Ints shape) {
    return v->type.shape.to_vector() == shape
               ? v
               : t.op(OpKind::BroadcastTo, {v}, {{"shape", shape}});
  };
  int64_t nc = n / c;
  Value* Bn = t.op(OpKind::Transpose, {Bt}, {{"perm", last2_swapped(Bt)}}); // [.., N, d]
  Value* Ac = t.reshape(bcast(A, full({n, d})), full({nc, c, d}));
  Value* Bc = t.reshape(bcast(Bn, full({n, d})), full({nc, c, d}));
  Value* Xc = t.reshape(bcast(X, full({n, dv})), full({nc, c, dv}));
  // log a with its batch dims, then [1, 1, 1] for (chunk, row, column).
  Ints la = log_a->type.shape.to_vector();
  la.resize(la.size() >= 2 ? la.size() - 2 : 0);
  la.insert(la.end(), {1, 1, 1});
  Value* l4 = t.reshape(log_a, la);
  ir::DType dt = b.dtype();
  Value* u = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{0}}, {"dtype", dt}});
  Value* v = t.op(OpKind::Iota, {}, {{"shape", Ints{c, c}}, {"axis", int64_t{1}}, {"dtype", dt}});
  Value* col = t.op(OpKind::Iota, {}, {{"shape", Ints{c, 1}}, {"axis", int64_t{0}}, {"dtype", dt}});
  // Intra-chunk: the masked decayed product of each chunk with itself.
  Value* dc = t.op(OpKind::Exp, {b.mul(l4, t.op(OpKind::Sub, {u, v}))});
  Value* dmask = t.op(OpKind::Select, {t.op(OpKind::Le, {v, u}), dc, b.splat(0.0)});
  Value* bct = t.op(OpKind::Transpose, {Bc}, {{"perm", last2_swapped(Bc)}});
  Value* intra = b.mul(t.op(OpKind::Matmul, {Ac, bct}), dmask);
  Value* y = t.op_before(at, OpKind::Matmul, {intra, Xc}, {}, std::string(kIntraChunk));
  // Chunk states S_C = (B_C ⊙ a^(c-1-v))^T X_C and their exclusive decayed prefix.
  Value* wv = t.op(OpKind::Exp, {b.mul(l4, b.add(b.mul(col, b.splat(-1.0)),
                                                   b.splat(static_cast<double>(c - 1))))});
  Value* kw = b.mul(Bc, wv);
  Value* st = t.op(OpKind::Matmul, {t.op(OpKind::Transpose, {kw}, {{"perm", last2_swapped(kw)}}),
                                    Xc}); // [.., nc, d, dv]
  int64_t ax = static_cast<int64_t>(batch.size()); // the chunk axis
  Ints lo(batch.size() + 3, 0), hi(lo), starts(lo);
  lo[static_cast<size_t>(ax)] = 1;
  Value* prev = t.op(OpKind::Slice, {t.op(OpKind::Pad, {st}, {{"low", lo}, {"high", hi}})},
                     {{"starts", starts}, {"ends", full({nc, d, dv})}});
  Value* ac = t.op(OpKind::Exp, {b.mul(l4, b.splat(static_cast<double>(c)))});
  Value* h = t.op(OpKind::LinearScan, {ac, prev}, {{"axis", ax}});
  // Inter-chunk: rows read the carried state decayed by a^(u+1).
  Value* qw = t.op(OpKind::Exp, {b.mul(l4, b.add(col, b.splat(1.0)))});
  y = b.add(y, t.op(OpKind::Matmul, {b.mul(Ac, qw), h}));
  return t.reshape(y, out.to_vector());
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
    if (parts->time_varying) {
      why.fail("a time-varying decay with a low-rank factor (not implemented)", true);
      return nullptr;
    }
    if (m.s != 0 || m.diag || (!parts->log_a && !m.in_sum)) {
      why.fail(m.s != 0 || m.diag ? "a strict mask with a low-rank factor (not implemented)"
                                  : "a low-rank factor without a decay (reassociate-matmul's)",
               m.s != 0 || m.diag);
      return nullptr;
    }
    int64_t c = chunk_of(n);
    if (c == 0) {
      why.fail(fmt::format("no chunk size in 8..64 divides N={}", n), true);
      return nullptr;
    }
    Value* xin = x ? x : t.op(OpKind::Full, {}, {{"shape", Ints{n, 1}}, {"value", 1.0},
                                                 {"dtype", b.dtype()}});
    Value* log_a = parts->log_a ? parts->log_a : b.splat(0.0); // a = 1 in a sum's term
    Value* y = chunked_lowrank(b, at, m.lr_a, m.lr_b, b.mul(col, xin), log_a, out, c, why);
    return b.mul(parts->row, y);
  }
  Value* in = x ? b.mul(col, x) : col;
  if (!in)
    in = t.op(OpKind::Full, {}, {{"shape", Ints{n, 1}}, {"value", 1.0}, {"dtype", b.dtype()}});
  if (in && in->type.shape != out)
    in = t.op(OpKind::BroadcastTo, {in}, {{"shape", out.to_vector()}});
  if (m.s > 0 && in) { // row i reads rows <= i - s: shift the input down by s
    Ints lo(static_cast<size_t>(r), 0), hi(static_cast<size_t>(r), 0), starts(lo);
    lo[static_cast<size_t>(r - 2)] = m.s;
    Value* padded = t.op(OpKind::Pad, {in}, {{"low", lo}, {"high", hi}});
    in = t.op(OpKind::Slice, {padded}, {{"starts", starts}, {"ends", out.to_vector()}});
  }
  Value* h = parts->log_a ? t.op(OpKind::LinearScan, {t.op(OpKind::Exp, {parts->log_a}), in},
                                 {{"axis", r - 2}})
                          : t.op(OpKind::Cumsum, {in}, {{"axis", r - 2}});
  Value* y = b.mul(parts->row, h);
  if (m.diag) {
    Value* dg = dep_of(m.diag) == Dep::Col ? b.swap_last2(m.diag) : m.diag;
    for (Value* o : m.outer) // on the diagonal a column factor is a row factor
      dg = b.mul(dg, dep_of(o) == Dep::Col ? b.swap_last2(o) : o);
    y = b.add(y, x ? b.mul(dg, x) : dg);
  }
  if (y && y->type.shape != out)
    y = t.op(OpKind::BroadcastTo, {y}, {{"shape", out.to_vector()}});
  return y;
}

} // namespace

namespace {

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
