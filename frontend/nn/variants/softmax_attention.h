// softmax_attention.h: softmax-attention token mixers of the zoo.
//
// SoftmaxAttention wraps nn::MultiHeadAttention (frontend/nn/attention.h) for the forms
// it already expresses: causal attention with RoPE (Su et al. 2021, "RoFormer"), ALiBi
// (Press et al. 2022), multi-query (Shazeer 2019, "Fast Transformer Decoding: One Write-Head
// is All You Need") and grouped-query attention (Ainslie et al. 2023).
//
// ScoreModAttention writes the score-modified forms out in full:
//   S = Q K^T / sqrt(d) + bias;  S = where(keep(i, j), S, -inf);  O = softmax(S) V
// with
//   - sliding window ("Simple Local Attentions Remain Competitive for Long-Context Tasks",
//     Xiong et al. 2022): keep = 0 <= i - j < w (causal) or |i - j| < w, built from iota,
//     compare and logical_and;
//   - KERPLE, log variant (Chi et al. 2022, "KERPLE: Kernelized Relative Positional
//     Embedding for Length Extrapolation"): bias_h(i, j) = -r1_h log(1 + r2_h |i - j|),
//     r1, r2 = softplus(raw) > 0 learned per head.
// Rewrite family R1 (fused attention): the chain matmul -> scale -> [+ bias] -> where ->
// softmax -> matmul becomes attention{mask = causal | sliding, bias}.
#pragma once

#include "frontend/nn/attention.h"
#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

/// nn::MultiHeadAttention as a TokenMixer (child "attn"; separate q/k/v/o projections
/// without biases, LLaMA-style, so MQA/GQA shrink k_proj and v_proj).
class SoftmaxAttention : public TokenMixer {
public:
  /// n_kv_heads 0 = n_heads; pos Rope or Alibi (or None).
  SoftmaxAttention(
      int64_t d_model, int64_t n_heads, int64_t n_kv_heads, bool causal, PositionEncoding pos);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return causal_;
  }

private:
  bool causal_;
  MultiHeadAttention* attn_;
};

struct ScoreModOptions {
  int64_t d_model = 0;
  int64_t n_heads = 1;
  bool causal = true;
  int64_t window = 0;  ///< > 0: sliding window of this many keys (the query's own included)
  bool kerple = false; ///< add the KERPLE log bias
};

/// Softmax attention with a sliding-window mask and/or the KERPLE bias, written naively.
/// Children q_proj, k_proj, v_proj, o_proj (no biases); parameters kerple_r1, kerple_r2
/// [n_heads] (raw values, softplus applied) when kerple.
class ScoreModAttention : public TokenMixer {
public:
  explicit ScoreModAttention(const ScoreModOptions& o);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return o_.causal;
  }

private:
  ScoreModOptions o_;
  int64_t hd_;
  Linear *q_, *k_, *v_, *out_;
};

} // namespace tevo::nn::variants
