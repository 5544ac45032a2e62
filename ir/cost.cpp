// cost.cpp: cost queries over graphs.
#include "ir/cost.h"

#include "ir/op_registry.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

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

Cost& operator+=(Cost& a, const Cost& b) {
  a.flops += b.flops;
  a.transcendentals += b.transcendentals;
  a.bytes_read += b.bytes_read;
  a.bytes_written += b.bytes_written;
  return a;
}

Cost graph_cost(const Graph& g) {
  Cost t;
  for (const auto& n : g.nodes())
    t += node_cost(*n);
  return t;
}

Expected<Cost> op_cost(OpKind k, std::span<const TensorType> operands, const AttrList& attrs) {
  const OpDef& def = op_def(k);
  auto dict = complete_attrs(def, attrs);
  if (!dict)
    return dict.error();
  auto results = infer_result_types(def, operands, *dict);
  if (!results)
    return results.error();
  CostCtx c{operands, *results, *dict};
  return def.cost ? def.cost(c) : default_cost(c);
}

double estimate_seconds(const Cost& c, const Machine& m) {
  double compute = c.flops / m.flops_per_s;
  double memory = (c.bytes_read + c.bytes_written) / m.bytes_per_s;
  return std::max(compute, memory) + c.transcendentals / m.transcendentals_per_s;
}

int64_t peak_live_bytes(const Graph& g) {
  std::unordered_map<const Value*, size_t> last_use;
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const Value* v : nodes[i]->operands)
      last_use[v] = i;
  for (const Value* v : g.outputs)
    last_use[v] = nodes.size();
  // bytes freed after node i
  std::vector<int64_t> freed(nodes.size() + 1, 0);
  int64_t live = 0, peak = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (int r = 0; r < nodes[i]->num_results(); ++r) {
      const Value* v = nodes[i]->result(r);
      int64_t b = v->type.bytes();
      live += b;
      auto it = last_use.find(v);
      freed[it == last_use.end() ? i : it->second] += b;
    }
    peak = std::max(peak, live);
    live -= freed[i];
  }
  return peak;
}

std::string format_flops(double flops) {
  const char* units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP"};
  int u = 0;
  while (std::abs(flops) >= 1000.0 && u < 5) {
    flops /= 1000.0;
    ++u;
  }
  return fmt::format("{:.3g} {}", flops, units[u]);
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::abs(bytes) >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  return fmt::format("{:.3g} {}", bytes, units[u]);
}

std::string format_cost(const Graph& g) {
  std::string s = fmt::format("// cost of @{}\n// {:>4}  {:<16} {:>14} {:>10} {:>14} {:>14}\n",
                              g.name, "#", "op", "flops", "transc.", "bytes read",
                              "bytes written");
  int i = 0;
  for (const auto& n : g.nodes()) {
    Cost c = node_cost(*n);
    s += fmt::format("// {:>4}  {:<16} {:>14.0f} {:>10.0f} {:>14.0f} {:>14.0f}\n", i++,
                     n->def().name, c.flops, c.transcendentals, c.bytes_read, c.bytes_written);
  }
  Cost t = graph_cost(g);
  s += fmt::format("// total {:<16} {:>14.0f} {:>10.0f} {:>14.0f} {:>14.0f}\n", "", t.flops,
                   t.transcendentals, t.bytes_read, t.bytes_written);
  s += fmt::format("// {}, peak live {}, estimate {:.3g} s at 100 GFLOP/s and 10 GB/s\n",
                   format_flops(t.flops), format_bytes(static_cast<double>(peak_live_bytes(g))),
                   estimate_seconds(t));
  return s;
}

} // namespace tevo::ir
