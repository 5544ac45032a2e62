// verifier.h: structural and per-op invariants of a graph, checked in one place.
#pragma once

#include <optional>

#include "ir/diag.h"
#include "ir/graph.h"

namespace tevo::ir {

/// Checks a graph: operands defined before use, every node's attributes complete and
/// its result types equal to what the op infers, outputs defined, regions valid.
/// Returns the first problem, located at the node and naming its scope.
std::optional<Diag> verify(const Graph& g);

} // namespace tevo::ir
