// dce.cpp: dead code elimination: removes nodes whose results nothing uses.
//
// The graph's outputs are the roots; a node is live when one of its results is an
// output or an operand of a live node. Every op is pure (random ops are pure functions
// of their seed), so every other node can go. Regions are left alone: their bodies are
// small and owned by the node that captures them. Runs in one backward sweep.
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

class Dce final : public Pass {
public:
  PassResult run(ir::Graph& g, PassContext& ctx) override {
    size_t erased = erase_dead_nodes(g);
    ctx.stat("dce.erased") += static_cast<int64_t>(erased);
    return {erased > 0};
  }
};

} // namespace

std::unique_ptr<Pass> create_dce() {
  return std::make_unique<Dce>();
}

} // namespace tevo::passes
