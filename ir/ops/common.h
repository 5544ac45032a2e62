// common.h: small helpers shared by the op family files (type rules, cost formulas).
// Internal to ir/ops; not a public header.
#pragma once

#include <string>
#include <vector>

#include "ir/interp/array.h"
#include "ir/op_def.h"
#include "ir/op_registry.h"

namespace tevo::ir::ops {

/// Shorthand for an attribute spec with a default.
inline AttrSpec attr(std::string name, AttrKind k, Attr def, std::string doc) {
  return AttrSpec{std::move(name), k, std::move(def), std::move(doc)};
}
/// Shorthand for a required attribute spec.
inline AttrSpec required(std::string name, AttrKind k, std::string doc) {
  return AttrSpec{std::move(name), k, std::nullopt, std::move(doc)};
}

inline Expected<std::vector<TensorType>> one(TensorType t) {
  return std::vector<TensorType>{std::move(t)};
}

/// An index into a std::vector, from the int64_t that shapes and attributes use.
inline size_t at(int64_t i) {
  return static_cast<size_t>(i);
}

/// Operand i's dtype must satisfy pred; `what` names the accepted class ("a float").
inline std::optional<Diag> need(const InferCtx& c, size_t i, bool ok, const char* what) {
  if (ok)
    return std::nullopt;
  return make_diag("operand {} must be {}, got {}", i, what, c.operands[i].str());
}

/// The classes of dtype an operand may be required to have.
enum class Domain { Float, Numeric, NumericOrComplex, Bool, Any };

/// Whether t belongs to d (Numeric: float or integer).
bool in_domain(DType t, Domain d);
/// How messages name d: "a float or integer tensor".
const char* domain_name(Domain d);

/// Operand i's dtype must belong to d.
inline std::optional<Diag> need(const InferCtx& c, size_t i, Domain d) {
  return need(c, i, in_domain(c.operands[i].dtype, d), domain_name(d));
}

/// Normalises every axis in `axes` against `rank`, rejecting duplicates and
/// out-of-range values. An empty list means all axes when `empty_is_all`.
Expected<std::vector<int64_t>> normalize_axes(const std::vector<int64_t>& axes, int64_t rank,
                                              bool empty_is_all);

/// The op's `axis` attribute normalised against x's rank, or the diagnostic
/// "axis A out of range for T".
Expected<int64_t> attr_axis(const InferCtx& c, const TensorType& x);

/// Cost of an op that reads its operands once and writes its results once with
/// `flops_per_out` operations per result element.
Cost streaming_cost(const CostCtx& c, double flops_per_out, double transc_per_out = 0);

} // namespace tevo::ir::ops
