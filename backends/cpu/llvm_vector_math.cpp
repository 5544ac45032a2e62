// llvm_vector_math.cpp: widenable math calls and their expansion after optimisation (see
// llvm_vector_math.h).
#include "backends/cpu/llvm_vector_math.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>

#include <string>
#include <vector>

#include "backends/cpu/llvm_math.h"
#include "ir/diag.h"

namespace tevo::cpu::vmath {

namespace {

constexpr const char* kExpf = "tevo_vm_expf";
constexpr unsigned kLanes[] = {2, 4, 8, 16};

std::string variant_name(unsigned lanes) {
  return std::string(kExpf) + "_v" + std::to_string(lanes);
}

/// The scalar declaration, with its vector variants declared, named in its
/// vector-function-abi-variant attribute and kept in llvm.compiler.used (global DCE would
/// otherwise drop the unused declarations before the vectoriser looks for them).
llvm::Function* expf_decl(llvm::Module& m) {
  if (llvm::Function* f = m.getFunction(kExpf))
    return f;
  llvm::LLVMContext& c = m.getContext();
  llvm::Type* f32 = llvm::Type::getFloatTy(c);
  auto pure = [](llvm::Function* f) {
    f->setDoesNotThrow();
    f->setDoesNotAccessMemory();
    f->setWillReturn();
    f->addFnAttr(llvm::Attribute::NoSync);
    f->addFnAttr(llvm::Attribute::NoFree);
  };
  auto* fn = llvm::Function::Create(llvm::FunctionType::get(f32, {f32}, false),
                                    llvm::Function::ExternalLinkage, kExpf, m);
  pure(fn);
  std::string mappings;
  std::vector<llvm::GlobalValue*> used;
  for (unsigned n : kLanes) {
    llvm::Type* vt = llvm::FixedVectorType::get(f32, n);
    auto* v = llvm::Function::Create(llvm::FunctionType::get(vt, {vt}, false),
                                     llvm::Function::ExternalLinkage, variant_name(n), m);
    pure(v);
    used.push_back(v);
    mappings += (mappings.empty() ? "" : ",") + std::string("_ZGV_LLVM_N") + std::to_string(n) +
                "v_" + kExpf + "(" + variant_name(n) + ")";
  }
  fn->addFnAttr("vector-function-abi-variant", mappings);
  llvm::appendToCompilerUsed(m, used);
  return fn;
}

bool is_expf(const llvm::Function* f) {
  if (!f || !f->getName().starts_with(kExpf))
    return false;
  llvm::StringRef rest = f->getName().drop_front(std::string(kExpf).size());
  return rest.empty() || rest.starts_with("_v");
}

struct Features {
  bool avx512f = false, vl = false, dq = false;
};

/// Whether exp_avx512 handles a value of type t on these features.
bool scalef_ok(const Features& ft, llvm::Type* t) {
  auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t);
  if (!vt || !ft.avx512f || !vt->getElementType()->isFloatTy())
    return false;
  unsigned n = vt->getNumElements();
  return n == 16 || ((n == 8 || n == 4) && ft.vl);
}

/// vrangeps/pd for a vector maximum or minimum of these features, or not_intrinsic.
llvm::Intrinsic::ID range_id(const Features& ft, llvm::Type* t) {
  auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t);
  if (!vt || !ft.dq)
    return llvm::Intrinsic::not_intrinsic;
  bool f32 = vt->getElementType()->isFloatTy();
  if (!f32 && !vt->getElementType()->isDoubleTy())
    return llvm::Intrinsic::not_intrinsic;
  unsigned bits = vt->getNumElements() * (f32 ? 32 : 64);
  if (bits == 512)
    return f32 ? llvm::Intrinsic::x86_avx512_mask_range_ps_512
               : llvm::Intrinsic::x86_avx512_mask_range_pd_512;
  if (!ft.vl)
    return llvm::Intrinsic::not_intrinsic;
  if (bits == 256)
    return f32 ? llvm::Intrinsic::x86_avx512_mask_range_ps_256
               : llvm::Intrinsic::x86_avx512_mask_range_pd_256;
  if (bits == 128)
    return f32 ? llvm::Intrinsic::x86_avx512_mask_range_ps_128
               : llvm::Intrinsic::x86_avx512_mask_range_pd_128;
  return llvm::Intrinsic::not_intrinsic;
}

