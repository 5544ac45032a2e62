// systems.h: the tevo systems a case runs on: the f64 reference interpreter, the CPU
// JIT (cpu::compile) and an AOT artefact (`tevo compile --emit=shared`, loaded with
// dlopen and called through its C entry points, the same code `--emit=exe` links).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/cases.h"
#include "bench/timing.h"

namespace tevo::bench {

/// What one system did with one case.
struct SystemResult {
  Timing timing;
  double compile_s = -1;    ///< JIT: ExecStats::compile_seconds; -1 = not applicable
  int64_t arena_bytes = -1; ///< scratch arena of the plan; -1 = unknown
  int64_t kernels = -1, library_calls = -1, runtime_ops = -1;
  /// Interpreter run with check: max |tevo - interp| / max |interp| over each output
  /// (the worst output); -1 when not checked.
  double check_rel_err = -1;
  /// JIT, variant cases (Case::seq = N > 0): what the compiled plan computes, to tell the
  /// form the compiler chose. nxn_buffers: scratch buffers of at least N x N f32 (a
  /// materialised score / left-product matrix); nxn_matmuls: matmul steps with an N x N
  /// operand or result; conv_steps: oneDNN convolutions; runtime_op_names: the runtime
  /// kernels' op names in step order, comma-separated.
  int64_t nxn_buffers = -1, nxn_matmuls = -1, conv_steps = -1;
  std::string runtime_op_names;
};

/// How the JIT compiles: CompileOptions::threads and CompileOptions::pipeline.
struct JitOptions {
  int threads = 1;
  std::string pipeline = "default";
};

/// True when this binary was built with the CPU backend (tevo_cpu).
bool have_cpu_backend();

/// The reference interpreter (single-threaded). With `check`, the JIT (when available)
/// then runs the same inputs once and check_rel_err says how far it is from the
/// interpreter.
SystemResult run_interp(const Case& c, const TimingOptions& opts, bool check);

/// cpu::compile with `jit` (threads, pipeline), then the pointer form of run() timed.
/// Throws std::runtime_error("unavailable: ...") without the CPU backend.
SystemResult run_jit(const Case& c, const JitOptions& jit, const TimingOptions& opts);

/// Runs `a` and `b` on the interpreter, both on a's inputs (their graphs must take the
/// same inputs: names, types, order), and returns the worst max |a - b| / max |b| over
/// the outputs: do two forms of a variant compute the same function? Throws
/// std::runtime_error when the inputs or outputs do not correspond.
double interp_agreement(const Case& a, const Case& b);

/// Loads `library` (tevo compile --emit=shared of this case's graph, entry points
/// `<name>_create/_run/_last_error/_destroy`) and times `<name>_run`.
SystemResult run_aot(const Case& c, const std::string& library, const std::string& name,
                     int threads, const TimingOptions& opts);

} // namespace tevo::bench
