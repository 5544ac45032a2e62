// op_def.h: OpDef, the single record that defines an op, and the hook signatures.
//
// Everything tevo knows about an op lives in its OpDef: name, operand count, attribute
// schema with defaults, traits, type inference (which is also its verifier), reference
// kernel, cost, scalar definition (elementwise ops), and the slots later stages fill:
// vector-Jacobian product and decomposition. Backends read these hooks; no other file
// switches over ops.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/attr.h"
#include "ir/diag.h"
#include "ir/interp/array.h"
#include "ir/op_kind.h"
#include "ir/scalar.h"
#include "ir/shape.h"

namespace tevo::ir {

class Builder;
class Node;
class Value;

/// Op traits (bit flags).
enum Trait : uint32_t {
  kElementwise = 1u << 0,   ///< result[i] depends on operand[i] only (after broadcasting)
  kCommutative = 1u << 1,   ///< binary op with op(a,b) == op(b,a)
  kReduction = 1u << 2,     ///< reduces over `axes` (argmax: `axis`)
  kNotDifferentiable = 1u << 3, ///< no gradient flows through (indices, comparisons, ...)
  kSource = 1u << 4,        ///< no operands (constants, iota, random)
  kView = 1u << 5,          ///< pure data movement; no arithmetic
  kComposite = 1u << 6,     ///< has a decomposition into primitives
  kRandom = 1u << 7,        ///< draws from a seeded counter-based generator
  kVariadic = 1u << 8,      ///< any number (>= min) of operands
};

/// One attribute of an op's schema. No default means the attribute is required.
struct AttrSpec {
  std::string name;
  AttrKind kind;
  std::optional<Attr> default_value;
  std::string doc;
};

/// What type inference sees: operand types and the complete attribute dict.
struct InferCtx {
  std::span<const TensorType> operands;
  const AttrDict& attrs;
};
/// Result types, or a Diag whose message starts without the op name (the caller adds it).
using InferFn = Expected<std::vector<TensorType>> (*)(const InferCtx&);

/// What a reference kernel sees. Throw ir::Error for data-dependent failures
/// (e.g. an index out of range); the interpreter adds the node's location.
struct EvalCtx {
  std::span<const interp::Array* const> operands;
  const AttrDict& attrs;
  std::span<const TensorType> results;
  const interp::Array& in(int i) const {
    return *operands[static_cast<size_t>(i)];
  }
};
/// Computes all results (in double precision; the interpreter rounds to the dtype).
using EvalFn = std::vector<interp::Array> (*)(const EvalCtx&);

/// Work an op does, for cost models.
struct Cost {
  double flops = 0;       ///< arithmetic operations
  double transcendentals = 0; ///< exp/log/tanh/... evaluations
  double bytes_read = 0;  ///< operand bytes (each operand once)
  double bytes_written = 0; ///< result bytes
};
struct CostCtx {
  std::span<const TensorType> operands;
  std::span<const TensorType> results;
  const AttrDict& attrs;
};
using CostFn = Cost (*)(const CostCtx&);

/// Vector-Jacobian product context; defined by passes/autodiff (issue 3).
struct VjpCtx;
using VjpFn = std::vector<Value*> (*)(VjpCtx&);

/// Rewrites `node` into primitives through `b` (inserted before node); returns the
/// replacements for each result.
using DecomposeFn = std::vector<Value*> (*)(Builder& b, const Node& node);

/// The definition of one op.
struct OpDef {
  OpKind kind{};
  std::string_view name;
  std::string_view summary;   ///< one line for `tevo ops` and docs
  std::string_view signature; ///< e.g. "(x, y) -> z"
  int min_operands = 0;
  int max_operands = 0;       ///< ignored with kVariadic
  std::vector<AttrSpec> attrs;
  uint32_t traits = 0;
  InferFn infer = nullptr;
  EvalFn eval = nullptr;      ///< reference kernel (elementwise ops may use `scalar` only)
  ScalarFn scalar = nullptr;  ///< elementwise definition over a ScalarBuilder
  CostFn cost = nullptr;      ///< nullptr: one flop per result element
  VjpFn vjp = nullptr;        ///< filled by autodiff (issue 3)
  DecomposeFn decompose = nullptr;

  bool has(Trait t) const {
    return (traits & t) != 0;
  }
  const AttrSpec* attr_spec(std::string_view n) const {
    for (const auto& a : attrs)
      if (a.name == n)
        return &a;
    return nullptr;
  }
};

/// Default cost when OpDef::cost is null: one flop per result element, bytes of all
/// operands and results.
Cost default_cost(const CostCtx& c);

} // namespace tevo::ir
