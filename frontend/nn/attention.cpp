// attention.cpp: scaled dot-product attention, MHA/GQA, RoPE, ALiBi, positional encodings.
#include "frontend/nn/attention.h"

#include <cmath>
#include <limits>

namespace tevo::nn {

namespace {

[[noreturn]] void fail(const std::string& msg) {
  throw ir::Error(ir::make_diag("{}", msg));
}

/// Angles are kept in f32 at least: bf16/f16 positions lose whole units beyond 256.
DType angle_dtype(DType x) {
  return x == DType::F64 ? DType::F64 : DType::F32;
}

/// base^(-2i/dim) for i in [0, n).
std::vector<double> inverse_frequencies(int64_t n, int64_t dim, double base) {
  std::vector<double> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    w[static_cast<size_t>(i)] =
        std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(dim));
  return w;
}

Tensor cast_to(Tensor x, DType dt) {
  return x.dtype() == dt ? x : cast(x, dt);
}

std::vector<double> power_of_two_slopes(int64_t n) {
  std::vector<double> s;
  for (int64_t h = 1; h <= n; ++h)
    s.push_back(std::exp2(-8.0 * static_cast<double>(h) / static_cast<double>(n)));
  return s;
}

} // namespace

std::vector<double> alibi_slopes(int64_t n_heads) {
  require_positive(n_heads, "ALiBi head count");
  int64_t m = 1;
  while (m * 2 <= n_heads)
    m *= 2;
  std::vector<double> s = power_of_two_slopes(m);
  if (m < n_heads) {
    std::vector<double> extra = power_of_two_slopes(2 * m);
    for (size_t i = 0; static_cast<int64_t>(s.size()) < n_heads; i += 2)
      s.push_back(extra[i]);
  }
  return s;
}

Tensor scaled_dot_product_attention(Tensor q, Tensor k, Tensor v, const SdpaOptions& o) {
  if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4)
    fail(fmt::format("attention expects q, k, v of rank 4 [B, H, T, d], got {}, {}, {}",
                     q.type().str(), k.type().str(), v.type().str()));
  int64_t B = q.dim(0), Hq = q.dim(1), T = q.dim(2), d = q.dim(3);
  int64_t Hkv = k.dim(1), S = k.dim(2), dv = v.dim(3);
  if (k.dim(0) != B || k.dim(3) != d || v.dim(0) != B || v.dim(1) != Hkv || v.dim(2) != S ||
      Hkv <= 0 || Hq % Hkv != 0)
    fail(fmt::format("attention shapes do not match: q {}, k {}, v {} (key/value heads must "
                     "divide query heads)",
                     q.type().str(), k.type().str(), v.type().str()));
  int64_t G = Hq / Hkv;
  Trace& t = q.trace();
  // Query heads grouped per key/value head; the group axis broadcasts against K and V.
  Tensor qg = reshape(q, {B, Hkv, G, T, d});
  Tensor kg = reshape(k, {B, Hkv, 1, S, d});
  Tensor vg = reshape(v, {B, Hkv, 1, S, dv});
  Tensor s = matmul(qg, transpose(kg)) * (1.0 / std::sqrt(static_cast<double>(d)));
  int64_t off = S - T; // queries are the last T of S positions
  if (o.alibi) {
    Tensor slopes = constant(t, {Hkv, G, 1, 1}, alibi_slopes(Hq), s.dtype());
    Tensor qi = iota(t, {T, S}, 0, s.dtype()), kj = iota(t, {T, S}, 1, s.dtype());
    Tensor dist = (qi + static_cast<double>(off)) - kj;
    if (!o.causal) // symmetric for encoders; equal to i - j wherever a causal mask keeps
      dist = abs(dist);
    s = s - slopes * dist;
  }
  Tensor keep;
  if (o.causal) {
    Tensor qi = iota(t, {T, S}, 0), kj = iota(t, {T, S}, 1);
    keep = le(kj, qi + static_cast<double>(off));
  }
  if (o.padding_mask.valid()) {
    const Tensor& m = o.padding_mask;
    if (m.dtype() != DType::Bool || m.rank() != 2 || m.dim(0) != B || m.dim(1) != S)
      fail(fmt::format("padding mask must be bool[{},{}], got {}", B, S, m.type().str()));
    Tensor pm = reshape(m, {B, 1, 1, 1, S});
    keep = keep.valid() ? logical_and(keep, pm) : pm;
  }
  if (keep.valid())
    s = where(keep, s, -std::numeric_limits<double>::infinity());
  Tensor p = softmax(s, -1); // a fully masked row is all 0
  if (o.on_probs)
    p = o.on_probs(p);
  return reshape(matmul(p, vg), {B, Hq, T, dv});
}

