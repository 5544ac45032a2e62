// canonicalize.cpp: constant folding and algebraic identities, as a table of rules.
//
// Why: later passes (CSE, pattern matching, fusion) see one spelling of each
// computation, with no work left that could be done at compile time.
// What it does: sweeps the graph in node order and applies the first rule of kRules
// that matches each node, until a sweep changes nothing. Every rule keeps the node's
// result types exactly (the rewriter checks this), so an identity such as x + 0 only
// fires when the zero does not broadcast x to a larger shape.
// Assumes: a verified graph. Guarantees: the same values for every input, up to the
// sign of a zero (x + 0 -> x turns -0 + 0 = +0 into -0, as Halide's simplifier does).
// A rule either forwards an existing value (identities; the node is erased) or turns
// the node into another op in place (folds, merged transposes/reshapes, splats), so
// names survive; operands left unused (folded constants, the inner transpose) are for
// dce. Iterations are capped ("canonicalize.max-iterations",
// default 16); not converging is an internal error.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "ir/interp/interpreter.h"
#include "ir/op_def.h"
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/pattern.h"
#include "passes/rewriter.h"

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;

/// Results with at most this many elements are folded into dense literals.
constexpr int64_t kFoldLimit = 64;

// ---- what rules see ----

/// The node being rewritten and where new nodes go (just before it).
struct RuleCtx {
  Rewriter& rw;
  Node& node;
  size_t pos;

  /// Rewrites the node in place into op `k` (same result types, so its uses and name
  /// stay): returns the node's own results, or {} when the op rejects the operands or
  /// attributes.
  std::vector<Value*> become(OpKind k, std::vector<Value*> operands, const ir::AttrList& attrs) {
    if (!rw.morph(node, k, std::move(operands), attrs))
      return {};
    std::vector<Value*> self;
    for (int i = 0; i < node.num_results(); ++i)
      self.push_back(node.result(i));
    return self;
  }
};

/// A rewrite rule: fires on nodes of kind `root` (any kind when nullopt) for which
/// `match` holds; `rewrite` returns one replacement per result (the node's own results
/// when it rewrote the node in place), or {} to give up (having changed nothing).
struct Rule {
  const char* name;
  std::optional<OpKind> root;
  bool (*match)(const Node&);
  std::vector<Value*> (*rewrite)(RuleCtx&);
};

// ---- small predicates ----

const Node* producer(const Value* v) {
  return v->producer;
}

bool is_op(const Value* v, OpKind k) {
  return v->producer && v->producer->op == k;
}

bool is_splat(const Value* v, double x) {
  auto s = splat_value(v);
  return s && *s == x;
}

/// `keep` when it has the node's result type (so dropping the op changes nothing).
Value* if_same_type(const Node& n, Value* keep) {
  return keep->type == n.result(0)->type ? keep : nullptr;
}

// ---- identities: each returns the operand the node simplifies to, or nullptr ----

/// x * 1, 1 * x
Value* mul_by_one(const Node& n) {
  if (is_splat(n.operand(1), 1.0))
    if (Value* v = if_same_type(n, n.operand(0)))
      return v;
  if (is_splat(n.operand(0), 1.0))
    return if_same_type(n, n.operand(1));
  return nullptr;
}

/// x + 0, 0 + x
Value* add_zero(const Node& n) {
  if (is_splat(n.operand(1), 0.0))
    if (Value* v = if_same_type(n, n.operand(0)))
      return v;
  if (is_splat(n.operand(0), 0.0))
    return if_same_type(n, n.operand(1));
  return nullptr;
}

/// x - 0
Value* sub_zero(const Node& n) {
  return is_splat(n.operand(1), 0.0) ? if_same_type(n, n.operand(0)) : nullptr;
}

/// x / 1
Value* div_by_one(const Node& n) {
  return is_splat(n.operand(1), 1.0) ? if_same_type(n, n.operand(0)) : nullptr;
}

/// transpose(x, [0, 1, ..., r-1])
Value* transpose_identity(const Node& n) {
  const auto& perm = n.attrs.i64_list("perm");
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i))
      return nullptr;
  return if_same_type(n, n.operand(0));
}

