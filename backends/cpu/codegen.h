// codegen.h: LLVM code generation for kernel groups (no LLVM types in this header).
//
// A KernelModule collects the generated kernels of one graph in one LLVM module, so the
// whole graph is optimised and compiled once: in process (jit()) or to an object file
// (emit_object()) for AOT artefacts. Each `fused` node of kind "loop" becomes one
// function with the kernel ABI of runtime/plan.h. What a loop group may contain, and how
// it is turned into loops, is described in docs/BACKEND.md ("Loop groups").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "runtime/plan.h"

namespace tevo::cpu {

/// The machine code is generated for.
struct TargetOptions {
  std::string cpu;      ///< "" = the host CPU (llvm::sys::getHostCPUName)
  std::string features; ///< "" = the host's features; else "+avx2,-avx512f" style
  /// LLVM level. 2 by default: on our kernels O3 generated loops no faster (softmax, GELU
  /// backward, elementwise chains, matmul epilogues: measured) and took 2.5-3x longer.
  int opt_level = 2;
  /// Row order of reduce groups pipelined over rows (emit_rows.cpp, row_pipeline): 1 on,
  /// 0 off, -1 by the CPU: off on AMD Zen (znver*), on elsewhere (docs/BACKEND.md).
  int row_pipeline = -1;
  /// Row order's store loop streams (non-temporal stores, the next row's operands
  /// prefetched: llvm_stream.h) when the results it writes take at least this many bytes
  /// together; 0 = never, -1 = the size of the host's last-level cache (resolved by
  /// KernelModule).
  int64_t stream_bytes = -1;
};

/// One kernel to generate.
struct KernelSpec {
  std::string symbol;     ///< unique C symbol in the module
  const ir::Node* group = nullptr; ///< a `fused` node of kind "loop"
  /// Per operand of `group`: element strides for each dim of its shape (0 = broadcast
  /// dim); empty = dense row-major. Results are always dense row-major.
  std::vector<std::vector<int64_t>> operand_strides;
  /// (operand, result) pairs that share memory (in-place reuse chosen by the memory
  /// plan): those pointers must not be marked noalias.
  std::vector<std::pair<int, int>> inplace;
};

/// What the executor needs to call a generated kernel.
struct KernelInfo {
  int64_t extent = 1; ///< parallel iteration count: call with [begin,end) within [0,extent)
  int64_t grain = 1;  ///< fewest iterations worth giving one thread
  std::vector<std::string> errors; ///< messages for return codes 1..n
};

/// Code compiled in process; owns the machine code.
class JitCode {
public:
  virtual ~JitCode() = default;
  /// The kernel's address; internal error when absent.
  virtual rt::KernelFn lookup(const std::string& symbol) = 0;
};

class KernelModule {
public:
  KernelModule(std::string name, TargetOptions target = {});
  ~KernelModule();
  KernelModule(const KernelModule&) = delete;
  KernelModule& operator=(const KernelModule&) = delete;

  /// Generates one kernel. Throws ir::Error located at the group node when the group
  /// holds something the generator cannot do (it names the op).
  KernelInfo add(const KernelSpec& spec);
  /// Runs the optimisation pipeline (O`opt_level`, vectorisation for the target).
  void optimize();
  /// The module as LLVM IR text (optimised if optimize() ran).
  std::string llvm_ir() const;
  /// Compiles the module in process (optimises first if needed). The module is consumed.
  std::unique_ptr<JitCode> jit();
  /// Writes a relocatable object file, atomically (optimises first if needed).
  void emit_object(const std::string& path);

  struct Impl;
  /// Internal: the LLVM state (backends/cpu and its tests only).
  Impl& impl() {
    return *impl_;
  }

private:
  std::unique_ptr<Impl> impl_;
};

/// The host CPU name and feature string, as `--cpu`/`--features` would spell them.
std::string host_cpu();
std::string host_features();

} // namespace tevo::cpu
