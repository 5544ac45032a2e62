// ops.h: the runtime kernels' entry points behind kernels.h's dispatch (internal header).
//
// Each function runs one op of a step that kernels::check() accepted; attribute layouts
// are documented in kernels.h. Axes arrive normalised (0 <= axis < rank).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "runtime/plan.h"

namespace tevo::rt::kernels {

/// The resolved arguments of one runtime-op call.
struct OpArgs {
  const RuntimeOpStep& step;
  std::span<const void* const> in;
  std::span<void* const> out;
  uint8_t* workspace;
  int threads;
};

/// Throws rt::Error "runtime op '<op>': <msg>" (the checks of every runtime kernel).
[[noreturn]] void bad(const RuntimeOpStep& s, const std::string& msg);
/// "f32[2,3]": a step operand's dtype and dims, for error messages.
std::string type_str(const StridedDesc& d);

/// Rounds up to a multiple of 64 bytes (workspace pieces stay aligned).
constexpr int64_t align64(int64_t n) {
  return (n + 63) / 64 * 64;
}

void cumsum(const OpArgs& a, int64_t axis);
void topk(const OpArgs& a, int64_t axis);
void argmax(const OpArgs& a, int64_t axis);
void scatter_add(const OpArgs& a, int64_t axis);
void rfft(const OpArgs& a, int64_t axis);
void irfft(const OpArgs& a, int64_t axis);
/// dft_cs: (Re, -Im) of the full length-n DFT along axis as two real results.
void dft_cs(const OpArgs& a, int64_t axis);
void random(const OpArgs& a, bool normal);

/// Workspace of topk over lanes of length n.
int64_t topk_workspace(int64_t n, int threads);
/// Workspace of an FFT-based transform of length n.
int64_t fft_workspace(int64_t n, int threads);

} // namespace tevo::rt::kernels
