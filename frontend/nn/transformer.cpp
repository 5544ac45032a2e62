// transformer.cpp: transformer Block (four residual arrangements), GPT-2 and BERT.
#include "frontend/nn/transformer.h"

#include <cmath>

namespace tevo::nn {

namespace {

[[noreturn]] void fail(const std::string& msg) {
  throw ir::Error(ir::make_diag("{}", msg));
}

/// Token ids must be an integer [B, T] tensor of trace t.
void check_tokens(Trace& t, const Tensor& ids, const char* model) {
  if (!ids.valid() || &ids.trace() != &t)
    fail(fmt::format("{}: token ids must be a tensor of the given trace", model));
  if (ids.rank() != 2 || !ir::is_int(ids.dtype()))
    fail(fmt::format("{}: token ids must be an integer [B, T] tensor, got {}", model,
                     ids.type().str()));
}

/// GPT-2 / BERT initialisation: N(0, std) Linear and Embedding weights, zero biases.
void init_normal_02(Module& root, double std, double proj_std) {
  root.apply([&](const std::string& path, Module& m) {
    if (auto* l = dynamic_cast<Linear*>(&m)) {
      bool proj = path == "c_proj" || path.ends_with(".c_proj");
      l->set_init("weight", Init::normal(0.0, proj ? proj_std : std));
      if (l->has_bias())
        l->set_init("bias", Init::zeros());
    } else if (auto* e = dynamic_cast<Embedding*>(&m)) {
      e->set_init("weight", Init::normal(0.0, std));
    }
  });
}

} // namespace

// ---- Block ----

BlockConfig deepnorm_encoder(BlockConfig c, int64_t n_layers) {
  require_positive(n_layers, "DeepNorm layer count");
  auto n = static_cast<double>(n_layers);
  c.residual = Residual::DeepNorm;
  c.deepnorm_alpha = std::pow(2.0 * n, 0.25);
  c.deepnorm_beta = std::pow(8.0 * n, -0.25);
  return c;
}

Block::Block(const BlockConfig& c) : c_(c) {
  int64_t d = c.attn.d_model;
  require_positive(d, "block d_model");
  int64_t hidden = c.mlp_hidden == 0 ? 4 * d : c.mlp_hidden;
  require_positive(hidden, "block MLP width");
  bool norms = c.residual != Residual::ReZero;
  if (!norms)
    register_parameter("alpha", {1}, Init::zeros());
  if (norms)
    ln_1_ = &register_module("ln_1", std::make_unique<LayerNorm>(d, c.eps, c.bias));
  attn_ = &register_module("attn", std::make_unique<MultiHeadAttention>(c.attn));
  if (norms)
    ln_2_ = &register_module("ln_2", std::make_unique<LayerNorm>(d, c.eps, c.bias));
  mlp_ = &register_module("mlp", std::make_unique<MLP>(d, hidden, c.activation, c.bias));
  drop_attn_ = &register_module("drop_attn", std::make_unique<Dropout>(c.dropout, c.seed));
  drop_mlp_ = &register_module("drop_mlp", std::make_unique<Dropout>(c.dropout, c.seed));
  if (c.residual == Residual::DeepNorm && c.deepnorm_beta != 1.0) {
    scale_init(mlp_->c_fc(), "weight", c.deepnorm_beta);
    scale_init(mlp_->c_proj(), "weight", c.deepnorm_beta);
    scale_init(attn_->out_proj(), "weight", c.deepnorm_beta);
    if (attn_->v_proj())
      scale_init(*attn_->v_proj(), "weight", c.deepnorm_beta);
  }
}

Tensor Block::forward(Tensor x, Tensor padding_mask) {
  Trace& t = x.trace();
  auto attn = [&](Tensor h) { return call(t, *drop_attn_, call(t, *attn_, h, padding_mask)); };
  auto mlp = [&](Tensor h) { return call(t, *drop_mlp_, call(t, *mlp_, h)); };
  switch (c_.residual) {
  case Residual::PreLN:
    x = x + attn(call(t, *ln_1_, x));
    return x + mlp(call(t, *ln_2_, x));
  case Residual::PostLN:
    x = call(t, *ln_1_, x + attn(x));
    return call(t, *ln_2_, x + mlp(x));
  case Residual::ReZero: {
    Tensor alpha = param(t, "alpha");
    x = x + alpha * attn(x);
    return x + alpha * mlp(x);
  }
  case Residual::DeepNorm:
    x = call(t, *ln_1_, x * c_.deepnorm_alpha + attn(x));
    return call(t, *ln_2_, x * c_.deepnorm_alpha + mlp(x));
  }
  return x;
}

// ---- GPT ----

GPT::GPT(const GPTConfig& c) : c_(c) {
  require_positive(c.vocab_size, "GPT vocab_size");
  require_positive(c.block_size, "GPT block_size");
  require_positive(c.n_layer, "GPT n_layer");
  require_positive(c.n_embd, "GPT n_embd");
  wte_ = &register_module("wte", std::make_unique<Embedding>(c.vocab_size, c.n_embd));
  wpe_ = &register_module("wpe", std::make_unique<Embedding>(c.block_size, c.n_embd));
  drop_ = &register_module("drop", std::make_unique<Dropout>(c.dropout, c.seed));
  h_ = &register_module("h", std::make_unique<ModuleList<Block>>());
  BlockConfig bc;
  bc.attn.d_model = c.n_embd;
  bc.attn.n_heads = c.n_head;
  bc.attn.causal = true;
  bc.attn.bias = c.bias;
  bc.attn.dropout = c.dropout;
  bc.attn.seed = c.seed;
  bc.mlp_hidden = 4 * c.n_embd;
  bc.activation = Activation::GeluTanh;
  bc.residual = Residual::PreLN;
  bc.eps = 1e-5;
  bc.bias = c.bias;
  bc.dropout = c.dropout;
  bc.seed = c.seed;
  for (int64_t i = 0; i < c.n_layer; ++i)
    h_->append(std::make_unique<Block>(bc));
  ln_f_ = &register_module("ln_f", std::make_unique<LayerNorm>(c.n_embd, 1e-5, c.bias));
  if (!c.tie_weights)
    lm_head_ = &register_module("lm_head", std::make_unique<Linear>(c.n_embd, c.vocab_size, false));
  init_normal_02(*this, 0.02, 0.02 / std::sqrt(2.0 * static_cast<double>(c.n_layer)));
}

Tensor GPT::forward(Trace& t, Tensor tokens) {
  check_tokens(t, tokens, "GPT");
  int64_t T = tokens.dim(1);
  if (T > c_.block_size)
    fail(fmt::format("GPT: sequence length {} exceeds block_size {}", T, c_.block_size));
  Tensor x = call(t, *wte_, tokens) + call(t, *wpe_, iota(t, {T}, 0));
  x = call(t, *drop_, x);
  in_scope(t, *h_, [&] {
    for (Block* b : *h_)
      x = call(t, *b, x);
  });
  x = call(t, *ln_f_, x);
  if (lm_head_)
    return call(t, *lm_head_, x);
  return in_scope(t, *wte_, [&] { return wte_->attend(x); });
}

// ---- BERT ----

BertEmbeddings::BertEmbeddings(const BertConfig& c) {
  word_ =
      &register_module("word_embeddings", std::make_unique<Embedding>(c.vocab_size, c.hidden_size));
  pos_ = &register_module("position_embeddings",
                          std::make_unique<Embedding>(c.max_position_embeddings, c.hidden_size));
  type_ = &register_module("token_type_embeddings",
                           std::make_unique<Embedding>(c.type_vocab_size, c.hidden_size));
  ln_ = &register_module("LayerNorm", std::make_unique<LayerNorm>(c.hidden_size, c.layer_norm_eps));
  drop_ = &register_module("dropout", std::make_unique<Dropout>(c.dropout, c.seed));
}

Tensor BertEmbeddings::forward(Tensor ids, Tensor token_type_ids) {
  Trace& t = ids.trace();
  int64_t T = ids.dim(1);
  if (T > pos_->num_embeddings())
    fail(fmt::format("BERT: sequence length {} exceeds max_position_embeddings {}", T,
                     pos_->num_embeddings()));
  if (!token_type_ids.valid())
    token_type_ids = full(t, ids.shape(), 0.0, DType::I64);
  Tensor x =
      call(t, *word_, ids) + call(t, *pos_, iota(t, {T}, 0)) + call(t, *type_, token_type_ids);
  return call(t, *drop_, call(t, *ln_, x));
}

BertSelfAttention::BertSelfAttention(const BertConfig& c) : n_head_(c.n_head) {
  require_positive(c.n_head, "BERT n_head");
  if (c.hidden_size % c.n_head != 0)
    fail(
        fmt::format("BERT: hidden_size {} is not a multiple of {} heads", c.hidden_size, c.n_head));
  int64_t h = c.hidden_size;
  query_ = &register_module("query", std::make_unique<Linear>(h, h));
  key_ = &register_module("key", std::make_unique<Linear>(h, h));
  value_ = &register_module("value", std::make_unique<Linear>(h, h));
  drop_ = &register_module("dropout", std::make_unique<Dropout>(c.attention_dropout, c.seed));
}

Tensor BertSelfAttention::forward(Tensor x, Tensor padding_mask) {
  Trace& t = x.trace();
  int64_t B = x.dim(0), T = x.dim(1), H = x.dim(2), hd = H / n_head_;
  auto heads = [&](Linear& l) {
    return permute(reshape(call(t, l, x), {B, T, n_head_, hd}), {0, 2, 1, 3});
  };
  SdpaOptions o;
  o.padding_mask = padding_mask;
  o.on_probs = [&](Tensor p) { return call(t, *drop_, p); };
  Tensor y = scaled_dot_product_attention(heads(*query_), heads(*key_), heads(*value_), o);
  return reshape(permute(y, {0, 2, 1, 3}), {B, T, H});
}

BertResidualOutput::BertResidualOutput(int64_t in, const BertConfig& c) {
  dense_ = &register_module("dense", std::make_unique<Linear>(in, c.hidden_size));
  ln_ = &register_module("LayerNorm", std::make_unique<LayerNorm>(c.hidden_size, c.layer_norm_eps));
  drop_ = &register_module("dropout", std::make_unique<Dropout>(c.dropout, c.seed));
}

Tensor BertResidualOutput::forward(Tensor h, Tensor residual) {
  Trace& t = h.trace();
  return call(t, *ln_, call(t, *drop_, call(t, *dense_, h)) + residual);
}

BertAttention::BertAttention(const BertConfig& c) {
  self_ = &register_module("self", std::make_unique<BertSelfAttention>(c));
  output_ = &register_module("output", std::make_unique<BertResidualOutput>(c.hidden_size, c));
}

Tensor BertAttention::forward(Tensor x, Tensor padding_mask) {
  Trace& t = x.trace();
  return call(t, *output_, call(t, *self_, x, padding_mask), x);
}

BertIntermediate::BertIntermediate(const BertConfig& c) {
  dense_ = &register_module("dense", std::make_unique<Linear>(c.hidden_size, c.intermediate_size));
}

Tensor BertIntermediate::forward(Tensor x) {
  return gelu(call(x.trace(), *dense_, x), false);
}

BertLayer::BertLayer(const BertConfig& c) {
  attention_ = &register_module("attention", std::make_unique<BertAttention>(c));
  intermediate_ = &register_module("intermediate", std::make_unique<BertIntermediate>(c));
  output_ =
      &register_module("output", std::make_unique<BertResidualOutput>(c.intermediate_size, c));
}

Tensor BertLayer::forward(Tensor x, Tensor padding_mask) {
  Trace& t = x.trace();
  Tensor a = call(t, *attention_, x, padding_mask);
  return call(t, *output_, call(t, *intermediate_, a), a);
}

BertEncoder::BertEncoder(const BertConfig& c) {
  layer_ = &register_module("layer", std::make_unique<ModuleList<BertLayer>>());
  for (int64_t i = 0; i < c.n_layer; ++i)
    layer_->append(std::make_unique<BertLayer>(c));
}

Tensor BertEncoder::forward(Tensor x, Tensor padding_mask) {
  Trace& t = x.trace();
  in_scope(t, *layer_, [&] {
    for (BertLayer* l : *layer_)
      x = call(t, *l, x, padding_mask);
  });
  return x;
}

Bert::Bert(const BertConfig& c) : c_(c) {
  require_positive(c.vocab_size, "BERT vocab_size");
  require_positive(c.hidden_size, "BERT hidden_size");
  require_positive(c.n_layer, "BERT n_layer");
  require_positive(c.intermediate_size, "BERT intermediate_size");
  require_positive(c.max_position_embeddings, "BERT max_position_embeddings");
  require_positive(c.type_vocab_size, "BERT type_vocab_size");
  embeddings_ = &register_module("embeddings", std::make_unique<BertEmbeddings>(c));
  encoder_ = &register_module("encoder", std::make_unique<BertEncoder>(c));
  init_normal_02(*this, 0.02, 0.02);
}

Tensor Bert::forward(Trace& t, Tensor ids, Tensor attention_mask, Tensor token_type_ids) {
  check_tokens(t, ids, "BERT");
  Tensor x = call(t, *embeddings_, ids, token_type_ids);
  return call(t, *encoder_, x, attention_mask);
}

} // namespace tevo::nn
