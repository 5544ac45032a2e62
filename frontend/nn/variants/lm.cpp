// lm.cpp: the mixer registry and VariantLM.
#include "frontend/nn/variants/lm.h"

#include "frontend/nn/variants/fnet.h"
#include "frontend/nn/variants/h3.h"
#include "frontend/nn/variants/hyena.h"
#include "frontend/nn/variants/linear_attention.h"
#include "frontend/nn/variants/long_conv.h"
#include "frontend/nn/variants/rwkv.h"
#include "frontend/nn/variants/s5.h"
#include "frontend/nn/variants/softmax_attention.h"

#include <algorithm>

namespace tevo::nn::variants {

namespace {

[[noreturn]] void fail_at(const ir::Loc& loc, const std::string& msg) {
  throw ir::Error(ir::Diag{loc, msg, {}});
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v)
    s += (s.empty() ? "" : ", ") + x;
  return s;
}

/// Index of `name` in `names`, or an error listing the choices.
size_t lookup(const std::vector<std::string>& names,
              const std::string& name,
              const char* what,
              const ir::Loc& loc) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    fail_at(loc, fmt::format("unknown {} '{}' (known: {})", what, name, joined(names)));
  return static_cast<size_t>(it - names.begin());
}

std::unique_ptr<TokenMixer> linear(const VariantLMConfig& c, FeatureMap f, bool causal) {
  LinearAttentionOptions o;
  o.d_model = c.d_model;
  o.n_heads = c.n_heads;
  o.causal = causal;
  o.feature = f;
  o.feature_seed = c.feature_seed;
  return std::make_unique<LinearAttention>(o);
}

std::unique_ptr<TokenMixer> score_mod(const VariantLMConfig& c, int64_t window, bool kerple) {
  ScoreModOptions o;
  o.d_model = c.d_model;
  o.n_heads = c.n_heads;
  o.causal = true;
  o.window = window;
  o.kerple = kerple;
  return std::make_unique<ScoreModAttention>(o);
}

std::unique_ptr<TokenMixer> build(const VariantLMConfig& c) {
  const std::string& m = c.mixer;
  int64_t D = c.d_model, H = c.n_heads;
  if (m == "softmax_rope")
    return std::make_unique<SoftmaxAttention>(D, H, 0, true, PositionEncoding::Rope);
  if (m == "alibi")
    return std::make_unique<SoftmaxAttention>(D, H, 0, true, PositionEncoding::Alibi);
  if (m == "mqa")
    return std::make_unique<SoftmaxAttention>(D, H, 1, true, PositionEncoding::Rope);
  if (m == "gqa") {
    if (H < 2 || H % 2 != 0)
      fail(fmt::format("gqa shares each key/value head between 2 query heads: n_heads must be "
                       "even, got {}",
                       H));
    return std::make_unique<SoftmaxAttention>(D, H, H / 2, true, PositionEncoding::Rope);
  }
  if (m == "kerple")
    return score_mod(c, 0, true);
  if (m == "sliding_window")
    return score_mod(c, c.window, false);
  if (m == "linear_elu" || m == "linear_elu_causal")
    return linear(c, FeatureMap::EluPlusOne, m.ends_with("_causal"));
  if (m == "linear_relu" || m == "linear_relu_causal")
    return linear(c, FeatureMap::Relu, m.ends_with("_causal"));
  if (m == "performer" || m == "performer_causal")
    return linear(c, FeatureMap::Favor, m.ends_with("_causal"));
  if (m == "fnet")
    return std::make_unique<FNetMixer>(D);
  if (m == "s5")
    return std::make_unique<S5>(D, c.d_state);
  if (m == "h3")
    return std::make_unique<H3>(D, c.d_state);
  if (m == "hyena") {
    HyenaOptions o;
    o.d_model = D;
    o.max_len = c.seq_len;
    return std::make_unique<Hyena>(o);
  }
  if (m == "rwkv")
    return std::make_unique<RwkvTimeMix>(D);
  LongConvOptions o; // "long_conv" (names are checked before build)
  o.d_model = D;
  o.max_len = c.seq_len;
  o.squash = c.long_conv_squash;
  o.smooth = c.long_conv_smooth;
  return std::make_unique<SimpleLongConv>(o);
}

int64_t ffn_width(const VariantLMConfig& c, FfnKind k) {
  if (c.ffn_hidden > 0)
    return c.ffn_hidden;
  if (k == FfnKind::SwiGlu || k == FfnKind::GeGlu)
    return (8 * c.d_model / 3 + 7) / 8 * 8;
  return 4 * c.d_model;
}

} // namespace

