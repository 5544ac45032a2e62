// outline.h: turns a partition into `fused` nodes (the rewriting half of the fusion pass).
#pragma once

#include "ir/graph.h"
#include "passes/fusion/partition.h"

#include <cstdint>

namespace tevo::passes::fusion {

/// What outline() made.
struct OutlineStats {
  int64_t loop_groups = 0;   ///< `fused {kind = "loop"}` nodes (map and reduce)
  int64_t reduce_groups = 0; ///< of which with a reduction
  int64_t library_groups = 0;
  int64_t nodes_fused = 0; ///< nodes moved into group bodies
};

/// Rebuilds `g` in a topological order of the units of `p`: each loop or library unit
/// becomes one `fused` node whose body holds the unit's nodes (keeping their names and
/// locations; duplicates inside a body are merged), every other node is kept as it is.
/// Loop units made only of views the lowering folds into strides (transpose, reshape,
/// broadcast_to, slice), or of one constant, stay bare. A group none of whose values is
/// used is dropped (every op is pure).
OutlineStats outline(ir::Graph& g, const Partition& p);

} // namespace tevo::passes::fusion
