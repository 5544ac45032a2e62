// split_reduce.cpp: a reduction over a long leading axis that keeps few columns -> partial
// reductions over slices of that axis, with the elementwise chain feeding it computed in
// the sliced shape, plus a reduction of the partials.
//
// Why: the CPU code generator runs a reduction over a leading axis with its contiguous
// kept dim innermost ("column order": bias gradients, linear attention's phi(K) column
// sums) in parallel over chunks of at most 64 kept columns. With 64 columns there is one
// chunk: the whole reduction, and every elementwise op fused with it, runs on one thread.
// Sliced, x [*, N, C] is computed as x' [*, c, N/c, C] (a view of the same memory), its
// c partial sums [*, c, 1, C] are c times as many chunks, and summing them costs nothing
// (measured for phi(K) = elu(K) + 1 with its column sums, N = 16k, C = 64, two threads:
// 0.75 -> 0.4 ms).
//
// Pattern `split`, rooted at an f32/f64 sum/max/min/prod over consecutive axes [a, b] of
// x [*, N, ..., *C] (N the extent of a; a bias gradient sums [batch, sequence]) when a dim
// after b is not 1 (column order), the kept columns make fewer than kMinChunks chunks of
// 64, and rows * numel(C) >= kMinWork (rows = the reduced axes' extents multiplied):
//   every elementwise node on the way to x whose result has x's shape (the chain) is
//   rebuilt on operands reshaped to [*, c, N/c, ..., *C] (a leaf broadcast along a gets
//   [.., 1, 1, ..]); r(x) = r(r(x', axes a + 1..b + 1), axis a), reshaped to the original
//   result;
//   other users of chain values read them through a reshape back (a view).
// c is the largest of 16, 8, 4, 2 that divides N leaving >= kMinSlice rows a slice: fixed by the
// shapes, never by the thread count, so results do not depend on the number of threads.
// The chain is left alone (no match) when one of its values has a user placed before x's
// producer, where the rebuilt value does not exist yet. Part of the CPU backend's
// pipeline (after decompose, before fuse), like split-k: how a kernel parallelises is a
// property of the target.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ir/op_def.h"
#include "ir/shape.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;
using Ints = std::vector<int64_t>;

constexpr std::string_view kPass = "split-reduce";
/// The code generator's column chunk (kept elements per parallel iteration)...
constexpr int64_t kColumnChunk = 64;
/// ...and the fewest chunks it wants (emit_group.cpp).
constexpr int64_t kMinChunks = 16;
/// Elements reduced (N * numel(C)) worth splitting.
constexpr int64_t kMinWork = int64_t{1} << 18;
/// Shortest slice.
constexpr int64_t kMinSlice = 256;
/// Most chain nodes rebuilt.
constexpr size_t kMaxChain = 64;
/// Name of the partial reductions (never split again).
constexpr std::string_view kPartial = "split_reduce_partial";

/// Slices of the first reduced axis (extent n; `rest` = the other reduced axes' extents
/// multiplied): the most of 16, 8, 4, 2 that divide n and leave >= kMinSlice rows each.
int64_t slices(int64_t n, int64_t rest) {
  for (int64_t c : {16, 8, 4, 2})
    if (n % c == 0 && n / c * rest >= kMinSlice)
      return c;
  return 1;
}

bool splittable_reduction(OpKind k) {
  return k == OpKind::Sum || k == OpKind::Max || k == OpKind::Min || k == OpKind::Prod;
}