std::vector<MixerInfo> mixer_registry() {
  return {
      {"softmax_rope", true, "SDPA + QK_ROTATE (RoPE)", "R1"},
      {"alibi", true, "SCORE_MOD (ALiBi)", "R1"},
      {"kerple", true, "pe.kerple", "R1"},
      {"mqa", true, "head.mqa", "R1"},
      {"gqa", true, "head.mqa (GQA)", "R1"},
      {"sliding_window", true, "mha.sparse.simple_local", "R1"},
      {"linear_elu", false, "mha.rightproduct.learned_kernel (elu+1)", "R2"},
      {"linear_elu_causal", true, "mha.rightproduct.learned_kernel (elu+1, causal)", "R2"},
      {"linear_relu", false, "mha.rightproduct.learned_kernel (relu)", "R2"},
      {"linear_relu_causal", true, "mha.rightproduct.learned_kernel (relu, causal)", "R2"},
      {"performer", false, "mha.rightproduct.learned_kernel (FAVOR+)", "R2"},
      {"performer_causal", true, "mha.rightproduct.learned_kernel (FAVOR+, causal)", "R2"},
      {"fnet", false, "mha.fft.fnet", "R3"},
      {"s5", true, "longconv.s5", "R2"},
      {"h3", true, "longconv.h3", "R3, R4"},
      {"hyena", true, "longconv.hyena", "R3, R4"},
      {"rwkv", true, "longconv.rwkv", "R2, R4"},
      {"long_conv", true, "longconv.simple_long_conv", "R3"},
  };
}

std::vector<std::string> mixer_names() {
  std::vector<std::string> out;
  for (const MixerInfo& m : mixer_registry())
    out.push_back(m.name);
  return out;
}

std::vector<std::string> ffn_names() {
  return {"mlp", "swiglu", "geglu", "rwkv_cmix"};
}
std::vector<std::string> norm_names() {
  return {"layernorm", "rmsnorm", "scalenorm"};
}
std::vector<std::string> residual_names() {
  return {"pre", "post", "b2t"};
}

std::unique_ptr<TokenMixer> make_mixer(const VariantLMConfig& c, ir::Loc loc) {
  lookup(mixer_names(), c.mixer, "mixer", loc);
  try {
    return build(c);
  } catch (const ir::Error& e) {
    if (e.diag().loc.known())
      throw;
    fail_at(loc, fmt::format("mixer '{}': {}", c.mixer, e.diag().message));
  }
}

VariantLM::VariantLM(const VariantLMConfig& c, ir::Loc loc) : c_(c) {
  size_t mi = lookup(mixer_names(), c.mixer, "mixer", loc);
  // ffn_names(), norm_names() and residual_names() list the enums' values in order.
  auto ffn = static_cast<FfnKind>(lookup(ffn_names(), c.ffn, "ffn", loc));
  norm_kind_ = static_cast<NormKind>(lookup(norm_names(), c.norm, "norm", loc));
  auto res = static_cast<ResidualKind>(lookup(residual_names(), c.residual, "residual", loc));
  if (c.causal && !mixer_registry()[mi].causal)
    fail_at(loc, fmt::format("mixer '{}' is bidirectional (every output sees every token): it "
                             "cannot be used in a causal LM (set causal = false)",
                             c.mixer));
  for (auto [v, what] : {std::pair{c.vocab, "vocab"},
                         {c.d_model, "d_model"},
                         {c.n_heads, "n_heads"},
                         {c.n_layers, "n_layers"},
                         {c.seq_len, "seq_len"}})
    if (v <= 0)
      fail_at(loc, fmt::format("VariantLM {} must be positive, got {}", what, v));
  try {
    wte_ = &register_module(
        "wte", std::make_unique<Embedding>(c.vocab, c.d_model, Init::normal(0.0, 0.02)));
    layers_ = &register_module("layers", std::make_unique<ModuleList<VariantBlock>>());
    for (int64_t i = 0; i < c.n_layers; ++i)
      layers_->append(std::make_unique<VariantBlock>(make_mixer(c, loc), c.d_model,
                                                     ffn_width(c, ffn), norm_kind_, res, ffn));
    norm_f_ = &register_module("norm_f", make_norm(norm_kind_, c.d_model));
    lm_head_ = &register_module("lm_head", std::make_unique<Linear>(c.d_model, c.vocab, false));
  } catch (const ir::Error& e) {
    if (e.diag().loc.known())
      throw;
    fail_at(loc, fmt::format("VariantLM: {}", e.diag().message));
  }
}

Tensor VariantLM::forward(Trace& t, Tensor tokens, ir::Loc loc) {
  if (!tokens.valid() || &tokens.trace() != &t || tokens.rank() != 2 || !ir::is_int(tokens.dtype()))
    fail_at(loc, "VariantLM: tokens must be an integer [B, N] tensor of the given trace");
  if (tokens.dim(1) > c_.seq_len)
    fail_at(loc, fmt::format("VariantLM: sequence length {} exceeds seq_len {}", tokens.dim(1),
                             c_.seq_len));
  Tensor x = call(t, *wte_, tokens);
  in_scope(t, *layers_, [&] {
    for (VariantBlock* b : *layers_)
      x = call(t, *b, x);
  });
  x = apply_norm(t, norm_kind_, *norm_f_, x);
  return call(t, *lm_head_, x);
}

} // namespace tevo::nn::variants
