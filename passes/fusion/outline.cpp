// outline.cpp: builds the `fused` nodes of a partition and reorders the graph.
//
// Merging can make a group whose nodes were interleaved with other nodes in the original
// order, so the graph is rebuilt unit by unit in a topological order of the unit DAG
// (Kahn's algorithm, earliest first node first: deterministic and close to the original
// order). New nodes are appended, then every original node is dropped at once.
#include "passes/fusion/outline.h"

#include "ir/builder.h"
#include "passes/fusion/loop_group.h"
#include "passes/pass_registry.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_map>
#include <unordered_set>

namespace tevo::passes::fusion {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;

bool stays_bare(const Partition& p, int u, const std::vector<Node*>& nodes) {
  if (p.kind[static_cast<size_t>(u)] == UnitKind::Bare)
    return true;
  if (p.kind[static_cast<size_t>(u)] == UnitKind::Library)
    return false;
  const auto& ms = p.members[static_cast<size_t>(u)];
  if (ms.size() == 1 && nodes[static_cast<size_t>(ms[0])]->op == OpKind::Constant)
    return true;
  for (int m : ms) {
    OpKind k = nodes[static_cast<size_t>(m)]->op;
    if (k != OpKind::Transpose && k != OpKind::Reshape && k != OpKind::BroadcastTo &&
        k != OpKind::Slice)
      return false;
  }
  return true;
}

/// Units in a topological order of the unit DAG.
std::vector<int> unit_order(const Partition& p,
                            const std::vector<Node*>& nodes,
                            const std::unordered_map<const Node*, int>& index) {
  size_t n_units = p.kind.size();
  std::vector<std::unordered_set<int>> succ(n_units);
  std::vector<int> indeg(n_units, 0);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const Value* v : nodes[i]->operands) {
      if (!v->producer)
        continue;
      int a = p.unit_of[static_cast<size_t>(index.at(v->producer))], b = p.unit_of[i];
      if (a != b && succ[static_cast<size_t>(a)].insert(b).second)
        ++indeg[static_cast<size_t>(b)];
    }
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (size_t u = 0; u < n_units; ++u)
    if (indeg[u] == 0)
      ready.push(static_cast<int>(u));
  std::vector<int> order;
  while (!ready.empty()) {
    int u = ready.top();
    ready.pop();
    order.push_back(u);
    for (int s : succ[static_cast<size_t>(u)])
      if (--indeg[static_cast<size_t>(s)] == 0)
        ready.push(s);
  }
  TEVO_ASSERT(order.size() == n_units, "fusion: the kernel groups form a cycle");
  return order;
}

class Outliner {
public:
  Outliner(ir::Graph& g, const Partition& p) : g_(g), p_(p) {
    for (const auto& n : g.nodes())
      nodes_.push_back(n.get());
    for (size_t i = 0; i < nodes_.size(); ++i)
      index_[nodes_[i]] = static_cast<int>(i);
    crossing_.insert(g.outputs.begin(), g.outputs.end());
    for (size_t i = 0; i < nodes_.size(); ++i)
      for (const Value* v : nodes_[i]->operands)
        if (v->producer && p.unit_of[static_cast<size_t>(index_.at(v->producer))] != p.unit_of[i])
          crossing_.insert(v);
  }

  OutlineStats run() {
    size_t old_size = nodes_.size();
    for (int u : unit_order(p_, nodes_, index_)) {
      if (stays_bare(p_, u, nodes_)) {
        for (int m : p_.members[static_cast<size_t>(u)])
          copy(*nodes_[static_cast<size_t>(m)]);
      } else {
        group(u);
      }
    }
    for (Value*& o : g_.outputs)
      o = map(o);
    std::vector<bool> keep(g_.nodes().size(), false);
    for (size_t i = old_size; i < keep.size(); ++i)
      keep[i] = true;
    g_.erase_nodes_if_not(keep);
    return stats_;
  }

private:
  Value* map(Value* v) const {
    return v->producer ? vmap_.at(v) : v;
  }

