// h3.h: H3 mixer (Fu et al. 2023, "Hungry Hungry Hippos: Towards Language Modeling with
// State Space Models"), head dimension 1 (every channel its own SSM).
//
//   Q, K, V = x W_q, x W_k, x W_v
//   K_bar   = SSM_shift(K): the A matrix is a shift, so its kernel is the learned C of
//             length m (the shift-state size): a short causal depthwise convolution
//   O       = o_proj(Q * SSM_diag(K_bar * V))
//   SSM_diag(z) = h * z + D_skip z,  h[c, t] = sum_p C[c,p] B_bar[c,p] exp(t lambda[c,p] dt[c])
// with a real diagonal S4D-style state (lambda = -exp(log_neg_lambda) < 0, ZOH B_bar =
// (exp(lambda dt) - 1) / lambda * B). Both SSMs are run as causal convolutions written
// as their definition (causal_conv in long_conv.h), the diagonal one with a length-N kernel.
// Rewrite families: R3 (the length-N depthwise conv -> FFT conv; the kernel depends only
// on parameters: hoist) and R4 (the two gating multiplies fused into the conv prologue and
// epilogue). The multi-head form with K_bar^T V outer-product states is not implemented.
#pragma once

#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

/// Children q_proj, k_proj, v_proj, o_proj; parameters shift_kernel [D, m], log_dt [D],
/// log_neg_lambda, B, C [D, P], D [D].
class H3 : public TokenMixer {
public:
  H3(int64_t d_model, int64_t d_state, int64_t shift_size = 4);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return true;
  }
  /// The diagonal SSM's kernel h [D, n].
  Tensor diag_kernel(Trace& t, int64_t n, DType dt);

private:
  int64_t d_model_, d_state_;
  Linear *q_, *k_, *v_, *out_;
};

} // namespace tevo::nn::variants