/// reshape, broadcast_to or cast to the operand's own type.
Value* same_type_operand(const Node& n) {
  return if_same_type(n, n.operand(0));
}

template <Value* (*F)(const Node&)> bool matches(const Node& n) {
  return F(n) != nullptr;
}
template <Value* (*F)(const Node&)> std::vector<Value*> keep(RuleCtx& c) {
  return {F(c.node)};
}

// ---- constant folding ----

bool foldable(const Node& n) {
  const ir::OpDef& def = n.def();
  if (n.op == OpKind::Constant || def.has(ir::kRandom) || n.num_results() == 0)
    return false;
  for (int r = 0; r < n.num_results(); ++r)
    if (n.result(r)->type.numel() > kFoldLimit)
      return false;
  if (n.num_operands() == 0)
    return def.has(ir::kSource);
  for (const Value* o : n.operands)
    if (!is_op(o, OpKind::Constant))
      return false;
  return true;
}

std::vector<Value*> fold(RuleCtx& c) {
  std::vector<ir::interp::Array> args;
  args.reserve(c.node.operands.size());
  for (const Value* o : c.node.operands) {
    const ir::DenseData& d = *producer(o)->attrs.get("value").dense();
    args.push_back(ir::interp::Array::from_bytes(d.type, d.bytes.data()));
  }
  std::vector<const ir::interp::Array*> ptrs;
  for (const auto& a : args)
    ptrs.push_back(&a);
  std::vector<ir::interp::Array> res;
  try {
    res = ir::interp::eval_node(c.node, ptrs);
  } catch (const ir::Error&) {
    return {}; // a data-dependent error (index out of range...) stays a run-time error
  }
  auto literal = [](ir::interp::Array& a) {
    auto d = std::make_shared<ir::DenseData>();
    d->type = a.type;
    d->bytes = a.to_bytes();
    return ir::DenseRef(std::move(d));
  };
  if (res.size() == 1)
    return c.become(OpKind::Constant, {}, {{"value", literal(res[0])}});
  // Several results (topk...): one new constant per result.
  std::vector<Value*> out;
  for (size_t i = 0; i < res.size(); ++i) {
    auto n = c.rw.create(c.pos, OpKind::Constant, {}, {{"value", literal(res[i])}}, c.node.loc,
                         c.node.result(static_cast<int>(i))->name);
    if (!n.ok())
      return {};
    ++c.pos;
    out.push_back(n.value()->result(0));
  }
  return out;
}

// ---- rewrites that change the op ----

/// transpose(transpose(x, p), q) -> transpose(x, p∘q): result dim i is x dim p[q[i]].
bool transpose_of_transpose(const Node& n) {
  return is_op(n.operand(0), OpKind::Transpose);
}
std::vector<Value*> compose_transposes(RuleCtx& c) {
  const Node& inner = *producer(c.node.operand(0));
  const auto& p = inner.attrs.i64_list("perm");
  const auto& q = c.node.attrs.i64_list("perm");
  std::vector<int64_t> perm;
  bool identity = true;
  for (size_t i = 0; i < q.size(); ++i) {
    perm.push_back(p[static_cast<size_t>(q[i])]);
    identity = identity && perm.back() == static_cast<int64_t>(i);
  }
  Value* x = inner.operand(0);
  if (identity)
    return {if_same_type(c.node, x)};
  return c.become(OpKind::Transpose, {x}, {{"perm", perm}});
}

/// transpose(x, p) that only moves unit dims (the others keep their order) -> reshape:
/// the same elements in the same order, and a reshape is a plain view downstream.
bool transpose_moves_units(const Node& n) {
  const auto& perm = n.attrs.i64_list("perm");
  const ir::Shape& xs = n.operand(0)->type.shape;
  int64_t last = -1;
  for (int64_t p : perm) {
    if (xs.dim(p) == 1)
      continue;
    if (p < last)
      return false;
    last = p;
  }
  return true;
}
std::vector<Value*> transpose_to_reshape(RuleCtx& c) {
  std::vector<int64_t> shape = c.node.result(0)->type.shape.to_vector();
  return c.become(OpKind::Reshape, {c.node.operand(0)}, {{"shape", shape}});
}

