// decay_form.cpp: recognising masked decay matrices (see decay_form.h and the decay-scan
// pass for the forms): the mask, the kept value's exponents and factors, the diagonal.
#include "passes/decay/decay_form.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "passes/attention/mask_affine.h"
#include "passes/pattern.h"

namespace tevo::passes::decay {

namespace {

using attention::Affine;

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
  if (p && (p->op == OpKind::Relu || p->op == OpKind::Abs)) {
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



/// Whether v is positive by construction (log v is defined): exp, sigmoid, softplus.
bool positive(const Value* v) {
  if (auto s = splat_value(v))
    return *s > 0;
  const Node* p = v->producer;
  return p && (p->op == OpKind::Exp || p->op == OpKind::Sigmoid || p->op == OpKind::Softplus);
}

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

/// Positions of v's non-unit dims when v is broadcast (right-aligned) to rank r.
Ints aligned_non_unit(const Value* v, int64_t r) {
  Ints pos;
  int64_t rv = v->type.shape.rank();
  for (int64_t d = 0; d < rv; ++d)
    if (v->type.shape.dim(d) != 1)
      pos.push_back(r - rv + d);
  return pos;
}

} // namespace

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

/// The dims of v's shape that are not 1, in order.
Ints non_unit(const Value* v) {
  Ints d;
  for (int64_t e : v->type.shape.to_vector())
    if (e != 1)
      d.push_back(e);
  return d;
}

/// v through reshapes and transposes that keep its non-unit dims in order.
const Value* strip_views(const Value* v) {
  while (v->producer && keeps_non_unit_order(*v->producer))
    v = v->producer->operand(0);
  return v;
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

} // namespace tevo::passes::decay
