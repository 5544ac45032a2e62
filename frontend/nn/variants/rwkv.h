// rwkv.h: RWKV-4 time mixing and channel mixing (Peng et al. 2023, "RWKV: Reinventing RNNs
// for the Transformer Era").
//
// Time mix (the token mixer), per channel c:
//   x'_t = mu x_t + (1 - mu) x_{t-1}   (token shift, separate mu_r, mu_k, mu_v)
//   r, k, v = x'_r W_r, x'_k W_k, x'_v W_v
//   wkv_t = (sum_{i<t} e^{-(t-1-i) w + k_i} v_i + e^{u + k_t} v_t)
//         / (sum_{i<t} e^{-(t-1-i) w + k_i}     + e^{u + k_t})
//   out   = W_o (sigmoid(r) * wkv)
// with decay w = exp(time_decay) > 0 and bonus u = time_first. Written as the masked decay
// matrix E[b, c, t, i] (i < t: e^{-(t-1-i) w_c + k_i}; i = t: e^{u_c + k_t}; i > t: 0):
//   wkv = (E @ v) / rowsum(E)
// the same shape as causal linear attention with one-wide heads. The naive form takes e^k
// as is (no running max): the scan rewrite must add the log-sum-exp stabilisation.
// Channel mix (an FFN): sigmoid(x'_r W_r') * (relu(x'_k W_k')^2 W_v').
// Rewrite families: R2 (scan: the decay matrix -> a per-channel linear recurrence
// a_t = e^{-w} a_{t-1} + e^{k_t} v_t, b_t likewise, with a running max) and R4 (the
// token-shift lerp fused into the projection GEMM prologue; the sigmoid gate into its
// epilogue).
#pragma once

#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

/// Children key, value, receptance, output (no biases); parameters time_mix_k,
/// time_mix_v, time_mix_r, time_decay, time_first [D].
class RwkvTimeMix : public TokenMixer {
public:
  explicit RwkvTimeMix(int64_t d_model);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return true;
  }

private:
  int64_t d_model_;
  Linear *key_, *value_, *receptance_, *output_;
};

/// Children key (D -> hidden), receptance (D -> D), value (hidden -> D); parameters
/// time_mix_k, time_mix_r [D]. forward(x [B, N, D]) -> [B, N, D]; causal (token shift).
class RwkvChannelMix : public Module {
public:
  RwkvChannelMix(int64_t d_model, int64_t hidden);
  Tensor forward(Tensor x);

private:
  int64_t d_model_;
  Linear *key_, *receptance_, *value_;
};

} // namespace tevo::nn::variants
