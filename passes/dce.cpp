// dce.cpp: dead code elimination: removes nodes whose results nothing uses.
//
// The graph's outputs are the roots; a node is live when one of its results is an
// output or an operand of a live node. Every op is pure (random ops are pure functions
// of their seed), so every other node can go. Regions are left alone: their bodies are
// small and owned by the node that captures them. Runs in one backward sweep.
#include <unordered_set>

#include "passes/pass.h"
#include "passes/rewriter.h"

namespace tevo::passes {

namespace {

class Dce final : public Pass {
public:
  PassResult run(ir::Graph& g, PassContext& ctx) override {
    std::unordered_set<const ir::Value*> live(g.outputs.begin(), g.outputs.end());
    Rewriter rw(g);
    const auto& nodes = g.nodes();
    for (size_t i = nodes.size(); i-- > 0;) {
      const ir::Node& n = *nodes[i];
      bool used = false;
      for (int r = 0; r < n.num_results() && !used; ++r)
        used = live.count(n.result(r)) > 0;
      if (!used) {
        rw.erase(n);
        continue;
      }
      live.insert(n.operands.begin(), n.operands.end());
    }
    size_t erased = rw.commit();
    ctx.stat("dce.erased") += static_cast<int64_t>(erased);
    return {erased > 0};
  }
};

} // namespace

std::unique_ptr<Pass> create_dce() {
  return std::make_unique<Dce>();
}

} // namespace tevo::passes
