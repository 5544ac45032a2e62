// transformer.h: transformer blocks (pre-LN, post-LN, ReZero, DeepNorm), GPT and BERT.
#pragma once

#include "frontend/nn/attention.h"

#include <cstdint>

namespace tevo::nn {

/// Where the normalisation sits around each sublayer f (attention, then MLP):
enum class Residual {
  PreLN,    ///< x + f(LN(x))                          (GPT-2)
  PostLN,   ///< LN(x + f(x))                          (original Transformer, BERT)
  ReZero,   ///< x + alpha f(x), alpha a parameter initialised to 0; no LN (Bachlechner 2020)
  DeepNorm, ///< LN(x alpha + f(x)), constant alpha    (DeepNet, Wang et al. 2022)
};

struct BlockConfig {
  AttentionConfig attn;   ///< attn.d_model is the block width
  int64_t mlp_hidden = 0; ///< 0: 4 d_model
  Activation activation = Activation::GeluTanh;
  Residual residual = Residual::PreLN;
  double eps = 1e-5;    ///< LayerNorm eps
  bool bias = true;     ///< LayerNorm and MLP biases (attention: attn.bias)
  double dropout = 0.0; ///< on each sublayer output before the residual add
  uint64_t seed = 0;    ///< dropout seed
  /// DeepNorm: the residual scale alpha and the gain beta on the initial weights of the
  /// MLP, the attention output projection and (unfused) v_proj. DeepNet for an N-layer
  /// encoder: alpha = (2N)^(1/4), beta = (8N)^(-1/4); see deepnorm_encoder().
  double deepnorm_alpha = 1.0;
  double deepnorm_beta = 1.0;
};
/// Sets DeepNet's encoder-only alpha and beta for n_layers on c (and residual = DeepNorm).
BlockConfig deepnorm_encoder(BlockConfig c, int64_t n_layers);

/// One transformer layer. Children: ln_1, attn, ln_2, mlp (GPT-2 names; ReZero has no
/// ln_* but a parameter "alpha" [1]). forward(x [B, T, d], padding_mask bool [B, T] or
/// empty) -> [B, T, d].
class Block : public Module {
public:
  explicit Block(const BlockConfig& c);
  Tensor forward(Tensor x, Tensor padding_mask = {});
  MultiHeadAttention& attn() const {
    return *attn_;
  }
  MLP& mlp() const {
    return *mlp_;
  }
  const BlockConfig& config() const {
    return c_;
  }

private:
  BlockConfig c_;
  LayerNorm* ln_1_ = nullptr;
  LayerNorm* ln_2_ = nullptr;
  MultiHeadAttention* attn_ = nullptr;
  MLP* mlp_ = nullptr;
  Dropout* drop_attn_ = nullptr;
  Dropout* drop_mlp_ = nullptr;
};

struct GPTConfig {
  int64_t vocab_size = 50257;
  int64_t block_size = 1024; ///< longest sequence (rows of wpe)
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_embd = 768;
  double dropout = 0.0;
  bool bias = true; ///< biases in Linears and LayerNorms
  /// true: logits = h wte.weight^T (GPT-2; no lm_head parameter); false: a separate
  /// bias-free Linear "lm_head".
  bool tie_weights = true;
  uint64_t seed = 0; ///< dropout seed
};

/// Decoder-only GPT-2. Parameters (HF GPT2Model names): wte, wpe, h.{i}.ln_1,
/// h.{i}.attn.c_attn, h.{i}.attn.c_proj, h.{i}.ln_2, h.{i}.mlp.c_fc, h.{i}.mlp.c_proj,
/// ln_f [, lm_head]; Linear weights are [out, in] (HF's Conv1D stores [in, out]: transpose
/// when loading). GPT-2 init: N(0, 0.02) for Linear and Embedding weights, N(0, 0.02 /
/// sqrt(2 n_layer)) for c_proj weights, zero biases.
class GPT : public Module {
public:
  explicit GPT(const GPTConfig& c);
  /// tokens: integer [B, T] with T <= block_size -> logits [B, T, vocab_size].
  Tensor forward(Trace& t, Tensor tokens);
  const GPTConfig& config() const {
    return c_;
  }

private:
  GPTConfig c_;
  Embedding* wte_;
  Embedding* wpe_;
  Dropout* drop_;
  ModuleList<Block>* h_;
  LayerNorm* ln_f_;
  Linear* lm_head_ = nullptr;
};

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double dropout = 0.1;           ///< hidden_dropout_prob
  double attention_dropout = 0.1; ///< attention_probs_dropout_prob
  uint64_t seed = 0;
};

