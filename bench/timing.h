// timing.h: how tevo-bench times a case: warm-up, then the median of N wall-clock runs,
// and what the process's memory peaked at (VmHWM).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace tevo::bench {

/// How many runs a measurement makes.
struct TimingOptions {
  int warmup = 2;          ///< untimed runs first (caches, page faults, thread start)
  int min_runs = 5;        ///< at least this many timed runs ...
  int max_runs = 50;       ///< ... at most this many ...
  double budget_s = 2.0;   ///< ... and as many as fit in this many seconds in between
};

/// Seconds per run: the median (the reported figure), the fastest, and every sample.
struct Timing {
  double median_s = 0;
  double min_s = 0;
  int runs = 0;
  int warmup = 0;
  std::vector<double> samples_s;
};

/// Runs `fn` opts.warmup times, then times it min_runs..max_runs times (wall clock,
/// steady_clock), stopping once budget_s has elapsed past min_runs.
Timing measure(const std::function<void()>& fn, const TimingOptions& opts);

/// Seconds since an arbitrary fixed point (steady_clock).
double now_s();

/// Peak resident set size of this process in bytes (VmHWM from /proc/self/status; 0
/// where unavailable).
int64_t peak_rss_bytes();
/// Current resident set size in bytes (VmRSS; 0 where unavailable).
int64_t rss_bytes();

} // namespace tevo::bench
