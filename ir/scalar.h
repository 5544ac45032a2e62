// scalar.h: the ScalarBuilder interface through which elementwise ops are defined.
//
// An elementwise op defines its maths once, as a function over a ScalarBuilder. The
// interpreter implements the builder over whole arrays of doubles; the CPU backend
// implements it by emitting LLVM IR; the CUDA backend by emitting C. Backends therefore
// need one entry per scalar intrinsic (scalar_ops.def), not one per op.
#pragma once

#include <cstdint>
#include <span>

#include "ir/dtype.h"

namespace tevo::ir {

class AttrDict;

/// A scalar intrinsic.
enum class ScalarOp : uint8_t {
#define TEVO_SCALAR(e, arity, kind) e,
#include "ir/scalar_ops.def"
#undef TEVO_SCALAR
};

/// Handle to a value inside a ScalarBuilder, with its dtype.
struct SVal {
  int32_t id = -1;
  DType type = DType::F32;
};

/// Builds scalar expressions; implemented by each executor/code generator.
class ScalarBuilder {
public:
  virtual ~ScalarBuilder() = default;
  /// A constant of dtype t.
  virtual SVal constant(double v, DType t) = 0;
  /// Applies an intrinsic. Comparisons return bool; Real/Imag return the component's float
  /// dtype; MakeComplex returns the complex dtype; others return the operand dtype.
  virtual SVal apply(ScalarOp op, std::span<const SVal> args) = 0;
  /// select(c, a, b): c is bool.
  virtual SVal select(SVal c, SVal a, SVal b) = 0;
  /// Converts to another dtype (float->int truncates toward zero).
  virtual SVal cast(SVal x, DType to) = 0;

  // Conveniences (non-virtual).
  SVal un(ScalarOp op, SVal a) {
    SVal v[1] = {a};
    return apply(op, v);
  }
  SVal bin(ScalarOp op, SVal a, SVal b) {
    SVal v[2] = {a, b};
    return apply(op, v);
  }
  SVal c(double v, SVal like) {
    return constant(v, like.type);
  }
  SVal add(SVal a, SVal b) {
    return bin(ScalarOp::Add, a, b);
  }
  SVal sub(SVal a, SVal b) {
    return bin(ScalarOp::Sub, a, b);
  }
  SVal mul(SVal a, SVal b) {
    return bin(ScalarOp::Mul, a, b);
  }
  SVal div(SVal a, SVal b) {
    return bin(ScalarOp::Div, a, b);
  }
};

/// An elementwise op's definition: results from operand scalars and the node's attrs.
using ScalarFn = SVal (*)(ScalarBuilder& b, std::span<const SVal> args, const AttrDict& attrs);

} // namespace tevo::ir