// BERT's modules, one per Hugging Face class so that names are HF BertModel's.
/// embeddings: LayerNorm(word + position + token_type embeddings), then dropout.
class BertEmbeddings : public Module {
public:
  explicit BertEmbeddings(const BertConfig& c);
  Tensor forward(Tensor ids, Tensor token_type_ids);

private:
  Embedding *word_, *pos_, *type_;
  LayerNorm* ln_;
  Dropout* drop_;
};
/// attention.self: query, key, value -> context [B, T, H] (before the output dense).
class BertSelfAttention : public Module {
public:
  explicit BertSelfAttention(const BertConfig& c);
  Tensor forward(Tensor x, Tensor padding_mask);

private:
  int64_t n_head_;
  Linear *query_, *key_, *value_;
  Dropout* drop_;
};
/// attention.output and output: LayerNorm(dropout(dense(h)) + residual).
class BertResidualOutput : public Module {
public:
  BertResidualOutput(int64_t in, const BertConfig& c);
  Tensor forward(Tensor h, Tensor residual);

private:
  Linear* dense_;
  LayerNorm* ln_;
  Dropout* drop_;
};
class BertAttention : public Module {
public:
  explicit BertAttention(const BertConfig& c);
  Tensor forward(Tensor x, Tensor padding_mask);

private:
  BertSelfAttention* self_;
  BertResidualOutput* output_;
};
/// intermediate: gelu(dense(x)) (exact gelu, as BERT).
class BertIntermediate : public Module {
public:
  explicit BertIntermediate(const BertConfig& c);
  Tensor forward(Tensor x);

private:
  Linear* dense_;
};
class BertLayer : public Module {
public:
  explicit BertLayer(const BertConfig& c);
  Tensor forward(Tensor x, Tensor padding_mask);

private:
  BertAttention* attention_;
  BertIntermediate* intermediate_;
  BertResidualOutput* output_;
};

/// encoder: the layer stack, children "layer.{i}".
class BertEncoder : public Module {
public:
  explicit BertEncoder(const BertConfig& c);
  Tensor forward(Tensor x, Tensor padding_mask);

private:
  ModuleList<BertLayer>* layer_;
};

/// BERT encoder (post-LN, learned absolute positions, padding mask), without the pooler.
/// Parameters carry HF BertModel's state_dict names: embeddings.{word,position,
/// token_type}_embeddings, embeddings.LayerNorm, encoder.layer.{i}.attention.self.{query,
/// key,value}, ...attention.output.{dense,LayerNorm}, ...intermediate.dense,
/// ...output.{dense,LayerNorm}. Init as HF: N(0, 0.02) weights, zero biases.
class Bert : public Module {
public:
  explicit Bert(const BertConfig& c);
  /// ids: integer [B, T]; attention_mask: bool [B, T] (true = real token) or empty;
  /// token_type_ids: integer [B, T] or empty (all type 0). Returns hidden states
  /// [B, T, hidden_size].
  Tensor forward(Trace& t, Tensor ids, Tensor attention_mask = {}, Tensor token_type_ids = {});
  const BertConfig& config() const {
    return c_;
  }

private:
  BertConfig c_;
  BertEmbeddings* embeddings_;
  BertEncoder* encoder_;
};

} // namespace tevo::nn