/// reshape(reshape(x)) -> reshape(x), or x itself when the shapes agree.
bool reshape_of_reshape(const Node& n) {
  return is_op(n.operand(0), OpKind::Reshape);
}
std::vector<Value*> merge_reshapes(RuleCtx& c) {
  Value* x = producer(c.node.operand(0))->operand(0);
  if (Value* same = if_same_type(c.node, x))
    return {same};
  std::vector<int64_t> shape = c.node.attrs.i64_list("shape"); // copied: attrs change
  return c.become(OpKind::Reshape, {x}, {{"shape", shape}});
}

/// The node becomes a reshape (to its own shape) of `made`, a node just created at c.pos;
/// {} (nothing changed) when creating it failed.
std::vector<Value*> reshape_of_new(RuleCtx& c, ir::Expected<Node*> made) {
  if (!made.ok())
    return {};
  ++c.pos;
  std::vector<int64_t> shape = c.node.result(0)->type.shape.to_vector();
  return c.become(OpKind::Reshape, {made.value()->result(0)}, {{"shape", shape}});
}

/// pad(reshape(x)) -> reshape(pad'(x)) when the reshape only merges x's last two dims
/// [.., m, k] into the result's last one and the pad widens that axis alone, by multiples
/// of k: pad' adds low/k and high/k rows of k on x's axis -2. Autodiff writes the gradient
/// of a slice of a merged axis (q/k/v out of one projection) as such a pad; in x's dims
/// the loop code generator reads k contiguous elements per pad row instead of gathering
/// across the merged axis (train_gpt's q/k/v gradient, [32,128,384]: 5.5 -> 0.4 ms, 1 thread).
bool pad_of_merging_reshape(const Node& n) {
  if (!is_op(n.operand(0), OpKind::Reshape))
    return false;
  const ir::Shape& xs = producer(n.operand(0))->operand(0)->type.shape;
  const ir::Shape& ys = n.operand(0)->type.shape;
  int64_t r = ys.rank();
  if (r < 1 || xs.rank() != r + 1 || xs.dim(r) < 1)
    return false;
  for (int64_t i = 0; i + 1 < r; ++i)
    if (xs.dim(i) != ys.dim(i))
      return false;
  const auto& low = n.attrs.i64_list("low");
  const auto& high = n.attrs.i64_list("high");
  int64_t k = xs.dim(r);
  for (int64_t i = 0; i + 1 < r; ++i)
    if (low[static_cast<size_t>(i)] != 0 || high[static_cast<size_t>(i)] != 0)
      return false;
  return low.back() % k == 0 && high.back() % k == 0;
}
std::vector<Value*> pad_before_reshape(RuleCtx& c) {
  Value* x = producer(c.node.operand(0))->operand(0);
  int64_t k = x->type.shape.dim(x->type.shape.rank() - 1);
  std::vector<int64_t> low = c.node.attrs.i64_list("low"), high = c.node.attrs.i64_list("high");
  int64_t lo = low.back() / k, hi = high.back() / k;
  low.back() = lo;
  high.back() = hi;
  low.push_back(0);
  high.push_back(0);
  return reshape_of_new(c, c.rw.create(c.pos, OpKind::Pad, {x},
                                       {{"low", low},
                                        {"high", high},
                                        {"value", c.node.attrs.f64("value")}},
                                       c.node.loc));
}

