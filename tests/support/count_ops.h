// count_ops.h: how many nodes of a graph have a given op (rewrite tests).
#pragma once

#include "ir/graph.h"

namespace tevo::test {

inline int count_ops(const ir::Graph& g, ir::OpKind k) {
  int n = 0;
  for (const auto& node : g.nodes())
    n += node->op == k ? 1 : 0;
  return n;
}

} // namespace tevo::test
