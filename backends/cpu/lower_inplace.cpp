// lower_inplace.cpp: which loop-group results may overwrite which operands, judged from
// the group's body alone (the driver adds the buffer-level conditions: the operand is
// dense, covers its buffer and dies at this step).
//
// A result may take an operand's memory when every read of the operand happens at the
// index the result is being written at, and only for that result: the operand reaches
// the result through elementwise ops of the operand's own shape and reaches nothing else.
// Views (another index), broadcasting (one element read for many), reductions (a whole
// row read in the inner loops before the row's results are stored) and other results
// (which may be computed after this one is stored) all disqualify it.
#include <map>

#include "backends/cpu/lower_internal.h"
#include "ir/op_def.h"

namespace tevo::cpu::detail {

std::vector<std::pair<int, int>> inplace_candidates(const ir::Node& group) {
  const ir::Graph& body = *group.attrs.get("body").region();
  // Uses of every body value, by body nodes.
  std::map<const ir::Value*, std::vector<const ir::Node*>> uses;
  const ir::Shape* domain = nullptr; // the reduction domain D of a reduce group
  for (const auto& n : body.nodes()) {
    for (const ir::Value* v : n->operands)
      uses[v].push_back(n.get());
    if (n->def().has(ir::kReduction) && !domain)
      domain = &n->operand(0)->type.shape;
  }
  std::vector<std::pair<int, int>> out;
  for (size_t k = 0; k < body.inputs().size(); ++k) {
    const ir::Value* in = body.inputs()[k];
    if (domain && !(in->type.shape == *domain))
      continue;
    // Everything the input reaches, if it only flows through same-shape elementwise ops.
    std::vector<const ir::Value*> reached{in}, work{in};
    bool ok = true;
    while (ok && !work.empty()) {
      const ir::Value* v = work.back();
      work.pop_back();
      for (const ir::Node* u : uses[v]) {
        const ir::Value* r = u->result(0);
        ok = ok && u->def().has(ir::kElementwise) && u->num_results() == 1 &&
             r->type.shape == in->type.shape;
        if (ok && std::find(reached.begin(), reached.end(), r) == reached.end()) {
          reached.push_back(r);
          work.push_back(r);
        }
      }
    }
    if (!ok)
      continue;
    int result = -1, hits = 0;
    for (size_t j = 0; j < body.outputs.size(); ++j)
      if (std::find(reached.begin(), reached.end(), body.outputs[j]) != reached.end()) {
        result = static_cast<int>(j);
        ++hits;
      }
    if (hits != 1)
      continue;
    const ir::TensorType& rt = body.outputs[static_cast<size_t>(result)]->type;
    if (rt.shape == in->type.shape && ir::dtype_size(rt.dtype) == ir::dtype_size(in->type.dtype))
      out.emplace_back(static_cast<int>(k), result);
  }
  return out;
}

} // namespace tevo::cpu::detail
