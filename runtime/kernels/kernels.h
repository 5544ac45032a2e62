// kernels.h: runtime kernels, the ops a Plan runs as hand-written C++ (RuntimeOpStep).
//
// These are the ops that generated loop code does not cover: scans, sorting, scatters,
// FFTs, the random sources and fused attention. Each op is named by its IR op name
// (RuntimeOpStep::op) and reads its attributes from RuntimeOpStep::iattrs / fattrs in the
// fixed layout below, so a serialised plan (plan_io.h) needs nothing but these numbers.
// Operands may be strided views (StridedDesc, element strides, 0 = broadcast); results
// are dense row-major.
// Every kernel computes what the IR's reference kernel (ir/ops/*.cpp) computes: same
// tie-breaking, NaN order and conventions; sums of f32 data are accumulated in double.
//
// Layouts (axis: may be negative, counted from the end of the operand's rank):
//   cumsum          operands (x)                  results (y: x's dtype and dims)
//                   iattrs {axis, exclusive 0|1, reverse 0|1}          dtypes f32 f64 i32 i64
//   linear_scan     operands (a, b)               results (h: b's dtype and dims)
//                   iattrs {axis (of b), reverse 0|1}                  dtypes f32 f64
//                   (h_t = a_t h_{t-1} + b_t; a right-aligned, broadcasts to b)
//   topk            operands (x)                  results (values: x's dtype, indices: i64)
//                   iattrs {k, axis, largest 0|1}                      dtypes f32 f64 i32 i64
//                   (sorted, ties by lower index, NaN above every number)
//   scatter_add     operands (base, idx i32|i64, updates)   results (y: base's dtype/dims)
//                   iattrs {axis}                                      dtypes f32 f64 i32 i64
//                   (an index outside [0, dim) is a data error: rt::Error)
//   argmax          operands (x)                  results (y: i64, x's dims without axis,
//                   or with it as 1 (keepdims): the same elements)
//                   iattrs {axis}                                      dtypes f32 f64 i32 i64
//   rfft            operands (x f32|f64)          results (y c64|c128, n/2+1 bins on axis)
//                   iattrs {axis}
//   dft_cs          operands (x f32|f64)          results (c, s: x's dtype and dims)
//                   iattrs {axis}: c = Re, s = -Im of the full length-n DFT along axis
//   irfft           operands (x c64|c128)         results (y f32|f64, n samples on axis)
//                   iattrs {axis, n}
//   random_uniform  operands ()                   results (y f32|f64|f16|bf16)
//                   iattrs {seed}   fattrs {low, high}
//   random_normal   operands ()                   results (y f32|f64|f16|bf16)
//                   iattrs {seed}   fattrs {mean, std}
//   attention       operands (q, k, v [, bias] [, keep])  results (o, lse)   dtypes f32 f64
//                   q [*B,Hq,N,d], k [*B,Hkv,M,d], v [*B,Hkv,M,dv] (Hq % Hkv = 0: query
//                   head h reads kv head h / (Hq/Hkv)); bias (q's dtype) and keep (bool)
//                   broadcast to [*B,Hq,N,M] (with bias_toeplitz the bias is a table
//                   broadcasting to [*B,Hq,N+M-1], bias_ij = T[j-i+N-1]);
//                   o [*B,Hq,N,dv], lse [*B,Hq,N]
//                   iattrs {mask 0=none|1=causal|2=sliding, window, has_bias 0|1,
//                   has_keep 0|1, bias_toeplitz 0|1}   fattrs {scale}
//   attention_grad  operands (q, k, v [, bias] [, keep], o, lse, do [, dlse])
//                   results (dq, dk, dv [, dbias: bias's dims])              dtypes f32 f64
//                   iattrs {mask, window, has_bias, has_keep, bias_toeplitz, has_dlse 0|1}
//                   fattrs {scale}
//                   (ir/ops/attention.cpp defines both; runtime/kernels/attention.h says
//                   how they are tiled; a row without allowed keys gives o = 0, lse = -inf;
//                   f32 accumulates in f32, as PyTorch does)
//   fft_conv        operands (x [*,C,N], k [C,K], 1 <= K <= N)  results (y: x's dtype, dims)
//                   iattrs {reverse 0|1}                               dtypes f32 f64
//   fft_conv_grad   operands (a [*,C,N], b: a's type)   results (g [C,K], 1 <= K <= N)
//                   iattrs {}                                          dtypes f32 f64
//                   (ir/ops/fft_conv.cpp defines both; runtime/kernels/fft_conv.h says how
//                   they run: power-of-two FFTs of length >= N + K - 1, in double)
//   depthwise_conv1d operands (x [B,C*G,N], w [C,G,K])  results (y [B,C,N+pl+pr-K+1],
//                   dense last dim)   iattrs {pad_left pl, pad_right pr}   dtypes f32 f64
//                   (not an IR op: the CPU backend's lowering of conv1d with groups = C
//                   output channels, stride 1, dilation 1; runtime/kernels/depthwise_conv1d.cpp)
// rfft/irfft use an iterative radix-2 FFT for power-of-two lengths and Bluestein's
// algorithm (a power-of-two FFT of length >= 2n - 1) otherwise, in double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "runtime/plan.h"

namespace tevo::rt::kernels {

/// Checks that `step` names a known op and that its attributes, operand and result
/// descriptors fit together (counts, dtypes, dims, axis ranges). Throws rt::Error (one
/// line, naming the op) otherwise. Every call to run() must pass this first.
void check(const RuntimeOpStep& step);

/// Bytes of scratch memory run() needs with `threads` threads (64-byte aligned pieces).
int64_t workspace_bytes(const RuntimeOpStep& step, int threads);

/// Runs a checked step. `operands[i]` / `results[i]` are the base pointers of
/// step.operands[i] / step.results[i] (their ArgRefs already resolved). `workspace` holds
/// workspace_bytes(step, threads) bytes, 64-byte aligned. Allocates nothing. Throws
/// rt::Error for a data error (an index out of range).
void run(const RuntimeOpStep& step,
         std::span<const void* const> operands,
         std::span<void* const> results,
         void* workspace,
         int threads);

} // namespace tevo::rt::kernels
