// profile.h: where the time of a compiled case goes, step by step: the case is compiled
// with cpu::compile's pipeline opened up (prepare, lower, KernelModule, JIT) and run by an
// rt::Executor with ExecOptions::profile, which times every plan step inside real runs.
#pragma once

#include <string>
#include <vector>

#include "bench/cases.h"
#include "bench/timing.h"

namespace tevo::bench {

/// One plan step's estimated share.
struct StepTime {
  std::string kind; ///< kernel, matmul, conv1d, runtime, copy
  std::string name; ///< the step's scoped node name
  double seconds = 0;
};

struct Profile {
  double total_s = 0; ///< median time of a whole run (the steps' sum leaves out overheads)
  std::vector<StepTime> steps;
};

/// Compiles `c`, runs it opts.warmup times, then times opts' runs on `threads` threads;
/// each step's figure is its mean time per timed run. A diagnostic, not part of the table.
Profile profile_case(const Case& c, int threads, const TimingOptions& opts);

} // namespace tevo::bench
