// softmax_attention.cpp: softmax-attention mixers (RoPE/ALiBi/MQA/GQA via
// MultiHeadAttention; sliding window and KERPLE written out).
#include "frontend/nn/variants/softmax_attention.h"

#include <cmath>
#include <limits>

namespace tevo::nn::variants {

namespace {

AttentionConfig attention_config(
    int64_t d_model, int64_t n_heads, int64_t n_kv_heads, bool causal, PositionEncoding pos) {
  head_dim(d_model, n_heads, "attention");
  AttentionConfig c;
  c.d_model = d_model;
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.causal = causal;
  c.pos = pos;
  c.bias = false;
  c.fused_qkv = false;
  return c;
}

/// softplus^-1(1): raw KERPLE parameters start at r1 = r2 = 1.
constexpr double kSoftplusInvOne = 0.5413248546129181;

} // namespace

SoftmaxAttention::SoftmaxAttention(
    int64_t d_model, int64_t n_heads, int64_t n_kv_heads, bool causal, PositionEncoding pos)
    : causal_(causal) {
  attn_ = &register_module("attn", std::make_unique<MultiHeadAttention>(attention_config(
                                       d_model, n_heads, n_kv_heads, causal, pos)));
}

Tensor SoftmaxAttention::forward(Tensor x) {
  check_input(x, attn_->config().d_model, "softmax attention");
  return call(x.trace(), *attn_, x);
}

ScoreModAttention::ScoreModAttention(const ScoreModOptions& o) : o_(o) {
  hd_ = head_dim(o.d_model, o.n_heads, "score-mod attention");
  if (o.window < 0)
    fail(fmt::format("sliding window must be >= 0 keys, got {}", o.window));
  int64_t D = o.d_model;
  q_ = &register_module("q_proj", std::make_unique<Linear>(D, D, false));
  k_ = &register_module("k_proj", std::make_unique<Linear>(D, D, false));
  v_ = &register_module("v_proj", std::make_unique<Linear>(D, D, false));
  out_ = &register_module("o_proj", std::make_unique<Linear>(D, D, false));
  if (o.kerple) {
    register_parameter("kerple_r1", {o.n_heads}, Init::constant(kSoftplusInvOne));
    register_parameter("kerple_r2", {o.n_heads}, Init::constant(kSoftplusInvOne));
  }
}

Tensor ScoreModAttention::forward(Tensor x) {
  check_input(x, o_.d_model, "score-mod attention");
  Trace& t = x.trace();
  int64_t N = x.dim(1), H = o_.n_heads;
  Tensor q = split_heads(call(t, *q_, x), H); // [B, H, N, d]
  Tensor k = split_heads(call(t, *k_, x), H);
  Tensor v = split_heads(call(t, *v_, x), H);
  Tensor s = matmul(q, transpose(k)) * (1.0 / std::sqrt(static_cast<double>(hd_))); // [B,H,N,N]
  auto [i, j] = index_grid(t, N, N);
  if (o_.kerple) {
    // bias_h(i, j) = -r1_h log(1 + r2_h |i - j|)
    Tensor r1 = reshape(softplus(param(t, "kerple_r1")), {H, 1, 1});
    Tensor r2 = reshape(softplus(param(t, "kerple_r2")), {H, 1, 1});
    Tensor dist = abs(cast(i - j, s.dtype()));
    s = s - r1 * log1p(r2 * dist);
  }
  Tensor keep;
  if (o_.causal)
    keep = le(j, i);
  if (o_.window > 0) {
    Tensor w = scalar_like(i, static_cast<double>(o_.window));
    Tensor near = o_.causal ? lt(i - j, w) : lt(abs(i - j), w);
    keep = keep.valid() ? logical_and(keep, near) : near;
  }
  if (keep.valid())
    s = where(keep, s, -std::numeric_limits<double>::infinity());
  Tensor o = matmul(softmax(s, -1), v); // [B, H, N, d]
  return call(t, *out_, merge_heads(o));
}

} // namespace tevo::nn::variants