Tensor rope(Tensor x, double base, int64_t offset) {
  if (x.rank() < 2 || x.dim(-1) % 2 != 0)
    fail(fmt::format("rope expects [..., T, d] with d even, got {}", x.type().str()));
  Trace& t = x.trace();
  int64_t T = x.dim(-2), d = x.dim(-1), half = d / 2, ax = x.rank() - 1;
  DType adt = angle_dtype(x.dtype());
  Tensor w = constant(t, {1, half}, inverse_frequencies(half, d, base), adt);
  Tensor pos = iota(t, {T, 1}, 0, adt);
  if (offset != 0)
    pos = pos + static_cast<double>(offset);
  Tensor ang = pos * w; // [T, half]
  Tensor emb = concat({ang, ang}, 1);
  Tensor c = cast_to(cos(emb), x.dtype()), sn = cast_to(sin(emb), x.dtype());
  Tensor x1 = slice(x, -1, 0, half), x2 = slice(x, -1, half, d);
  Tensor rot = concat({-x2, x1}, ax);
  return x * c + rot * sn;
}

Tensor sinusoidal_table(Trace& t, int64_t T, int64_t dim, DType dtype, double base) {
  require_positive(dim, "sinusoidal encoding dim");
  int64_t half = (dim + 1) / 2;
  DType adt = angle_dtype(dtype);
  Tensor w = constant(t, {1, half}, inverse_frequencies(half, dim, base), adt);
  Tensor ang = iota(t, {T, 1}, 0, adt) * w; // [T, half]
  Tensor pairs = concat({reshape(sin(ang), {T, half, 1}), reshape(cos(ang), {T, half, 1})}, 2);
  Tensor table = reshape(pairs, {T, 2 * half});
  if (2 * half != dim)
    table = slice(table, 1, 0, dim);
  return cast_to(table, dtype);
}

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t dim, double base)
    : dim_(dim), base_(base) {
  require_positive(dim, "sinusoidal encoding dim");
}

Tensor SinusoidalPositionalEncoding::forward(Tensor x) {
  if (x.rank() < 2 || x.dim(-1) != dim_)
    fail(fmt::format("sinusoidal encoding of dim {} applied to {}", dim_, x.type().str()));
  return x + sinusoidal_table(x.trace(), x.dim(-2), dim_, x.dtype(), base_);
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len, int64_t dim)
    : max_len_(max_len) {
  require_positive(max_len, "positional embedding length");
  require_positive(dim, "positional embedding dim");
  register_parameter("weight", {max_len, dim}, Init::normal(0.0, 1.0));
}

Tensor LearnedPositionalEmbedding::forward(Tensor x) {
  if (x.rank() < 2 || x.dim(-2) > max_len_)
    fail(fmt::format("sequence of {} is longer than the {} learned positions", x.type().str(),
                     max_len_));
  return x + slice(param(x.trace(), "weight"), 0, 0, x.dim(-2));
}

// ---- MultiHeadAttention ----

