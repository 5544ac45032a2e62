// vjp.h: VjpCtx, what an op's vector-Jacobian-product rule sees and builds with.
//
// A rule receives the forward node and the cotangent of each of its results and returns
// one gradient per operand (nullptr where no gradient flows: integer operands, indices,
// or an operand the op is not differentiable in). Rules build ordinary IR through the
// context, so the backward pass is a graph like any other: printable, optimisable.
#pragma once

#include <vector>

#include "ir/builder.h"
#include "ir/graph.h"

namespace tevo::ir {

struct VjpCtx {
  Builder& b;
  const Node& node;
  /// Cotangent of each result; nullptr when that result receives no gradient.
  std::vector<Value*> cotangents;
  /// Whether operand i needs a gradient; a rule should return nullptr for the others
  /// (so no dead backward nodes are built).
  std::vector<bool> needs_grad;

  bool needs(int i) const {
    return needs_grad[static_cast<size_t>(i)];
  }

  /// Forward operand i, forward result i, cotangent of result i.
  Value* x(int i) const {
    return node.operand(i);
  }
  Value* y(int i = 0) const {
    return node.result(i);
  }
  Value* dy(int i = 0) const {
    return cotangents[static_cast<size_t>(i)];
  }
  const AttrDict& attrs() const {
    return node.attrs;
  }

  /// Makes a backward node at the forward node's location, named after it.
  Value* op(OpKind k, std::vector<Value*> operands, const AttrList& attrs = {});
  /// A rank-0 constant of dtype t (a `full` node).
  Value* scalar(double v, DType t);
  /// A tensor of type t filled with v.
  Value* fill(double v, const TensorType& t);
  /// Sums `g` over the axes along which a value of type `t` was broadcast to g's shape,
  /// then reshapes to t's shape: the adjoint of NumPy broadcasting.
  Value* unbroadcast(Value* g, const TensorType& t);
  /// Broadcasts `g` (the shape of a reduction result with keepdims=false over `axes`) back
  /// to `t`'s shape: the adjoint of a reduction.
  Value* expand_reduced(Value* g, const std::vector<int64_t>& axes, bool keepdims,
                        const TensorType& t);
};

} // namespace tevo::ir
