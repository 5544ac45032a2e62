// cse.cpp: common subexpression elimination.
//
// Two nodes are the same computation when they have the same op, the same operands (in
// either order for a binary op marked kCommutative), equal attributes (ir::AttrDict
// equality: dense literals by value, regions by text) and the same result types. Every
// op is pure, random ops included (same seed, same values), so the later node is
// replaced by the earlier one. One forward sweep in node order: operands are already
// rewritten when a node is reached, so chains of duplicates collapse in one run, and
// the result does not depend on pointer values or hash order.
#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/op_def.h"
#include "ir/printer.h"
#include "passes/pass.h"
#include "passes/rewriter.h"

namespace tevo::passes {

namespace {

class Cse final : public Pass {
public:
  PassResult run(ir::Graph& g, PassContext& ctx) override {
    Rewriter rw(g);
    // Values numbered by definition order: keys use numbers, never pointers.
    std::unordered_map<const ir::Value*, int64_t> id;
    for (const ir::Value* in : g.inputs())
      id.emplace(in, static_cast<int64_t>(id.size()));
    // Key -> the nodes seen with that key (attributes compared exactly on a hit).
    std::unordered_map<std::string, std::vector<ir::Node*>> seen;
    int64_t eliminated = 0;
    for (const auto& np : g.nodes()) {
      ir::Node& n = *np;
      rw.update_operands(n);
      std::string k = key(n, id);
      ir::Node* same = nullptr;
      auto& bucket = seen[k];
      for (ir::Node* c : bucket)
        if (c->attrs == n.attrs) {
          same = c;
          break;
        }
      if (same) {
        std::vector<ir::Value*> with;
        for (int r = 0; r < same->num_results(); ++r)
          with.push_back(same->result(r));
        rw.replace(n, with);
        ++eliminated;
        continue;
      }
      bucket.push_back(&n);
      for (int r = 0; r < n.num_results(); ++r)
        id.emplace(n.result(r), static_cast<int64_t>(id.size()));
    }
    rw.commit();
    ctx.stat("cse.eliminated") += eliminated;
    return {eliminated > 0};
  }

private:
  /// Op, operand numbers (sorted for a commutative binary op), result types and a
  /// fingerprint of the attributes (so that many constants of one type do not all land
  /// in one bucket; equality is still checked exactly).
  static std::string key(const ir::Node& n,
                         const std::unordered_map<const ir::Value*, int64_t>& id) {
    std::vector<int64_t> ops;
    for (const ir::Value* o : n.operands)
      ops.push_back(id.at(o));
    if (n.def().has(ir::kCommutative) && ops.size() == 2)
      std::sort(ops.begin(), ops.end());
    std::string k(n.def().name);
    for (int64_t o : ops)
      k += " " + std::to_string(o);
    k += " :";
    for (int r = 0; r < n.num_results(); ++r)
      k += " " + n.result(r)->type.str();
    for (const auto& [name, a] : n.attrs.items())
      k += " " + name + "=" + fingerprint(a);
    return k;
  }

  static std::string fingerprint(const ir::Attr& a) {
    switch (a.kind()) {
    case ir::AttrKind::Dense: {
      const auto& b = a.dense()->bytes;
      std::string_view bytes(reinterpret_cast<const char*>(b.data()), b.size());
      return std::to_string(std::hash<std::string_view>{}(bytes));
    }
    case ir::AttrKind::Region:
      return std::to_string(std::hash<std::string>{}(ir::print_attr(a)));
    default:
      return ir::print_attr(a);
    }
  }
};

} // namespace

std::unique_ptr<Pass> create_cse() {
  return std::make_unique<Cse>();
}

} // namespace tevo::passes
