// fuse.cpp: the fusion pass: partitions the graph into kernel groups and wraps each in a
// `fused` node (docs/BACKEND.md, "Fusion").
//
// Why: a backend then runs each group as one kernel (a generated loop nest, or a library
// call with its epilogue), so intermediate values never touch memory. The interpreter runs
// a `fused` node by running its body, so the fused graph computes what the original did.
// Steps: copy cheap shared producers into their consumers (fusion/partition.h), partition
// (library groups, then loop groups grown greedily along producer -> consumer edges under
// the loop-group contract of fusion/loop_group.h, never creating a cycle), and outline
// each group (fusion/outline.h). Run `decompose` first: composites (mean, softmax, norms)
// and reductions over unit axes are not fusible before it.
// Options: fuse.epilogue (default 1: matmul epilogues become library groups),
// fuse.max-group-size (default 512 nodes per loop group).
// Statistics: fuse.loop-groups, fuse.reduce-groups, fuse.library-groups, fuse.nodes-fused,
// fuse.copies.
#include "ir/diag.h"
#include "passes/fusion/outline.h"
#include "passes/fusion/partition.h"
#include "passes/pass.h"

namespace tevo::passes {

namespace {

class Fuse final : public Pass {
public:
  PassResult run(ir::Graph& g, PassContext& ctx) override {
    fusion::FuseOptions opts;
    opts.epilogue = ctx.option_i64("fuse.epilogue", 1) != 0;
    opts.max_group_size = ctx.option_i64("fuse.max-group-size", opts.max_group_size);
    if (opts.max_group_size < 1)
      throw ir::Error(
          ir::make_diag("fuse.max-group-size must be at least 1, got {}", opts.max_group_size));
    int64_t copies = fusion::duplicate_cheap_producers(g, opts);
    fusion::Partition p = fusion::partition(g, opts);
    bool any = false;
    for (fusion::UnitKind k : p.kind)
      any = any || k != fusion::UnitKind::Bare;
    if (!any && copies == 0)
      return {false};
    fusion::OutlineStats s = fusion::outline(g, p);
    ctx.stat("fuse.loop-groups") += s.loop_groups;
    ctx.stat("fuse.reduce-groups") += s.reduce_groups;
    ctx.stat("fuse.library-groups") += s.library_groups;
    ctx.stat("fuse.nodes-fused") += s.nodes_fused;
    ctx.stat("fuse.copies") += copies;
    return {true};
  }
};

} // namespace

std::unique_ptr<Pass> create_fuse() {
  return std::make_unique<Fuse>();
}

} // namespace tevo::passes
