// attention.h: scaled dot-product attention, multi-head / grouped-query attention, and
// positional encodings (sinusoidal, learned, RoPE, ALiBi).
//
// Written naively from the equations, softmax(Q K^T / sqrt(d) + bias, masked) V, so the
// graph shows the maths and the compiler is left to fuse it.
#pragma once

#include "frontend/nn/layers.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace tevo::nn {

enum class PositionEncoding { None, Rope, Alibi };

/// Options of scaled_dot_product_attention.
struct SdpaOptions {
  bool causal = false; ///< query i (of T) sees keys j <= i + (S - T)
  Tensor padding_mask; ///< optional bool [B, S]: true = a real key, false = padding
  bool alibi = false;  ///< add -slope_h * |i + (S - T) - j| (ALiBi, Press et al. 2022)
  /// Applied to the probabilities before they weight V (attention dropout); may be empty.
  std::function<Tensor(Tensor)> on_probs;
};

/// softmax(q k^T / sqrt(d) + bias, masked) v for q [B, Hq, T, d], k and v [B, Hkv, S, d]
/// with Hkv dividing Hq: query head h uses key/value head h / (Hq / Hkv) (MQA: Hkv = 1,
/// GQA: 1 < Hkv < Hq). K and V are not copied per query head: q is viewed as
/// [B, Hkv, G, T, d] and K, V as [B, Hkv, 1, S, d], and matmul broadcasts the group axis.
/// Masked scores are -inf; a query with no visible key gets 0 (softmax's convention), not
/// NaN. Returns [B, Hq, T, d].
Tensor scaled_dot_product_attention(Tensor q, Tensor k, Tensor v, const SdpaOptions& o = {});

/// ALiBi slopes for n heads: 2^(-8 (h+1) / n) for a power of two n; otherwise those of the
/// nearest lower power of two m followed by every other slope of 2m (the paper's recipe).
std::vector<double> alibi_slopes(int64_t n_heads);

/// Rotary position embedding, rotate_half form (GPT-NeoX / LLaMA): for x [..., T, d]
/// (d even) at positions p = offset + 0..T-1, x cos(p w) + rotate_half(x) sin(p w) with
/// w_i = base^(-2i/d) repeated twice, rotate_half(x) = [-x2, x1]. Angles are computed from
/// iota in f32 (f64 when x is f64) and cast to x's dtype after cos/sin.
Tensor rope(Tensor x, double base = 10000.0, int64_t offset = 0);

/// The fixed sinusoidal table [T, dim] of "Attention Is All You Need": row p holds
/// sin(p / base^(2i/dim)) at 2i and cos(...) at 2i + 1; computed from iota.
Tensor sinusoidal_table(Trace& t, int64_t T, int64_t dim, DType dtype, double base = 10000.0);

/// x + sinusoidal_table for x [..., T, dim]. No parameters.
class SinusoidalPositionalEncoding : public Module {
public:
  explicit SinusoidalPositionalEncoding(int64_t dim, double base = 10000.0);
  Tensor forward(Tensor x);

private:
  int64_t dim_;
  double base_;
};

/// x + weight[0:T] for x [..., T, dim]; weight [max_len, dim] ~ N(0, 1).
class LearnedPositionalEmbedding : public Module {
public:
  LearnedPositionalEmbedding(int64_t max_len, int64_t dim);
  Tensor forward(Tensor x);

private:
  int64_t max_len_;
};

struct AttentionConfig {
  int64_t d_model = 0;
  int64_t n_heads = 1;
  int64_t n_kv_heads = 0; ///< 0: n_heads (MHA); 1: MQA; a divisor of n_heads: GQA
  bool causal = false;
  PositionEncoding pos = PositionEncoding::None;
  double rope_base = 10000.0;
  bool bias = true; ///< biases of the projections
  /// true: one c_attn Linear d -> (Hq + 2 Hkv) d_head, split q|k|v, and c_proj (GPT-2);
  /// false: q_proj, k_proj, v_proj and o_proj (LLaMA).
  bool fused_qkv = true;
  double dropout = 0.0; ///< on the attention probabilities (child "attn_dropout")
  uint64_t seed = 0;    ///< dropout seed
};

/// Multi-head self-attention with MQA/GQA, causal and padding masks, RoPE or ALiBi.
/// forward(x [B, T, d_model], padding_mask bool [B, T] or empty) -> [B, T, d_model].
class MultiHeadAttention : public Module {
public:
  explicit MultiHeadAttention(const AttentionConfig& c);
  MultiHeadAttention(int64_t d_model,
                     int64_t n_heads,
                     int64_t n_kv_heads = 0,
                     bool causal = false,
                     PositionEncoding pos = PositionEncoding::None);
  Tensor forward(Tensor x, Tensor padding_mask = {});
  const AttentionConfig& config() const {
    return c_;
  }
  int64_t head_dim() const {
    return c_.d_model / c_.n_heads;
  }
  /// The output projection (c_proj or o_proj) and, unfused, the value projection.
  Linear& out_proj() const {
    return *out_;
  }
  Linear* v_proj() const {
    return v_;
  }

private:
  AttentionConfig c_;
  Linear* qkv_ = nullptr;
  Linear* q_ = nullptr;
  Linear* k_ = nullptr;
  Linear* v_ = nullptr;
  Linear* out_ = nullptr;
  Dropout* drop_ = nullptr;
};

} // namespace tevo::nn
