// llvm_vector_math.h: math the loop vectoriser widens as calls and the backend expands after
// optimisation, with the target's own instructions.
//
// LLVM 19 knows no vector instruction for half of what an f32 exp needs on AVX-512
// (vscalefps applies 2^k and overflows to inf in one instruction), and lowers the
// NaN-propagating llvm.maximum / llvm.minimum to six instructions a vector. So:
//   - exp of an f32 is emitted as a call of `tevo_vm_expf`, a declaration whose
//     vector-function-abi-variant attribute names vector variants of 2, 4, 8 and 16 lanes
//     (declared too, and kept alive through llvm.compiler.used until expanded). The loop
//     vectoriser and the SLP vectoriser widen the call like an intrinsic.
//   - expand_vector_math(), run after the optimisation pipeline, replaces every such call
//     (scalar or widened) with inline code: math::exp_avx512 where the target has
//     AVX-512 (AVX512VL below 16 lanes), math::exp otherwise; and, with AVX512DQ, every
//     vector llvm.maximum / llvm.minimum with vrangeps/pd plus a masked add for NaN
//     operands (three instructions, the same results: -0 below +0, NaN propagates).
// Internal to backends/cpu (LLVM types in the interface).
#pragma once

#include <llvm/IR/IRBuilder.h>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace tevo::cpu::vmath {

/// exp(x) for a scalar f32 x: a call the vectorisers widen; expand_vector_math() inlines it.
llvm::Value* exp_call(llvm::IRBuilder<>& b, llvm::Value* x);

/// Replaces the calls made by exp_call (and their widened forms) with inline code for the
/// target and lowers vector llvm.maximum / llvm.minimum with AVX512DQ (see above). Run
/// once, after the optimisation pipeline; the module verifies afterwards.
void expand_vector_math(llvm::Module& m, const llvm::TargetMachine& tm);

} // namespace tevo::cpu::vmath
