// compile.h: the CPU backend's entry point: a graph in, a reusable Executable out.
//
// compile() runs the backend pipeline: decompose -> fuse (passes/) -> lower to a Plan
// with kernel specs and a memory plan (lower.h) -> LLVM code for every loop group in one
// module (codegen.h) -> JIT. The Executable keeps the machine code, the plan and an
// executor (runtime/executor.h) whose arena is allocated once, so repeated run() calls
// allocate nothing but their outputs (none at all through the pointer form).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/codegen.h"
#include "backends/cpu/lower.h"
#include "ir/graph.h"
#include "ir/interp/array.h"
#include "passes/pass_manager.h"
#include "runtime/plan.h"
#include "runtime/tensor.h"

namespace tevo::cpu {

struct CompileOptions {
  TargetOptions target;
  /// Threads for kernels and oneDNN (one OpenMP pool); 0 = TEVO_NUM_THREADS or all cores.
  int threads = 0;
  /// Passes run before the backend's own (decompose, fuse); "default" or a list.
  std::string pipeline = "default";
  /// Dumps, statistics and pass options for the pipeline (print-after=fuse, ...).
  passes::PipelineOptions pipeline_options;
  /// Keep the generated LLVM IR (Executable::llvm_ir()); also TEVO_DEBUG>=2.
  bool keep_llvm_ir = false;
  /// Time every plan step (Executable::profile()).
  bool profile = false;
};

/// Counts for `tevo run --stats`.
struct ExecStats {
  int64_t kernels = 0;        ///< generated kernel calls per run
  int64_t distinct_kernels = 0; ///< kernels actually generated (identical groups shared)
  int64_t library_calls = 0;  ///< oneDNN primitive calls per run
  int64_t runtime_ops = 0;    ///< runtime-kernel calls per run
  int64_t arena_bytes = 0;    ///< peak scratch bytes (the arena)
  double compile_seconds = 0; ///< the whole compile() call, of which:
  double passes_seconds = 0;  ///< the pass pipeline (incl. decompose, fuse)
  double lower_seconds = 0;   ///< lowering and memory planning
  double codegen_seconds = 0; ///< LLVM IR generation for every loop group
  double jit_seconds = 0;     ///< LLVM optimisation, machine code, symbol lookup
};

class Executable {
public:
  virtual ~Executable() = default;
  /// Checks names/dtypes/shapes of `inputs` against plan().inputs (rt::Error otherwise).
  virtual std::vector<rt::HostTensor> run(const std::vector<rt::HostTensor>& inputs) = 0;
  /// Unchecked fast path: one pointer per plan input / output, sized as the plan says.
  virtual void run(const void* const* inputs, void* const* outputs) = 0;
  virtual const rt::Plan& plan() const = 0;
  virtual ExecStats stats() const = 0;
  /// The fused graph the plan was lowered from (for --print-after=fuse style dumps).
  virtual const ir::Graph& fused_graph() const = 0;
  /// Generated LLVM IR, when CompileOptions::keep_llvm_ir (else empty).
  virtual const std::string& llvm_ir() const = 0;
  /// With CompileOptions::profile: the most expensive steps over all runs so far.
  virtual std::string profile(size_t top = 20) const = 0;
};

/// `g` after the backend's pipeline (opts.pipeline, then decompose and fuse): what the
/// lowering sees. Throws ir::Error when the pipeline is invalid.
std::unique_ptr<ir::Graph> prepare(const ir::Graph& g, const CompileOptions& opts);

/// Generates every loop group of `low` into `km` and fills each KernelStep's extent and
/// grain and the plan's kernel errors. Structurally identical groups (same body up to
/// value names, same operand layouts; typically the same block in every layer) are
/// generated once: the duplicates' kernel_names point at the first one's symbol. Returns
/// the number of distinct kernels generated.
size_t generate_kernels(Lowered& low, KernelModule& km);

/// The function of every plan kernel in `code` (one lookup per distinct symbol).
std::vector<rt::KernelFn> lookup_kernels(JitCode& code, const rt::Plan& plan);

/// Runs `exe` on interpreter arrays (one per plan input) and returns the outputs as arrays:
/// for tests, tools and the trainer, which hold values as ir::interp::Array.
std::vector<ir::interp::Array> run_arrays(Executable& exe,
                                          const std::vector<ir::interp::Array>& inputs);

/// Compiles `g` (not modified). Throws ir::Error (located) for what the backend cannot do.
std::unique_ptr<Executable> compile(const ir::Graph& g, const CompileOptions& opts = {});

} // namespace tevo::cpu
