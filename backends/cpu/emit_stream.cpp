// emit_stream.cpp: loop shapes of a streaming store loop (see emit_stream.h).
#include "backends/cpu/emit_stream.h"

#include <llvm/IR/Intrinsics.h>

#include "backends/cpu/emit_loops.h"

namespace tevo::cpu {

void if_common_line_offset(
    BodyEmitter& e, const std::vector<llvm::Value*>& starts, llvm::Type* elem, int64_t n,
    const std::function<void(llvm::Value* h, const std::vector<llvm::Value*>& aligned)>&
        streamed,
    const std::function<void()>& plain) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::LLVMContext& c = b.getContext();
  llvm::Function* f = b.GetInsertBlock()->getParent();
  const llvm::DataLayout& dl = f->getParent()->getDataLayout();
  const auto bytes = static_cast<int64_t>(dl.getTypeStoreSize(elem).getFixedValue());
  llvm::Value* first = nullptr; // the first start's address
  llvm::Value* differ = b.getInt64(0);
  for (llvm::Value* p : starts)
    if (p) {
      llvm::Value* a = b.CreatePtrToInt(p, b.getInt64Ty());
      first = first ? first : a;
      differ = b.CreateOr(differ, b.CreateXor(a, first));
    }
  // Offsets equal mod kLineBytes, and the first a whole number of elements past a line.
  llvm::Value* off = b.CreateAnd(first, b.getInt64(kLineBytes - 1));
  llvm::Value* ok = b.CreateICmpEQ(
      b.CreateOr(b.CreateAnd(differ, b.getInt64(kLineBytes - 1)),
                 b.CreateURem(off, b.getInt64(static_cast<uint64_t>(bytes)))),
      b.getInt64(0));
  auto* yes = llvm::BasicBlock::Create(c, "stream", f);
  auto* no = llvm::BasicBlock::Create(c, "plain", f);
  auto* join = llvm::BasicBlock::Create(c, "stored", f);
  b.CreateCondBr(ok, yes, no);
  b.SetInsertPoint(yes);
  llvm::Value* to_line = b.CreateAnd(b.CreateSub(b.getInt64(kLineBytes), off),
                                     b.getInt64(kLineBytes - 1));
  llvm::Value* h = b.CreateBinaryIntrinsic(
      llvm::Intrinsic::umin, b.CreateUDiv(to_line, b.getInt64(static_cast<uint64_t>(bytes))),
      b.getInt64(static_cast<uint64_t>(n)));
  std::vector<llvm::Value*> aligned;
  for (llvm::Value* p : starts) {
    aligned.push_back(p ? b.CreateGEP(elem, p, h) : nullptr);
    if (p)
      b.CreateAlignmentAssumption(dl, aligned.back(), static_cast<unsigned>(kLineBytes));
  }
  e.push_scope();
  streamed(h, aligned);
  e.pop_scope();
  b.CreateBr(join);
  b.SetInsertPoint(no);
  e.push_scope();
  plain();
  e.pop_scope();
  b.CreateBr(join);
  b.SetInsertPoint(join);
}

void blocked_loop(BodyEmitter& e, llvm::Value* n, int64_t block,
                  const std::function<void(llvm::Value*)>& at_block,
                  const std::function<void(llvm::Value*)>& body) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* blocks = b.CreateUDiv(n, e.i64(block));
  llvm::Value* full = mul_nw(b, blocks, e.i64(block));
  {
    LoopNest nest(b, e);
    llvm::Value* q = nest.open(e.i64(0), blocks, "blk");
    llvm::Value* first = mul_nw(b, q, e.i64(block));
    at_block(first);
    body(nest.open(first, add_nw(b, first, e.i64(block)), "r"));
    nest.close_all();
  }
  LoopNest nest(b, e);
  body(nest.open(full, n, "rtail"));
  nest.close_all();
}

void prefetch_lines(llvm::IRBuilder<>& b, llvm::Value* p, int64_t bytes) {
  for (int64_t off = 0; off < bytes; off += kLineBytes) {
    llvm::Value* q = b.CreateConstGEP1_64(b.getInt8Ty(), p, static_cast<uint64_t>(off));
    // read, locality 2 (x86: prefetcht1, into L2), data cache
    b.CreateIntrinsic(llvm::Intrinsic::prefetch, {q->getType()},
                      {q, b.getInt32(0), b.getInt32(2), b.getInt32(1)});
  }
}

} // namespace tevo::cpu
