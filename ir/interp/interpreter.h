// interpreter.h: the f64 reference interpreter, ground truth for every backend.
//
// Simple loops, every op, written for clarity rather than speed. Values are held as
// double and rounded to each result's dtype after every op, so an f32 graph computes
// what f32 storage would hold and an f64 graph is accurate enough for gradient checks.
#pragma once

#include <span>
#include <vector>

#include "ir/graph.h"
#include "ir/interp/array.h"
#include "ir/op_def.h"

namespace tevo::ir::interp {

struct Options {
  /// Largest tensor (in elements) the interpreter will allocate; larger is an error.
  int64_t max_elements = int64_t{1} << 28;
};

/// Runs `g` on `inputs` (one per graph input, with matching types). Throws ir::Error
/// (located at the node) on a type mismatch, an oversized tensor or a data error.
std::vector<Array> run(const Graph& g, const std::vector<Array>& inputs, const Options& opts = {});

/// Evaluates one node on operand arrays and rounds results to their dtypes.
std::vector<Array> eval_node(const Node& n, std::span<const Array* const> operands);

/// Reference evaluation of an elementwise op from its scalar definition (used as the
/// eval hook of elementwise ops; operands broadcast to the result shape).
std::vector<Array> eval_elementwise(const EvalCtx& ctx, ScalarFn fn);

} // namespace tevo::ir::interp
