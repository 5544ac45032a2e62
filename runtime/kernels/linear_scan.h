// linear_scan.h: the first-order linear recurrence runtime kernel (op linear_scan), internal
// to runtime/kernels; kernels.h documents the step layout and dispatches here.
#pragma once

#include "runtime/kernels/ops.h"
#include "runtime/plan.h"

namespace tevo::rt::kernels {

/// Checks a "linear_scan" step; throws rt::Error.
void check_linear_scan(const RuntimeOpStep& s);
/// h_t = a_t h_{t-1} + b_t along iattrs[0] (reverse when iattrs[1] = 1); a broadcasts to b.
void linear_scan(const OpArgs& a);

} // namespace tevo::rt::kernels
