// grad.h: reverse-mode automatic differentiation as a graph-to-graph transform.
//
// grad() appends to a graph the backward nodes built from each op's VJP rule
// (OpDef::vjp), so forward and backward live in one graph that passes optimise and
// backends compile together (a whole training step is one graph).
#pragma once

#include <vector>

#include "ir/graph.h"

namespace tevo::autodiff {

/// Appends the gradient of `loss` with respect to each value in `wrt`. A non-scalar loss
/// is summed (its cotangent is all ones). Values used several times get their
/// gradients accumulated; `stop_gradient` and non-differentiable ops stop the flow.
/// Returns one gradient per `wrt` value, with the same type (a zero-filled `full` when
/// `loss` does not depend on it). Throws ir::Error, located at the forward node, when a
/// differentiable path runs through an op without a VJP rule, or when `wrt` or `loss`
/// is not a float tensor.
std::vector<ir::Value*> grad(ir::Graph& g, ir::Value* loss, const std::vector<ir::Value*>& wrt);

/// General form: cotangents `seeds` (same types as `ys`) pulled back to `wrt`.
std::vector<ir::Value*> vjp(ir::Graph& g,
                            const std::vector<ir::Value*>& ys,
                            const std::vector<ir::Value*>& seeds,
                            const std::vector<ir::Value*>& wrt);

} // namespace tevo::autodiff
