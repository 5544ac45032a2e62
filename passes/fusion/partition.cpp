// partition.cpp: duplication of cheap producers and the grouping of nodes into units.
//
// Grouping is greedy and XLA-like: library groups first (a matmul whose result feeds only
// a chain of oneDNN post-ops), then loop groups, starting from one group per fusible node
// and merging a producer's group into a consumer's group along each edge, in node order,
// until nothing merges. A merge must keep the loop-group contract (loop_group.h), stay
// under the size limit, not recompute a transcendental many times over (a small value
// broadcast into a large domain), and not create a cycle: no path may lead from the
// producer group to the consumer group through a third unit.
#include "passes/fusion/partition.h"

#include "ir/cost.h"
#include "ir/op_def.h"
#include "passes/fusion/loop_group.h"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace tevo::passes::fusion {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;

/// A value recomputed per domain element may be this many times smaller than the domain
/// before a transcendental in it is materialised instead.
constexpr int64_t kRecomputeLimit = 4;

bool post_op_unary(OpKind k) {
  return k == OpKind::Relu || k == OpKind::Gelu || k == OpKind::Silu || k == OpKind::Tanh ||
         k == OpKind::Sigmoid || k == OpKind::Exp;
}

/// Whether a binary post-op operand of shape `o` against the result shape `r` is a
/// broadcast oneDNN 2.6's optimised matmul takes: the full tensor, or constant along
/// every dim but the last (a scalar, a per-column bias). Other broadcasts (a per-row
/// scale [.., M, 1]) send the whole matmul to its reference kernel, so they stay out.
bool fast_binary_broadcast(const ir::Shape& o, const ir::Shape& r) {
  int64_t lead = r.rank() - o.rank();
  bool full = lead == 0, per_column = true;
  for (int64_t i = 0; i < o.rank(); ++i) {
    int64_t e = o.dim(i), want = r.dim(i + lead);
    full = full && e == want;
    if (i + 1 < o.rank())
      per_column = per_column && e == 1;
  }
  return full || per_column;
}

/// Whether `u` applied to chain value `v` is a oneDNN post-op: a unary eltwise op, or
/// add/mul by another value that broadcasts to v's type without growing it, in a way
/// the optimised matmul supports.
bool post_op(const Node& u, const Value* v) {
  if (!(u.result(0)->type == v->type))
    return false;
  if (post_op_unary(u.op))
    return true;
  if (u.op != OpKind::Add && u.op != OpKind::Mul)
    return false;
  const Value* other = u.operand(0) == v ? u.operand(1) : u.operand(0);
  return other != v && other->type.dtype == v->type.dtype &&
         other->type.shape.rank() <= v->type.shape.rank() &&
         fast_binary_broadcast(other->type.shape, v->type.shape);
}

/// Bytes a reduce group may sweep once per parallel iteration and sweep again to store the
/// D-shaped values that depend on its reductions (the data is still in L2 the second time).
constexpr int64_t kResweepBytes = int64_t{1} << 20;

/// Whether a reduce group re-reads more than kResweepBytes per parallel iteration: it has
/// D-shaped values depending on a reduction (a second loop over R), and R times the run the
/// code generator keeps per iteration (a chunk of up to 64 columns when the innermost
/// non-unit dim is kept, one element in row order) is large. A softmax row re-reads
/// kilobytes; phi(K) column sums followed by phi(Q) * sums would sweep all of K twice.
bool resweeps_memory(const LoopGroupInfo& info) {
  if (!info.reduce)
    return false;
  bool domain_dependent = std::any_of(info.dependent.begin(), info.dependent.end(),
                                      [](const auto& kv) { return kv.second == Role::Domain; });
  if (!domain_dependent)
    return false;
  const ir::Shape& d = info.domain;
  int64_t reduced = 1, run = 1;
  for (int64_t a : info.axes)
    reduced *= d.dim(a);
  for (int64_t i = d.rank(); i-- > 0;) {
    if (std::find(info.axes.begin(), info.axes.end(), i) != info.axes.end())
      break;
    if (d.dim(i) != 1) {
      run = std::min<int64_t>(d.dim(i), 64);
      break;
    }
  }
  return reduced * run * 4 > kResweepBytes;
}

/// A rank-0 `full`: the scale of an eltwise post-op when a library group uses it.
bool scalar_full(const Value* v) {
  return v->producer && v->producer->op == OpKind::Full && v->type.shape.rank() == 0;
}

