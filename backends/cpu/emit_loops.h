// emit_loops.h: canonical counted loops for generated kernels (emit_*.cpp only).
//
// Each loop is `for (i64 i = lo; i < hi; i += 1)` with a single latch, `nuw nsw` increment
// and its body in its own memo scope of the BodyEmitter, which is the shape LLVM's loop
// passes (rotation, LICM, the vectoriser) expect.
#pragma once

#include <string>
#include <vector>

#include "backends/cpu/emit_eval.h"

namespace tevo::cpu {

/// A stack of nested loops opened at the builder's insertion point.
class LoopNest {
public:
  LoopNest(llvm::IRBuilder<>& b, BodyEmitter& e) : b_(b), e_(e) {}
  LoopNest(const LoopNest&) = delete;
  LoopNest& operator=(const LoopNest&) = delete;

  /// Opens a loop over [lo, hi) and moves the insertion point into its body; returns the
  /// induction variable.
  llvm::Value* open(llvm::Value* lo, llvm::Value* hi, const std::string& name);
  /// A loop over [0, extent); an extent-1 dim opens no loop and gives the constant 0.
  llvm::Value* open_dim(int64_t extent, const std::string& name);
  /// Closes every loop opened here, innermost first; the insertion point ends after them.
  void close_all();

private:
  struct Loop {
    llvm::BasicBlock* header;
    llvm::BasicBlock* exit;
    llvm::PHINode* iv;
  };
  llvm::IRBuilder<>& b_;
  BodyEmitter& e_;
  std::vector<Loop> loops_;
};

} // namespace tevo::cpu
