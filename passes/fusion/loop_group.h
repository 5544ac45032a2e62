// loop_group.h: the contract of a loop group (a `fused {kind = "loop"}` body), checked.
//
// The fusion pass only forms groups this analysis accepts, and the CPU code generator
// relies on it (docs/BACKEND.md, "Loop groups"). A map group has no reduction and all of
// its results share one shape, the domain D. A reduce group has reductions that all read an
// operand of shape D over the same axes R; every value that depends on a reduction has
// shape D, O_keep (D with R dims set to 1) or O_drop (D without R dims) and is read by
// every in-body user at its canonical index. Written against a node list so that the
// fusion pass can check candidate groups in the big graph without building bodies.
#pragma once

#include "ir/diag.h"
#include "ir/graph.h"

#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace tevo::passes::fusion {

/// Whether `n` may appear in a loop group: an op with a scalar definition, a view, an
/// index op, a source (full, iota, arange, constant) or sum/max/min/prod, with every
/// operand and result of dtype f32, f64, bf16, f16, i32, i64 or bool.
bool loop_group_op(const ir::Node& n);

/// Whether `n` is a reduction a loop group implements (sum, max, min, prod).
bool loop_reduction(const ir::Node& n);

/// How a value that depends on a reduction is indexed from the domain index.
enum class Role : uint8_t { Domain, Keep, Drop };

/// What a legal loop group computes over.
struct LoopGroupInfo {
  bool reduce = false;       ///< has at least one reduction
  ir::Shape domain;          ///< D: the result shape (map) or the reductions' operand shape
  std::vector<int64_t> axes; ///< R, sorted (reduce groups only)
  /// Every value that depends on a reduction, with its role (reduce groups only).
  std::unordered_map<const ir::Value*, Role> dependent;

  /// D with the R dims set to 1.
  ir::Shape keep_shape() const;
  /// D without the R dims (the parallel outer iteration space).
  ir::Shape drop_shape() const;
};

/// Analyses a candidate group: `nodes` in topological order; operands produced outside
/// `nodes` are its inputs; `results` are the values it makes visible. The error says which
/// rule the group breaks, naming the value.
ir::Expected<LoopGroupInfo> analyze_loop_group(std::span<const ir::Node* const> nodes,
                                               std::span<const ir::Value* const> results);

/// The same for a `fused` body graph (its outputs are the results).
ir::Expected<LoopGroupInfo> analyze_loop_group(const ir::Graph& body);

/// nullopt when `body` satisfies the loop-group contract, else why it does not.
std::optional<std::string> check_loop_group(const ir::Graph& body);

} // namespace tevo::passes::fusion
