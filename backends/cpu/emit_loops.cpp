// emit_loops.cpp: canonical counted loops for generated kernels (see emit_loops.h).
#include "backends/cpu/emit_loops.h"

namespace tevo::cpu {

llvm::Value* LoopNest::open(llvm::Value* lo, llvm::Value* hi, const std::string& name) {
  llvm::LLVMContext& c = b_.getContext();
  llvm::Function* f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock* pre = b_.GetInsertBlock();
  auto* header = llvm::BasicBlock::Create(c, name + ".head", f);
  auto* body = llvm::BasicBlock::Create(c, name + ".body", f);
  auto* exit = llvm::BasicBlock::Create(c, name + ".exit", f);
  b_.CreateBr(header);
  b_.SetInsertPoint(header);
  llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2, name);
  iv->addIncoming(lo, pre);
  b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), body, exit);
  b_.SetInsertPoint(body);
  loops_.push_back({header, exit, iv});
  e_.push_scope();
  return iv;
}

llvm::Value* LoopNest::open_dim(int64_t extent, const std::string& name) {
  if (extent == 1)
    return b_.getInt64(0);
  return open(b_.getInt64(0), b_.getInt64(static_cast<uint64_t>(extent)), name);
}

void LoopNest::close_all() {
  while (!loops_.empty()) {
    Loop l = loops_.back();
    loops_.pop_back();
    e_.pop_scope();
    llvm::Value* next = add_nw(b_, l.iv, b_.getInt64(1));
    l.iv->addIncoming(next, b_.GetInsertBlock());
    b_.CreateBr(l.header);
    b_.SetInsertPoint(l.exit);
  }
}

} // namespace tevo::cpu
