// llvm_internal.h: what the LLVM-facing files of backends/cpu share. Include only from
// backends/cpu/*.cpp (LLVM headers are slow: keep them out of everything else).
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <vector>

#include "backends/cpu/codegen.h"
#include "ir/scalar.h"

namespace tevo::cpu {

struct KernelModule::Impl {
  std::unique_ptr<llvm::LLVMContext> ctx;
  std::unique_ptr<llvm::Module> mod;
  std::unique_ptr<llvm::TargetMachine> tm;
  TargetOptions target;
  bool optimized = false;
};

/// In-register type of a dtype: f32/f64 as themselves, f16/bf16 computed as float,
/// i32/i64 as integers, bool as i1. Complex dtypes are not supported (ir::Error).
llvm::Type* compute_type(llvm::LLVMContext& c, ir::DType t);
/// In-memory type: as compute_type, but half/bfloat for f16/bf16 and i8 for bool.
llvm::Type* storage_type(llvm::LLVMContext& c, ir::DType t);
/// Loads one element of dtype t at `ptr` and converts it to its compute type.
llvm::Value* load_element(llvm::IRBuilder<>& b, ir::DType t, llvm::Value* ptr);
/// Converts `v` (compute type) to the storage type and stores it at `ptr`.
llvm::StoreInst* store_element(llvm::IRBuilder<>& b, ir::DType t, llvm::Value* v, llvm::Value* ptr);

/// ScalarBuilder that emits LLVM IR at the builder's insertion point. Every intrinsic of
/// ir/scalar_ops.def is supported for f32/f64 (bool, i32, i64 where the kind allows);
/// transcendental functions are inline polynomial code so that loops vectorise.
class LlvmScalarBuilder final : public ir::ScalarBuilder {
public:
  LlvmScalarBuilder(llvm::IRBuilder<>& b, llvm::Module& m);
  /// Registers an LLVM value (of dtype t's compute type) and returns its handle.
  ir::SVal wrap(llvm::Value* v, ir::DType t);
  llvm::Value* get(ir::SVal v) const;

  ir::SVal constant(double v, ir::DType t) override;
  ir::SVal apply(ir::ScalarOp op, std::span<const ir::SVal> args) override;
  ir::SVal select(ir::SVal c, ir::SVal a, ir::SVal b) override;
  ir::SVal cast(ir::SVal x, ir::DType to) override;

private:
  llvm::IRBuilder<>& b_;
  llvm::Module& m_;
  std::vector<llvm::Value*> vals_;
};

/// Gives generated function f the target's CPU and features (module.cpp).
void set_target_attrs(const KernelModule::Impl& impl, llvm::Function* f);

/// Emits the kernel for one loop group into impl.mod (backends/cpu/emit_group.cpp).
KernelInfo emit_group(KernelModule::Impl& impl, const KernelSpec& spec);

} // namespace tevo::cpu
