// graph.cpp: node storage, use replacement and cloning.
#include "ir/graph.h"

#include <unordered_map>

#include "ir/diag.h"
#include "ir/op_registry.h"

namespace tevo::ir {

const std::string Node::kEmpty;

const OpDef& Node::def() const {
  return op_def(op);
}

Value* Graph::add_input(TensorType type, std::string n, InputKind kind) {
  auto v = std::make_unique<Value>();
  v->type = std::move(type);
  v->name = std::move(n);
  v->index = static_cast<int>(inputs_.size());
  v->input_kind = kind;
  inputs_.push_back(v.get());
  input_storage_.push_back(std::move(v));
  return inputs_.back();
}

Node* Graph::insert_node(size_t pos, OpKind op, std::vector<Value*> operands, AttrDict attrs,
                         const std::vector<TensorType>& result_types, Loc loc) {
  TEVO_ASSERT(pos <= nodes_.size());
  auto n = std::make_unique<Node>();
  n->op = op;
  n->operands = std::move(operands);
  n->attrs = std::move(attrs);
  n->loc = std::move(loc);
  for (size_t i = 0; i < result_types.size(); ++i) {
    auto v = std::make_unique<Value>();
    v->type = result_types[i];
    v->producer = n.get();
    v->index = static_cast<int>(i);
    n->results_.push_back(std::move(v));
  }
  Node* raw = n.get();
  nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(pos), std::move(n));
  return raw;
}

void Graph::erase_node(size_t i) {
  TEVO_ASSERT(i < nodes_.size());
  nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(i));
}

void Graph::erase_nodes_if_not(const std::vector<bool>& keep) {
  TEVO_ASSERT(keep.size() == nodes_.size());
  size_t w = 0;
  for (size_t r = 0; r < nodes_.size(); ++r)
    if (keep[r])
      nodes_[w++] = std::move(nodes_[r]);
  nodes_.resize(w);
}

void Graph::replace_all_uses(Value* from, Value* to) {
  for (auto& n : nodes_)
    for (auto& o : n->operands)
      if (o == from)
        o = to;
  for (auto& o : outputs)
    if (o == from)
      o = to;
}

int64_t Graph::index_of(const Node* n) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].get() == n)
      return static_cast<int64_t>(i);
  return -1;
}

static AttrDict clone_attrs(const AttrDict& a) {
  AttrDict out;
  for (const auto& [k, v] : a.items()) {
    if (v.kind() == AttrKind::Region)
      out.set(k, Attr(RegionRef(v.region()->clone())));
    else
      out.set(k, v);
  }
  return out;
}

std::unique_ptr<Graph> Graph::clone() const {
  auto g = std::make_unique<Graph>(name);
  std::unordered_map<const Value*, Value*> map;
  for (Value* in : inputs_)
    map[in] = g->add_input(in->type, in->name, in->input_kind);
  for (const auto& n : nodes_) {
    std::vector<Value*> ops;
    for (Value* o : n->operands)
      ops.push_back(map.at(o));
    std::vector<TensorType> types;
    for (int i = 0; i < n->num_results(); ++i)
      types.push_back(n->result(i)->type);
    Node* c = g->insert_node(g->nodes_.size(), n->op, std::move(ops), clone_attrs(n->attrs), types,
                             n->loc);
    for (int i = 0; i < n->num_results(); ++i) {
      c->result(i)->name = n->result(i)->name;
      map[n->result(i)] = c->result(i);
    }
  }
  for (Value* o : outputs)
    g->outputs.push_back(map.at(o));
  return g;
}

Graph* Module::find(const std::string& n) const {
  for (const auto& f : funcs)
    if (f->name == n)
      return f.get();
  return nullptr;
}

} // namespace tevo::ir
