// reassociate_matmul.cpp: matmul-chain reassociation by cost (R2 of issue 5).
//
// Why: (A B) C and A (B C) compute the same thing at very different costs. Linear
// attention written the way papers write it, (phi(Q) phi(K)^T / rowsum) V, is the left
// product: O(N^2 m) work and an N x N tensor. The right product phi(Q) (phi(K)^T V) is
// O(N m d) with nothing N x N. Which is cheaper depends on N against the feature width,
// so the choice is made per graph by the cost model (ir/cost.h), in both directions.
//
// Patterns:
//  - right-product, rooted at the inner product S = matmul(A, B). Every use of S must
//    reach, through row scalings only (x * r, x / r, -x, with r constant along the last
//    axis: the normaliser 1/rowsum, a scalar temperature), either the left operand of a
//    matmul (-> A (B C)) or a sum/mean over the last axis (-> A sum(B): the normaliser).
//    The scalings apply to A when A is no larger than the result (rows of A are rows of
//    S: phi(Q), the normaliser and the division fuse into one kernel), else to the
//    result. Then S and everything N x N is dead after the rewrite.
//    The normaliser is A sum(B) on its own, not a ones column appended to C (one product
//    A (B [C | 1]) sliced into numerator and denominator): a width of d + 1 misaligns both
//    products and every row of the elementwise kernels around them (measured ~25% slower
//    at N = 16k, d = 64), and sum(B) over a transposed B is a column sum that canonicalize
//    turns into a contiguous reduction fused with phi(K). Anything else between the
//    matmuls (a softmax, a norm, a causal mask) makes the rewrite illegal; a missed remark
//    names it when the right product would have been cheaper.
//  - left-product, rooted at matmul(A, T) with T = matmul(B, C) used once: back to
//    (A B) C when that is cheaper (short sequences).
// Both compare the roofline time estimate of exactly the nodes each form has, priced by
// the ops' cost hooks; ties keep the graph as written, so the two patterns never undo
// each other.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ir/cost.h"
#include "ir/op_registry.h"
#include "ir/shape.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;

constexpr std::string_view kPass = "reassociate-matmul";
/// Name of the masked product inside a chunked scan's chunks (never rewritten again).
constexpr std::string_view kIntraChunk = "intra_chunk";

// ---- analysis of the uses of S ----

/// One row scaling on the way from S to a use: the node and which operand is the chain.
struct Scaling {
  Node* node;
  int chain;
};

/// A terminal use of S reached through row scalings (inner to outer).
struct ChainUse {
  enum class Kind { Matmul, Sum, Mean } kind;
  Node* node;
  std::vector<Scaling> scalings;
  bool causal = false; ///< a tril (k = 0) of the square product sits on the chain
};

struct Analysis {
  std::vector<ChainUse> uses;
  std::vector<Node*> scalings; ///< every distinct row-scaling node
  std::string blocker;         ///< why the rewrite is illegal ("" when legal)
  std::unordered_set<const Node*> looked_past; ///< blockers explored beyond
};

/// Whether `r`, combined elementwise with x, scales whole rows of x: constant along
/// x's last axis and not broadcasting x to a larger shape.
bool row_constant(const Value& r, const Value& x, const Value& result) {
  if (!(result.type == x.type) || r.type.dtype != x.type.dtype)
    return false;
  const ir::Shape& s = r.type.shape;
  return s.rank() == 0 || s.dim(s.rank() - 1) == 1;
}

/// Whether node u, using v as operand `idx`, is a row scaling of v.
bool is_row_scaling(const Node& u, int idx) {
  const Value& v = *u.operand(idx);
  switch (u.op) {
  case OpKind::Neg:
    return true;
  case OpKind::Mul:
    return row_constant(*u.operand(1 - idx), v, *u.result(0));
  case OpKind::Div:
    return idx == 0 && row_constant(*u.operand(1), v, *u.result(0));
  default:
    return false;
  }
}

bool reduces_last_axis(const Node& u) {
  if (u.op != OpKind::Sum && u.op != OpKind::Mean)
    return false;
  int64_t rank = u.operand(0)->type.shape.rank();
  const auto& axes = u.attrs.i64_list("axes");
  if (axes.size() != 1)
    return false;
  auto a = ir::normalize_axis(axes[0], rank);
  return a && *a == rank - 1;
}

