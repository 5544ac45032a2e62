// toeplitz_bias.cpp: store a fused attention's bias as a relative-position table when it
// depends on (query i, key j) only through j - i (R1 of issue 5: ALiBi, KERPLE, T5-style
// functions of the distance).
//
// Why: fuse-attention keeps the bias an operand of shape [.., N, M] — for ALiBi at N = 16k
// with 8 heads that is 8 GiB written by one kernel and read by the attention kernel (and
// its gradient as large again). When every element is f(j - i) the same values fit in a
// table T of N + M - 1 entries per head: the attention op reads bias_ij = T[j - i + N - 1]
// (bias_toeplitz), and its backward sums the diagonals into dT.
// How: the bias subgraph is re-run on the 1-D domain t = j - i + N - 1 in [0, N + M - 1)
// with i := N - 1 (a fill) and j := t (an iota), every other op the same op on rebuilt
// operands, while proving bottom-up that the result depends on (i, j) only through j - i:
//   free      values whose two grid dims (the scores' last two) are 1 — per-head slopes,
//             parameters, scalars — are reused as they are;
//   index     arithmetic ci i + cj j + c (add, sub, neg, mul by a splat, cast, fills
//             spanning the grid) is tracked symbolically and must be computed exactly:
//             integral in integer dtypes, dyadic coefficients and values within the
//             mantissa in f32 / f64 (f16 / bf16 indices are refused) — then its value at
//             (i, j) is the exact number, so (N - 1, t) reproduces every pair with the same
//             j - i; (j + 2^24) - (i + 2^24) in f32 is not, and is refused;
//   Toeplitz  index arithmetic with ci = -cj; a comparison of index values whose
//             difference is; any elementwise op, broadcast or leading-dim reshape of free
//             and Toeplitz values (truncating casts, logs, selects: deterministic functions
//             of exact inputs); take(x, idx) along x's last axis with a Toeplitz idx (a
//             learned table looked up by a bucketed distance: T5, DIET, TUPE).
// Anything else (data of shape [.., N, M], i alone, a reduction, inexact index arithmetic)
// keeps the materialised bias, with a missed remark naming it. Each table entry is thus
// computed by the same ops, on the same values, as the bias elements it stands for.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "ir/cost.h"
#include "ir/op_registry.h"
#include "passes/attention/mask_affine.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;

constexpr std::string_view kPass = "toeplitz-bias";

/// Extents of `v`'s grid dims (the last two, right-aligned against the scores; 1 when
/// absent).
std::pair<int64_t, int64_t> grid_extents(const Value* v) {
  const ir::Shape& s = v->type.shape;
  int64_t r = s.rank();
  return {r >= 2 ? s.dim(r - 2) : 1, r >= 1 ? s.dim(r - 1) : 1};
}

bool is_free(const Value* v) {
  auto [a, b] = grid_extents(v);
  return a == 1 && b == 1;
}

/// `dims` with the grid dims replaced by [1, len] (rank raised to 2 when lower).
std::vector<int64_t> table_dims(std::vector<int64_t> dims, int64_t len) {
  while (dims.size() < 2)
    dims.insert(dims.begin(), 1);
  dims[dims.size() - 2] = 1;
  dims.back() = len;
  return dims;
}

/// The value a splat holds at run time (its attribute converted to its dtype, as `cast`
/// does), for the exact dtypes the index analysis handles; nullopt otherwise.
std::optional<double> runtime_splat(const Value* v) {
  auto s = splat_value(v);
  if (!s || !std::isfinite(*s))
    return std::nullopt;
  switch (v->type.dtype) {
  case ir::DType::I32:
  case ir::DType::I64:
    return std::trunc(*s);
  case ir::DType::F32:
    return static_cast<double>(static_cast<float>(*s));
  case ir::DType::F64:
    return *s;
  default:
    return std::nullopt;
  }
}

/// Integers up to this magnitude are exact in `t` (0: not an index dtype).
double exact_limit(ir::DType t) {
  switch (t) {
  case ir::DType::I32:
    return 0x1p30;
  case ir::DType::I64:
    return 0x1p62;
  case ir::DType::F32:
    return 0x1p24;
  case ir::DType::F64:
    return 0x1p53;
  default:
    return 0;
  }
}

/// Index arithmetic over the grid: ci i + cj j + c, computed exactly. Dyadic coefficients
/// (multiples of 2^-f, f <= kMaxFrac) make every value a multiple of 2^-f, exact in a float
/// dtype while |value| 2^f stays below its exact limit (integral ones: f = 0, so f32 holds
/// i - j exactly up to 2^24, not 2^14).
constexpr int kMaxFrac = 10;

