// block.cpp: ScaleNorm and VariantBlock (pre / post / B2T residual arrangements).
#include "frontend/nn/variants/block.h"

#include "frontend/nn/variants/rwkv.h"

#include <cmath>

namespace tevo::nn::variants {

ScaleNorm::ScaleNorm(int64_t dim, double eps) : dim_(dim), eps_(eps) {
  require_positive(dim, "ScaleNorm dim");
  register_parameter("g", {1}, Init::constant(std::sqrt(static_cast<double>(dim))));
}

Tensor ScaleNorm::forward(Tensor x) {
  if (x.rank() < 1 || x.dim(-1) != dim_)
    fail(fmt::format("ScaleNorm of dim {} applied to {}", dim_, x.type().str()));
  Tensor norm2 = sum(square(x), {-1}, true) + eps_;
  return param(x.trace(), "g") * x * rsqrt(norm2);
}

std::unique_ptr<Module> make_norm(NormKind k, int64_t dim) {
  switch (k) {
  case NormKind::LayerNorm:
    return std::make_unique<LayerNorm>(dim);
  case NormKind::RmsNorm:
    return std::make_unique<RMSNorm>(dim);
  case NormKind::ScaleNorm:
    return std::make_unique<ScaleNorm>(dim);
  }
  fail("unknown norm kind");
}

Tensor apply_norm(Trace& t, NormKind k, Module& m, Tensor x) {
  switch (k) {
  case NormKind::LayerNorm:
    return call(t, static_cast<LayerNorm&>(m), x);
  case NormKind::RmsNorm:
    return call(t, static_cast<RMSNorm&>(m), x);
  case NormKind::ScaleNorm:
    return call(t, static_cast<ScaleNorm&>(m), x);
  }
  fail("unknown norm kind");
}

namespace {

std::unique_ptr<Module> make_ffn(FfnKind k, int64_t d, int64_t hidden) {
  switch (k) {
  case FfnKind::Mlp:
    return std::make_unique<MLP>(d, hidden, Activation::Gelu, true);
  case FfnKind::SwiGlu:
    return std::make_unique<SwiGLU>(d, hidden);
  case FfnKind::GeGlu:
    return std::make_unique<GEGLU>(d, hidden);
  case FfnKind::RwkvChannelMix:
    return std::make_unique<RwkvChannelMix>(d, hidden);
  }
  fail("unknown FFN kind");
}

} // namespace

VariantBlock::VariantBlock(std::unique_ptr<TokenMixer> mixer,
                           int64_t d_model,
                           int64_t ffn_hidden,
                           NormKind norm,
                           ResidualKind residual,
                           FfnKind ffn)
    : norm_kind_(norm), residual_(residual) {
  norm_1_ = &register_module("norm_1", make_norm(norm, d_model));
  mixer_ = &register_module("mixer", std::move(mixer));
  norm_2_ = &register_module("norm_2", make_norm(norm, d_model));
  ffn_ = &register_module("ffn", make_ffn(ffn, d_model, ffn_hidden));
}

Tensor VariantBlock::norm(Trace& t, Module& m, Tensor x) {
  return apply_norm(t, norm_kind_, m, x);
}

Tensor VariantBlock::ffn(Trace& t, Tensor x) {
  return in_scope(t, *ffn_, [&] {
    if (auto* m = dynamic_cast<MLP*>(ffn_))
      return m->forward(x);
    if (auto* g = dynamic_cast<GatedMLP*>(ffn_))
      return g->forward(x);
    return static_cast<RwkvChannelMix*>(ffn_)->forward(x);
  });
}

Tensor VariantBlock::forward(Tensor x) {
  Trace& t = x.trace();
  auto mix = [&](Tensor h) { return call(t, *mixer_, h); };
  switch (residual_) {
  case ResidualKind::Pre: {
    Tensor h = x + mix(norm(t, *norm_1_, x));
    return h + ffn(t, norm(t, *norm_2_, h));
  }
  case ResidualKind::Post: {
    Tensor h = norm(t, *norm_1_, x + mix(x));
    return norm(t, *norm_2_, h + ffn(t, h));
  }
  case ResidualKind::B2T: {
    Tensor h = norm(t, *norm_1_, x + mix(x));
    return norm(t, *norm_2_, h + ffn(t, h) + x);
  }
  }
  return x;
}

} // namespace tevo::nn::variants
