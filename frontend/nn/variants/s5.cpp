// s5.cpp: the S5 mixer as a masked decay-power matrix (see the header).
#include "frontend/nn/variants/s5.h"

#include <cmath>

namespace tevo::nn::variants {

S5::S5(int64_t d_model, int64_t d_state) : d_model_(d_model), d_state_(d_state) {
  require_positive(d_model, "S5 d_model");
  require_positive(d_state, "S5 state size");
  double P = static_cast<double>(d_state), D = static_cast<double>(d_model);
  // lambda in [-P, -0.5] (S4D-Real spans -1..-P); dt log-uniform in [1e-3, 1e-1] (S4).
  register_parameter("log_neg_lambda", {d_state}, Init::uniform(std::log(0.5), std::log(P)));
  register_parameter("log_dt", {d_state}, Init::uniform(std::log(1e-3), std::log(1e-1)));
  register_parameter("B", {d_state, d_model}, Init::normal(0.0, 1.0 / std::sqrt(D)));
  register_parameter("C", {d_model, d_state}, Init::normal(0.0, 1.0 / std::sqrt(P)));
  register_parameter("D", {d_model}, Init::ones());
}

Tensor S5::forward(Tensor u) {
  check_input(u, d_model_, "S5");
  Trace& t = u.trace();
  int64_t N = u.dim(1), P = d_state_;
  Tensor lambda = -exp(param(t, "log_neg_lambda")); // [P]
  Tensor dt = exp(param(t, "log_dt"));
  Tensor log_a = lambda * dt;                                                  // log A_bar
  Tensor b_bar = reshape((exp(log_a) - 1.0) / lambda, {P, 1}) * param(t, "B"); // [P, D]
  Tensor bu = matmul(u, transpose(b_bar));                                     // [B, N, P]
  // M[p, t, s] = A_bar_p^(t - s) for s <= t, else 0.
  auto [i, j] = index_grid(t, N, N, u.dtype());
  Tensor steps = relu(i - j);                            // t - s, clamped at 0
  Tensor decay = exp(reshape(log_a, {P, 1, 1}) * steps); // [P, N, N]
  Tensor m = where(le(j, i), decay, 0.0);
  Tensor x = matmul(m, unsqueeze(permute(bu, {0, 2, 1}), -1)); // [B, P, N, 1]
  x = permute(squeeze(x, -1), {0, 2, 1});                      // [B, N, P]
  return matmul(x, transpose(param(t, "C"))) + u * param(t, "D");
}

} // namespace tevo::nn::variants