/// A view the lowering folds into strides when it runs alone.
bool stride_view(const Node& n) {
  return n.op == OpKind::Transpose || n.op == OpKind::Reshape || n.op == OpKind::BroadcastTo ||
         n.op == OpKind::Slice;
}

bool source(const Node& n) {
  return n.op == OpKind::Full || n.op == OpKind::Iota || n.op == OpKind::Arange ||
         n.op == OpKind::Constant;
}

/// Cheap enough to recompute in every consumer: no transcendental, no data-dependent index.
bool cheap(const Node& n) {
  if (!loop_group_op(n) || loop_reduction(n))
    return false;
  if (source(n) || n.def().has(ir::kView) || n.op == OpKind::Pad || n.op == OpKind::Concat ||
      n.op == OpKind::Tril || n.op == OpKind::Triu)
    return true;
  return n.def().has(ir::kElementwise) && ir::node_cost(n).transcendentals == 0;
}

bool library_dtype(ir::DType t) {
  return t == ir::DType::F32 || t == ir::DType::F16 || t == ir::DType::BF16;
}

/// The partitioning of one graph.
class Partitioner {
public:
  Partitioner(const ir::Graph& g, const FuseOptions& opts) : g_(g), opts_(opts) {
    const auto& nodes = g.nodes();
    for (size_t i = 0; i < nodes.size(); ++i)
      index_[nodes[i].get()] = static_cast<int>(i);
    users_.resize(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i)
      for (const Value* v : nodes[i]->operands)
        if (v->producer) {
          auto& u = users_[static_cast<size_t>(index_.at(v->producer))];
          if (u.empty() || u.back() != static_cast<int>(i))
            u.push_back(static_cast<int>(i));
        }
    outputs_.insert(g.outputs.begin(), g.outputs.end());
    p_.unit_of.assign(nodes.size(), -1);
  }

  Partition run() {
    const auto& nodes = g_.nodes();
    if (opts_.epilogue)
      for (size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i]->op == OpKind::Matmul && p_.unit_of[i] < 0)
          library_chain(static_cast<int>(i));
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (p_.unit_of[i] >= 0)
        continue;
      const Node& n = *nodes[i];
      bool loop = loop_group_op(n) && legal_alone(n) && !(stride_view(n) && !fusible_user(i));
      new_unit(loop ? UnitKind::Loop : UnitKind::Bare, {static_cast<int>(i)});
    }
    for (bool merged = true; merged;) {
      merged = false;
      for (size_t i = 0; i < nodes.size(); ++i) {
        for (const Value* v : nodes[i]->operands) {
          if (!v->producer)
            continue;
          int p = unit(index_.at(v->producer)), c = unit(static_cast<int>(i));
          if (p != c && p_.kind[size_t(p)] == UnitKind::Loop &&
              p_.kind[size_t(c)] == UnitKind::Loop && try_merge(p, c))
            merged = true;
        }
      }
    }
    return compact();
  }

