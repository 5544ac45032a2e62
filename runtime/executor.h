// executor.h: runs a Plan: generated kernels (split over one OpenMP thread pool), oneDNN
// primitives, runtime kernels and copies, over an arena allocated once.
//
// Used by the JIT (kernels from LLVM's in-process compiler) and by AOT artefacts (kernels
// linked into the binary, the plan deserialised from plan_io.h bytes). Depends on oneDNN
// and OpenMP, never on LLVM or the IR library.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/plan.h"
#include "runtime/tensor.h"

namespace tevo::rt {

struct ExecOptions {
  /// Threads for kernels and oneDNN; 0 = TEVO_NUM_THREADS if set, else all cores.
  int threads = 0;
  /// Time every step (wall clock, summed over runs); see Executor::profile().
  bool profile = false;
};

/// Time spent in one plan step, summed over runs (ExecOptions::profile).
struct StepProfile {
  int32_t step = 0; ///< index into Plan::steps
  double seconds = 0;
};

/// What one run() does and what the executor holds.
struct ExecutorStats {
  int64_t kernels = 0;         ///< generated-kernel steps per run
  int64_t library_calls = 0;   ///< matmul / conv1d steps per run
  int64_t runtime_ops = 0;     ///< runtime-kernel steps per run
  int64_t copies = 0;          ///< copy steps per run
  int64_t arena_bytes = 0;     ///< the plan's scratch arena
  int64_t workspace_bytes = 0; ///< runtime-kernel workspace + oneDNN scratchpad
  int64_t primitives = 0;      ///< distinct oneDNN primitives (after caching)
  int64_t gemm_library_steps = 0; ///< matmul steps run as one dnnl_sgemm call
  int64_t reference_library_steps = 0; ///< library steps oneDNN cannot run (f64, odd views)
};

class Executor {
public:
  /// `kernels[i]` implements plan.kernel_names[i]. Validates the plan (validate_plan and
  /// the runtime kernels' checks; rt::Error), allocates the arena (64-byte aligned,
  /// zeroed) and the workspaces, and creates the library primitives (cached by
  /// descriptor) up front.
  Executor(Plan plan, std::vector<KernelFn> kernels, ExecOptions opts = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Runs with caller-owned buffers (one per plan input / output). Allocates nothing.
  /// Throws rt::Error when a kernel reports an error (message names the node).
  void run(const void* const* inputs, void* const* outputs);
  /// Inputs in plan order: checks their count, dtype, shape and byte size against the
  /// plan (rt::Error, one line, naming the input: "input 'x': expected f32[2,3], got
  /// f32[3,2]", "missing input 'y'"), then runs and returns the outputs in plan order.
  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs);
  /// The same with inputs by name (any order): also reports unknown and repeated names.
  std::vector<HostTensor> run(const std::vector<std::pair<std::string, HostTensor>>& inputs);

  const Plan& plan() const;
  int threads() const;
  ExecutorStats stats() const;
  /// Per-step times, in step order (empty unless ExecOptions::profile).
  std::vector<StepProfile> profile() const;
  /// The profile as a table: the `top` most expensive steps with kind, name and share.
  std::string format_profile(size_t top = 20) const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace tevo::rt
