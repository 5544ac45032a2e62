// hyena.h: Hyena operator of order 2 (Poli et al. 2023, "Hyena Hierarchy: Towards Larger
// Convolutional Language Models").
//
//   (v, x1, x2) = split(ShortConv_{k=3}(x W_in + b_in))       each [B, N, D]
//   h^i[t]      = FFN(PosEnc(t)) * window(t),  i = 1, 2        implicit long filters [N, D]
//   z^0 = v;   z^i = x^i * (h^i * z^{i-1} + bias^i z^{i-1})   (causal long conv + bias)
//   y   = z^2 W_out + b_out
// PosEnc(t) = [t/L, cos(2 pi f t/L), -sin(2 pi f t/L) for f = 1..K] (K bands; the real and
// imaginary parts of the paper's complex exponentials), the filter FFN is
// Linear -> sin -> Linear -> sin -> Linear(no bias) (the paper's sine activation, fixed
// frequency 1), window(t) = exp(-alpha_c t/L) with alpha_c spread over the channels from
// -ln(1e-2)/1.5 (slow) to -ln(1e-2)/0.3 (fast), as the reference implementation's
// exponential modulation. L = the longest sequence, so the filters do not depend on N.
// The short and long convolutions are written as their definition (causal_conv).
// Rewrite families: R3 (long conv -> FFT conv; the filter subgraph depends only on
// parameters and L: hoist) and R4 (gating multiplies fused into the conv epilogue).
#pragma once

#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

struct HyenaOptions {
  int64_t d_model = 0;
  int64_t max_len = 0;        ///< L
  int64_t order = 2;          ///< number of long convolutions and gates
  int64_t filter_hidden = 16; ///< width of the filter FFN
  int64_t bands = 4;          ///< K positional frequencies
  int64_t short_kernel = 3;
};

/// Children in_proj (D -> (order + 1) D), filter_in, filter_mid, filter_out (the filter
/// FFN), out_proj;
/// parameters short_filter [(order + 1) D, short_kernel], filter_bias [order, D].
class Hyena : public TokenMixer {
public:
  explicit Hyena(const HyenaOptions& o);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return true;
  }
  /// The windowed implicit filters [order * D, L] (filter i is rows i D .. (i+1) D - 1).
  Tensor filters(Trace& t, DType dt);

private:
  HyenaOptions o_;
  Linear *in_, *out_, *f0_, *f1_, *f2_;
};

} // namespace tevo::nn::variants
