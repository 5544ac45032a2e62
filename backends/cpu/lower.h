// lower.h: a fused graph -> an executable Plan (runtime/plan.h) plus the loop groups to
// generate, with the static memory plan. No LLVM here.
//
// Input: a graph after the `decompose` and `fuse` passes. Its nodes are `fused` loop
// groups, `fused` library groups (matmul + epilogue), bare matmul / conv1d, views
// (transpose, reshape, broadcast_to, slice) and ops run by runtime kernels. Views become
// strided aliases of their operand's buffer when the composed layout is expressible as
// strides, and copy kernels otherwise. Memory: graph inputs and outputs live in the
// caller's buffers; constants in the plan; everything else in one arena laid out by
// liveness (first fit, 64-byte aligned), with in-place reuse where a loop group's
// result may overwrite a dying operand of the same size read only at the same index.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/codegen.h"
#include "ir/graph.h"
#include "runtime/plan.h"

namespace tevo::cpu {

/// What the memory plan achieved (for `tevo run --stats` and tests).
struct LowerStats {
  int64_t arena_bytes = 0;     ///< the arena (peak scratch), = plan.arena_bytes
  int64_t no_reuse_bytes = 0;  ///< sum of every scratch value's 64-byte-aligned size
  int64_t scratch_values = 0;  ///< values that live in the arena
  int64_t inplace_reuses = 0;  ///< loop-group results written over a dying operand
  int64_t views_aliased = 0;   ///< standalone views resolved to strided aliases (no copy)
  int64_t views_copied = 0;    ///< views materialised by a synthetic copy kernel
};

struct Lowered {
  rt::Plan plan; ///< KernelStep::extent/grain and Plan::kernel_errors left for the caller
  /// One per KernelStep, in the same order; `symbol` equals plan.kernel_names[i].
  std::vector<KernelSpec> kernels;
  /// Synthetic groups the lowering made (copy kernels for views that strides cannot
  /// express); KernelSpec::group may point into it. Keep alive as long as `kernels`.
  std::unique_ptr<ir::Graph> synthetic;
  LowerStats stats;
};

/// Lowers `g` (which must outlive the result: KernelSpec::group points into it).
/// Throws ir::Error located at the first node it cannot lower, naming the op.
Lowered lower(const ir::Graph& g);

/// A readable listing of a plan: signature, buffers, then one line per step with its
/// arguments (buffer, byte offset, strides). Deterministic; used by `tevo run --stats`
/// and in tests. Defined in lower_print.cpp.
std::string format_plan(const rt::Plan& plan);

} // namespace tevo::cpu
