// plan.h: an executable plan: what a compiled graph is at run time, on any backend.
//
// A Plan is plain data: the tensors a call takes and returns, one arena of scratch
// memory laid out ahead of time, constants, and a list of steps. Each step is a call of
// a generated kernel, a library primitive (oneDNN matmul / conv1d) or a runtime kernel
// for an op that generated code does not cover. The JIT builds a Plan in memory and the
// AOT compiler serialises the same Plan into the artefact, so one executor (executor.h)
// runs both. Nothing here depends on LLVM or on the IR library.
//
// Generated kernels have the C ABI
//     int32_t kernel(void* const* args, int64_t begin, int64_t end);
// `args` are the step's argument pointers (operands first, then results), `[begin, end)`
// a range of the kernel's parallel iteration space (`extent` iterations in all). A
// kernel returns 0, or k >= 1 to report `KernelStep::errors[k-1]` (say an index out of
// range); the executor turns that into an rt::Error naming the node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "runtime/tensor.h"

namespace tevo::rt {

using ir::DType;


/// Where a buffer lives.
enum class Storage : uint8_t {
  Input,    ///< the caller's input `index`
  Output,   ///< the caller's output `index`
  Arena,    ///< scratch arena at `offset`
  Constant, ///< Plan::constants[index]
};

struct Buffer {
  Storage storage = Storage::Arena;
  int32_t index = 0;  ///< input/output/constant index
  int64_t offset = 0; ///< arena byte offset (Arena only; 64-byte aligned)
  int64_t bytes = 0;
  bool operator==(const Buffer&) const = default;
};

/// A pointer into a buffer: base + byte offset (views are resolved at plan time).
struct ArgRef {
  int32_t buffer = 0;
  int64_t offset = 0;
  bool operator==(const ArgRef&) const = default;
};

/// A strided tensor view for library calls: dims and element strides (0 = broadcast).
struct StridedDesc {
  ArgRef at;
  DType dtype = DType::F32;
  std::vector<int64_t> dims;
  std::vector<int64_t> strides;
  bool operator==(const StridedDesc&) const = default;
};

struct KernelStep {
  int32_t kernel = 0;   ///< index into the kernel table (Plan::kernel_names)
  std::vector<ArgRef> args;
  int64_t extent = 1;   ///< parallel iterations
  int64_t grain = 1;    ///< smallest useful chunk of iterations for one thread
  bool operator==(const KernelStep&) const = default;
};

/// One oneDNN post-op of a library call, applied in order to the result.
struct PostOp {
  enum class Kind : uint8_t { Eltwise, Binary, Sum } kind = Kind::Eltwise;
  int32_t alg = 0;      ///< dnnl::algorithm value (eltwise_* or binary_*)
  float alpha = 0, beta = 0, scale = 1;
  /// Binary: second operand, with the result's rank; a dim of extent 1 or stride 0 is
  /// broadcast. Sum (dst = result + scale * addend): the addend, same dims as the result;
  /// when it is not the result's own memory the executor copies it there first; no dims
  /// = the result buffer already holds it.
  StridedDesc src1;
  bool operator==(const PostOp&) const = default;
};

struct MatmulStep {
  StridedDesc a, b, c; ///< [batch..., M, K] x [batch..., K, N] -> [batch..., M, N]
  std::vector<PostOp> post_ops;
  bool operator==(const MatmulStep&) const = default;
};

struct Conv1dStep {
  StridedDesc x, w, y; ///< NCW input, OIW weights (O = out channels), NCW output
  int64_t stride = 1, padding_l = 0, padding_r = 0, dilation = 1;
  int64_t groups = 1; ///< channel groups: W is [O, I/groups, K]
  bool operator==(const Conv1dStep&) const = default;
};

/// An op run by a runtime kernel (runtime/kernels/): cumsum, topk, scatter_add, rfft,
/// irfft, random_uniform, random_normal, argmax ...; `op` is the IR op name.
struct RuntimeOpStep {
  std::string op;
  std::vector<StridedDesc> operands;
  std::vector<StridedDesc> results; ///< contiguous
  std::vector<int64_t> iattrs;      ///< op-specific, documented in runtime/kernels/
  std::vector<double> fattrs;
  bool operator==(const RuntimeOpStep&) const = default;
};

struct Step {
  enum class Kind : uint8_t { Kernel, Matmul, Conv1d, RuntimeOp, Copy } kind = Kind::Kernel;
  int32_t index = 0;   ///< into the vector of that kind
  std::string name;    ///< scoped name of the node(s), for errors and profiles
  std::string loc;     ///< "file:line:col" of the node, for errors
  bool operator==(const Step&) const = default;
};

/// A copy of `bytes` bytes (used where an output aliases an input or a constant).
struct CopyStep {
  ArgRef from, to;
  int64_t bytes = 0;
  bool operator==(const CopyStep&) const = default;
};

struct Plan {
  std::string name;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<std::vector<uint8_t>> constants;
  std::vector<Buffer> buffers;
  int64_t arena_bytes = 0;
  std::vector<std::string> kernel_names; ///< symbols of generated kernels
  std::vector<std::vector<std::string>> kernel_errors; ///< per kernel: messages for codes 1..n
  std::vector<KernelStep> kernels;
  std::vector<MatmulStep> matmuls;
  std::vector<Conv1dStep> convs;
  std::vector<RuntimeOpStep> runtime_ops;
  std::vector<CopyStep> copies;
  std::vector<Step> steps; ///< in execution order
  bool operator==(const Plan&) const = default;
};

/// Checks a plan's internal consistency: indices in range, every buffer inside its
/// storage (arena, input, output, constant), arena offsets 64-byte aligned, every
/// StridedDesc inside its buffer, matmul/conv shapes consistent, sizes without overflow.
/// Throws rt::Error (one line, naming the part) otherwise. Op-specific checks of
/// runtime-op steps are runtime/kernels/kernels.h check(). Defined in plan.cpp.
void validate_plan(const Plan& plan);

/// Generated kernel entry point.
using KernelFn = int32_t (*)(void* const* args, int64_t begin, int64_t end);

} // namespace tevo::rt
