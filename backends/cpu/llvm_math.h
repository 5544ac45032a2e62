// llvm_math.h: transcendental functions emitted as inline, branch-free LLVM IR.
//
// Internal to backends/cpu (LLVM types in the interface). Every function takes a float or
// double value, scalar or vector, and returns one of the same type. The code has no
// branches and, where the function is a polynomial, no calls, so the loop vectoriser
// turns a loop over any of them into vector code. Special values (NaN, infinities,
// zeros, overflow, underflow, subnormals) follow C99 / glibc. Accuracy and the functions
// that call the C library instead are listed in llvm_math.cpp.
#pragma once

#include <llvm/IR/IRBuilder.h>

namespace tevo::cpu::math {

llvm::Value* exp(llvm::IRBuilder<>& b, llvm::Value* x);
/// exp of an f32 vector of 16 lanes (AVX-512F) or 8 / 4 lanes (AVX512VL) with vscalefps:
/// bit-identical to exp() where that is a normal number, 0 or inf, in 13 instructions
/// instead of 20. The caller checks the target's features.
llvm::Value* exp_avx512(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* expm1(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* log(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* log1p(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* tanh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* erf(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* sin(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* cos(llvm::IRBuilder<>& b, llvm::Value* x);
/// x**y with the C99 special cases (pow(x, 0) = 1, pow(1, y) = 1, negative x only with
/// integral y, signed zeros and infinities).
llvm::Value* pow(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y);

} // namespace tevo::cpu::math