/// add(reshape(a), reshape(b)) -> reshape(add(a, b)) when a and b have one type and the
/// reshapes the add's result shape (no broadcast): the sum runs in a's dims, where the
/// pads above keep their rows contiguous, and one reshape is left for the consumers.
bool add_of_reshapes(const Node& n) {
  const Value* a = n.operand(0);
  const Value* b = n.operand(1);
  if (!is_op(a, OpKind::Reshape) || !is_op(b, OpKind::Reshape))
    return false;
  const Value* x = producer(a)->operand(0);
  const Value* y = producer(b)->operand(0);
  const ir::TensorType& t = n.result(0)->type;
  return x->type == y->type && a->type == t && b->type == t && x->type.shape != t.shape;
}
std::vector<Value*> add_before_reshape(RuleCtx& c) {
  Value* x = producer(c.node.operand(0))->operand(0);
  Value* y = producer(c.node.operand(1))->operand(0);
  return reshape_of_new(c, c.rw.create(c.pos, OpKind::Add, {x, y}, {}, c.node.loc));
}

/// broadcast_to(splat) -> full of the broadcast shape (a broadcast of a scalar).
bool broadcast_of_splat(const Node& n) {
  return splat_value(n.operand(0)).has_value();
}
std::vector<Value*> splat_to_full(RuleCtx& c) {
  double v = *splat_value(c.node.operand(0));
  const ir::TensorType& t = c.node.result(0)->type;
  return c.become(OpKind::Full, {},
                  {{"shape", t.shape.to_vector()}, {"value", v}, {"dtype", t.dtype}});
}

/// reduce(transpose(x, p), axes) -> transpose(reduce(x, p[axes])): the reduction walks x
/// in its own layout (a column sum of x^T is a row-contiguous column reduction of x, which
/// the loop code generator vectorises; over x^T it strides through memory), and the
/// transpose moves to the small result. Any reduction with `axes` commutes with permuting
/// its operand's axes.
bool reduce_of_transpose(const Node& n) {
  return n.def().has(ir::kReduction) && n.attrs.has("axes") &&
         is_op(n.operand(0), OpKind::Transpose);
}
std::vector<Value*> reduce_before_transpose(RuleCtx& c) {
  const Node& t = *producer(c.node.operand(0));
  const std::vector<int64_t> perm = t.attrs.i64_list("perm");
  const int64_t r = static_cast<int64_t>(perm.size());
  const std::vector<int64_t>& given = c.node.attrs.i64_list("axes");
  std::vector<bool> reduced(static_cast<size_t>(r), given.empty()); // [] reduces every axis
  for (int64_t a : given)
    reduced[static_cast<size_t>((a % r + r) % r)] = true;
  std::vector<bool> x_reduced(static_cast<size_t>(r), false);
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < r; ++i)
    if (reduced[static_cast<size_t>(i)]) {
      axes.push_back(perm[static_cast<size_t>(i)]);
      x_reduced[static_cast<size_t>(perm[static_cast<size_t>(i)])] = true;
    }
  std::sort(axes.begin(), axes.end());
  const bool keepdims = c.node.attrs.boolean("keepdims");
  // Permutation of the inner reduction's result: with keepdims it has x's rank; without,
  // result dim k is the kept x dim of rank k among the kept ones.
  std::vector<int64_t> out_perm;
  for (int64_t i = 0; i < r; ++i) {
    int64_t xi = perm[static_cast<size_t>(i)];
    if (keepdims)
      out_perm.push_back(xi);
    else if (!reduced[static_cast<size_t>(i)])
      out_perm.push_back(std::count(x_reduced.begin(), x_reduced.begin() + xi, false));
  }
  ir::AttrList attrs;
  for (const auto& [name, value] : c.node.attrs.items())
    attrs.emplace_back(name, name == "axes" ? ir::Attr(axes) : value);
  // When the inner result already has the node's shape (the permutation only moves unit
  // dims), it replaces the node outright and takes its name.
  const ir::Shape& xs = t.operand(0)->type.shape;
  std::vector<int64_t> inner_shape;
  for (int64_t j = 0; j < r; ++j)
    if (!x_reduced[static_cast<size_t>(j)] || keepdims)
      inner_shape.push_back(x_reduced[static_cast<size_t>(j)] ? 1 : xs.dim(j));
  const bool direct = inner_shape == c.node.result(0)->type.shape.to_vector();
  auto inner = c.rw.create(c.pos, c.node.op, {t.operand(0)}, attrs, c.node.loc,
                           direct ? c.node.result(0)->name : std::string());
  if (!inner.ok())
    return {};
  ++c.pos;
  Value* red = inner.value()->result(0);
  if (direct)
    return {red};
  return c.become(OpKind::Transpose, {red}, {{"perm", out_perm}});
}