/// The fractional bits of x: the least f <= kMaxFrac with x 2^f integral, else -1.
int frac_bits(double x) {
  if (!std::isfinite(x) || std::abs(x) >= 0x1p40)
    return -1;
  for (int f = 0; f <= kMaxFrac; ++f)
    if (std::ldexp(x, f) == std::floor(std::ldexp(x, f)))
      return f;
  return -1;
}

/// What a rebuilt value is: a free value, exact index arithmetic, or a value that depends
/// on (i, j) only through j - i.
struct Built {
  Value* v = nullptr;
  bool index = false;       ///< exact affine index arithmetic (a below)
  attention::Affine a;      ///< when index
};

/// Rebuilds the bias on the 1-D domain t = j - i + N - 1 by re-running its ops with
/// i := N - 1 and j := t (index values stay exact, so every table entry equals the bias
/// elements it stands for); remembers the first obstacle.
class TableBuilder {
public:
  TableBuilder(Tentative& e, int64_t n, int64_t m) : e_(e), n_(n), len_(n + m - 1) {}

  /// `v` over [.., 1, len] (free values as they are); nullopt with why() set.
  std::optional<Built> build(Value* v) {
    if (is_free(v))
      return Built{v, false, {}};
    auto it = memo_.find(v);
    if (it != memo_.end())
      return it->second;
    std::optional<Built> r = build_uncached(v);
    memo_[v] = r;
    return r;
  }
  const std::string& why() const {
    return why_;
  }
  /// Whether b's values depend on (i, j) only through j - i.
  static bool toeplitz(const Built& b) {
    return !b.index || b.a.ci == -b.a.cj;
  }

private:
  std::optional<Built> fail(std::string why) {
    if (why_.empty())
      why_ = std::move(why);
    return std::nullopt;
  }

  /// Largest |ci i + cj j + c| over i < N, j < N + M - 1 (the rebuilt domain).
  double bound(const attention::Affine& a) const {
    return std::abs(a.ci) * static_cast<double>(n_ - 1) +
           std::abs(a.cj) * static_cast<double>(len_ - 1) + std::abs(a.c);
  }
  /// Whether ci i + cj j + c is computed exactly in dtype t.
  bool exact(const attention::Affine& a, ir::DType t) const {
    int fi = frac_bits(a.ci), fj = frac_bits(a.cj), fc = frac_bits(a.c);
    if (fi < 0 || fj < 0 || fc < 0)
      return false;
    int f = std::max({fi, fj, fc});
    if (ir::is_float(t))
      return std::ldexp(bound(a), f) < exact_limit(t);
    return f == 0 && bound(a) < exact_limit(t);
  }

  std::optional<Built> not_toeplitz(const Value* v, const attention::Affine& a) {
    return fail(fmt::format("{} depends on the query and key indices as {:g} i + {:g} j, not "
                            "through j - i",
                            label(v), a.ci, a.cj));
  }

  /// iota over the grid: i -> N - 1 (a [.., 1, 1] fill), j -> t (an iota over [.., 1, len]).
  std::optional<Built> iota(Value* v, const Node& p) {
    int64_t r = v->type.shape.rank();
    auto axis = ir::normalize_axis(p.attrs.i64("axis"), r);
    if (!axis || *axis < r - 2)
      return fail(fmt::format("{} counts along a batch or head axis", label(v)));
    ir::DType t = v->type.dtype;
    if (exact_limit(t) == 0)
      return fail(fmt::format("{} is an iota of {}", label(v), ir::dtype_name(t)));
    std::vector<int64_t> shape = table_dims(v->type.shape.to_vector(), len_);
    bool is_j = *axis == r - 1 && v->type.shape.dim(r - 1) > 1;
    bool is_i = *axis == r - 2 && v->type.shape.dim(r - 2) > 1;
    if (is_j)
      return Built{e_.op(OpKind::Iota, {}, {{"shape", shape}, {"axis", r - 1}, {"dtype", t}}),
                   true, attention::Affine{0, 1, 0}};
    shape.back() = 1;
    double value = is_i ? static_cast<double>(n_ - 1) : 0.0;
    return Built{e_.op(OpKind::Full, {}, {{"shape", shape}, {"value", value}, {"dtype", t}}),
                 true, attention::Affine{is_i ? 1.0 : 0.0, 0, 0}};
  }

