// fnet.h: FNet token mixing (Lee-Thorp et al. 2022, "FNet: Mixing Tokens with Fourier
// Transforms"): Y = Re(FFT_seq(FFT_hidden(X))) for X [B, N, D], no parameters.
//
// Written with DFT matrices, as the paper's own TPU implementation does for short
// sequences: with F_n = C_n - i S_n (C_n[a, b] = cos(2 pi ab / n), S_n = sin),
//   Re(F_N X F_D) = C_N X C_D - S_N X S_D.
// Why not rfft: the DSL has only real-to-half-spectrum rfft/irfft, and a full complex DFT
// along the sequence of a complex tensor is not one of its ops; the DFT-matrix form is
// exactly the paper's equation with real matmuls. Non-causal: every output mixes every
// token, so it is an encoder / bidirectional mixer only.
// Rewrite family R3 (FFT): matmul by a constant DFT matrix -> rfft/FFT by shape (GEMM for
// short N, FFT for long N).
#pragma once

#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

class FNetMixer : public TokenMixer {
public:
  explicit FNetMixer(int64_t d_model);
  Tensor forward(Tensor x) override;
  bool causal() const override {
    return false;
  }

private:
  int64_t d_model_;
};

/// The real and imaginary-part-negated DFT matrices C_n, S_n [n, n] of dtype dt.
std::pair<Tensor, Tensor> dft_matrices(Trace& t, int64_t n, DType dt);

} // namespace tevo::nn::variants