private:
  int unit(int node) const {
    return p_.unit_of[static_cast<size_t>(node)];
  }
  const Node& node(int i) const {
    return *g_.nodes()[static_cast<size_t>(i)];
  }

  /// Whether node i has a user that may join a loop group.
  bool fusible_user(size_t i) const {
    for (int u : users_[i])
      if (loop_group_op(node(u)))
        return true;
    return false;
  }

  int new_unit(UnitKind k, std::vector<int> members) {
    int u = static_cast<int>(p_.kind.size());
    p_.kind.push_back(k);
    for (int m : members)
      p_.unit_of[static_cast<size_t>(m)] = u;
    p_.members.push_back(std::move(members));
    return u;
  }

  bool legal_alone(const Node& n) const {
    const Node* one = &n;
    const Value* r = n.result(0);
    return analyze_loop_group(std::span<const Node* const>(&one, 1),
                              std::span<const Value* const>(&r, 1))
        .ok();
  }

  /// The single user of `v` when v is used exactly once (by one operand slot) and is no
  /// graph output; else nullptr.
  const Node* single_use(const Value* v) const {
    if (outputs_.count(v))
      return nullptr;
    const auto& us = users_[static_cast<size_t>(index_.at(v->producer))];
    if (us.size() != 1)
      return nullptr;
    const Node& u = node(us[0]);
    return std::count(u.operands.begin(), u.operands.end(), v) == 1 ? &u : nullptr;
  }

  /// Matmul m and the post-ops after it become one library group (when there is one).
  void library_chain(int m) {
    const Value* v = node(m).result(0);
    if (!library_dtype(v->type.dtype))
      return;
    std::vector<int> chain{m};
    while (const Node* u = single_use(v)) {
      // A post-op already in another matmul's chain (a binary post-op whose other operand
      // is this matmul, as in GLU's x Wg * x Wu) stays there: a node belongs to one unit.
      if (unit(index_.at(u)) >= 0 || !post_op(*u, v))
        break;
      chain.push_back(index_.at(u));
      // A scale by a scalar `full` used only here goes into the body (an eltwise post-op).
      const Value* other = u->operand(0) == v ? u->operand(1) : u->operand(0);
      if (u->num_operands() == 2 && scalar_full(other) && single_use(other) == u)
        chain.push_back(index_.at(other->producer));
      v = u->result(0);
    }
    std::sort(chain.begin(), chain.end());
    if (chain.size() > 1)
      new_unit(UnitKind::Library, chain);
  }

  /// Values of the node set `ms` (units a and b) used outside it or returned.
  std::vector<const Value*> results_of(const std::vector<int>& ms, int a, int b) const {
    std::vector<const Value*> out;
    for (int m : ms)
      for (int r = 0; r < node(m).num_results(); ++r) {
        const Value* v = node(m).result(r);
        if (outputs_.count(v) || used_outside(v, a, b))
          out.push_back(v);
      }
    return out;
  }

  bool used_outside(const Value* v, int a, int b) const {
    for (int u : users_[static_cast<size_t>(index_.at(v->producer))]) {
      if (unit(u) == a || unit(u) == b)
        continue;
      const auto& ops = node(u).operands;
      if (std::find(ops.begin(), ops.end(), v) != ops.end())
        return true;
    }
    return false;
  }

  /// Whether a path leads from unit p to unit c through some third unit.
  bool path_through_other(int p, int c) const {
    int c_last = p_.members[static_cast<size_t>(c)].back();
    std::vector<char> seen(p_.kind.size(), 0);
    std::deque<int> work{p};
    seen[static_cast<size_t>(p)] = 1;
    while (!work.empty()) {
      int g = work.front();
      work.pop_front();
      for (int m : p_.members[static_cast<size_t>(g)])
        for (int u : users_[static_cast<size_t>(m)]) {
          int h = unit(u);
          if (seen[static_cast<size_t>(h)])
            continue;
          if (h == c) {
            if (g != p)
              return true;
            continue; // the direct edge being merged
          }
          seen[static_cast<size_t>(h)] = 1;
          // A unit can only reach c if it starts before c's last node.
          if (p_.members[static_cast<size_t>(h)].front() < c_last)
            work.push_back(h);
        }
    }
    return false;
  }

  /// Whether the merged group would recompute a transcendental many times per element.
  bool recomputes(const std::vector<const Node*>& ns, const LoopGroupInfo& info) const {
    int64_t domain = info.domain.numel();
    for (const Node* n : ns) {
      if (info.dependent.count(n->result(0)) || ir::node_cost(*n).transcendentals == 0)
        continue;
      if (n->result(0)->type.numel() * kRecomputeLimit < domain)
        return true;
    }
    return false;
  }

  bool try_merge(int p, int c) {
    const auto& a = p_.members[static_cast<size_t>(p)];
    const auto& b = p_.members[static_cast<size_t>(c)];
    if (static_cast<int64_t>(a.size() + b.size()) > opts_.max_group_size)
      return false;
    std::vector<int> ms;
    std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(ms));
    std::vector<const Node*> ns;
    for (int m : ms)
      ns.push_back(&node(m));
    std::vector<const Value*> rs = results_of(ms, p, c);
    auto info = analyze_loop_group(ns, rs);
    if (!info.ok() || recomputes(ns, *info) || resweeps_memory(*info) ||
        path_through_other(p, c))
      return false;
    for (int m : p_.members[static_cast<size_t>(p)])
      p_.unit_of[static_cast<size_t>(m)] = c;
    p_.members[static_cast<size_t>(c)] = std::move(ms);
    p_.members[static_cast<size_t>(p)].clear();
    return true;
  }

  /// Drops the emptied units and renumbers the rest in order of their first node.
  Partition compact() {
    std::vector<int> order;
    for (size_t u = 0; u < p_.kind.size(); ++u)
      if (!p_.members[u].empty())
        order.push_back(static_cast<int>(u));
    std::sort(order.begin(), order.end(), [&](int x, int y) {
      return p_.members[size_t(x)].front() < p_.members[size_t(y)].front();
    });
    Partition out;
    out.unit_of.assign(p_.unit_of.size(), -1);
    for (int u : order) {
      int id = static_cast<int>(out.kind.size());
      out.kind.push_back(p_.kind[static_cast<size_t>(u)]);
      for (int m : p_.members[static_cast<size_t>(u)])
        out.unit_of[static_cast<size_t>(m)] = id;
      out.members.push_back(p_.members[static_cast<size_t>(u)]);
    }
    return out;
  }

  const ir::Graph& g_;
  FuseOptions opts_;
  std::unordered_map<const Node*, int> index_;
  std::vector<std::vector<int>> users_; ///< per node: distinct user nodes, ascending
  std::unordered_set<const Value*> outputs_;
  Partition p_;
};

} // namespace

