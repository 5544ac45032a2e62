// mask_affine.cpp: affine evaluation of index subgraphs and mask classification.
#include "passes/attention/mask_affine.h"

#include <algorithm>
#include <cmath>

#include "passes/pattern.h"

namespace tevo::passes::attention {

namespace {

using ir::OpKind;
using ir::Value;

/// Which grid axis a dim of a value broadcast against [N, M] is: 0 = i, 1 = j, -1 = a
/// leading (batch/head) dim. `d` counts from the left of a rank-r shape.
int grid_axis(int64_t d, int64_t r) {
  if (d == r - 1)
    return 1;
  if (d == r - 2)
    return 0;
  return -1;
}

/// Whether `v`'s shape only spans the grid: leading dims are 1, the last two are 1 or
/// the grid extent.
bool spans_grid(const Value* v, int64_t n, int64_t m) {
  const ir::Shape& s = v->type.shape;
  int64_t r = s.rank();
  for (int64_t d = 0; d < r; ++d) {
    int ax = grid_axis(d, r);
    int64_t e = s.dim(d);
    if (ax < 0 ? e != 1 : (e != 1 && e != (ax == 0 ? n : m)))
      return false;
  }
  return true;
}

bool is_integral(double x) {
  return std::floor(x) == x && std::abs(x) < 9.0e15;
}

std::optional<Affine> combine(std::optional<Affine> a, std::optional<Affine> b, double sb) {
  if (!a || !b)
    return std::nullopt;
  return Affine{a->ci + sb * b->ci, a->cj + sb * b->cj, a->c + sb * b->c};
}

} // namespace

std::optional<Affine> affine_of(const Value* v, int64_t n, int64_t m) {
  if (auto s = splat_value(v))
    return Affine{0, 0, *s};
  const ir::Node* p = v->producer;
  if (!p || !spans_grid(v, n, m))
    return std::nullopt;
  switch (p->op) {
  case OpKind::Iota: {
    int64_t r = v->type.shape.rank();
    auto a = ir::normalize_axis(p->attrs.i64("axis"), r);
    if (!a)
      return std::nullopt;
    int ax = grid_axis(*a, r);
    if (ax < 0 || v->type.shape.dim(*a) == 1)
      return ax < 0 ? std::nullopt : std::optional<Affine>(Affine{0, 0, 0});
    return ax == 0 ? Affine{1, 0, 0} : Affine{0, 1, 0};
  }
  case OpKind::Add:
    return combine(affine_of(p->operand(0), n, m), affine_of(p->operand(1), n, m), 1.0);
  case OpKind::Sub:
    return combine(affine_of(p->operand(0), n, m), affine_of(p->operand(1), n, m), -1.0);
  case OpKind::Neg:
    return combine(Affine{}, affine_of(p->operand(0), n, m), -1.0);
  case OpKind::Mul: {
    for (int k = 0; k < 2; ++k)
      if (auto s = splat_value(p->operand(k)))
        return combine(Affine{}, affine_of(p->operand(1 - k), n, m), *s);
    return std::nullopt;
  }
  case OpKind::Cast:
  case OpKind::BroadcastTo:
    // Index values are small integers: exact in every numeric dtype the grid needs.
    if (ir::is_complex(v->type.dtype) || v->type.dtype == ir::DType::Bool)
      return std::nullopt;
    return affine_of(p->operand(0), n, m);
  default:
    return std::nullopt;
  }
}

std::optional<Affine> half_plane(const Value* pred, int64_t n, int64_t m) {
  const ir::Node* p = pred->producer;
  if (!p || !spans_grid(pred, n, m))
    return std::nullopt;
  bool swap = false, strict = false;
  switch (p->op) {
  case OpKind::Le:
    break;
  case OpKind::Lt:
    strict = true;
    break;
  case OpKind::Ge:
    swap = true;
    break;
  case OpKind::Gt:
    swap = strict = true;
    break;
  default:
    return std::nullopt;
  }
  auto a = affine_of(p->operand(swap ? 1 : 0), n, m);
  auto b = affine_of(p->operand(swap ? 0 : 1), n, m);
  auto d = combine(a, b, -1.0); // a - b <= 0  (or < 0)
  if (!d || !is_integral(d->ci) || !is_integral(d->cj) || !is_integral(d->c))
    return std::nullopt;
  if (strict)
    d->c += 1.0;
  return d;
}

namespace {

void conjuncts(Value* v, std::vector<Value*>& out) {
  const ir::Node* p = v->producer;
  if (p && p->op == OpKind::LogicalAnd) {
    conjuncts(p->operand(0), out);
    conjuncts(p->operand(1), out);
    return;
  }
  out.push_back(v);
}

} // namespace

MaskInfo classify_keep(Value* keep, int64_t n, int64_t m) {
  MaskInfo info;
  std::vector<Value*> parts;
  conjuncts(keep, parts);
  // Bounds j <= i + upper and j >= i + lower from half-planes with ci = -cj = +-1.
  std::optional<double> upper, lower;
  std::vector<Value*> structural;
  for (Value* c : parts) {
    auto h = half_plane(c, n, m);
    if (h && h->ci == -1 && h->cj == 1) { // j - i + c <= 0  ->  j <= i - c
      upper = upper ? std::min(*upper, -h->c) : -h->c;
      structural.push_back(c);
    } else if (h && h->ci == 1 && h->cj == -1) { // i - j + c <= 0  ->  j >= i + c
      lower = lower ? std::max(*lower, h->c) : h->c;
      structural.push_back(c);
    } else {
      info.residual.push_back(c);
    }
  }
  double off = static_cast<double>(m - n);
  bool ok = upper && *upper == off && (!lower || *lower <= off);
  if (!ok) { // not the op's convention: keep every conjunct materialised
    info.residual = parts;
    return info;
  }
  if (lower) {
    info.kind = "sliding";
    info.window = static_cast<int64_t>(off - *lower) + 1;
  } else {
    info.kind = "causal";
  }
  return info;
}

} // namespace tevo::passes::attention
