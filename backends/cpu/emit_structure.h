// emit_structure.h: what a loop group is made of, for its code generator (emit_*.cpp only):
// which bodies can be generated, the loop structure (domain D, reduced dims R, kept dims O)
// and the combine step and identity of each loop reduction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/llvm_internal.h"
#include "ir/graph.h"

namespace tevo::cpu {

/// sum, max, min and prod: the reductions a loop group computes in its loops.
bool is_loop_reduction(ir::OpKind k);

/// An ir::Error located at the group node.
[[noreturn]] void fail_at(const ir::Node& group, const std::string& msg);

/// Rejects what the generator cannot do before any IR is created.
void check_body(const ir::Node& group, const ir::Graph& body);

/// The loop structure of a group: its domain D and, for reduce groups, the reduced dims.
struct Structure {
  std::vector<int64_t> d;                  ///< the domain D
  std::vector<bool> reduced;               ///< per dim of D: in R (all false: map group)
  std::vector<const ir::Node*> reductions; ///< in body (topological) order
  std::vector<int64_t> kept;               ///< O_drop: the dims of D not in R
  std::vector<int64_t> keep_dims;          ///< O_keep: D with R dims set to 1
};

/// The group's structure; ir::Error at the group when its results do not fit one.
Structure analyse(const ir::Node& group, const ir::Graph& body);

/// Emits the combine step of reduction `op` and returns the new accumulator.
llvm::Value* combine(llvm::IRBuilder<>& b, ir::OpKind op, ir::DType t, llvm::Value* acc,
                     llvm::Value* v);

/// The identity of reduction `op` in type `ty` (dtype t).
llvm::Value* identity(llvm::IRBuilder<>& b, ir::OpKind op, ir::DType t, llvm::Type* ty);

} // namespace tevo::cpu
