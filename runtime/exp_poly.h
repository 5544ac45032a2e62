// exp_poly.h: the f32 exp polynomial shared by the runtime kernels (attention rows) and
// the code generator (backends/cpu/llvm_math.cpp), so both compute the same exp.
//
// After the Cody-Waite reduction x = k ln2 + r (|r| <= ln(2)/2), e^r ~ 1 + r P(r) with
// P(r) = c1 + c2 r + c3 r^2 + c4 r^3 + c5 r^4: a relative minimax fit with the constant
// term fixed at 1, so exp(0) is exactly 1 (a softmax row's maximum weighs exactly 1).
// 7.5e-8 relative in exact arithmetic; evaluated in f32 with FMAs, at most 2.01 ulp (0.66
// on average) over [-87, 0] (tests/unit/attention/attention_row_test.cpp, and the
// generated exp in tests/unit/backends/llvm_test.cpp).
#pragma once

namespace tevo::rt {

/// c5, c4, c3, c2, c1 (Horner order, highest first).
inline constexpr float kExpPolyF32[] = {0x1.0fa834p-7f, 0x1.573a54p-5f, 0x1.555a6ap-3f,
                                        0x1.fffdc6p-2f, 0x1.fffff6p-1f};

} // namespace tevo::rt