/// IEEE maximum / minimum as vrange (imm 5 / 4: the larger / smaller, its sign from the
/// comparison, so -0 < +0) with NaN operands replaced by a + b: vrange returns the other
/// operand for a quiet NaN.
llvm::Value* range_minmax(llvm::IRBuilder<>& b, llvm::Intrinsic::ID id, bool max, llvm::Value* x,
                          llvm::Value* y) {
  auto* vt = llvm::cast<llvm::FixedVectorType>(x->getType());
  unsigned mbits = std::max(8U, vt->getNumElements());
  std::vector<llvm::Value*> args = {x, y, b.getInt32(max ? 5 : 4),
                                    llvm::Constant::getNullValue(vt),
                                    llvm::ConstantInt::getAllOnesValue(b.getIntNTy(mbits))};
  if (vt->getPrimitiveSizeInBits() == 512)
    args.push_back(b.getInt32(4)); // the current rounding mode (no SAE)
  llvm::Value* r = b.CreateIntrinsic(id, {}, args);
  return b.CreateSelect(b.CreateFCmpUNO(x, y), b.CreateFAdd(x, y), r);
}

} // namespace

llvm::Value* exp_call(llvm::IRBuilder<>& b, llvm::Value* x) {
  TEVO_ASSERT(x->getType()->isFloatTy(), "exp_call takes a scalar f32");
  llvm::Function* f = expf_decl(*b.GetInsertBlock()->getModule());
  return b.CreateCall(f, {x});
}

void expand_vector_math(llvm::Module& m, const llvm::TargetMachine& tm) {
  const llvm::MCSubtargetInfo* sti = tm.getMCSubtargetInfo();
  Features ft;
  ft.avx512f = sti->checkFeatures("+avx512f");
  ft.vl = ft.avx512f && sti->checkFeatures("+avx512vl");
  ft.dq = ft.avx512f && sti->checkFeatures("+avx512dq");
  std::vector<llvm::CallInst*> calls;
  for (llvm::Function& f : m)
    for (llvm::BasicBlock& bb : f)
      for (llvm::Instruction& i : bb)
        if (auto* call = llvm::dyn_cast<llvm::CallInst>(&i)) {
          llvm::Function* callee = call->getCalledFunction();
          auto id = callee ? callee->getIntrinsicID() : llvm::Intrinsic::not_intrinsic;
          bool minmax = id == llvm::Intrinsic::maximum || id == llvm::Intrinsic::minimum;
          if (is_expf(callee) ||
              (minmax && range_id(ft, call->getType()) != llvm::Intrinsic::not_intrinsic))
            calls.push_back(call);
        }
  for (llvm::CallInst* call : calls) {
    llvm::IRBuilder<> b(call);
    llvm::Value* r = nullptr;
    llvm::Value* x = call->getArgOperand(0);
    if (is_expf(call->getCalledFunction())) {
      r = scalef_ok(ft, x->getType()) ? math::exp_avx512(b, x) : math::exp(b, x);
    } else {
      bool max = call->getCalledFunction()->getIntrinsicID() == llvm::Intrinsic::maximum;
      r = range_minmax(b, range_id(ft, call->getType()), max, x, call->getArgOperand(1));
    }
    r->takeName(call);
    call->replaceAllUsesWith(r);
    call->eraseFromParent();
  }
  llvm::removeFromUsedLists(m, [](llvm::Constant* c) {
    return is_expf(llvm::dyn_cast<llvm::Function>(c->stripPointerCasts()));
  });
  std::vector<llvm::Function*> decls;
  for (llvm::Function& f : m)
    if (is_expf(&f))
      decls.push_back(&f);
  for (llvm::Function* f : decls) {
    f->removeDeadConstantUsers();
    TEVO_ASSERT(f->use_empty(), "{} still used after expansion", f->getName().str());
    f->eraseFromParent();
  }
}

} // namespace tevo::cpu::vmath
