// verifier.cpp: graph invariants. Per-op rules live in each op's infer hook, so the
// verifier re-runs inference and compares.
#include "ir/verifier.h"

#include <unordered_set>

#include "ir/builder.h"
#include "ir/op_registry.h"

namespace tevo::ir {

namespace {

Diag at_node(const Node& n, std::string msg) {
  Diag d{n.loc, std::move(msg), {}};
  if (!n.scoped_name().empty())
    d.notes.push_back("in " + n.scoped_name());
  return d;
}

std::optional<Diag> verify_in(const Graph& g, int depth) {
  if (depth > 16)
    return Diag{Loc{}, "regions nested too deeply", {}};
  std::unordered_set<const Value*> defined(g.inputs().begin(), g.inputs().end());
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    const OpDef& def = n.def();
    std::vector<TensorType> in_types;
    for (int i = 0; i < n.num_operands(); ++i) {
      const Value* v = n.operand(i);
      if (!v || !defined.count(v))
        return at_node(n, fmt::format("[{}] operand {} is not defined before its use", def.name,
                                      i));
      in_types.push_back(v->type);
    }
    for (const auto& [k, a] : n.attrs.items()) {
      const AttrSpec* spec = def.attr_spec(k);
      if (!spec)
        return at_node(n, fmt::format("[{}] unknown attribute '{}'", def.name, k));
      if (spec->kind != a.kind())
        return at_node(n, fmt::format("[{}] attribute '{}' must be {}", def.name, k,
                                      attr_kind_name(spec->kind)));
      if (a.kind() == AttrKind::Region)
        if (auto d = verify_in(*a.region(), depth + 1))
          return at_node(n, fmt::format("[{}] in region '{}': {}", def.name, k, d->message));
    }
    for (const auto& spec : def.attrs)
      if (!n.attrs.has(spec.name))
        return at_node(n, fmt::format("[{}] attribute '{}' is missing", def.name, spec.name));
    auto inferred = infer_result_types(def, in_types, n.attrs);
    if (!inferred.ok())
      return at_node(n, inferred.error().message);
    if (static_cast<int>(inferred->size()) != n.num_results())
      return at_node(n, fmt::format("[{}] has {} results but the op produces {}", def.name,
                                    n.num_results(), inferred->size()));
    for (int i = 0; i < n.num_results(); ++i) {
      const TensorType& t = n.result(i)->type;
      if (!(t == (*inferred)[static_cast<size_t>(i)]))
        return at_node(n, fmt::format("[{}] result {} has type {} but the op infers {}", def.name,
                                      i, t.str(), (*inferred)[static_cast<size_t>(i)].str()));
      defined.insert(n.result(i));
    }
  }
  for (size_t i = 0; i < g.outputs.size(); ++i)
    if (!g.outputs[i] || !defined.count(g.outputs[i]))
      return Diag{Loc{}, fmt::format("@{}: output {} is not defined in the graph", g.name, i), {}};
  return std::nullopt;
}

} // namespace

std::optional<Diag> verify(const Graph& g) {
  return verify_in(g, 0);
}

} // namespace tevo::ir
