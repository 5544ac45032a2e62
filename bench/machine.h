// machine.h: what the machine can do, measured in the same run as the cases it judges:
// f32 FMA peak (GFLOP/s) and copy bandwidth (GB/s), on a given number of threads.
#pragma once

#include <cstdint>
#include <string>

#include "bench/timing.h"

namespace tevo::bench {

struct PeakResult {
  double gflops = 0;      ///< best run (a peak), all threads together
  std::string isa;        ///< "avx512" or "avx2" (the widest FMA this CPU has)
  int64_t flops_per_run = 0;
  Timing timing;
};

/// f32 FMA throughput: every thread runs 16 independent FMA chains (enough to hide the
/// FMA latency on two pipes) on the widest vectors the CPU has, for about 0.2 s.
PeakResult fma_peak(int threads, const TimingOptions& opts);

struct CopyResult {
  double gbps = 0;        ///< vector-loop copy with ordinary stores, (read + write) / best time
  double memcpy_gbps = 0; ///< the same with std::memcpy (may use non-temporal stores)
  int64_t bytes = 0;      ///< size of the source (and of the destination)
  Timing timing;          ///< of the vector-loop copy
};

/// Copies `bytes` between two buffers (split across `threads` OpenMP threads), the
/// reference bandwidth of the memory-bound cases: they read and write that much too.
CopyResult copy_bandwidth(int threads, int64_t bytes, const TimingOptions& opts);

} // namespace tevo::bench
