// dot.h: Graphviz export of a graph (`tevo dot`).
#pragma once

#include <string>

#include "ir/graph.h"

namespace tevo::ir {

/// A `digraph` with one box per node (op, name, result type) and one ellipse per input.
std::string to_dot(const Graph& g);

} // namespace tevo::ir
