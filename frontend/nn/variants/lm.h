// lm.h: the variant registry and VariantLM, a small language model over any zoo mixer.
//
// VariantLM: token embedding -> n_layers x VariantBlock(norm, mixer, residual, norm, FFN)
// -> final norm -> logits (an untied, bias-free lm_head). Mixers, FFNs, norms and residual
// arrangements are chosen by stable names (mixer_names(), ffn_names(), ...), so tests,
// benchmarks and docs can iterate over the zoo. Train it like any module: make_train_step
// with a loss over forward() (see tests/unit/variants/lm_test.cpp).
#pragma once

#include "frontend/nn/variants/block.h"

#include <string>
#include <vector>

namespace tevo::nn::variants {

struct VariantLMConfig {
  std::string mixer = "softmax_rope"; ///< one of mixer_names()
  std::string ffn = "swiglu";         ///< mlp | swiglu | geglu | rwkv_cmix
  std::string norm = "rmsnorm";       ///< layernorm | rmsnorm | scalenorm
  std::string residual = "pre";       ///< pre | post | b2t
  int64_t vocab = 0;
  int64_t d_model = 0;
  int64_t n_heads = 1;
  int64_t n_layers = 1;
  int64_t seq_len = 0; ///< longest sequence (long-conv kernels and filters have this length)
  /// A causal LM (next-token prediction): every mixer must be causal. false allows the
  /// bidirectional mixers (fnet, linear_elu, linear_relu, performer).
  bool causal = true;
  int64_t ffn_hidden = 0;   ///< 0: 4 d_model (mlp, rwkv_cmix), 8 d_model / 3 rounded up to 8 (GLU)
  int64_t window = 4;       ///< sliding_window: keys per query
  int64_t d_state = 4;      ///< s5, h3: state size
  int64_t feature_seed = 0; ///< performer: seed of the random features
  double long_conv_squash = 0;  ///< long_conv: soft-threshold lambda of the kernel (0: off)
  int64_t long_conv_smooth = 0; ///< long_conv: half-width of the kernel smoothing (0: off)
};

/// What the registry knows about one mixer name.
struct MixerInfo {
  std::string name;
  bool causal;          ///< true: causal; false: bidirectional (sees every token)
  std::string variant;  ///< docs/VARIANTS.md id (or pattern) it implements
  std::string rewrites; ///< rewrite families that apply (R1..R4)
};

/// The zoo, in a stable order.
std::vector<MixerInfo> mixer_registry();
/// Names of mixer_registry(), in order: "softmax_rope", "alibi", "kerple", "mqa", "gqa",
/// "sliding_window", "linear_elu", "linear_elu_causal", "linear_relu",
/// "linear_relu_causal", "performer", "performer_causal", "fnet", "s5", "h3", "hyena",
/// "rwkv", "long_conv".
std::vector<std::string> mixer_names();
std::vector<std::string> ffn_names();
std::vector<std::string> norm_names();
std::vector<std::string> residual_names();

/// The mixer `c.mixer` of width c.d_model with c's options. Throws ir::Error at `loc` for
/// an unknown name.
std::unique_ptr<TokenMixer> make_mixer(const VariantLMConfig& c, ir::Loc loc = ir::Loc::here());

class VariantLM : public Module {
public:
  /// Throws ir::Error located at the caller for an unknown name, a bidirectional mixer in
  /// a causal LM, or sizes the mixer cannot take (one line).
  explicit VariantLM(const VariantLMConfig& c, ir::Loc loc = ir::Loc::here());
  /// tokens: integer [B, N] with N <= seq_len -> logits [B, N, vocab].
  Tensor forward(Trace& t, Tensor tokens, ir::Loc loc = ir::Loc::here());
  const VariantLMConfig& config() const {
    return c_;
  }

private:
  VariantLMConfig c_;
  Embedding* wte_;
  ModuleList<VariantBlock>* layers_;
  Module* norm_f_;
  NormKind norm_kind_;
  Linear* lm_head_;
};

} // namespace tevo::nn::variants
