// decompose.cpp: rewrites composite ops into primitives and normalises reductions, so
// that what remains is what the fusion pass and the loop generator handle.
//
// Why: backends implement a small primitive set (elementwise ops, views, sum/max/min/prod);
// composites (mean, softmax, log_softmax, logsumexp, layer_norm, rms_norm, ...) carry a
// decomposition in their OpDef (`decompose` hook), which keeps the reference kernel's
// semantics, edge cases included. The pass is registry driven: every node whose op has a
// hook is expanded, and the expansion is revisited, so hooks may use other composites.
// Reductions sum/max/min/prod are then normalised: their `axes` list only axes of extent
// > 1 (extent-1 axes are dropped; a reduction over nothing becomes a reshape), and a
// reduction of an empty tensor becomes a `full` of its identity. Up to the sign of a zero
// (a one-element sum gives +0 for -0), values are unchanged.
// Every new node gets the original node's location; names derive from its scoped name:
// the node standing for the original result keeps that name, the others get
// "<name>.<op>" (the printer makes repeats unique).
// A matrix-vector product (a float matmul whose result has one column) becomes a multiply
// and a row sum: a reduction the fusion pass can put in the loop group of its left
// operand's producer (linear attention's normaliser phi(Q) sum(phi(K)) fuses with phi(Q)),
// where a library call would read the operand once more.
// Statistics: decompose.expanded, decompose.reductions-normalized, decompose.matvecs.
#include "ir/builder.h"
#include "ir/op_def.h"
#include "passes/pass.h"
#include "passes/rewriter.h"

#include <algorithm>
#include <optional>

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;

bool plain_reduction(const Node& n) {
  return n.op == OpKind::Sum || n.op == OpKind::Max || n.op == OpKind::Min || n.op == OpKind::Prod;
}

/// The reduction's axes, normalised and sorted (an empty attribute means every axis).
std::vector<int64_t> axes_of(const Node& n) {
  int64_t rank = n.operand(0)->type.shape.rank();
  const auto& given = n.attrs.i64_list("axes");
  std::vector<int64_t> axes;
  for (int64_t a : given)
    axes.push_back(a < 0 ? a + rank : a);
  if (given.empty())
    for (int64_t a = 0; a < rank; ++a)
      axes.push_back(a);
  std::sort(axes.begin(), axes.end());
  return axes;
}

/// The replacement of a reduction that is not in normal form; nullopt when it is.
std::optional<std::vector<Value*>> normalize_reduction(ir::Builder& b, const Node& n) {
  Value* x = n.operand(0);
  const ir::TensorType& out = n.result(0)->type;
  auto shape_attr = ir::Attr(out.shape.to_vector());
  if (x->type.numel() == 0) { // every group is empty: the identity (no group: anything)
    double id = n.op == OpKind::Prod ? 1.0 : 0.0;
    return std::vector<Value*>{b.op(
        OpKind::Full, {},
        {{"shape", shape_attr}, {"value", ir::Attr(id)}, {"dtype", ir::Attr(out.dtype)}}, n.loc)};
  }
  std::vector<int64_t> axes = axes_of(n), kept;
  for (int64_t a : axes)
    if (x->type.shape.dim(a) > 1)
      kept.push_back(a);
  if (kept == axes && !n.attrs.i64_list("axes").empty())
    return std::nullopt;
  Value* r = x;
  if (!kept.empty())
    r = b.op(n.op, {x}, {{"axes", ir::Attr(kept)}, {"keepdims", n.attrs.get("keepdims")}}, n.loc);
  if (!(r->type == out))
    r = b.op(OpKind::Reshape, {r}, {{"shape", shape_attr}}, n.loc);
  return std::vector<Value*>{r};
}

/// a [*, N, m] x b [*, m, 1] (f32/f64) as sum(a * b^T, last axis); nullopt otherwise.
std::optional<std::vector<Value*>> matvec_as_reduction(ir::Builder& b, const Node& n) {
  Value* x = n.operand(0);
  Value* v = n.operand(1);
  const ir::TensorType& out = n.result(0)->type;
  int64_t r = v->type.shape.rank();
  if ((out.dtype != ir::DType::F32 && out.dtype != ir::DType::F64) || r < 2 ||
      x->type.shape.rank() < 2 || v->type.shape.dim(r - 1) != 1)
    return std::nullopt;
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < r; ++i)
    perm.push_back(i);
  std::swap(perm[static_cast<size_t>(r - 2)], perm[static_cast<size_t>(r - 1)]);
  Value* vt = b.op(OpKind::Transpose, {v}, {{"perm", ir::Attr(perm)}}, n.loc);
  Value* p = b.op(OpKind::Mul, {x, vt}, {}, n.loc);
  Value* s = b.op(OpKind::Sum, {p},
                  {{"axes", ir::Attr(std::vector<int64_t>{-1})}, {"keepdims", ir::Attr(true)}},
                  n.loc);
  if (!(s->type == out))
    s = b.op(OpKind::Reshape, {s}, {{"shape", ir::Attr(out.shape.to_vector())}}, n.loc);
  return std::vector<Value*>{s};
}

/// Gives the nodes at [first, first + count) the location of `orig` and names derived
/// from its scoped name.
void stamp(
    ir::Graph& g, size_t first, size_t count, const Node& orig, const std::vector<Value*>& with) {
  const std::string& base = orig.scoped_name();
  for (size_t i = first; i < first + count; ++i) {
    Node& n = *g.nodes()[i];
    n.loc = orig.loc;
    for (int r = 0; r < n.num_results(); ++r) {
      Value* v = n.result(r);
      if (!v->name.empty() || base.empty())
        continue;
      auto it = std::find(with.begin(), with.end(), v);
      v->name = it != with.end() ? orig.result(static_cast<int>(it - with.begin()))->name
                                 : base + "." + std::string(n.def().name);
    }
  }
}

class Decompose final : public Pass {
public:
  PassResult run(ir::Graph& g, PassContext& ctx) override {
    Rewriter rw(g);
    int64_t expanded = 0, normalized = 0, matvecs = 0;
    size_t i = 0;
    while (i < g.nodes().size()) {
      Node& n = *g.nodes()[i];
      if (rw.is_erased(n)) {
        ++i;
        continue;
      }
      rw.update_operands(n);
      size_t before = g.nodes().size();
      ir::Builder b(g);
      b.set_insertion_index(i);
      std::optional<std::vector<Value*>> with;
      if (n.def().decompose) {
        with = n.def().decompose(b, n);
        ++expanded;
      } else if (plain_reduction(n)) {
        with = normalize_reduction(b, n);
        normalized += with ? 1 : 0;
      } else if (n.op == OpKind::Matmul) {
        with = matvec_as_reduction(b, n);
        matvecs += with ? 1 : 0;
      }
      if (!with) {
        ++i;
        continue;
      }
      stamp(g, i, g.nodes().size() - before, n, *with);
      rw.replace(n, *with);
      // Stay at i: the new nodes come next, and may be composites themselves.
    }
    rw.commit();
    ctx.stat("decompose.expanded") += expanded;
    ctx.stat("decompose.reductions-normalized") += normalized;
    ctx.stat("decompose.matvecs") += matvecs;
    return {rw.changed()};
  }
};

} // namespace

std::unique_ptr<Pass> create_decompose() {
  return std::make_unique<Decompose>();
}

} // namespace tevo::passes
