// emit_eval.h: evaluation of a loop group's body at an index, as LLVM IR (emit_*.cpp only).
//
// BodyEmitter turns "the value of body value v at multi-index idx" into LLVM IR at the
// builder's insertion point. Elementwise ops go through their registry scalar definition
// (LlvmScalarBuilder); views are index maps onto their operand; index ops load the index,
// record a range error in a flag and read the data at a clamped index (so loops keep a
// single exit and vectorise); body inputs are loaded through their element strides.
// Results are memoised per (value, index) in a stack of scopes that follows the loop nest,
// so a value used twice at one index inside one loop body is computed once.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/llvm_internal.h"
#include "ir/graph.h"

namespace tevo::cpu {

/// A multi-index: one i64 value per dim (extent-1 dims are the constant 0).
using Index = std::vector<llvm::Value*>;

/// Index arithmetic that never wraps (indices and offsets are below 2^50).
llvm::Value* add_nw(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y);
llvm::Value* mul_nw(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y);
/// x * c + y with constant c, skipping the multiply for c == 1 and the term for c == 0.
llvm::Value* add_scaled(llvm::IRBuilder<>& b, llvm::Value* y, llvm::Value* x, int64_t c);
/// Row-major flat offset of idx in a tensor of `dims` (dense strides).
llvm::Value* ravel_dense(llvm::IRBuilder<>& b, const Index& idx, const std::vector<int64_t>& dims);
/// Splits flat offset `flat` (< numel(dims)) into a multi-index (extent-1 dims give 0).
Index unravel(llvm::IRBuilder<>& b, llvm::Value* flat, const std::vector<int64_t>& dims);

/// Where a loop group reads its operands.
struct OperandAccess {
  llvm::Value* ptr = nullptr;    ///< base pointer
  std::vector<int64_t> strides;  ///< element strides per dim (0 = broadcast)
};

class BodyEmitter {
public:
  /// `alloca_block`: the function's entry block (error flags live there). `errors` gets
  /// one message per data-error site; a site's code is its 1-based position.
  BodyEmitter(llvm::IRBuilder<>& b, llvm::Module& m, const ir::Node& group,
              std::vector<OperandAccess> operands, llvm::BasicBlock* alloca_block,
              std::vector<std::string>& errors);

  /// The value of v at idx (one entry per dim of v), in v's compute type.
  llvm::Value* emit(const ir::Value* v, const Index& idx);

  /// Memo scopes: push on entering a loop body, pop on leaving it.
  void push_scope();
  void pop_scope();

  /// Reduction node n's value for the current outer iteration, and the canonical index of
  /// O-shaped values (checked against every read of a reduction).
  void set_reduced(const ir::Node* n, llvm::Value* v, Index canonical);

  /// Records x as v's value at idx in the innermost memo scope: a value computed in an
  /// earlier loop and kept in memory (column-order reduce groups) is read, not recomputed.
  void define(const ir::Value* v, const Index& idx, llvm::Value* x);

  /// i32: 0, or the code of the first error site whose flag is set.
  llvm::Value* error_code();

  llvm::Value* i64(int64_t v) {
    return b_.getInt64(static_cast<uint64_t>(v));
  }
  LlvmScalarBuilder& scalar() {
    return sb_;
  }
  llvm::IRBuilder<>& builder() {
    return b_;
  }
  /// An ir::Error located at the group node.
  [[noreturn]] void fail(const std::string& message) const;

private:
  llvm::Value* compute(const ir::Node& n, const Index& idx);
  llvm::Value* load_input(int i, const Index& idx);
  llvm::Value* elementwise(const ir::Node& n, const Index& idx);
  llvm::Value* source(const ir::Node& n, const Index& idx);
  llvm::Value* view(const ir::Node& n, const Index& idx);   // emit_views.cpp
  llvm::Value* indexed(const ir::Node& n, const Index& idx); // emit_index.cpp
  llvm::Value* reduced(const ir::Node& n, const Index& idx);
  /// Broadcast index of an operand of shape `s` read by a result of rank idx.size().
  Index broadcast_index(const ir::Shape& s, const Index& idx);
  /// Converts v of dtype `from` to `to` exactly as the cast op does.
  llvm::Value* convert(llvm::Value* v, ir::DType from, ir::DType to);
  /// Loads index element v (i32/i64) as i64, flags it when outside [0, dim), and returns
  /// it clamped into range.
  llvm::Value* checked_index(const ir::Node& n, llvm::Value* v, int64_t dim);
  int error_site(const ir::Node& n);
  llvm::Value* zero_of(ir::DType t);

  using Key = std::pair<const ir::Value*, Index>;
  llvm::IRBuilder<>& b_;
  llvm::Module& m_;
  const ir::Node& group_;
  const ir::Graph& body_;
  LlvmScalarBuilder sb_;
  std::vector<OperandAccess> operands_;
  llvm::BasicBlock* alloca_block_;
  std::vector<std::string>& errors_;
  std::vector<std::map<Key, llvm::Value*>> memo_;
  std::map<const ir::Node*, std::pair<llvm::Value*, Index>> reduced_;
  std::map<const ir::Node*, int> site_of_;
  std::vector<llvm::AllocaInst*> flags_;
  std::map<const ir::Node*, llvm::GlobalVariable*> constants_;
};

} // namespace tevo::cpu