std::string blocker_text(const Node& u) {
  switch (u.op) {
  case OpKind::Tril:
  case OpKind::Triu:
    return fmt::format("a {} mask other than one causal tril (k = 0) of a square product, "
                       "between the matmuls, makes the right product illegal",
                       u.def().name);
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Select:
    return fmt::format("{} by a value that is not constant along rows, between the matmuls, "
                       "makes the right product illegal",
                       u.def().name);
  default:
    return fmt::format("{} between the matmuls makes the right product illegal", u.def().name);
  }
}

/// tril(x) with k = 0 over a square product: the causal mask of linear attention.
bool is_causal_tril(const Node& u) {
  if (u.op != OpKind::Tril || u.attrs.i64("k") != 0)
    return false;
  const ir::Shape& s = u.result(0)->type.shape;
  return s.rank() >= 2 && s.dim(s.rank() - 1) == s.dim(s.rank() - 2);
}

void explore(Value* v, std::vector<Scaling> chain, const UseInfo& uses, Analysis& a,
             bool causal = false) {
  if (uses.is_output(v) && a.blocker.empty())
    a.blocker = "the product is a graph output, so it stays materialised";
  for (const UseInfo::Use& u : uses.uses(v)) {
    Node& n = *u.node;
    if (is_row_scaling(n, u.operand)) {
      if (std::find(a.scalings.begin(), a.scalings.end(), &n) == a.scalings.end())
        a.scalings.push_back(&n);
      std::vector<Scaling> next = chain;
      next.push_back({&n, u.operand});
      explore(n.result(0), std::move(next), uses, a, causal);
    } else if (is_causal_tril(n) && !causal) {
      // Row scalings commute with the mask; the uses below it take the chunked-scan form.
      a.scalings.push_back(&n);
      explore(n.result(0), chain, uses, a, true);
    } else if (n.op == OpKind::Matmul && u.operand == 0) {
      a.uses.push_back({ChainUse::Kind::Matmul, &n, chain, causal});
    } else if (n.op == OpKind::Sum && reduces_last_axis(n)) {
      a.uses.push_back({ChainUse::Kind::Sum, &n, chain, causal});
    } else if (n.op == OpKind::Mean && reduces_last_axis(n) && !causal) {
      a.uses.push_back({ChainUse::Kind::Mean, &n, chain, causal});
    } else {
      if (a.blocker.empty())
        a.blocker = blocker_text(n);
      // Look past a shape-preserving blocker for a product it stands in front of, so
      // the remark can say what the rewrite would have saved (a near-match).
      if (n.num_results() == 1 && n.result(0)->type.shape == v->type.shape &&
          a.looked_past.insert(&n).second)
        explore(n.result(0), chain, uses, a, causal);
    }
  }
}

// ---- building and pricing ----

/// Re-applies `scalings` (inner to outer) to `x`, each operand other than the chain
/// value mapped through `subst`.
Value* rescale(Tentative& t, const Node& before, Value* x, const std::vector<Scaling>& scalings,
               const std::unordered_map<const Value*, Value*>& subst) {
  for (const Scaling& sc : scalings) {
    if (!x)
      return nullptr;
    const Node& s = *sc.node;
    std::vector<Value*> ops;
    if (s.op == OpKind::Neg) {
      ops = {x};
    } else {
      Value* other = s.operand(1 - sc.chain);
      auto it = subst.find(other);
      if (it != subst.end())
        other = it->second;
      ops = sc.chain == 0 ? std::vector<Value*>{x, other} : std::vector<Value*>{other, x};
    }
    x = t.op_before(before, s.op, std::move(ops), {});
  }
  return x;
}

/// Whether every scaling in `scalings` applied to `a` (in place of the product) keeps a's
/// type: its other operand broadcasts against a without growing it.
bool scales_in_place(const std::vector<Scaling>& scalings, const Value* a,
                     const std::unordered_map<const Value*, Value*>& subst) {
  for (const Scaling& sc : scalings) {
    if (sc.node->op == OpKind::Neg)
      continue;
    const Value* other = sc.node->operand(1 - sc.chain);
    auto it = subst.find(other);
    if (it != subst.end())
      other = it->second;
    auto b = ir::broadcast_shapes(other->type.shape, a->type.shape);
    if (!b || !(*b == a->type.shape) || other->type.dtype != a->type.dtype)
      return false;
  }
  return true;
}

