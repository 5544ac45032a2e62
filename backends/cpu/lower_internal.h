// lower_internal.h: the state the lowering files (backends/cpu/lower*.cpp) share.
//
// Lowering walks the fused graph once, in node order, and records where every value
// lives (a plan buffer plus a strided layout: views are aliases) and which buffers each
// step touches. After the walk it chooses in-place reuse, runs the arena planner over the
// liveness intervals and writes the offsets back. Private to the lowering; not installed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/cpu/layout.h"
#include "backends/cpu/lower.h"
#include "ir/builder.h"

namespace tevo::cpu::detail {

/// Where a value's elements are: plan buffer `buffer`, laid out by `layout`.
struct Placed {
  int32_t buffer = -1;
  Layout layout;
  ir::DType dtype = ir::DType::F32;
};

/// Builds a synthetic group's body: gets the body inputs, returns the body outputs.
using BodyFn = std::function<std::vector<ir::Value*>(ir::Builder&, std::vector<ir::Value*>)>;

class Lowerer {
public:
  explicit Lowerer(const ir::Graph& g);
  Lowered run();

  // ---- shared by lower_*.cpp ----
  const ir::Graph& graph;
  Lowered out;

  /// The placement of a value lowered earlier (internal error when absent).
  const Placed& at(const ir::Value* v) const;
  rt::ArgRef arg(const Placed& p) const;
  /// Descriptor of p as it is (strides may be 0).
  rt::StridedDesc desc(const Placed& p) const;
  /// A dense buffer for result `v` of a step: the caller's output buffer when v is a graph
  /// output (its first position), else a new arena buffer. Records the placement.
  Placed place_result(const ir::Value* v);
  /// A new dense arena buffer for an intermediate that is no graph value.
  Placed new_temp(const ir::TensorType& t);
  /// Appends a step of `kind` (index into that kind's vector) that touches `buffers`.
  void add_step(rt::Step::Kind kind, int32_t index, const ir::Node& origin,
                const std::vector<int32_t>& buffers);
  /// Emits a kernel step for loop group `group`: operands read through their layouts,
  /// results written densely. `origin` names the step.
  void emit_kernel(const ir::Node& group, const std::vector<Placed>& operands,
                   const std::vector<Placed>& results, const ir::Node& origin);
  /// Makes a synthetic loop group in out.synthetic with operands of the given types.
  const ir::Node& make_group(const std::vector<ir::TensorType>& operand_types, const BodyFn& body,
                             const ir::Node& origin);
  /// Copies `src` (of type t) through view nodes `chain` (applied in order) into a new
  /// dense temporary, with a synthetic copy kernel.
  Placed materialize_chain(const Placed& src, const ir::TensorType& t,
                           const std::vector<const ir::Node*>& chain, const ir::Node& origin);
  /// Throws ir::Error located at n: "[op] message".
  [[noreturn]] void fail(const ir::Node& n, const std::string& message) const;

private:
  void lower_node(const ir::Node& n);
  void lower_view(const ir::Node& n);
  void lower_loop_group(const ir::Node& n);
  void lower_constant(const ir::Node& n);
  void lower_loose(const ir::Node& n);
  void emit_output_copies(const ir::Value* v, const ir::Node* origin);
  void choose_inplace();
  void plan_memory();

  std::unordered_map<const ir::Value*, Placed> placed_;
  std::unordered_map<const ir::Value*, int32_t> first_output_; ///< value -> first position
  std::unordered_map<const ir::Value*, std::vector<int32_t>> output_positions_;
  std::vector<int32_t> output_buffer_;                         ///< per output position
  std::vector<std::vector<int32_t>> touched_;                  ///< per step: buffers
  std::vector<int32_t> kernel_step_;                           ///< per kernel: its step
  std::vector<int32_t> group_of_; ///< per buffer: the buffer whose memory it shares (in-place)
  std::vector<int32_t> first_, last_; ///< per buffer: first and last step touching it
};

// ---- per-family lowerings (one file each) ----

/// `fused {kind = "library"}` (lower_library.cpp).
void lower_library_group(Lowerer& L, const ir::Node& n);
/// Bare `matmul` (lower_library.cpp).
void lower_matmul(Lowerer& L, const ir::Node& n);
/// `conv1d` (lower_library.cpp).
void lower_conv1d(Lowerer& L, const ir::Node& n);
/// True for the ops run by runtime kernels (lower_runtime_ops.cpp).
bool is_runtime_op(ir::OpKind k);
void lower_runtime_op(Lowerer& L, const ir::Node& n);
/// conv1d with one output channel per group (groups = C_out: depthwise, or the weight
/// gradient conv1d's VJP builds for it), stride 1, dilation 1, f32/f64: the runtime kernel
/// "depthwise_conv1d" instead of oneDNN (whose im2col path is memory-bound for it).
bool is_depthwise_conv1d(const ir::Node& n);
void lower_depthwise_conv1d(Lowerer& L, const ir::Node& n);
/// Name of a dnnl::algorithm value ("eltwise_relu"), for listings (lower_library.cpp).
std::string dnnl_alg_name(int32_t alg);

/// (operand, result) pairs of loop group `group` that may share memory as far as the body
/// is concerned: the operand reaches only that result, only through elementwise ops at
/// the same shape (no view, broadcast or reduction reads it). lower_inplace.cpp.
std::vector<std::pair<int, int>> inplace_candidates(const ir::Node& group);

} // namespace tevo::cpu::detail
