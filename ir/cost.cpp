// cost.cpp: cost queries over graphs.
#include "ir/cost.h"

#include "ir/op_registry.h"

namespace tevo::ir {

Cost node_cost(const Node& n) {
  std::vector<TensorType> in, out;
  for (const Value* v : n.operands)
    in.push_back(v->type);
  for (int i = 0; i < n.num_results(); ++i)
    out.push_back(n.result(i)->type);
  CostCtx c{in, out, n.attrs};
  return n.def().cost ? n.def().cost(c) : default_cost(c);
}

Cost graph_cost(const Graph& g) {
  Cost t;
  for (const auto& n : g.nodes()) {
    Cost c = node_cost(*n);
    t.flops += c.flops;
    t.transcendentals += c.transcendentals;
    t.bytes_read += c.bytes_read;
    t.bytes_written += c.bytes_written;
  }
  return t;
}

std::string format_cost(const Graph& g) {
  std::string s = fmt::format("// cost of @{}\n// {:>4}  {:<16} {:>14} {:>14} {:>14}\n", g.name,
                              "#", "op", "flops", "bytes read", "bytes written");
  int i = 0;
  for (const auto& n : g.nodes()) {
    Cost c = node_cost(*n);
    s += fmt::format("// {:>4}  {:<16} {:>14.0f} {:>14.0f} {:>14.0f}\n", i++, n->def().name,
                     c.flops, c.bytes_read, c.bytes_written);
  }
  Cost t = graph_cost(g);
  s += fmt::format("// total {:<16} {:>14.0f} {:>14.0f} {:>14.0f}\n", "", t.flops, t.bytes_read,
                   t.bytes_written);
  return s;
}

} // namespace tevo::ir