/// A (B C) scaled by `scalings`: the row scalings move onto A when A is no larger than
/// the result (rows of A are rows of the product), else they scale the result. On A they
/// fuse with A's producer and the normaliser in one loop group (phi(Q), its row sums and
/// the division in one pass over Q), and the product's result needs no pass of its own.
Value* scaled_left(Tentative& t, const Node& U, Value* A, const std::vector<Scaling>& scalings,
                   const std::unordered_map<const Value*, Value*>& subst) {
  if (scalings.empty() || A->type.numel() > U.result(0)->type.numel() ||
      !scales_in_place(scalings, A, subst))
    return nullptr;
  return rescale(t, U, A, scalings, subst);
}

// ---- the causal (tril-masked) forms ----

/// Batch dims shared by every operand, or nullopt (the chunked forms reshape them).
std::optional<std::vector<int64_t>> common_batch(std::initializer_list<const Value*> vs) {
  std::optional<std::vector<int64_t>> b;
  for (const Value* v : vs) {
    auto d = v->type.shape.to_vector();
    std::vector<int64_t> head(d.begin(), d.end() - 2);
    if (b && *b != head)
      return std::nullopt;
    b = head;
  }
  return b;
}

/// tril(A B) C as a chunked scan with chunk c (N % c == 0): inside a chunk the masked
/// left product, across chunks the exclusive prefix sum of the chunks' B C states.
/// O(N c (m + d) + N m d) work, nothing N x N.
Value* chunked_causal_product(Tentative& t, const Node& at, Value* A, Value* B, Value* C,
                              int64_t c) {
  auto batch = common_batch({A, B, C});
  if (!batch || c <= 0) {
    t.fail("the causal operands do not share their batch dims");
    return nullptr;
  }
  const ir::Shape& as = A->type.shape;
  int64_t r = as.rank(), n = as.dim(r - 2), m = as.dim(r - 1);
  int64_t d = C->type.shape.dim(r - 1), nc = n / c;
  auto with = [&](std::initializer_list<int64_t> tail) {
    std::vector<int64_t> v = *batch;
    v.insert(v.end(), tail);
    return v;
  };
  Value* bt = t.op_before(at, OpKind::Transpose, {B}, {{"perm", ir::swap_last_two_perm(r)}});
  Value* ac = t.op_before(at, OpKind::Reshape, {A}, {{"shape", with({nc, c, m})}});
  Value* kc = t.op_before(at, OpKind::Reshape, {bt}, {{"shape", with({nc, c, m})}});
  Value* kct = t.op_before(at, OpKind::Transpose, {kc}, {{"perm", ir::swap_last_two_perm(r + 1)}});
  Value* cc = t.op_before(at, OpKind::Reshape, {C}, {{"shape", with({nc, c, d})}});
  // Named so that this pass leaves it alone: it is already the scan's intra-chunk part.
  Value* sc = t.op_before(at, OpKind::Matmul, {ac, kct}, {}, std::string(kIntraChunk));
  Value* lc = t.op_before(at, OpKind::Tril, {sc});
  Value* intra = t.op_before(at, OpKind::Matmul, {lc, cc});
  Value* kv = t.op_before(at, OpKind::Matmul, {kct, cc});
  Value* state = t.op_before(at, OpKind::Cumsum, {kv},
                             {{"axis", r - 2}, {"exclusive", true}});
  Value* inter = t.op_before(at, OpKind::Matmul, {ac, state});
  Value* sum = t.op_before(at, OpKind::Add, {intra, inter});
  return t.op_before(at, OpKind::Reshape, {sum}, {{"shape", with({n, d})}});
}

/// Row sums of tril(A B): row i is A_i . (prefix sum of B's columns up to i). O(N m).
Value* causal_row_sum(Tentative& t, const Node& at, Value* A, Value* B) {
  int64_t r = A->type.shape.rank();
  Value* pre = t.op_before(at, OpKind::Cumsum, {B}, {{"axis", r - 1}});
  Value* pt = t.op_before(at, OpKind::Transpose, {pre}, {{"perm", ir::swap_last_two_perm(r)}});
  Value* prod = t.op_before(at, OpKind::Mul, {A, pt});
  return t.op_before(at, OpKind::Sum, {prod},
                     {{"axes", std::vector<int64_t>{-1}}, {"keepdims", true}});
}

// ---- right-product ----

