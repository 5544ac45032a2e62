// block.h: ScaleNorm and the residual arrangements of the variant zoo's layer.
//
// ScaleNorm (Nguyen & Salazar 2019, "Transformers without Tears"): g x / ||x||_2 with one
// learned scalar g per norm (init sqrt(D)); eps inside the sqrt.
// Residual arrangements around a token mixer F and an FFN G (norm.prepost_b2t; Takase et
// al. 2022, "On Layer Normalizations and Residual Connections in Transformers"):
//   pre:  h = x + F(N1(x));      y = h + G(N2(h))
//   post: h = N1(x + F(x));      y = N2(h + G(h))
//   b2t:  h = N1(x + F(x));      y = N2(h + G(h) + x)   (post-LN plus a bottom-to-top skip
//                                                         from the layer input to the last norm)
// Rewrite family R4: residual add + norm fused into one row-reduction kernel emitting the
// sum and the normalised rows; GLU FFNs as one [W|V] GEMM with an act(a) * b epilogue.
#pragma once

#include "frontend/nn/variants/mixer.h"

#include <memory>
#include <string>

namespace tevo::nn::variants {

/// g x / sqrt(sum(x^2) + eps) over the last axis; parameter "g" [1] = sqrt(dim).
class ScaleNorm : public Module {
public:
  explicit ScaleNorm(int64_t dim, double eps = 1e-10);
  Tensor forward(Tensor x);

private:
  int64_t dim_;
  double eps_;
};

enum class NormKind { LayerNorm, RmsNorm, ScaleNorm };
enum class ResidualKind { Pre, Post, B2T };
enum class FfnKind { Mlp, SwiGlu, GeGlu, RwkvChannelMix };

/// One variant layer: children norm_1, mixer, norm_2, ffn.
class VariantBlock : public Module {
public:
  VariantBlock(std::unique_ptr<TokenMixer> mixer,
               int64_t d_model,
               int64_t ffn_hidden,
               NormKind norm,
               ResidualKind residual,
               FfnKind ffn);
  Tensor forward(Tensor x);
  TokenMixer& mixer() const {
    return *mixer_;
  }

private:
  Tensor norm(Trace& t, Module& m, Tensor x);
  Tensor ffn(Trace& t, Tensor x);
  NormKind norm_kind_;
  ResidualKind residual_;
  Module* norm_1_;
  Module* norm_2_;
  TokenMixer* mixer_;
  Module* ffn_;
};

/// A norm module of the given kind over `dim`.
std::unique_ptr<Module> make_norm(NormKind k, int64_t dim);
/// Applies a module made by make_norm.
Tensor apply_norm(Trace& t, NormKind k, Module& m, Tensor x);

} // namespace tevo::nn::variants
