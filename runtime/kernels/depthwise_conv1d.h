// depthwise_conv1d.h: the direct depthwise (one output channel per group) 1-D convolution
// runtime kernel, internal to runtime/kernels; kernels.h documents the step layout and dispatches here.
#pragma once

#include <cstdint>

#include "runtime/kernels/ops.h"
#include "runtime/plan.h"

namespace tevo::rt::kernels {

/// Checks a "depthwise_conv1d" step; throws rt::Error.
void check_depthwise_conv1d(const RuntimeOpStep& s);
/// Workspace bytes of a checked step: one input row and the taps per thread.
int64_t depthwise_conv1d_workspace(const RuntimeOpStep& s, int threads);
/// y = conv1d(x, w, groups = C_out, stride 1, dilation 1, padding iattrs {left, right}).
void depthwise_conv1d(const OpArgs& a);

} // namespace tevo::rt::kernels