  void copy(const Node& n) {
    std::vector<Value*> ops;
    for (Value* v : n.operands)
      ops.push_back(map(v));
    std::vector<ir::TensorType> types;
    for (int r = 0; r < n.num_results(); ++r)
      types.push_back(n.result(r)->type);
    Node* c = g_.insert_node(g_.nodes().size(), n.op, std::move(ops), n.attrs, types, n.loc);
    for (int r = 0; r < n.num_results(); ++r) {
      c->result(r)->name = n.result(r)->name;
      vmap_[n.result(r)] = c->result(r);
    }
  }

  void group(int u) {
    const auto& ms = p_.members[static_cast<size_t>(u)];
    bool loop = p_.kind[static_cast<size_t>(u)] == UnitKind::Loop;
    auto body = std::make_shared<ir::Graph>();
    std::unordered_map<const Value*, Value*> bmap;
    std::vector<Value*> operands;
    std::vector<Value*> results;
    bool reduce = false;
    for (int m : ms) {
      const Node& n = *nodes_[static_cast<size_t>(m)];
      reduce = reduce || loop_reduction(n);
      std::vector<Value*> ops;
      for (Value* v : n.operands) {
        bool inside = v->producer && p_.unit_of[static_cast<size_t>(index_.at(v->producer))] == u;
        if (!inside && !bmap.count(v)) { // one body input per outer value
          Value* outer = map(v);
          auto it = std::find(operands.begin(), operands.end(), outer);
          if (it != operands.end()) {
            bmap[v] = body->input(static_cast<int>(it - operands.begin()));
          } else {
            bmap[v] = body->add_input(v->type, v->name);
            operands.push_back(outer);
          }
        }
        ops.push_back(bmap.at(v));
      }
      std::vector<ir::TensorType> types;
      for (int r = 0; r < n.num_results(); ++r)
        types.push_back(n.result(r)->type);
      Node* c =
          body->insert_node(body->nodes().size(), n.op, std::move(ops), n.attrs, types, n.loc);
      for (int r = 0; r < n.num_results(); ++r) {
        c->result(r)->name = n.result(r)->name;
        bmap[n.result(r)] = c->result(r);
        if (crossing_.count(n.result(r))) {
          results.push_back(n.result(r));
          body->outputs.push_back(c->result(r));
        }
      }
    }
    if (results.empty()) // nothing uses the group: every op is pure, so it can go
      return;
    if (loop) { // copies of one cheap producer that met again in this body become one
      PassContext scratch;
      create_pass("cse")->run(*body, scratch);
    }
    // Results that CSE made equal are returned once; their users share that result.
    std::vector<size_t> slot(results.size());
    std::vector<Value*> outs;
    for (size_t r = 0; r < results.size(); ++r) {
      auto it = std::find(outs.begin(), outs.end(), body->outputs[r]);
      slot[r] = static_cast<size_t>(it - outs.begin());
      if (it == outs.end())
        outs.push_back(body->outputs[r]);
    }
    body->outputs = outs;
    const Node& root = *nodes_[static_cast<size_t>(ms.back())];
    ir::Builder b(g_);
    Node* f = b.create(OpKind::Fused, operands,
                       {{"body", ir::Attr(ir::RegionRef(body))},
                        {"kind", ir::Attr(std::string(loop ? "loop" : "library"))}},
                       root.loc);
    for (size_t r = results.size(); r-- > 0;) { // the first of equal results names it
      Value* fr = f->result(static_cast<int>(slot[r]));
      fr->name = results[r]->name;
      vmap_[results[r]] = fr;
    }
    stats_.nodes_fused += static_cast<int64_t>(ms.size());
    if (!loop)
      ++stats_.library_groups;
    else
      ++stats_.loop_groups, stats_.reduce_groups += reduce ? 1 : 0;
  }

  ir::Graph& g_;
  const Partition& p_;
  std::vector<Node*> nodes_;
  std::unordered_map<const Node*, int> index_;
  std::unordered_set<const Value*> crossing_; ///< values used outside their unit
  std::unordered_map<const Value*, Value*> vmap_;
  OutlineStats stats_;
};

} // namespace

OutlineStats outline(ir::Graph& g, const Partition& p) {
  return Outliner(g, p).run();
}

} // namespace tevo::passes::fusion
