// mixer.h: the token-mixer interface of the variant zoo (frontend/nn/variants) and the
// small helpers its files share (heads, index grids, token shift, errors).
//
// Every mixer maps x [B, N, D] to [B, N, D] and is written the way its paper's equations
// read: masks from iota + compare + where, products as matmul, sequence kernels as conv1d.
// Nothing is fused by hand; recognising and rewriting these forms is the compiler's job
// (see docs/VARIANTS.md and each file's header for the rewrite family that applies).
#pragma once

#include "frontend/nn/layers.h"

#include <cstdint>
#include <string>

namespace tevo::nn::variants {

/// A sequence-mixing layer: forward(x [B, N, d_model]) -> [B, N, d_model].
class TokenMixer : public Module {
public:
  virtual Tensor forward(Tensor x) = 0;
  /// True when output t depends only on inputs 0..t (usable in a causal LM).
  virtual bool causal() const = 0;
};

/// Throws ir::Error with `msg` (one line).
[[noreturn]] void fail(const std::string& msg);

/// Throws unless x is a float [B, N, d_model] tensor; `who` names the layer.
void check_input(const Tensor& x, int64_t d_model, const char* who);

/// [B, N, H*d] -> [B, H, N, d].
Tensor split_heads(Tensor x, int64_t n_heads);
/// [B, H, N, d] -> [B, N, H*d].
Tensor merge_heads(Tensor x);

/// Query index i (axis 0) and key index j (axis 1) of an [n, m] grid, as iota of dtype dt.
struct IndexGrid {
  Tensor i, j;
};
IndexGrid index_grid(Trace& t, int64_t n, int64_t m, DType dt = DType::I64);

/// Token shift along the sequence axis 1 of [B, N, C]: y_t = x_{t-1}, y_0 = 0.
Tensor shift_tokens(Tensor x);

/// d_model / n_heads, or an error when the heads do not divide the width.
int64_t head_dim(int64_t d_model, int64_t n_heads, const char* who);

} // namespace tevo::nn::variants
