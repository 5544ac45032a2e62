// cost.h: per-node and per-graph cost from the ops' cost hooks (FLOPs, bytes).
#pragma once

#include <string>

#include "ir/graph.h"
#include "ir/op_def.h"

namespace tevo::ir {

/// Cost of one node (its op's hook, or the default).
Cost node_cost(const Node& n);
/// Sum over all nodes of a graph.
Cost graph_cost(const Graph& g);
/// Human-readable table: one line per node plus a total.
std::string format_cost(const Graph& g);

} // namespace tevo::ir