// ---- the table: the first rule that matches a node (and succeeds) wins ----

const Rule kRules[] = {
    {"fold-constant", std::nullopt, foldable, fold},
    {"mul-by-one", OpKind::Mul, matches<mul_by_one>, keep<mul_by_one>},
    {"add-zero", OpKind::Add, matches<add_zero>, keep<add_zero>},
    {"sub-zero", OpKind::Sub, matches<sub_zero>, keep<sub_zero>},
    {"div-by-one", OpKind::Div, matches<div_by_one>, keep<div_by_one>},
    {"transpose-identity", OpKind::Transpose, matches<transpose_identity>,
     keep<transpose_identity>},
    {"transpose-transpose", OpKind::Transpose, transpose_of_transpose, compose_transposes},
    {"transpose-units", OpKind::Transpose, transpose_moves_units, transpose_to_reshape},
    {"reshape-identity", OpKind::Reshape, matches<same_type_operand>, keep<same_type_operand>},
    {"reshape-reshape", OpKind::Reshape, reshape_of_reshape, merge_reshapes},
    {"pad-reshape", OpKind::Pad, pad_of_merging_reshape, pad_before_reshape},
    {"add-reshapes", OpKind::Add, add_of_reshapes, add_before_reshape},
    {"broadcast-identity", OpKind::BroadcastTo, matches<same_type_operand>,
     keep<same_type_operand>},
    {"broadcast-splat", OpKind::BroadcastTo, broadcast_of_splat, splat_to_full},
    {"cast-identity", OpKind::Cast, matches<same_type_operand>, keep<same_type_operand>},
    {"reduce-transpose", std::nullopt, reduce_of_transpose, reduce_before_transpose},
};

// ---- the driver ----

class Canonicalize final : public Pass {
public:
  PassResult run(ir::Graph& g, PassContext& ctx) override {
    int64_t cap = ctx.option_i64("canonicalize.max-iterations", 16);
    bool changed = false;
    for (int64_t it = 0; it < cap; ++it) {
      if (!sweep(g, ctx))
        return {changed};
      changed = true;
    }
    throw ir::Error(ir::make_diag("internal error: canonicalize did not converge in {} "
                                  "iterations on @{}",
                                  cap, g.name));
  }

private:
  /// One pass over the nodes; true when a rule fired. A node rewritten in place, or
  /// created before the node it replaces, is looked at again by the next sweep.
  static bool sweep(ir::Graph& g, PassContext& ctx) {
    Rewriter rw(g);
    for (size_t i = 0; i < g.nodes().size();) {
      Node& n = *g.nodes()[i];
      rw.update_operands(n);
      size_t created = rw.num_created();
      apply_first(rw, n, i, ctx);
      i += rw.num_created() - created + 1;
    }
    rw.commit();
    return rw.changed();
  }

  static void apply_first(Rewriter& rw, Node& n, size_t pos, PassContext& ctx) {
    for (const Rule& r : kRules) {
      if ((r.root && *r.root != n.op) || !r.match(n))
        continue;
      RuleCtx c{rw, n, pos};
      size_t created = rw.num_created();
      std::vector<Value*> with = r.rewrite(c);
      bool ok = !with.empty() && std::find(with.begin(), with.end(), nullptr) == with.end();
      if (!ok) {
        // Giving up is fine only before the graph was touched.
        if (rw.num_created() != created)
          throw ir::Error(ir::make_diag("internal error: canonicalize rule '{}' gave up after "
                                        "creating nodes",
                                        r.name));
        continue;
      }
      if (with[0] != n.result(0)) // else rewritten in place
        rw.replace(n, with);
      ctx.stat(std::string("canonicalize.") + r.name) += 1;
      return;
    }
  }
};

} // namespace

std::unique_ptr<Pass> create_canonicalize() {
  return std::make_unique<Canonicalize>();
}

} // namespace tevo::passes
