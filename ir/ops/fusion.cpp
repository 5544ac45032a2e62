// fusion.cpp: `fused`, a kernel group: a region (a small graph) run as one unit.
//
// The fusion pass (passes/fuse.cpp) wraps each kernel group in a `fused` node: its operands
// are the values the group reads from outside, its results the values it makes visible,
// and its `body` region computes the results from the operands. `kind` says how a backend
// runs it: "loop" (a generated loop nest: elementwise ops, views, reductions) or "library"
// (a library call such as a oneDNN matmul, with the region's elementwise ops fused as its
// epilogue). The reference semantics are simply those of the body, so the interpreter runs
// a fused graph exactly as the unfused one, which is what every backend is checked against.
#include "ir/cost.h"
#include "ir/graph.h"
#include "ir/interp/interpreter.h"
#include "ir/ops/common.h"

namespace tevo::ir::ops {

namespace {

Expected<std::vector<TensorType>> infer_fused(const InferCtx& c) {
  const std::string& kind = c.attrs.get("kind").str();
  if (kind != "loop" && kind != "library")
    return make_diag("kind must be \"loop\" or \"library\", got \"{}\"", kind);
  const RegionRef& body = c.attrs.get("body").region();
  if (!body)
    return make_diag("body region is missing");
  if (body->inputs().size() != c.operands.size())
    return make_diag("body takes {} inputs but the node has {} operands", body->inputs().size(),
                     c.operands.size());
  for (size_t i = 0; i < c.operands.size(); ++i)
    if (!(body->input(static_cast<int>(i))->type == c.operands[i]))
      return make_diag("operand {} is {} but the body's input {} is {}", i, c.operands[i].str(), i,
                       body->input(static_cast<int>(i))->type.str());
  if (body->outputs.empty())
    return make_diag("body has no outputs");
  std::vector<TensorType> out;
  for (const Value* v : body->outputs)
    out.push_back(v->type);
  return out;
}

std::vector<interp::Array> eval_fused(const EvalCtx& c) {
  std::vector<interp::Array> in;
  in.reserve(c.operands.size());
  for (const interp::Array* a : c.operands)
    in.push_back(*a);
  return interp::run(*c.attrs.get("body").region(), in);
}

/// The body's arithmetic; bytes are only those crossing the group boundary, which is the
/// point of fusing.
Cost fused_cost(const CostCtx& c) {
  Cost inner = graph_cost(*c.attrs.get("body").region());
  Cost out;
  out.flops = inner.flops;
  out.transcendentals = inner.transcendentals;
  for (const TensorType& t : c.operands)
    out.bytes_read += static_cast<double>(t.bytes());
  for (const TensorType& t : c.results)
    out.bytes_written += static_cast<double>(t.bytes());
  return out;
}

} // namespace

} // namespace tevo::ir::ops

namespace tevo::ir {

OpDef def_Fused() {
  OpDef o;
  o.name = "fused";
  o.summary = "a kernel group made by the fusion pass: runs its body region as one unit";
  o.signature = "(xs...) -> (ys...)";
  o.min_operands = 0;
  o.traits = kVariadic | kNotDifferentiable;
  o.attrs = {ops::required("body", AttrKind::Region, "the group: operands in, results out"),
             ops::attr("kind", AttrKind::Str, Attr(std::string("loop")),
                       "\"loop\" (generated loop nest) or \"library\" (library call + epilogue)")};
  o.infer = ops::infer_fused;
  o.eval = ops::eval_fused;
  o.cost = ops::fused_cost;
  return o;
}

} // namespace tevo::ir
