// grad.cpp: reverse sweep over the nodes between `wrt` and the outputs.
#include "passes/autodiff/grad.h"

#include <unordered_map>
#include <unordered_set>

#include "ir/op_registry.h"
#include "ir/vjp.h"

namespace tevo::autodiff {

using namespace tevo::ir;

namespace {

bool differentiable_type(const TensorType& t) {
  return is_float(t.dtype) || is_complex(t.dtype);
}

Diag at(const Node& n, std::string msg) {
  Diag d{n.loc, std::move(msg), {}};
  if (!n.scoped_name().empty())
    d.notes.push_back("in " + n.scoped_name());
  return d;
}

} // namespace

std::vector<Value*> vjp(Graph& g, const std::vector<Value*>& ys, const std::vector<Value*>& seeds,
                        const std::vector<Value*>& wrt) {
  TEVO_ASSERT(ys.size() == seeds.size(), "vjp: one seed per output");
  for (Value* w : wrt)
    if (!differentiable_type(w->type))
      throw Error(Diag{Loc{},
                       fmt::format("cannot differentiate with respect to %{} of type {}: "
                                   "gradients need a float tensor",
                                   w->name, w->type.str()),
                       {}});
  // Nodes that depend on some wrt value (forward sweep) ...
  std::unordered_set<const Value*> depends(wrt.begin(), wrt.end());
  size_t n_fwd = g.nodes().size();
  std::vector<bool> on_path(n_fwd, false);
  for (size_t i = 0; i < n_fwd; ++i) {
    const Node& n = *g.nodes()[i];
    bool d = false;
    for (const Value* o : n.operands)
      d |= depends.count(o) > 0;
    if (d && !n.def().has(kNotDifferentiable)) {
      on_path[i] = true;
      for (int r = 0; r < n.num_results(); ++r)
        if (differentiable_type(n.result(r)->type))
          depends.insert(n.result(r));
    }
  }
  // ... and the cotangents, accumulated in reverse order.
  Builder b(g);
  std::unordered_map<const Value*, Value*> cot;
  auto accumulate = [&](const Value* v, Value* gv, const Node* at_node) {
    auto it = cot.find(v);
    if (it == cot.end()) {
      cot[v] = gv;
      return;
    }
    it->second = b.op(OpKind::Add, {it->second, gv}, {}, at_node ? at_node->loc : Loc{});
  };
  for (size_t i = 0; i < ys.size(); ++i)
    if (depends.count(ys[i]))
      accumulate(ys[i], seeds[i], nullptr);
  for (size_t i = n_fwd; i-- > 0;) {
    if (!on_path[i])
      continue;
    const Node& n = *g.nodes()[i];
    VjpCtx ctx{b, n, {}, {}};
    for (const Value* o : n.operands)
      ctx.needs_grad.push_back(depends.count(o) > 0);
    bool any = false;
    for (int r = 0; r < n.num_results(); ++r) {
      auto it = cot.find(n.result(r));
      ctx.cotangents.push_back(it == cot.end() ? nullptr : it->second);
      any |= it != cot.end();
    }
    if (!any)
      continue;
    const OpDef& def = n.def();
    if (!def.vjp)
      throw Error(at(n, fmt::format("[{}] has no gradient rule (VJP); it lies on the path from "
                                    "a differentiated input to the loss",
                                    def.name)));
    std::vector<Value*> grads = def.vjp(ctx);
    TEVO_ASSERT(grads.size() == static_cast<size_t>(n.num_operands()),
                "[{}] VJP returned {} gradients for {} operands", def.name, grads.size(),
                n.num_operands());
    for (int o = 0; o < n.num_operands(); ++o) {
      Value* x = n.operand(o);
      if (!grads[static_cast<size_t>(o)] || !depends.count(x))
        continue;
      TEVO_ASSERT(grads[static_cast<size_t>(o)]->type == x->type,
                  "[{}] VJP gave {} for operand {} of type {}", def.name,
                  grads[static_cast<size_t>(o)]->type.str(), o, x->type.str());
      accumulate(x, grads[static_cast<size_t>(o)], &n);
    }
  }
  std::vector<Value*> out;
  for (Value* w : wrt) {
    auto it = cot.find(w);
    if (it != cot.end()) {
      out.push_back(it->second);
    } else {
      out.push_back(b.op(OpKind::Full, {},
                         {{"shape", w->type.shape.to_vector()}, {"value", 0.0}, {"dtype", w->type.dtype}}));
    }
  }
  return out;
}

std::vector<Value*> grad(Graph& g, Value* loss, const std::vector<Value*>& wrt) {
  if (!is_float(loss->type.dtype))
    throw Error(Diag{Loc{},
                     fmt::format("cannot differentiate a loss of type {}: it must be a float "
                                 "tensor",
                                 loss->type.str()),
                     {}});
  Builder b(g);
  Value* seed = b.op(OpKind::Full, {},
                     {{"shape", loss->type.shape.to_vector()}, {"value", 1.0}, {"dtype", loss->type.dtype}});
  return vjp(g, {loss}, {seed}, wrt);
}

} // namespace tevo::autodiff