MultiHeadAttention::MultiHeadAttention(const AttentionConfig& c) : c_(c) {
  require_positive(c.d_model, "attention d_model");
  require_positive(c.n_heads, "attention head count");
  if (c_.n_kv_heads == 0)
    c_.n_kv_heads = c_.n_heads;
  if (c_.n_kv_heads < 0 || c_.n_heads % c_.n_kv_heads != 0)
    fail(fmt::format("{} key/value heads do not divide {} query heads", c_.n_kv_heads, c_.n_heads));
  if (c_.d_model % c_.n_heads != 0)
    fail(fmt::format("d_model {} is not a multiple of {} heads", c_.d_model, c_.n_heads));
  int64_t hd = head_dim(), q_out = c_.n_heads * hd, kv_out = c_.n_kv_heads * hd;
  if (c_.pos == PositionEncoding::Rope && hd % 2 != 0)
    fail(fmt::format("rope needs an even head dim, got {}", hd));
  if (c_.fused_qkv) {
    qkv_ = &register_module("c_attn",
                            std::make_unique<Linear>(c_.d_model, q_out + 2 * kv_out, c_.bias));
    out_ = &register_module("c_proj", std::make_unique<Linear>(q_out, c_.d_model, c_.bias));
  } else {
    q_ = &register_module("q_proj", std::make_unique<Linear>(c_.d_model, q_out, c_.bias));
    k_ = &register_module("k_proj", std::make_unique<Linear>(c_.d_model, kv_out, c_.bias));
    v_ = &register_module("v_proj", std::make_unique<Linear>(c_.d_model, kv_out, c_.bias));
    out_ = &register_module("o_proj", std::make_unique<Linear>(q_out, c_.d_model, c_.bias));
  }
  drop_ = &register_module("attn_dropout", std::make_unique<Dropout>(c_.dropout, c_.seed));
}

MultiHeadAttention::MultiHeadAttention(
    int64_t d_model, int64_t n_heads, int64_t n_kv_heads, bool causal, PositionEncoding pos)
    : MultiHeadAttention([&] {
        AttentionConfig c;
        c.d_model = d_model;
        c.n_heads = n_heads;
        c.n_kv_heads = n_kv_heads;
        c.causal = causal;
        c.pos = pos;
        return c;
      }()) {}

Tensor MultiHeadAttention::forward(Tensor x, Tensor padding_mask) {
  if (x.rank() != 3 || x.dim(2) != c_.d_model)
    fail(fmt::format("attention of d_model {} expects [B, T, {}], got {}", c_.d_model, c_.d_model,
                     x.type().str()));
  Trace& t = x.trace();
  int64_t B = x.dim(0), T = x.dim(1), Hq = c_.n_heads, Hkv = c_.n_kv_heads, hd = head_dim();
  Tensor q, k, v;
  if (qkv_) {
    Tensor qkv = call(t, *qkv_, x);
    q = slice(qkv, 2, 0, Hq * hd);
    k = slice(qkv, 2, Hq * hd, (Hq + Hkv) * hd);
    v = slice(qkv, 2, (Hq + Hkv) * hd, (Hq + 2 * Hkv) * hd);
  } else {
    q = call(t, *q_, x);
    k = call(t, *k_, x);
    v = call(t, *v_, x);
  }
  auto heads = [&](Tensor z, int64_t h) {
    return permute(reshape(z, {B, T, h, hd}), {0, 2, 1, 3});
  };
  q = heads(q, Hq);
  k = heads(k, Hkv);
  v = heads(v, Hkv);
  if (c_.pos == PositionEncoding::Rope) {
    q = rope(q, c_.rope_base);
    k = rope(k, c_.rope_base);
  }
  SdpaOptions o;
  o.causal = c_.causal;
  o.padding_mask = padding_mask;
  o.alibi = c_.pos == PositionEncoding::Alibi;
  o.on_probs = [&](Tensor p) { return call(t, *drop_, p); };
  Tensor y = scaled_dot_product_attention(q, k, v, o); // [B, Hq, T, hd]
  y = reshape(permute(y, {0, 2, 1, 3}), {B, T, Hq * hd});
  return call(t, *out_, y);
}

} // namespace tevo::nn