class RightProduct final : public RewritePattern {
public:
  std::string_view name() const override {
    return "right-product";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Matmul;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    Node& s = ctx.root();
    Value* A = s.operand(0);
    Value* B = s.operand(1);
    if (A->type.shape.rank() < 2 || B->type.shape.rank() < 2)
      return Outcome::no_match();
    const std::string& nm = s.result(0)->name;
    if (nm.size() >= kIntraChunk.size() &&
        nm.compare(nm.size() - kIntraChunk.size(), kIntraChunk.size(), kIntraChunk) == 0)
      return Outcome::no_match();
    Analysis an;
    explore(s.result(0), {}, ctx.uses(), an);
    bool has_matmul = std::any_of(an.uses.begin(), an.uses.end(), [](const ChainUse& u) {
      return u.kind == ChainUse::Kind::Matmul;
    });
    if (!has_matmul)
      return Outcome::no_match();

    const ir::Shape& as = A->type.shape;
    int64_t m = as.dim(as.rank() - 1);
    const ir::Shape& ss = s.result(0)->type.shape;
    int64_t n = ss.dim(ss.rank() - 1);

    // The left form as it stands: S, the scalings and the terminal uses.
    ir::Cost left = ir::node_cost(s);
    for (const Node* sc : an.scalings)
      left += ir::node_cost(*sc);
    for (const ChainUse& u : an.uses)
      left += ir::node_cost(*u.node);

    // Causal uses take a chunked scan; its chunk size is chosen by cost too.
    bool causal = std::any_of(an.uses.begin(), an.uses.end(), [](const ChainUse& u) {
      return u.causal && u.kind == ChainUse::Kind::Matmul;
    });
    int64_t chunk = 0;
    if (causal) {
      double best = 0;
      for (int64_t c : {8, 16, 32, 64, 128, 256}) {
        if (c >= n || n % c != 0)
          continue;
        Tentative trial(ctx.graph(), ctx.root());
        std::vector<std::pair<Value*, Value*>> ignored;
        build_right(trial, an, A, B, ignored, c);
        double sec = ir::estimate_seconds(trial.cost());
        bool ok = !trial.failed();
        trial.discard();
        if (ok && (chunk == 0 || sec < best)) {
          chunk = c;
          best = sec;
        }
      }
      if (chunk == 0 && an.blocker.empty())
        return Outcome::missed(fmt::format("causal product of length N={}: no chunk size in "
                                           "8..256 divides it, so the chunked scan is not used",
                                           n));
    }
    Tentative t(ctx.graph(), ctx.root());
    std::vector<std::pair<Value*, Value*>> repl; // old -> new
    build_right(t, an, A, B, repl, chunk);
    if (t.failed()) {
      t.discard();
      return Outcome::no_match();
    }
    double tl = ir::estimate_seconds(left), tr = ir::estimate_seconds(t.cost());
    std::string sizes = fmt::format("N={} {} m={}", n, n > m ? ">" : "<=", m);
    std::string right_flops = ir::format_flops(t.cost().flops), left_flops = ir::format_flops(left.flops);
    if (!an.blocker.empty()) {
      t.discard();
      // A near-match worth a remark: the right product would be cheaper in time and work.
      if (tr < tl && t.cost().flops < left.flops)
        return Outcome::missed(fmt::format("{} (it would cost {} instead of {} at {})",
                                           an.blocker, right_flops, left_flops, sizes));
      return Outcome::no_match();
    }
    if (!(tr < tl)) {
      t.discard();
      return Outcome::missed(fmt::format("kept left product: {}, cost {} (left) vs {} (right)",
                                         sizes, left_flops, right_flops));
    }
    for (auto& [from, to] : repl)
      ctx.replace(from, to);
    std::string form = chunk ? fmt::format("chunked causal scan (chunk {})", chunk)
                             : std::string("right product");
    return Outcome::applied(fmt::format(
        "{}: {}, cost {} (right) vs {} (left); the {} product ({}) is no longer materialised",
        form, sizes, right_flops, left_flops, s.result(0)->type.shape.str(),
        ir::format_bytes(static_cast<double>(s.result(0)->type.bytes()))));
  }

private:
  /// Builds the right form of every use into `t` and records the replacements.
  static void build_right(Tentative& t, const Analysis& an, Value* A, Value* B,
                          std::vector<std::pair<Value*, Value*>>& repl, int64_t chunk) {
    std::unordered_map<const Value*, Value*> subst;

    // Separate sums/means first (at their own positions: they may feed the scalings).
    for (const ChainUse& u : an.uses) {
      if (u.kind == ChainUse::Kind::Matmul)
        continue;
      OpKind red = u.kind == ChainUse::Kind::Sum ? OpKind::Sum : OpKind::Mean;
      Value* x = nullptr;
      if (u.causal) {
        x = causal_row_sum(t, *u.node, A, B);
      } else {
        Value* sb = t.op_before(*u.node, red, {B},
                                {{"axes", std::vector<int64_t>{-1}}, {"keepdims", true}});
        x = t.op_before(*u.node, OpKind::Matmul, {A, sb});
      }
      x = rescale(t, *u.node, x, u.scalings, subst);
      x = fit(t, *u.node, x, u.node->result(0));
      if (!x) {
        t.fail("the reassociated form does not have the original type");
        return;
      }
      repl.emplace_back(u.node->result(0), x);
      subst[u.node->result(0)] = x;
    }

    for (const ChainUse& u : an.uses) {
      if (u.kind != ChainUse::Kind::Matmul)
        continue;
      Node& U = *u.node;
      Value* C = U.operand(1);
      Value* x = nullptr;
      Value* sa = scaled_left(t, U, A, u.scalings, subst);
      Value* a = sa ? sa : A;
      if (u.causal) {
        x = chunked_causal_product(t, U, a, B, C, chunk);
      } else {
        Value* bc = t.op_before(U, OpKind::Matmul, {B, C}, {});
        x = bc ? t.op_before(U, OpKind::Matmul, {a, bc}, {}) : nullptr;
      }
      if (!sa)
        x = rescale(t, U, x, u.scalings, subst);
      if (!x || !(x->type == U.result(0)->type)) {
        t.fail("the reassociated form does not have the original type");
        return;
      }
      repl.emplace_back(U.result(0), x);
    }
  }

