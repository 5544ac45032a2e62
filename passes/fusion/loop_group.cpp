// loop_group.cpp: the loop-group contract (see loop_group.h and docs/BACKEND.md).
//
// Canonical indexing is checked with index maps: for each dim of a value, the domain dim
// whose index it takes, or -1 for "always 0". A reduction-dependent value's map is fixed
// by its role (D: identity; O_keep: identity with R dims at 0; O_drop: the non-R dims).
// A user reads its operand through the op's own map (result dim per operand dim:
// broadcasting, unit-dim reshapes, transposes); composed with the user's role it must
// give the operand's role map. Dims of extent 1 are always index 0, so they map to -1.
#include "passes/fusion/loop_group.h"

#include "ir/op_def.h"
#include "ir/printer.h"

#include <algorithm>
#include <unordered_set>

namespace tevo::passes::fusion {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;
using IndexMap = std::vector<int64_t>;

bool loop_dtype(ir::DType t) {
  switch (t) {
  case ir::DType::F32:
  case ir::DType::F64:
  case ir::DType::BF16:
  case ir::DType::F16:
  case ir::DType::I32:
  case ir::DType::I64:
  case ir::DType::Bool:
    return true;
  default:
    return false;
  }
}

bool loop_kind(const Node& n) {
  switch (n.op) {
  case OpKind::Transpose:
  case OpKind::Reshape:
  case OpKind::BroadcastTo:
  case OpKind::Slice:
  case OpKind::Pad:
  case OpKind::Concat:
  case OpKind::Tril:
  case OpKind::Triu:
  case OpKind::Gather:
  case OpKind::Take:
  case OpKind::Embedding:
  case OpKind::OneHot:
  case OpKind::Full:
  case OpKind::Iota:
  case OpKind::Arange:
  case OpKind::Constant:
  case OpKind::Sum:
  case OpKind::Max:
  case OpKind::Min:
  case OpKind::Prod:
    return true;
  default:
    return n.def().has(ir::kElementwise) && n.def().scalar != nullptr;
  }
}

/// "%name" for messages (the printer's spelling when the value has a name).
std::string label(const Value* v) {
  if (!v->name.empty())
    return "%" + v->name;
  if (v->producer)
    return fmt::format("a {} result", v->producer->def().name);
  return "an input";
}

/// Sorted, normalised axes of a reduction (its `axes`; empty means all).
std::vector<int64_t> reduction_axes(const Node& n) {
  int64_t rank = n.operand(0)->type.shape.rank();
  std::vector<int64_t> axes;
  for (int64_t a : n.attrs.i64_list("axes"))
    axes.push_back(a < 0 ? a + rank : a);
  if (n.attrs.i64_list("axes").empty())
    for (int64_t a = 0; a < rank; ++a)
      axes.push_back(a);
  std::sort(axes.begin(), axes.end());
  return axes;
}

/// Which dims of a user's result each operand dim takes its index from (-1: index 0);
/// nullopt when the op reads the operand in a way no index map expresses.
std::optional<IndexMap> operand_map(const Node& user, const Value* operand) {
  const ir::Shape& in = operand->type.shape;
  const ir::Shape& out = user.result(0)->type.shape;
  IndexMap m(static_cast<size_t>(in.rank()), -1);
  if ((user.def().has(ir::kElementwise) && user.def().scalar) || user.op == OpKind::BroadcastTo) {
    int64_t lead = out.rank() - in.rank();
    for (int64_t j = 0; j < in.rank(); ++j)
      if (in.dim(j) != 1)
        m[static_cast<size_t>(j)] = j + lead;
    return m;
  }
  if (user.op == OpKind::Transpose) {
    const auto& perm = user.attrs.i64_list("perm");
    for (size_t i = 0; i < perm.size(); ++i)
      if (in.dim(perm[i]) != 1)
        m[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
    return m;
  }
  if (user.op == OpKind::Reshape) { // only reshapes that add or drop unit dims
    std::vector<int64_t> in_dims, out_dims;
    for (int64_t j = 0; j < in.rank(); ++j)
      if (in.dim(j) != 1)
        in_dims.push_back(j);
    for (int64_t k = 0; k < out.rank(); ++k)
      if (out.dim(k) != 1)
        out_dims.push_back(k);
    if (in_dims.size() != out_dims.size())
      return std::nullopt;
    for (size_t i = 0; i < in_dims.size(); ++i) {
      if (in.dim(in_dims[i]) != out.dim(out_dims[i]))
        return std::nullopt;
      m[static_cast<size_t>(in_dims[i])] = out_dims[i];
    }
    return m;
  }
  return std::nullopt;
}

/// The analysis state of one reduce group.
class ReduceCheck {
public:
  ReduceCheck(LoopGroupInfo& info)
      : info_(info), keep_(info.keep_shape()), drop_(info.drop_shape()) {}

  /// The role a dependent value of shape s has, or nullopt.
  std::optional<Role> role_of(const ir::Shape& s) const {
    if (s == info_.domain)
      return Role::Domain;
    if (s == keep_)
      return Role::Keep;
    if (s == drop_)
      return Role::Drop;
    return std::nullopt;
  }

  /// The index map of a value with role r.
  IndexMap role_map(Role r) const {
    const ir::Shape& d = info_.domain;
    IndexMap m;
    for (int64_t k = 0; k < d.rank(); ++k) {
      bool reduced = std::binary_search(info_.axes.begin(), info_.axes.end(), k);
      if (reduced && r == Role::Drop)
        continue;
      m.push_back(d.dim(k) == 1 || (reduced && r == Role::Keep) ? -1 : k);
    }
    return m;
  }

  std::string shapes() const {
    return fmt::format("D = {}, O_keep = {}, O_drop = {}", info_.domain.str(), keep_.str(),
                       drop_.str());
  }

private:
  LoopGroupInfo& info_;
  ir::Shape keep_, drop_;
};

std::optional<ir::Diag> check_map(LoopGroupInfo& info, std::span<const Value* const> results) {
  info.domain = results[0]->type.shape;
  for (const Value* r : results)
    if (!(r->type.shape == info.domain))
      return ir::make_diag("map group results differ in shape: {} is {} but {} is {}",
                           label(results[0]), info.domain.str(), label(r), r->type.shape.str());
  return std::nullopt;
}

std::optional<ir::Diag> check_reduce(LoopGroupInfo& info,
                                     std::span<const Node* const> nodes,
                                     std::span<const Value* const> results,
                                     const std::unordered_set<const Node*>& members) {
  const Node* first = nullptr;
  for (const Node* n : nodes) {
    if (!loop_reduction(*n))
      continue;
    std::vector<int64_t> axes = reduction_axes(*n);
    if (!first) {
      first = n;
      info.domain = n->operand(0)->type.shape;
      info.axes = axes;
      if (axes.empty())
        return ir::make_diag("reduction {} reduces no axis", label(n->result(0)));
      for (int64_t a : axes)
        if (info.domain.dim(a) <= 1)
          return ir::make_diag("reduction {} reduces axis {} of extent {} (run decompose first)",
                               label(n->result(0)), a, info.domain.dim(a));
    } else if (!(n->operand(0)->type.shape == info.domain) || axes != info.axes) {
      return ir::make_diag("reductions differ: {} reduces {} over {} but {} reduces {} over {}",
                           label(first->result(0)), info.domain.str(), fmt::join(info.axes, ","),
                           label(n->result(0)), n->operand(0)->type.shape.str(),
                           fmt::join(axes, ","));
    }
  }
  ReduceCheck rc(info);
  auto internal = [&](const Value* v) { return v->producer && members.count(v->producer) > 0; };
  for (const Node* n : nodes) {
    bool dep = loop_reduction(*n);
    for (const Value* v : n->operands)
      dep = dep || (internal(v) && info.dependent.count(v) > 0);
    if (!dep)
      continue;
    const Value* out = n->result(0);
    auto role = rc.role_of(out->type.shape);
    if (!role)
      return ir::make_diag("{} depends on a reduction but has shape {} ({})", label(out),
                           out->type.shape.str(), rc.shapes());
    info.dependent.emplace(out, *role);
    if (loop_reduction(*n))
      continue; // its operand has shape D and is read at the domain index
    IndexMap user_role = rc.role_map(*role);
    for (const Value* v : n->operands) {
      auto it = internal(v) ? info.dependent.find(v) : info.dependent.end();
      if (it == info.dependent.end())
        continue;
      auto m = operand_map(*n, v);
      bool canonical = m.has_value();
      if (m) {
        IndexMap want = rc.role_map(it->second);
        for (size_t j = 0; j < m->size() && canonical; ++j) {
          int64_t got = (*m)[j] < 0 ? -1 : user_role[static_cast<size_t>((*m)[j])];
          canonical = got == want[j];
        }
      }
      if (!canonical)
        return ir::make_diag("{} depends on a reduction but {} reads it at a non-canonical index",
                             label(v), label(out));
    }
  }
  for (const Value* r : results)
    if (!rc.role_of(r->type.shape))
      return ir::make_diag("result {} has shape {}, not one of {}", label(r), r->type.shape.str(),
                           rc.shapes());
  return std::nullopt;
}

} // namespace

bool loop_reduction(const Node& n) {
  return n.op == OpKind::Sum || n.op == OpKind::Max || n.op == OpKind::Min || n.op == OpKind::Prod;
}

bool loop_group_op(const Node& n) {
  if (!loop_kind(n) || n.num_results() != 1)
    return false;
  for (const Value* v : n.operands)
    if (!loop_dtype(v->type.dtype))
      return false;
  return loop_dtype(n.result(0)->type.dtype);
}

ir::Shape LoopGroupInfo::keep_shape() const {
  std::vector<int64_t> d = domain.to_vector();
  for (int64_t a : axes)
    d[static_cast<size_t>(a)] = 1;
  return ir::Shape(d);
}

ir::Shape LoopGroupInfo::drop_shape() const {
  std::vector<int64_t> d;
  for (int64_t k = 0; k < domain.rank(); ++k)
    if (!std::binary_search(axes.begin(), axes.end(), k))
      d.push_back(domain.dim(k));
  return ir::Shape(d);
}

ir::Expected<LoopGroupInfo> analyze_loop_group(std::span<const Node* const> nodes,
                                               std::span<const Value* const> results) {
  LoopGroupInfo info;
  if (nodes.empty() || results.empty())
    return ir::make_diag("a loop group needs at least one node and one result");
  std::unordered_set<const Node*> members(nodes.begin(), nodes.end());
  for (const Node* n : nodes) {
    if (!loop_group_op(*n))
      return ir::make_diag("{} ({}) cannot be part of a loop group", n->def().name,
                           n->num_results() ? label(n->result(0)) : "no result");
    info.reduce = info.reduce || loop_reduction(*n);
  }
  for (const Value* r : results)
    if (!r->producer || !members.count(r->producer))
      return ir::make_diag("result {} is not computed by the group", label(r));
  auto err = info.reduce ? check_reduce(info, nodes, results, members) : check_map(info, results);
  if (err)
    return *err;
  return info;
}

ir::Expected<LoopGroupInfo> analyze_loop_group(const ir::Graph& body) {
  std::vector<const Node*> nodes;
  for (const auto& n : body.nodes())
    nodes.push_back(n.get());
  std::vector<const Value*> results(body.outputs.begin(), body.outputs.end());
  return analyze_loop_group(nodes, results);
}

std::optional<std::string> check_loop_group(const ir::Graph& body) {
  auto info = analyze_loop_group(body);
  if (info.ok())
    return std::nullopt;
  return info.error().message;
}

} // namespace tevo::passes::fusion
