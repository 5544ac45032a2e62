// fft_conv.h: the long-convolution runtime kernels (fft_conv, fft_conv_grad), internal to
// runtime/kernels; kernels.h documents the step layouts and dispatches here.
//
// Both run complex FFTs of a power-of-two length n >= N + K - 1 in double (so the
// circular products never wrap onto causal outputs), two real rows per transform
// (a + i b), with the forward transform leaving its bins in bit-reversed order and the
// inverse taking them so: no permutation pass at all. See fft_conv.cpp.
#pragma once

#include <cstdint>

#include "runtime/kernels/ops.h"
#include "runtime/plan.h"

namespace tevo::rt::kernels {

/// Checks an "fft_conv" (grad = false) or "fft_conv_grad" step; throws rt::Error.
void check_fft_conv(const RuntimeOpStep& s, bool grad);
/// Workspace bytes of a checked step: the twiddle table plus six length-n double arrays
/// per thread (independent of the batch and channel counts).
int64_t fft_conv_workspace(const RuntimeOpStep& s, int threads);

/// y = fft_conv(x, k) (iattrs {reverse}).
void fft_conv_forward(const OpArgs& a);
/// g = fft_conv_grad(a, b), the kernel gradient (K from the result's dims).
void fft_conv_kernel_grad(const OpArgs& a);

} // namespace tevo::rt::kernels
