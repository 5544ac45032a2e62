// interpreter.cpp: runs graphs node by node with the ops' reference kernels.
#include "ir/interp/interpreter.h"

#include <unordered_map>

#include "ir/op_registry.h"

namespace tevo::ir::interp {

namespace {
Diag located(const Node& n, std::string msg) {
  Diag d{n.loc, std::move(msg), {}};
  if (!n.scoped_name().empty())
    d.notes.push_back("in " + n.scoped_name());
  return d;
}
} // namespace

std::vector<Array> eval_node(const Node& n, std::span<const Array* const> operands) {
  const OpDef& def = n.def();
  std::vector<TensorType> types;
  for (int i = 0; i < n.num_results(); ++i)
    types.push_back(n.result(i)->type);
  EvalCtx ctx{operands, n.attrs, types};
  std::vector<Array> out;
  if (def.eval)
    out = def.eval(ctx);
  else if (def.scalar)
    out = eval_elementwise(ctx, def.scalar);
  else
    throw Error(located(n, fmt::format("[{}] has no reference kernel", def.name)));
  TEVO_ASSERT(out.size() == types.size(), "[{}] kernel returned {} results", def.name, out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    TEVO_ASSERT(out[i].type == types[i], "[{}] kernel returned {} for {}", def.name,
                out[i].type.str(), types[i].str());
    out[i].round_to_dtype();
  }
  return out;
}

std::vector<Array> run(const Graph& g, const std::vector<Array>& inputs, const Options& opts) {
  if (inputs.size() != g.inputs().size())
    throw Error(Diag{Loc{},
                     fmt::format("@{} takes {} inputs, got {}", g.name, g.inputs().size(),
                                 inputs.size()),
                     {}});
  std::unordered_map<const Value*, const Array*> env;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value* in = g.inputs()[i];
    if (!(inputs[i].type == in->type))
      throw Error(Diag{Loc{},
                       fmt::format("input %{} of @{} must be {}, got {}",
                                   in->name.empty() ? std::to_string(i) : in->name, g.name,
                                   in->type.str(), inputs[i].type.str()),
                       {}});
    env[in] = &inputs[i];
  }
  // Owned results, kept until the end (clarity over memory: this is the reference).
  std::vector<std::unique_ptr<Array>> store;
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    for (int i = 0; i < n.num_results(); ++i)
      if (n.result(i)->type.numel() > opts.max_elements)
        throw Error(located(n, fmt::format("[{}] result {} has {} elements, above the "
                                           "interpreter's limit of {}",
                                           n.def().name, n.result(i)->type.str(),
                                           n.result(i)->type.numel(), opts.max_elements)));
    std::vector<const Array*> ops;
    for (const Value* v : n.operands)
      ops.push_back(env.at(v));
    std::vector<Array> res;
    try {
      res = eval_node(n, ops);
    } catch (const Error& e) {
      if (e.diag().loc.known())
        throw;
      throw Error(located(n, e.diag().message));
    }
    for (int i = 0; i < n.num_results(); ++i) {
      store.push_back(std::make_unique<Array>(std::move(res[static_cast<size_t>(i)])));
      env[n.result(i)] = store.back().get();
    }
  }
  std::vector<Array> out;
  for (const Value* v : g.outputs)
    out.push_back(*env.at(v));
  return out;
}

} // namespace tevo::ir::interp
