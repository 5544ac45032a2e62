// linear_attention.h: kernelized (linear) attention, written as the left product.
//
// Katharopoulos et al. 2020 ("Transformers are RNNs"), Choromanski et al. 2021
// ("Rethinking Attention with Performers"), and the catalog's reference entry
// mha.rightproduct.learned_kernel (Chowdhury et al., "On Learning the Transformer Kernel"):
//   A = phi(Q) phi(K)^T                      [B, H, N, N]  (causal: A = tril(A))
//   O = (A / (rowsum(A) + eps)) V
// with phi one of
//   elu+1:      phi(x) = elu(x) + 1
//   relu:       phi(x) = relu(x)
//   FAVOR+:     phi(x) = exp(W x' - |x'|^2 / 2) / sqrt(m),  x' = x / d^(1/4),
//               W [m, d] ~ N(0, 1) i.i.d. from random_normal with a fixed seed (positive
//               random features of the softmax kernel exp(q.k / sqrt(d)); not orthogonal).
// eps = 1e-6 keeps a relu row whose features are all 0 finite; it is a row scaling, so
// the form stays a matmul chain with only row scalings between the two matmuls.
// Rewrite family R2: reassociation to phi(Q) (phi(K)^T [V | 1]) when N > m (non-causal),
// and the causal tril form to a chunked scan (prefix sums of phi(k) v^T).
#pragma once

#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

enum class FeatureMap { EluPlusOne, Relu, Favor };

struct LinearAttentionOptions {
  int64_t d_model = 0;
  int64_t n_heads = 1;
  bool causal = false;
  FeatureMap feature = FeatureMap::EluPlusOne;
  int64_t n_features = 0;   ///< FAVOR+: m (0: 2 * head dim)
  int64_t feature_seed = 0; ///< FAVOR+: seed of W's random_normal
  double eps = 1e-6;
};

/// Children q_proj, k_proj, v_proj, o_proj (no biases).
class LinearAttention : public TokenMixer {
public:
  explicit LinearAttention(const LinearAttentionOptions& o);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return o_.causal;
  }
  /// phi(x) for x [..., d] (FAVOR+: [..., m]).
  Tensor feature_map(Tensor x) const;

private:
  LinearAttentionOptions o_;
  int64_t hd_;
  Linear *q_, *k_, *v_, *out_;
};

} // namespace tevo::nn::variants
