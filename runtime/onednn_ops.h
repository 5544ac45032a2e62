// onednn_ops.h: the library steps of a Plan (matmul with post-ops, conv1d) as oneDNN 2.6
// primitives, prepared once and run many times.
//
// A plain f32 matmul that is one row-major GEMM (no post-ops but a Sum, batch dims that
// fold into rows) runs as dnnl_sgemm, oneDNN's BLAS-style GEMM, which is faster than its
// matmul primitive on the shapes measured (gemm_call.h). Other steps: plan views are folded
// into oneDNN memory descriptors: a transpose is a stride swap, a
// batch dim broadcast with stride 0 becomes extent 1 (oneDNN broadcasts it), a broadcast
// bias is a binary post-op whose src1 has extent 1 where it broadcasts. Nothing is copied.
// Primitives are cached by their descriptors, so equal layers share one primitive; the
// scratchpad is user-managed (one buffer, owned by the caller, shared by all steps).
// What oneDNN cannot do on a CPU (f64; a view it cannot describe, such as a stride-0 or
// negative-stride matrix dim) runs on a plain reference loop nest instead, with the same
// post-op semantics. No oneDNN type appears in this header.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "runtime/plan.h"

namespace tevo::rt {

/// Base pointers of one library step's tensors (each StridedDesc's ArgRef resolved).
struct LibraryArgs {
  void* a = nullptr;               ///< matmul A / conv x
  void* b = nullptr;               ///< matmul B / conv w
  void* c = nullptr;               ///< matmul C / conv y
  std::span<void* const> post_ops; ///< per post-op: its src1 (nullptr when none)
};

/// One oneDNN engine and stream, a primitive cache and the prepared library steps.
class LibraryOps {
public:
  LibraryOps();
  ~LibraryOps();
  LibraryOps(const LibraryOps&) = delete;
  LibraryOps& operator=(const LibraryOps&) = delete;

  /// Prepares a matmul (primitive created or taken from the cache, memory objects made).
  /// Returns its handle. Throws rt::Error when neither oneDNN nor the reference path can
  /// run it (say an unsupported post-op algorithm). Call with the executor's thread count
  /// set (omp_set_num_threads): some primitives size their scratchpad by it.
  int prepare(const MatmulStep& m);
  /// Prepares a conv1d step (NCW, OIW); returns its handle.
  int prepare(const Conv1dStep& c);

  /// Scratchpad bytes the prepared primitives need (the largest of them).
  int64_t scratchpad_bytes() const;
  /// Gives the scratchpad memory (at least scratchpad_bytes(), 64-byte aligned) to every
  /// prepared primitive. Call after the last prepare() and before the first run().
  void set_scratchpad(void* p);

  /// Runs prepared step `handle`. Allocates nothing itself (oneDNN's execute may).
  void run(int handle, const LibraryArgs& args);

  /// Distinct oneDNN primitives created (the cache's size).
  int64_t primitives() const;
  /// Prepared matmul steps that run as one dnnl_sgemm call (gemm_call.h).
  int64_t gemm_steps() const;
  /// Prepared steps that run on the reference path.
  int64_t reference_steps() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

/// Copies the elements of view `from` (at `src`) to view `to` (at `dst`), same dims and
/// dtype; a plain strided loop (used for the Sum post-op's addend).
void copy_strided(const StridedDesc& from, const void* src, const StridedDesc& to, void* dst);

} // namespace tevo::rt
