// fuse_attention.cpp: recognise softmax attention in its naive spellings and replace it
// with one `attention` op (R1 of issue 5).
//
// Why: softmax(scale Q K^T + bias, masked) V written op by op materialises an N x M score
// matrix per head (and again for the backward). The fused op streams key tiles with an
// online softmax, skips tiles a causal/sliding mask removes, and returns the row
// log-sum-exp its backward recomputes from.
// What it matches, rooted at O = matmul(P, V):
//   P = softmax(X, last axis), used only by O;
//   X = a chain, each link used once, of: * c, / c (c a splat), + bias, - bias,
//       select(keep, x, -inf) (x must not grow in shape);
//   S = matmul(Q, K^T) at the bottom (K^T a transpose of the last two axes, or any
//       [.., d, M] value, which is then transposed as a view).
// Heads: Q [*, H, N, d] with K/V [*, H or 1, M, d] (MHA / MQA); the grouped form
// nn::scaled_dot_product_attention writes for GQA, Q [*, Hkv, G, N, d] with K/V
// [*, Hkv, 1, M, d], is MQA over the batch dim Hkv (no broadcast copy either). Masks: index-only predicates (iota arithmetic) that are causal or a
// sliding window become the op's `mask` attribute (mask_affine.h); the rest (padding
// masks, unusual structures) stays a materialised bool `keep` operand. The scale is
// the product of the chain's constant factors; every bias term becomes one `bias`
// operand.
// Near-matches (softmax feeding a matmul, but something in the way) give a missed
// remark naming the obstacle.
#include <algorithm>
#include <cmath>
#include <limits>

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

constexpr std::string_view kPass = "fuse-attention";

/// A bias term found on the chain: value times the factor applied above it.
struct BiasTerm {
  Value* value;
  double factor;
};

/// What the chain between S and the softmax holds.
struct ScoreChain {
  Node* s = nullptr; ///< the QK^T matmul
  double scale = 1.0;
  std::vector<BiasTerm> bias;
  std::vector<Value*> keeps;
  bool neg_inf = true; ///< every select fills with -inf (not a large finite value)
};

bool last_two_swapped(const Node& t) {
  const auto& perm = t.attrs.i64_list("perm");
  int64_t r = static_cast<int64_t>(perm.size());
  return r >= 2 && perm == ir::swap_last_two_perm(r);
}

/// Walks from the softmax operand down to S; returns "" or why it stopped.
std::string walk_chain(Value* x, const UseInfo& uses, ScoreChain& c) {
  double mu = 1.0; // factor applied to everything below the current point
  const ir::Shape shape = x->type.shape;
  for (;;) {
    Node* p = x->producer;
    if (!p)
      return "the scores are a graph input, not a product";
    if (!(x->type.shape == shape))
      return fmt::format("{} broadcasts the scores to a larger shape", p->def().name);
    if (p->op == OpKind::Matmul) {
      if (uses.count(x) != 1 || uses.is_output(x))
        return "the scores Q K^T are also used elsewhere, so they must be materialised";
      c.s = p;
      c.scale = mu;
      return "";
    }
    if (uses.count(x) != 1 || uses.is_output(x))
      return fmt::format("the scores after {} are also used elsewhere", p->def().name);
    switch (p->op) {
    case OpKind::Mul:
    case OpKind::Div: {
      int k = -1;
      for (int i = 0; i < 2; ++i)
        if (splat_value(p->operand(i)) && (p->op == OpKind::Mul || i == 1))
          k = i;
      if (k < 0) {
        if (p->op == OpKind::Mul)
          return "mul by a non-constant on the scores is not a score modification the fused op "
                 "carries";
        return "div by a non-constant on the scores is not a score modification the fused op "
               "carries";
      }
      double v = *splat_value(p->operand(k));
      mu = p->op == OpKind::Mul ? mu * v : mu / v;
      x = p->operand(1 - k);
      break;
    }
    case OpKind::Add:
    case OpKind::Sub: {
      // The chain continues through the operand with the score shape that is not a
      // splat; the other one is a bias term.
      int k = p->operand(0)->type.shape == shape ? 0 : 1;
      if (p->op == OpKind::Sub && k == 1)
        return "sub with the scores on the right is not a score modification the fused op "
               "carries";
      c.bias.push_back({p->operand(1 - k), p->op == OpKind::Sub ? -mu : mu});
      x = p->operand(k);
      break;
    }
    case OpKind::Select: {
      auto fill = splat_value(p->operand(2));
      if (!fill || !(p->operand(1)->type.shape == shape))
        return "select on the scores is not a mask with a constant fill";
      if (!(mu > 0))
        return "a mask under a non-positive factor is not a score modification the fused op "
               "carries";
      if (*fill == -std::numeric_limits<double>::infinity()) {
        // exactly what the op does
      } else if (*fill <= -1e9) {
        c.neg_inf = false;
      } else {
        return fmt::format("masking with {} rather than -inf changes the result", *fill);
      }
      c.keeps.push_back(p->operand(0));
      x = p->operand(1);
      break;
    }
    default:
      return fmt::format("{} on the scores is not a score modification the fused op carries",
                         p->def().name);
    }
  }
}

