// rwkv.cpp: RWKV-4 time mixing (masked decay-matrix WKV) and channel mixing.
#include "frontend/nn/variants/rwkv.h"

namespace tevo::nn::variants {

namespace {

/// mu x_t + (1 - mu) x_{t-1}.
Tensor lerp_shift(Tensor x, Tensor x_prev, Tensor mu) {
  return x * mu + x_prev * (1.0 - mu);
}

} // namespace

RwkvTimeMix::RwkvTimeMix(int64_t d_model) : d_model_(d_model) {
  require_positive(d_model, "RWKV d_model");
  int64_t D = d_model;
  key_ = &register_module("key", std::make_unique<Linear>(D, D, false));
  value_ = &register_module("value", std::make_unique<Linear>(D, D, false));
  receptance_ = &register_module("receptance", std::make_unique<Linear>(D, D, false));
  output_ = &register_module("output", std::make_unique<Linear>(D, D, false));
  register_parameter("time_mix_k", {D}, Init::uniform(0.3, 0.7));
  register_parameter("time_mix_v", {D}, Init::uniform(0.3, 0.7));
  register_parameter("time_mix_r", {D}, Init::uniform(0.3, 0.7));
  register_parameter("time_decay", {D}, Init::uniform(-2.0, 1.0));
  register_parameter("time_first", {D}, Init::uniform(-0.5, 0.5));
}

Tensor RwkvTimeMix::forward(Tensor x) {
  check_input(x, d_model_, "RWKV time mix");
  Trace& t = x.trace();
  int64_t N = x.dim(1), D = d_model_;
  Tensor xp = shift_tokens(x);
  Tensor r = call(t, *receptance_, lerp_shift(x, xp, param(t, "time_mix_r")));
  Tensor k = call(t, *key_, lerp_shift(x, xp, param(t, "time_mix_k")));
  Tensor v = call(t, *value_, lerp_shift(x, xp, param(t, "time_mix_v")));
  Tensor w = reshape(exp(param(t, "time_decay")), {D, 1, 1}); // decay > 0
  Tensor u = reshape(param(t, "time_first"), {D, 1});
  Tensor kc = permute(k, {0, 2, 1}); // [B, D, N]
  // Grid rows are the paper's t (output), columns its i (summed over).
  auto [i, j] = index_grid(t, N, N, x.dtype());
  Tensor age = relu(i - j - 1.0);                                // t - 1 - i, clamped at 0
  Tensor past = exp(unsqueeze(kc, 2) - w * age);                 // [B, D, N, N]
  Tensor bonus = unsqueeze(exp(u + kc), 3);                      // [B, D, N, 1]
  Tensor e = where(lt(j, i), past, where(eq(i, j), bonus, 0.0)); // [B, D, N, N]
  Tensor num = matmul(e, unsqueeze(permute(v, {0, 2, 1}), 3));   // [B, D, N, 1]
  Tensor wkv = num / sum(e, {-1}, true);
  wkv = permute(squeeze(wkv, 3), {0, 2, 1}); // [B, N, D]
  return call(t, *output_, sigmoid(r) * wkv);
}

RwkvChannelMix::RwkvChannelMix(int64_t d_model, int64_t hidden) : d_model_(d_model) {
  require_positive(d_model, "RWKV d_model");
  require_positive(hidden, "RWKV channel-mix width");
  key_ = &register_module("key", std::make_unique<Linear>(d_model, hidden, false));
  receptance_ = &register_module("receptance", std::make_unique<Linear>(d_model, d_model, false));
  value_ = &register_module("value", std::make_unique<Linear>(hidden, d_model, false));
  register_parameter("time_mix_k", {d_model}, Init::uniform(0.3, 0.7));
  register_parameter("time_mix_r", {d_model}, Init::uniform(0.3, 0.7));
}

Tensor RwkvChannelMix::forward(Tensor x) {
  check_input(x, d_model_, "RWKV channel mix");
  Trace& t = x.trace();
  Tensor xp = shift_tokens(x);
  Tensor r = call(t, *receptance_, lerp_shift(x, xp, param(t, "time_mix_r")));
  Tensor k = call(t, *key_, lerp_shift(x, xp, param(t, "time_mix_k")));
  return sigmoid(r) * call(t, *value_, square(relu(k)));
}

} // namespace tevo::nn::variants
