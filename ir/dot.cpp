// dot.cpp: Graphviz output; node ids follow program order, so output is deterministic.
#include "ir/dot.h"

#include <unordered_map>

#include "ir/op_registry.h"

namespace tevo::ir {

namespace {
std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\';
    o += c;
  }
  return o;
}
} // namespace

std::string to_dot(const Graph& g) {
  std::string s = fmt::format("digraph \"{}\" {{\n  rankdir=TB;\n  node [fontname=\"monospace\"];\n",
                              esc(g.name));
  std::unordered_map<const Value*, std::string> id;
  int k = 0;
  for (const Value* in : g.inputs()) {
    std::string n = fmt::format("in{}", k++);
    id[in] = n;
    const char* kind = in->input_kind == InputKind::Param   ? " param"
                       : in->input_kind == InputKind::State ? " state"
                                                            : "";
    s += fmt::format("  {} [shape=ellipse, label=\"%{}{}\\n{}\"];\n", n,
                     esc(in->name.empty() ? std::to_string(in->index) : in->name), kind,
                     in->type.str());
  }
  int i = 0;
  for (const auto& n : g.nodes()) {
    std::string nid = fmt::format("n{}", i++);
    std::string types;
    for (int r = 0; r < n->num_results(); ++r) {
      id[n->result(r)] = nid;
      types += (r ? ", " : "") + n->result(r)->type.str();
    }
    std::string label = std::string(n->def().name);
    if (!n->scoped_name().empty())
      label += "\\n" + esc(n->scoped_name());
    s += fmt::format("  {} [shape=box, label=\"{}\\n{}\"];\n", nid, label, types);
    for (const Value* o : n->operands)
      s += fmt::format("  {} -> {};\n", id.at(o), nid);
  }
  s += "  out [shape=doublecircle, label=\"return\"];\n";
  for (const Value* o : g.outputs)
    s += fmt::format("  {} -> out;\n", id.at(o));
  return s + "}\n";
}

} // namespace tevo::ir
