// partition.h: how the fusion pass splits a graph into kernel groups (no rewriting here).
//
// duplicate_cheap_producers() first gives each loop-fusible consumer its own copy of a
// cheap producer (elementwise without transcendentals, views, sources) that several
// consumers share, so that sharing does not force the producer's value into memory.
// partition() then assigns every node to a unit: a library group (matmul plus the chain of
// oneDNN post-ops after it), a loop group (grown by merging producer and consumer groups
// while the result keeps the loop-group contract, stays acyclic and within size), or a
// bare node (everything else, which runs alone).
#pragma once

#include "ir/graph.h"

#include <cstdint>
#include <vector>

namespace tevo::passes::fusion {

/// The knobs of the fusion pass (PassContext options fuse.epilogue, fuse.max-group-size).
struct FuseOptions {
  bool epilogue = true;         ///< fuse matmul epilogues into library groups
  int64_t max_group_size = 512; ///< most nodes in one loop group
  int64_t max_copies = 8;       ///< most consumers a cheap producer is copied into
};

enum class UnitKind : uint8_t { Bare, Loop, Library };

/// Every node's unit. Node indices are positions in the graph's node list.
struct Partition {
  std::vector<int> unit_of;              ///< per node: its unit
  std::vector<UnitKind> kind;            ///< per unit
  std::vector<std::vector<int>> members; ///< per unit: node indices, ascending
};

/// Copies cheap producers shared by several loop-fusible consumers (one copy per extra
/// consumer, named and located like the original). Returns the number of copies made.
int64_t duplicate_cheap_producers(ir::Graph& g, const FuseOptions& opts);

/// Splits `g` into units. Loop units satisfy check_loop_group; units form a DAG.
Partition partition(const ir::Graph& g, const FuseOptions& opts);

} // namespace tevo::passes::fusion