class SplitPattern final : public RewritePattern {
public:
  std::string_view name() const override {
    return "split";
  }
  std::optional<OpKind> root() const override {
    return std::nullopt;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    Node& red = ctx.root();
    if (!splittable_reduction(red.op) || red.result(0)->name.find(kPartial) != std::string::npos)
      return Outcome::no_match();
    Value* x = red.operand(0);
    const ir::Shape& s = x->type.shape;
    const int64_t r = s.rank();
    const auto& axes = red.attrs.i64_list("axes");
    // f32/f64 only: the partials are stored in the reduction's dtype, and f16/bf16 partials
    // round (or overflow: 512 rows of 200 in f16) where the unsplit kernel accumulates in
    // f32 and rounds once.
    if ((x->type.dtype != ir::DType::F32 && x->type.dtype != ir::DType::F64) || axes.empty())
      return Outcome::no_match();
    // The reduced axes [a, b], consecutive (a bias gradient sums [batch, sequence]).
    std::vector<int64_t> ax;
    for (int64_t v : axes) {
      auto na = ir::normalize_axis(v, r);
      if (!na)
        return Outcome::no_match();
      ax.push_back(*na);
    }
    std::sort(ax.begin(), ax.end());
    const int64_t a = ax.front(), b = ax.back();
    if (b - a + 1 != static_cast<int64_t>(ax.size()))
      return Outcome::no_match();
    int64_t outer = 1, inner = 1, last = 1, rows = 1;
    for (int64_t i = 0; i < a; ++i)
      outer *= s.dim(i);
    for (int64_t i = a; i <= b; ++i)
      rows *= s.dim(i);
    for (int64_t i = b + 1; i < r; ++i) {
      inner *= s.dim(i);
      if (s.dim(i) != 1)
        last = s.dim(i);
    }
    const int64_t n = s.dim(a);
    if (last == 1 || inner == 0 ||
        outer * ((inner + kColumnChunk - 1) / kColumnChunk) >= kMinChunks ||
        rows * inner < kMinWork)
      return Outcome::no_match();
    const int64_t c = slices(n, rows / std::max<int64_t>(1, n));
    if (c == 1)
      return Outcome::no_match();

    // The chain: elementwise producers of x's shape, in graph order.
    ir::Graph& g = ctx.graph();
    const Node* xp = x->producer;
    std::vector<Node*> chain;
    std::unordered_set<const Node*> in_chain;
    std::vector<Value*> work{x};
    while (!work.empty()) {
      Value* v = work.back();
      work.pop_back();
      Node* p = v->producer;
      if (!p || in_chain.count(p) || !p->def().has(ir::kElementwise) ||
          p->num_results() != 1 || !(v->type.shape == s))
        continue;
      if (chain.size() == kMaxChain)
        return Outcome::no_match();
      chain.push_back(p);
      in_chain.insert(p);
      for (Value* o : p->operands)
        work.push_back(o);
    }
    std::sort(chain.begin(), chain.end(),
              [&](const Node* p, const Node* q) { return g.index_of(p) < g.index_of(q); });
    // Users of chain values outside it must come after x's producer (or be the root).
    int64_t xpos = xp ? g.index_of(xp) : -1;
    for (const Node* p : chain)
      for (const UseInfo::Use& u : ctx.uses().uses(p->result(0)))
        if (!in_chain.count(u.node) && u.node != &red && g.index_of(u.node) < xpos)
          return Outcome::no_match();

    Ints split = s.to_vector();
    split.erase(split.begin() + a);
    split.insert(split.begin() + a, {c, n / c});
    // A leaf as the chain reads it: rank r, then dim a split (or kept as 1, 1).
    auto leaf = [&](Tentative& t, Value* v) {
      Ints d = v->type.shape.to_vector();
      d.insert(d.begin(), static_cast<size_t>(r - static_cast<int64_t>(d.size())), 1);
      bool full = d[static_cast<size_t>(a)] == n && n != 1;
      d.erase(d.begin() + a);
      d.insert(d.begin() + a, {full ? c : 1, full ? n / c : 1});
      return t.reshape(v, d);
    };

    const Node* after = xp ? g.nodes()[static_cast<size_t>(xpos) + 1].get() : &red;
    Tentative t(g, *after);
    std::unordered_map<const Value*, Value*> now; // chain value -> rebuilt (split shape)
    for (const Node* p : chain) {
      std::vector<Value*> ops;
      for (Value* o : p->operands) {
        auto it = now.find(o);
        ops.push_back(it != now.end() ? it->second : leaf(t, o));
      }
      now[p->result(0)] = t.op(p->op, std::move(ops), p->attrs.items());
    }
    Value* xs = now.count(x) ? now.at(x) : leaf(t, x);
    Ints part_axes; // the slice's axes, extent-1 ones left out (reductions in normal form)
    for (int64_t i = a + 1; i <= b + 1; ++i)
      if (split[static_cast<size_t>(i)] != 1)
        part_axes.push_back(i);
    Value* part = t.op_before(red, red.op, {xs}, {{"axes", part_axes}, {"keepdims", true}});
    if (part)
      part->name = std::string(kPartial);
    Value* all = t.op_before(red, red.op, {part}, {{"axes", Ints{a}}, {"keepdims", true}});
    Value* y = all ? t.op_before(red, OpKind::Reshape, {all},
                                 {{"shape", red.result(0)->type.shape.to_vector()}})
                   : nullptr;
    std::vector<std::pair<Value*, Value*>> repl{{red.result(0), y}};
    for (const Node* p : chain) {
      Value* old = p->result(0);
      bool other = ctx.uses().is_output(old);
      for (const UseInfo::Use& u : ctx.uses().uses(old)) {
        if (in_chain.count(u.node) || u.node == &red)
          continue;
        // A reshape of a chain value (split-k's slices of phi(K)) reads the rebuilt value
        // directly: a view of a view would cost the kernel index arithmetic per element.
        if (u.node->op == OpKind::Reshape)
          repl.emplace_back(u.node->result(0),
                            t.reshape(now.at(old), u.node->result(0)->type.shape.to_vector()));
        else
          other = true;
      }
      if (other)
        repl.emplace_back(old, t.reshape(now.at(old), s.to_vector()));
    }
    for (auto& [from, to] : repl)
      if (!to || !(to->type == from->type))
        t.fail("the split form does not have the original type");
    if (t.failed()) {
      t.discard();
      return Outcome::no_match();
    }
    for (auto& [from, to] : repl)
      ctx.replace(from, to);
    return Outcome::applied(fmt::format("{} over N={} in {} slices of {} ({} kept columns, {} "
                                        "chain nodes rebuilt)",
                                        red.def().name, rows, c, rows / c, outer * inner,
                                        chain.size()));
  }
};

} // namespace

std::unique_ptr<Pass> create_split_reduce() {
  PatternList patterns;
  patterns.push_back(std::make_unique<SplitPattern>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
