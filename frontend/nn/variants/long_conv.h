// long_conv.h: causal long convolution, and the simple long-convolution mixer
// (Fu et al. 2023, "Simple Hardware-Efficient Long Convolutions for Sequence Modeling").
//
// The long convolution is written as its definition, one kernel per channel:
//   y[b, t, c] = sum_{s=0..t} h[c, s] x[b, t - s, c]
// i.e. a depthwise conv1d (groups = D) with K - 1 zeros of left padding (K = min(kernel length, N))
// over the flipped kernel (conv1d is a cross-correlation). H3, Hyena and this mixer share it.
//
// SimpleLongConv learns h [D, L] directly (L = the longest sequence):
//   K = squash(smooth(h)),  smooth: K_k = mean_{|j| <= p} h_{k+j} (zero padded),
//                           squash: K = sign(K) max(|K| - lambda, 0)  (both optional)
//   y = o_proj(K * x + D_skip x)
// Rewrite family R3 (long conv): conv1d(groups=D, left pad N-1) -> FFT convolution
// irfft(rfft(x, 2N) rfft(h, 2N))[:N] for long N; the kernel regularisers depend only on
// parameters (hoist).
#pragma once

#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

/// y = h * x causally along the sequence, one kernel per channel: x [B, N, D], h [D, K]
/// (taps beyond N - 1 are unused, so a long kernel K >= N and a short one K < N both
/// work). Returns [B, N, D].
Tensor causal_conv(Tensor x, Tensor h);

struct LongConvOptions {
  int64_t d_model = 0;
  int64_t max_len = 0; ///< kernel length L (the longest sequence)
  double squash = 0.0; ///< lambda of the soft threshold (0: off)
  int64_t smooth = 0;  ///< half-width p of the moving average (0: off)
};

/// Parameters "kernel" [D, L] ~ N(0, 1/L), "skip" [D] (ones); child o_proj.
class SimpleLongConv : public TokenMixer {
public:
  explicit SimpleLongConv(const LongConvOptions& o);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return true;
  }
  /// The regularised kernel K [D, L] from the parameter.
  Tensor kernel(Trace& t);

private:
  LongConvOptions o_;
  Linear* out_;
};

} // namespace tevo::nn::variants