int64_t duplicate_cheap_producers(ir::Graph& g, const FuseOptions& opts) {
  // Users per value, kept current as copies are made (a copy uses the original's operands).
  std::unordered_map<const Value*, std::vector<Node*>> users;
  for (const auto& n : g.nodes())
    for (Value* v : n->operands) {
      auto& u = users[v];
      if (std::find(u.begin(), u.end(), n.get()) == u.end())
        u.push_back(n.get());
    }
  std::unordered_set<const Value*> outputs(g.outputs.begin(), g.outputs.end());
  // Post-ops of a matmul stay single: a copy would end its library group's chain.
  auto in_chain = [&](const Node& n, auto&& self) -> bool {
    if (n.op == OpKind::Matmul)
      return library_dtype(n.result(0)->type.dtype);
    for (const Value* v : n.operands) {
      if (!v->producer || outputs.count(v) || !post_op(n, v))
        continue;
      const auto& us = users[v];
      if (us.size() == 1 && std::count(n.operands.begin(), n.operands.end(), v) == 1 &&
          self(*v->producer, self))
        return true;
    }
    return false;
  };
  int64_t copies = 0, budget = static_cast<int64_t>(g.nodes().size());
  // Consumers first, so that a copied consumer's own operands are seen with all its copies.
  for (size_t i = g.nodes().size(); i-- > 0;) {
    Node* p = g.nodes()[i].get();
    if (!cheap(*p) || p->num_results() != 1 || (opts.epilogue && in_chain(*p, in_chain)))
      continue;
    Value* v = p->result(0);
    // Who gets a copy: loop-fusible users; matmul post-ops only of a scalar `full` (their
    // scale, which joins the library group); everyone else reads the original.
    std::vector<Node*> fusible;
    bool other = outputs.count(v) > 0;
    for (Node* u : users[v]) {
      bool chain = opts.epilogue && in_chain(*u, in_chain);
      bool gets_copy = loop_group_op(*u) && (!chain || scalar_full(v));
      (gets_copy ? fusible.push_back(u) : void(other = true));
    }
    bool standalone = other && (stride_view(*p) || source(*p));
    size_t first = standalone ? 0 : 1; // the original keeps fusible[0] unless it stays alone
    if (fusible.size() <= first || static_cast<int64_t>(fusible.size()) > opts.max_copies ||
        copies + static_cast<int64_t>(fusible.size() - first) > budget)
      continue;
    std::sort(fusible.begin(), fusible.end(),
              [&](const Node* x, const Node* y) { return g.index_of(x) < g.index_of(y); });
    for (size_t k = first; k < fusible.size(); ++k) {
      Node* u = fusible[k];
      size_t pos = static_cast<size_t>(g.index_of(u));
      Node* c = g.insert_node(pos, p->op, p->operands, p->attrs, {v->type}, p->loc);
      c->result(0)->name = v->name;
      for (Value*& o : u->operands)
        if (o == v)
          o = c->result(0);
      users[c->result(0)].push_back(u);
      for (Value* o : p->operands) {
        auto& us = users[o];
        if (std::find(us.begin(), us.end(), c) == us.end())
          us.push_back(c);
      }
      ++copies;
    }
    auto& us = users[v];
    us.erase(std::remove_if(us.begin(), us.end(),
                            [&](Node* u) {
                              return std::find(fusible.begin() + static_cast<std::ptrdiff_t>(first),
                                               fusible.end(), u) != fusible.end();
                            }),
             us.end());
  }
  return copies;
}

Partition partition(const ir::Graph& g, const FuseOptions& opts) {
  return Partitioner(g, opts).run();
}

} // namespace tevo::passes::fusion
