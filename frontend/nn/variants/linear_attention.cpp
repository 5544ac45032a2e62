// linear_attention.cpp: kernelized attention as the left product (see the header).
#include "frontend/nn/variants/linear_attention.h"

#include <cmath>

namespace tevo::nn::variants {

LinearAttention::LinearAttention(const LinearAttentionOptions& o) : o_(o) {
  hd_ = head_dim(o.d_model, o.n_heads, "linear attention");
  if (o_.n_features == 0)
    o_.n_features = 2 * hd_;
  require_positive(o_.n_features, "linear attention feature count");
  if (!(o_.eps >= 0))
    fail(fmt::format("linear attention eps must be >= 0, got {}", o_.eps));
  int64_t D = o.d_model;
  q_ = &register_module("q_proj", std::make_unique<Linear>(D, D, false));
  k_ = &register_module("k_proj", std::make_unique<Linear>(D, D, false));
  v_ = &register_module("v_proj", std::make_unique<Linear>(D, D, false));
  out_ = &register_module("o_proj", std::make_unique<Linear>(D, D, false));
}

Tensor LinearAttention::feature_map(Tensor x) const {
  switch (o_.feature) {
  case FeatureMap::EluPlusOne:
    return elu(x) + 1.0;
  case FeatureMap::Relu:
    return relu(x);
  case FeatureMap::Favor: {
    int64_t m = o_.n_features, d = x.dim(-1);
    Tensor w = random_normal(x.trace(), {m, d}, o_.feature_seed, 0.0, 1.0, x.dtype());
    Tensor xs = x * std::pow(static_cast<double>(d), -0.25);
    Tensor wx = matmul(xs, transpose(w)); // [..., m]
    Tensor sq = sum(square(xs), {-1}, true) * 0.5;
    return exp(wx - sq) * (1.0 / std::sqrt(static_cast<double>(m)));
  }
  }
  fail("unknown feature map");
}

Tensor LinearAttention::forward(Tensor x) {
  check_input(x, o_.d_model, "linear attention");
  Trace& t = x.trace();
  int64_t H = o_.n_heads;
  Tensor q = feature_map(split_heads(call(t, *q_, x), H)); // [B, H, N, m]
  Tensor k = feature_map(split_heads(call(t, *k_, x), H));
  Tensor v = split_heads(call(t, *v_, x), H); // [B, H, N, d]
  Tensor a = matmul(q, transpose(k));         // [B, H, N, N]
  if (o_.causal)
    a = tril(a);
  Tensor denom = sum(a, {-1}, true) + o_.eps;
  Tensor o = matmul(a / denom, v);
  return call(t, *out_, merge_heads(o));
}

} // namespace tevo::nn::variants