  /// add / sub / neg / mul by a splat / cast of index arithmetic: the affine form (the
  /// caller checks that the result dtype computes it exactly); nullopt when the op is not
  /// affine in its index operands.
  std::optional<attention::Affine> affine(const Node& p, const std::vector<Built>& ops) {
    auto form = [&](int k) -> std::optional<attention::Affine> {
      if (ops[static_cast<size_t>(k)].index)
        return ops[static_cast<size_t>(k)].a;
      if (auto s = runtime_splat(p.operand(k)))
        return attention::Affine{0, 0, *s};
      return std::nullopt;
    };
    auto sum = [](attention::Affine x, attention::Affine y, double sy) {
      return attention::Affine{x.ci + sy * y.ci, x.cj + sy * y.cj, x.c + sy * y.c};
    };
    switch (p.op) {
    case OpKind::Add:
    case OpKind::Sub: {
      auto x = form(0), y = form(1);
      if (!x || !y)
        return std::nullopt;
      return sum(*x, *y, p.op == OpKind::Add ? 1.0 : -1.0);
    }
    case OpKind::Neg:
      return sum(attention::Affine{}, ops[0].a, -1.0);
    case OpKind::Mul:
      for (int k = 0; k < 2; ++k)
        if (ops[static_cast<size_t>(k)].index && !ops[static_cast<size_t>(1 - k)].index)
          if (auto s = runtime_splat(p.operand(1 - k)); s && frac_bits(*s) >= 0)
            return sum(attention::Affine{}, ops[static_cast<size_t>(k)].a, *s);
      return std::nullopt;
    case OpKind::Cast: // the same number, if the result dtype holds it exactly (checked)
      return ops[0].a;
    default:
      return std::nullopt;
    }
  }

  std::optional<Built> build_uncached(Value* v) {
    const Node* p = v->producer;
    if (!p)
      return fail(fmt::format("{} {} is a graph input that varies over the scores' grid",
                              label(v), v->type.str()));
    if (p->op == OpKind::Iota)
      return iota(v, *p);
    if (auto s = runtime_splat(v)) // a fill spanning the grid: the same fill over the table
      return Built{e_.op(OpKind::Full, {},
                         {{"shape", table_dims(v->type.shape.to_vector(), len_)},
                          {"value", *s},
                          {"dtype", v->type.dtype}}),
                   true, attention::Affine{0, 0, *s}};
    const ir::OpDef& d = p->def();
    std::vector<Built> ops;
    std::vector<Value*> vals;
    if (d.has(ir::kElementwise)) {
      bool any_index = false;
      for (Value* x : p->operands) {
        auto b = build(x);
        if (!b)
          return std::nullopt;
        any_index = any_index || b->index;
        ops.push_back(*b);
        vals.push_back(b->v);
      }
      Value* r = e_.op(p->op, vals, p->attrs.items());
      if (any_index)
        if (auto a = affine(*p, ops)) {
          if (exact(*a, v->type.dtype))
            return Built{r, true, *a};
          if (a->ci != -a->cj)
            return fail(fmt::format("{} is index arithmetic that {} does not compute exactly "
                                    "(values up to {:g})",
                                    label(v), ir::dtype_name(v->type.dtype), bound(*a)));
        }
      // A comparison of exact index values depends on their difference only.
      bool compare = p->op == OpKind::Lt || p->op == OpKind::Le || p->op == OpKind::Gt ||
                     p->op == OpKind::Ge || p->op == OpKind::Eq || p->op == OpKind::Ne;
      if (compare && ops[0].index && ops[1].index &&
          ops[0].a.ci - ops[1].a.ci == -(ops[0].a.cj - ops[1].a.cj))
        return Built{r, false, {}};
      // Any other op of exact values that each depend on j - i only: so does its result.
      for (size_t k = 0; k < ops.size(); ++k)
        if (!toeplitz(ops[k]))
          return not_toeplitz(p->operand(static_cast<int>(k)), ops[k].a);
      return Built{r, false, {}};
    }
    if (p->op == OpKind::Take) {
      Value* x = p->operand(0);
      auto axis = ir::normalize_axis(p->attrs.i64("axis"), x->type.shape.rank());
      if (!axis || *axis != x->type.shape.rank() - 1)
        return fail(fmt::format("{} looks up an axis other than the table's last", label(v)));
      auto idx = build(p->operand(1));
      if (!idx)
        return std::nullopt;
      if (!toeplitz(*idx))
        return not_toeplitz(p->operand(1), idx->a);
      return Built{e_.op(OpKind::Take, {x, idx->v}, p->attrs.items()), false, {}};
    }
    if (p->op == OpKind::BroadcastTo || p->op == OpKind::Reshape) {
      Value* x = p->operand(0);
      const ir::Shape& from = x->type.shape;
      const ir::Shape& to = v->type.shape;
      auto [xn, xm] = grid_extents(x);
      auto [vn, vm] = grid_extents(v);
      bool grid_kept = p->op == OpKind::BroadcastTo
                           ? (xn == vn || xn == 1) && (xm == vm || xm == 1)
                           : from.rank() >= 2 && to.rank() >= 2 && xn == vn && xm == vm;
      if (!grid_kept)
        return fail(fmt::format("{} {} -> {} moves the scores' grid dims", p->def().name,
                                from.str(), to.str()));
      auto b = build(x);
      if (!b)
        return std::nullopt;
      std::vector<int64_t> target = table_dims(to.to_vector(), len_);
      std::vector<int64_t> have = b->v->type.shape.to_vector();
      if (p->op == OpKind::BroadcastTo) {
        if (have.size() > target.size())
          return fail("a broadcast to a lower rank");
        // A fill or i over [.., 1, 1] keeps its extents where the target has the table's.
        size_t off = target.size() - have.size();
        for (size_t k = 0; k < have.size(); ++k)
          if (have[k] == 1 && k + off >= target.size() - 2)
            target[k + off] = 1;
        Built r = *b;
        r.v = e_.op(OpKind::BroadcastTo, {b->v}, {{"shape", target}});
        return r;
      }
      if (have.size() >= 2 && have.back() == 1)
        target.back() = 1; // a [.., 1, 1] value stays one
      Built r = *b;
      r.v = e_.reshape(b->v, target);
      return r;
    }
    return fail(fmt::format("{} ({}) is not elementwise index arithmetic", label(v), d.name));
  }