  /// x reshaped to `want`'s type when it only lacks/has the kept unit axis.
  static Value* fit(Tentative& t, const Node& before, Value* x, const Value* want) {
    if (!x)
      return nullptr;
    if (x->type == want->type)
      return x;
    if (x->type.dtype != want->type.dtype || x->type.numel() != want->type.numel())
      return nullptr;
    return t.op_before(before, OpKind::Reshape, {x}, {{"shape", want->type.shape.to_vector()}});
  }
};

// ---- left-product ----

class LeftProduct final : public RewritePattern {
public:
  std::string_view name() const override {
    return "left-product";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Matmul;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    using namespace pat;
    static const Pattern p =
        op(OpKind::Matmul, {any("a"), one_use(op(OpKind::Matmul, {any("b"), any("c")}, "t"))});
    Node& u = ctx.root();
    Match mt;
    if (!match(p, u.result(0), ctx.uses(), mt))
      return Outcome::no_match();
    Value *A = mt["a"], *B = mt["b"], *C = mt["c"];
    if (A->type.shape.rank() < 2 || B->type.shape.rank() < 2 || C->type.shape.rank() < 2)
      return Outcome::no_match();
    ir::Cost right = ir::node_cost(u) + ir::node_cost(*mt.node("t"));
    Tentative t(ctx.graph(), ctx.root());
    Value* ab = t.op_before(u, OpKind::Matmul, {A, B}, {});
    Value* x = ab ? t.op_before(u, OpKind::Matmul, {ab, C}, {}) : nullptr;
    if (t.failed() || !(x->type == u.result(0)->type)) {
      t.discard();
      return Outcome::no_match();
    }
    const ir::Shape& bs = B->type.shape;
    int64_t n = bs.dim(bs.rank() - 1), m = bs.dim(bs.rank() - 2);
    double tl = ir::estimate_seconds(t.cost()), tr = ir::estimate_seconds(right);
    std::string figures =
        fmt::format("N={} {} m={}, cost {} (left) vs {} (right)", n, n > m ? ">" : "<=", m,
                    ir::format_flops(t.cost().flops), ir::format_flops(right.flops));
    if (!(tl < tr)) { // the form as written is the cheaper one: nothing to remark
      t.discard();
      return Outcome::no_match();
    }
    ctx.replace(u.result(0), x);
    return Outcome::applied(fmt::format("left product: {}", figures));
  }
};

} // namespace

std::unique_ptr<Pass> create_reassociate_matmul() {
  PatternList patterns;
  patterns.push_back(std::make_unique<RightProduct>());
  patterns.push_back(std::make_unique<LeftProduct>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