std::vector<int64_t> dims(const Value* v) {
  return v->type.shape.to_vector();
}

/// "" when the op takes q, k, v's batch/head dims as they are: identical leading dims,
/// and a key/value head dim equal to the query heads (MHA) or 1 (MQA). The grouped layout
/// nn::scaled_dot_product_attention uses for GQA (Q [*, Hkv, G, N, d], K/V
/// [*, Hkv, 1, M, d]) is the MQA case with Hkv as a batch dim: G query heads per
/// key/value head, no broadcast copy.
std::string head_layout(const Value* q, const Value* k, const Value* v) {
  auto bq = dims(q), bk = dims(k), bv = dims(v);
  size_t r = bq.size();
  if (bk.size() != r || bv.size() != r)
    return "queries, keys and values have different ranks";
  for (size_t i = 0; i + 2 < r; ++i)
    if (bk[i] != bv[i])
      return "keys and values have different batch/head dims";
  if (r < 3)
    return ""; // lifted to one head by the caller
  size_t hd = r - 3;
  bool same_prefix = std::equal(bq.begin(), bq.begin() + static_cast<long>(hd), bk.begin());
  if (same_prefix && (bk[hd] == bq[hd] || bk[hd] == 1))
    return "";
  return "keys/values broadcast over a batch dim of the queries, which the fused op does not "
         "take";
}

