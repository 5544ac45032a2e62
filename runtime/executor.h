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
#include <vector>

#include "runtime/plan.h"
#include "runtime/tensor.h"

namespace tevo::rt {

struct ExecOptions {
  /// Threads for kernels and oneDNN; 0 = TEVO_NUM_THREADS if set, else all cores.
  int threads = 0;
};

class Executor {
public:
  /// `kernels[i]` implements plan.kernel_names[i]. Allocates the arena and creates the
  /// library primitives (cached by descriptor) up front.
  Executor(Plan plan, std::vector<KernelFn> kernels, ExecOptions opts = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Runs with caller-owned buffers (one per plan input / output). Allocates nothing.
  /// Throws rt::Error when a kernel reports an error (message names the node).
  void run(const void* const* inputs, void* const* outputs);
  /// Checks every input's name, dtype and shape against the plan (rt::Error, one line,
  /// naming the tensor), then runs.
  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs);

  const Plan& plan() const;
  int threads() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace tevo::rt
