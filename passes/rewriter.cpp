// rewriter.cpp: lazy use replacement, node creation and batched erasure.
#include "passes/rewriter.h"

#include "ir/diag.h"
#include "ir/op_registry.h"

namespace tevo::passes {

ir::Value* Rewriter::resolve(ir::Value* v) const {
  // Chains are short (a replacement may itself be replaced later in the same sweep).
  for (auto it = repl_.find(v); it != repl_.end(); it = repl_.find(v))
    v = it->second;
  return v;
}

void Rewriter::update_operands(ir::Node& n) {
  if (repl_.empty())
    return;
  for (auto& o : n.operands)
    o = resolve(o);
}

void Rewriter::replace_value(ir::Value* from, ir::Value* to) {
  to = resolve(to);
  TEVO_ASSERT(from != to, "value replaced by itself");
  TEVO_ASSERT(from->type == to->type, "replacement of a {} by a {}", from->type.str(),
              to->type.str());
  repl_[from] = to;
  ++replaced_;
}

void Rewriter::replace(ir::Node& n, const std::vector<ir::Value*>& with) {
  TEVO_ASSERT(static_cast<int>(with.size()) == n.num_results(), "[{}] replaced by {} values",
              n.def().name, with.size());
  for (int i = 0; i < n.num_results(); ++i)
    replace_value(n.result(i), with[static_cast<size_t>(i)]);
  erase(n);
}

void Rewriter::erase(const ir::Node& n) {
  if (erased_.insert(&n).second)
    ++erased_total_;
}

ir::Expected<ir::Node*> Rewriter::create(size_t pos,
                                         ir::OpKind k,
                                         std::vector<ir::Value*> operands,
                                         const ir::AttrList& attrs,
                                         ir::Loc loc,
                                         std::string name) {
  for (auto& o : operands)
    o = resolve(o);
  ir::Builder b(g_);
  b.set_insertion_index(pos);
  auto n = b.try_create(k, std::move(operands), attrs, std::move(loc), std::move(name));
  if (n.ok())
    ++created_;
  return n;
}

bool Rewriter::morph(ir::Node& n,
                     ir::OpKind k,
                     std::vector<ir::Value*> operands,
                     const ir::AttrList& attrs) {
  const ir::OpDef& def = ir::op_def(k);
  auto full = ir::complete_attrs(def, attrs);
  if (!full.ok())
    return false;
  std::vector<ir::TensorType> types;
  for (auto& o : operands) {
    o = resolve(o);
    types.push_back(o->type);
  }
  auto res = ir::infer_result_types(def, types, *full);
  if (!res.ok() || static_cast<int>(res->size()) != n.num_results())
    return false;
  for (int i = 0; i < n.num_results(); ++i)
    if (!((*res)[static_cast<size_t>(i)] == n.result(i)->type))
      return false;
  n.op = k;
  n.operands = std::move(operands);
  n.attrs = std::move(*full);
  ++morphed_;
  return true;
}

size_t Rewriter::commit() {
  const auto& nodes = g_.nodes();
  std::vector<bool> keep(nodes.size(), true);
  for (size_t i = 0; i < nodes.size(); ++i) {
    update_operands(*nodes[i]);
    keep[i] = !erased_.count(nodes[i].get());
  }
  for (auto& o : g_.outputs)
    o = resolve(o);
  if (erased_.empty()) {
    repl_.clear();
    return 0;
  }
  // An erased node's results must now be unused: anything else is a pass bug.
  std::unordered_set<const ir::Value*> used(g_.outputs.begin(), g_.outputs.end());
  for (size_t i = 0; i < nodes.size(); ++i)
    if (keep[i])
      for (const ir::Value* o : nodes[i]->operands)
        used.insert(o);
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!keep[i])
      for (int r = 0; r < nodes[i]->num_results(); ++r)
        TEVO_ASSERT(!used.count(nodes[i]->result(r)), "[{}] erased while its result {} is used",
                    nodes[i]->def().name, r);
  size_t n = erased_.size();
  g_.erase_nodes_if_not(keep);
  erased_.clear();
  repl_.clear();
  return n;
}

} // namespace tevo::passes