  static std::string label(const Value* v) {
    const Node* p = v->producer;
    if (p && !p->scoped_name().empty())
      return fmt::format("'{}'", p->scoped_name());
    return p ? fmt::format("a {}", p->def().name) : std::string("an input");
  }

  Tentative& e_;
  int64_t n_, len_;
  std::map<Value*, std::optional<Built>> memo_;
  std::string why_;
};

class ToeplitzBias final : public RewritePattern {
public:
  std::string_view name() const override {
    return "table";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Attention;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    Node& att = ctx.root();
    const ir::AttrDict& a = att.attrs;
    if (!a.boolean("has_bias") || a.boolean("bias_toeplitz"))
      return Outcome::no_match();
    Value* bias = att.operand(3);
    const ir::Shape& q = att.operand(0)->type.shape;
    int64_t r = q.rank(), n = q.dim(r - 2), m = att.operand(1)->type.shape.dim(r - 2);
    auto [bn, bm] = grid_extents(bias);
    if (bn == 1 || bm == 1) // already O(N + M) per head: nothing to gain
      return Outcome::no_match();
    Tentative e(ctx.graph(), att);
    TableBuilder tb(e, n, m);
    std::optional<Built> built = tb.build(bias);
    if (built && !TableBuilder::toeplitz(*built)) {
      e.discard();
      return Outcome::missed(fmt::format("bias {} kept materialised: it depends on the query "
                                         "and key indices as {:g} i + {:g} j, not through j - i",
                                         bias->type.str(), built->a.ci, built->a.cj));
    }
    Value* t = built ? built->v : nullptr;
    if (!t || e.failed()) {
      std::string why = t ? e.error() : tb.why();
      e.discard();
      return Outcome::missed(fmt::format("bias {} kept materialised: {}", bias->type.str(), why));
    }
    // [.., 1, len] -> [.., len]: the table the op reads along diagonals.
    std::vector<int64_t> td = table_dims(t->type.shape.to_vector(), n + m - 1);
    if (!(t->type.shape == ir::Shape(td)))
      t = e.op(OpKind::BroadcastTo, {t}, {{"shape", td}});
    td.erase(td.end() - 2);
    t = e.reshape(t, td);
    ir::AttrList attrs(a.items().begin(), a.items().end());
    for (auto& [k, v] : attrs)
      if (k == "bias_toeplitz")
        v = ir::Attr(true);
    std::vector<Value*> ops = att.operands;
    ops[3] = t;
    Value* o = t ? e.op(OpKind::Attention, ops, attrs) : nullptr;
    if (!o || e.failed()) {
      std::string err = e.error();
      e.discard();
      return Outcome::missed("the table form is rejected: " + err);
    }
    ctx.replace(att.result(0), o);
    ctx.replace(att.result(1), o->producer->result(1));
    return Outcome::applied(fmt::format(
        "bias {} ({}) read from a relative-position table {} ({})", bias->type.str(),
        ir::format_bytes(static_cast<double>(bias->type.bytes())), t->type.str(),
        ir::format_bytes(static_cast<double>(t->type.bytes()))));
  }
};

} // namespace

std::unique_ptr<Pass> create_toeplitz_bias() {
  PatternList patterns;
  patterns.push_back(std::make_unique<ToeplitzBias>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
