// toeplitz_bias.cpp: store a fused attention's bias as a relative-position table when it
// depends on (query i, key j) only through j - i (R1 of issue 5: ALiBi, KERPLE, T5-style
// functions of the distance).
//
// Why: fuse-attention keeps the bias an operand of shape [.., N, M] — for ALiBi at N = 16k
// with 8 heads that is 8 GiB written by one kernel and read by the attention kernel (and
// its gradient as large again). When every element is f(j - i) the same values fit in a
// table T of N + M - 1 entries per head: the attention op reads bias_ij = T[j - i + N - 1]
// (bias_toeplitz), and its backward sums the diagonals into dT.
// How: the bias subgraph is proven Toeplitz bottom-up. A value is
//   free     when its two grid dims (the scores' last two) are 1 — per-head slopes,
//            parameters, scalars — and is reused as is;
//   Toeplitz when it is index arithmetic a i + b j + c with a = -b (mask_affine's affine
//            evaluation), an elementwise op / broadcast / leading-dim reshape of free
//            and Toeplitz values only, or take(x, idx) along x's last axis with a
//            Toeplitz idx (a learned table looked up by a bucketed distance: T5, DIET,
//            TUPE; x itself is never rebuilt).
// Anything else (data of shape [.., N, M], i alone, a reduction) keeps the materialised
// bias, with a missed remark naming it. The Toeplitz values are rebuilt on the 1-D domain
// t = j - i + N - 1 in [0, N + M - 1) (the index arithmetic as cj (t - N + 1) + c, every
// other op the same op on rebuilt operands): each table entry is computed by the very
// ops that computed the bias elements it stands for, so the values are bit-identical.
#include <map>

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

/// Rebuilds Toeplitz values on the 1-D domain; remembers the first obstacle.
class TableBuilder {
public:
  TableBuilder(Tentative& e, int64_t n, int64_t m) : e_(e), n_(n), m_(m), len_(n + m - 1) {}

  /// `v` over [.., 1, len] (free values as they are), or nullptr with why() set.
  Value* build(Value* v) {
    if (is_free(v))
      return v;
    auto it = memo_.find(v);
    if (it != memo_.end())
      return it->second;
    Value* r = build_uncached(v);
    memo_[v] = r;
    return r;
  }
  const std::string& why() const {
    return why_;
  }

private:
  Value* fail(std::string why) {
    if (why_.empty())
      why_ = std::move(why);
    return nullptr;
  }

  Value* scalar(double x, ir::DType t) {
    return e_.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}}, {"value", x}, {"dtype", t}});
  }

  /// cj (t - (N - 1)) + c over [.., 1, len] in v's dtype: the index expression ci i + cj j
  /// + c with ci = -cj.
  Value* index_expr(const Value* v, const attention::Affine& a) {
    ir::DType t = v->type.dtype;
    if (a.cj == 0)
      return scalar(a.c, t);
    std::vector<int64_t> shape = table_dims(v->type.shape.to_vector(), len_);
    int64_t axis = static_cast<int64_t>(shape.size()) - 1;
    Value* r = e_.op(OpKind::Iota, {}, {{"shape", shape}, {"axis", axis}, {"dtype", t}});
    if (a.cj != 1)
      r = e_.op(OpKind::Mul, {r, scalar(a.cj, t)});
    double c = a.c - a.cj * static_cast<double>(n_ - 1);
    if (c != 0)
      r = e_.op(OpKind::Add, {r, scalar(c, t)});
    return r;
  }

  Value* build_uncached(Value* v) {
    const Node* p = v->producer;
    if (auto a = attention::affine_of(v, n_, m_)) {
      if (a->ci != -a->cj)
        return fail(fmt::format("{} depends on the query and key indices as {:g} i + {:g} j, "
                                "not through j - i",
                                label(v), a->ci, a->cj));
      return index_expr(v, *a);
    }
    if (!p)
      return fail(fmt::format("{} {} is a graph input that varies over the scores' grid",
                              label(v), v->type.str()));
    const ir::OpDef& d = p->def();
    std::vector<Value*> ops;
    if (d.has(ir::kElementwise)) {
      for (Value* x : p->operands) {
        Value* b = build(x);
        if (!b)
          return nullptr;
        ops.push_back(b);
      }
      return e_.op(p->op, ops, p->attrs.items());
    }
    if (p->op == OpKind::Take) {
      Value* x = p->operand(0);
      auto axis = ir::normalize_axis(p->attrs.i64("axis"), x->type.shape.rank());
      if (!axis || *axis != x->type.shape.rank() - 1)
        return fail(fmt::format("{} looks up an axis other than the table's last", label(v)));
      Value* idx = build(p->operand(1));
      if (!idx)
        return nullptr;
      return e_.op(OpKind::Take, {x, idx}, p->attrs.items());
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
      Value* b = build(x);
      if (!b)
        return nullptr;
      std::vector<int64_t> target = table_dims(to.to_vector(), len_);
      if (p->op == OpKind::Reshape)
        return e_.reshape(b, target);
      if (b->type.shape.rank() > static_cast<int64_t>(target.size()))
        return fail("a broadcast to a lower rank");
      return e_.op(OpKind::BroadcastTo, {b}, {{"shape", target}});
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
  int64_t n_, m_, len_;
  std::map<Value*, Value*> memo_;
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
    Value* t = tb.build(bias);
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