class Sdpa final : public RewritePattern {
public:
  std::string_view name() const override {
    return "sdpa";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Matmul;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    Node& o = ctx.root();
    Value* p = o.operand(0);
    Node* sm = p->producer;
    if (!sm || sm->op != OpKind::Softmax)
      return Outcome::no_match();
    int64_t pr = p->type.shape.rank();
    auto axis = ir::normalize_axis(sm->attrs.i64("axis"), pr);
    if (pr < 2 || !axis || *axis != pr - 1)
      return Outcome::missed("softmax over an axis other than the keys");
    if (ctx.uses().count(p) != 1 || ctx.uses().is_output(p))
      return Outcome::missed("the probabilities are also used elsewhere (returned, dropped out "
                             "or reused), so they must be materialised");
    ScoreChain chain;
    std::string why = walk_chain(sm->operand(0), ctx.uses(), chain);
    if (!why.empty())
      return Outcome::missed(why);
    Node& s = *chain.s;
    Value* q = s.operand(0);
    Value* kt = s.operand(1);
    Value* v = o.operand(1);
    ir::DType dt = q->type.dtype;
    if (dt != ir::DType::F32 && dt != ir::DType::F64)
      return Outcome::missed(fmt::format("{} attention (the fused op takes f32 and f64)",
                                         ir::dtype_name(dt)));
    if (kt->type.dtype != dt || v->type.dtype != dt)
      return Outcome::missed("queries, keys and values have different dtypes");

    auto sd = dims(s.result(0));
    int64_t n = sd[sd.size() - 2], m = sd.back();
    attention::MaskInfo mask;
    std::vector<Value*> keep_parts;
    for (Value* k : chain.keeps) {
      attention::MaskInfo mi = attention::classify_keep(k, n, m);
      if (mi.kind != "none") {
        if (mask.kind != "none" && (mask.kind != mi.kind || mask.window != mi.window))
          keep_parts.push_back(k); // two different structures: keep the second materialised
        else
          mask = mi;
        keep_parts.insert(keep_parts.end(), mi.residual.begin(), mi.residual.end());
      } else {
        keep_parts.push_back(k);
      }
    }
    if (!chain.neg_inf && !keep_parts.empty())
      return Outcome::missed("the mask fills with a large finite value, not -inf, and is not a "
                             "causal/sliding structure: fully masked rows would differ");

    // Operands, in the op's layout.
    Tentative e(ctx.graph(), o);
    Node* ktp = kt->producer;
    Value* k = (ktp && ktp->op == OpKind::Transpose && last_two_swapped(*ktp))
                   ? ktp->operand(0)
                   : nullptr;
    if (!k) {
      k = e.op(OpKind::Transpose, {kt}, {{"perm", ir::swap_last_two_perm(kt->type.shape.rank())}});
      if (!k) {
        e.discard();
        return Outcome::missed("keys are not a [.., d, M] value: " + e.error());
      }
    }
    std::string layout_error = head_layout(q, k, v);
    if (!layout_error.empty()) {
      e.discard();
      return Outcome::missed(layout_error);
    }

    Value* bias = nullptr;
    for (const BiasTerm& t : chain.bias) {
      Value* term = t.value;
      if (term->type.dtype != dt) {
        e.discard();
        return Outcome::missed("a bias of another dtype than the scores");
      }
      if (t.factor != 1.0) {
        Value* f = e.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}},
                                          {"value", t.factor}, {"dtype", dt}});
        term = e.op(OpKind::Mul, {term, f});
      }
      bias = bias ? e.op(OpKind::Add, {bias, term}) : term;
    }
    Value* keep = nullptr;
    for (Value* kp : keep_parts)
      keep = keep ? e.op(OpKind::LogicalAnd, {keep, kp}) : kp;

    size_t r = sd.size();
    if (r == 2) { // one head: lift to [1, N, d]
      q = e.reshape(q, {1, n, dims(q)[1]});
      k = e.reshape(k, {1, m, dims(k)[1]});
      v = e.reshape(v, {1, m, dims(v)[1]});
    } else if (r >= 4 && dims(q)[r - 3] == 1 && dims(k)[r - 3] == 1) {
      // One query head per group ([*, H, 1, N, d], nn::SDPA's layout without GQA): the
      // dim before is the head dim, so the kernel sees H heads, not H batch items.
      auto squeeze = [&](Value* x) -> Value* {
        if (!x)
          return x;
        auto d = dims(x);
        if (d.size() < 3)
          return x;
        d.erase(d.end() - 3);
        return e.reshape(x, d);
      };
      q = squeeze(q);
      k = squeeze(k);
      v = squeeze(v);
      bias = squeeze(bias);
      keep = squeeze(keep);
    }
    std::vector<Value*> ops = {q, k, v};
    if (bias)
      ops.push_back(bias);
    if (keep)
      ops.push_back(keep);
    ir::AttrList attrs = {{"scale", chain.scale},
                          {"mask", mask.kind},
                          {"window", mask.window},
                          {"has_bias", bias != nullptr},
                          {"has_keep", keep != nullptr}};
    Value* att = e.op(OpKind::Attention, ops, attrs);
    Value* out = att ? e.reshape(att, dims(o.result(0))) : nullptr;
    if (!out || !(out->type == o.result(0)->type)) {
      std::string err = e.failed() ? e.error() : std::string("shape mismatch");
      e.discard();
      return Outcome::missed("the fused op rejects this form: " + err);
    }
    ctx.replace(o.result(0), out);
    auto qd = dims(att->producer->operand(0)), kd = dims(att->producer->operand(1));
    int64_t hq = qd[qd.size() - 3], hkv = kd[kd.size() - 3];
    std::string layout = hq == hkv ? fmt::format("{} heads", hq)
                                   : fmt::format("{} query heads over {} key/value heads", hq, hkv);
    std::string mk = mask.kind == "sliding" ? fmt::format("sliding window {}", mask.window)
                                            : mask.kind;
    return Outcome::applied(fmt::format(
        "fused attention: {}, mask {}{}{}, scale {:.6g}; the {} scores ({}) are no longer "
        "materialised",
        layout, mk, keep ? " + keep operand" : "", bias ? ", bias operand" : "", chain.scale,
        s.result(0)->type.shape.str(),
        ir::format_bytes(static_cast<double>(s.result(0)->type.bytes()))));
  }
};

} // namespace

std::unique_ptr<Pass> create_fuse_attention() {
  PatternList patterns;
  patterns.push_back(std::make_unique<Sdpa>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
