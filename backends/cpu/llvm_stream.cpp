// llvm_stream.cpp: tagged stores -> non-temporal vector stores (see llvm_stream.h).
#include "backends/cpu/llvm_stream.h"

#include <llvm/Analysis/AssumptionCache.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/Support/KnownBits.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <vector>

namespace tevo::cpu::stream {

namespace {

constexpr const char* kRoot = "tevo.stream";

/// The tag: an access of type "tevo.stream" under a root of the same name. TBAA answers
/// "may alias" for tags of different roots, so the tag takes no aliasing fact away.
llvm::MDNode* stream_tag(llvm::LLVMContext& c) {
  llvm::MDBuilder mb(c);
  llvm::MDNode* root = mb.createTBAARoot(kRoot);
  llvm::MDNode* type = mb.createTBAAScalarTypeNode(kRoot, root);
  return mb.createTBAAStructTagNode(type, type, 0);
}

bool is_stream_tag(const llvm::MDNode* md) {
  if (!md || md->getNumOperands() < 3)
    return false;
  auto* type = llvm::dyn_cast<llvm::MDNode>(md->getOperand(0));
  if (!type || type->getNumOperands() < 1)
    return false;
  auto* name = llvm::dyn_cast<llvm::MDString>(type->getOperand(0));
  return name && name->getString() == kRoot;
}

/// The size of `s` when a non-temporal store of it is one vector instruction of the
/// target (a vector of 16, 32 or 64 bytes, 64 only with AVX-512, at an address known to
/// be aligned to its size), else 0.
uint64_t streamable_bytes(const llvm::StoreInst& s, const llvm::DataLayout& dl, bool avx512,
                          llvm::AssumptionCache& ac, const llvm::DominatorTree& dt) {
  llvm::Type* ty = s.getValueOperand()->getType();
  if (!ty->isVectorTy())
    return 0;
  uint64_t bytes = dl.getTypeStoreSize(ty).getFixedValue();
  if (bytes != 16 && bytes != 32 && !(bytes == 64 && avx512))
    return 0;
  llvm::KnownBits kb = llvm::computeKnownBits(s.getPointerOperand(), dl, 0, &ac, &s, &dt);
  uint64_t known = uint64_t{1} << std::min(kb.countMinTrailingZeros(), 31u);
  return std::max<uint64_t>(known, s.getAlign().value()) >= bytes ? bytes : 0;
}

} // namespace

void tag(llvm::StoreInst* s) {
  s->setMetadata(llvm::LLVMContext::MD_tbaa, stream_tag(s->getContext()));
}

int lower_stream_stores(llvm::Module& m, const llvm::TargetMachine& tm) {
  llvm::Triple triple(m.getTargetTriple());
  bool x86 = triple.isX86();
  bool avx512 = x86 && tm.getMCSubtargetInfo()->checkFeatures("+avx512f");
  const llvm::DataLayout& dl = m.getDataLayout();
  llvm::LLVMContext& c = m.getContext();
  llvm::MDNode* nontemporal = llvm::MDNode::get(
      c, {llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(c), 1))});
  int made = 0;
  for (llvm::Function& f : m) {
    std::vector<llvm::StoreInst*> tagged;
    for (llvm::BasicBlock& bb : f)
      for (llvm::Instruction& i : bb)
        if (auto* s = llvm::dyn_cast<llvm::StoreInst>(&i);
            s && is_stream_tag(s->getMetadata(llvm::LLVMContext::MD_tbaa)))
          tagged.push_back(s);
    if (tagged.empty())
      continue;
    llvm::AssumptionCache ac(f); // the alignment assumptions of the streamed rows
    llvm::DominatorTree dt(f);
    bool streams = false;
    for (llvm::StoreInst* s : tagged) {
      s->setMetadata(llvm::LLVMContext::MD_tbaa, nullptr);
      uint64_t bytes = x86 ? streamable_bytes(*s, dl, avx512, ac, dt) : 0;
      if (bytes == 0)
        continue;
      s->setAlignment(llvm::Align(bytes));
      s->setMetadata(llvm::LLVMContext::MD_nontemporal, nontemporal);
      streams = true;
      ++made;
    }
    if (!streams)
      continue;
    std::vector<llvm::ReturnInst*> rets;
    for (llvm::BasicBlock& bb : f)
      if (auto* r = llvm::dyn_cast<llvm::ReturnInst>(bb.getTerminator()))
        rets.push_back(r);
    llvm::Function* sfence = llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::x86_sse_sfence);
    for (llvm::ReturnInst* r : rets)
      llvm::IRBuilder<>(r).CreateCall(sfence);
  }
  return made;
}

} // namespace tevo::cpu::stream
