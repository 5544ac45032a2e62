// h3.cpp: the H3 mixer, shift SSM and diagonal SSM as causal convolutions.
#include "frontend/nn/variants/h3.h"

#include "frontend/nn/variants/long_conv.h"

#include <cmath>

namespace tevo::nn::variants {

H3::H3(int64_t d_model, int64_t d_state, int64_t shift_size)
    : d_model_(d_model), d_state_(d_state) {
  require_positive(d_model, "H3 d_model");
  require_positive(d_state, "H3 state size");
  require_positive(shift_size, "H3 shift size");
  int64_t D = d_model, P = d_state;
  q_ = &register_module("q_proj", std::make_unique<Linear>(D, D, false));
  k_ = &register_module("k_proj", std::make_unique<Linear>(D, D, false));
  v_ = &register_module("v_proj", std::make_unique<Linear>(D, D, false));
  out_ = &register_module("o_proj", std::make_unique<Linear>(D, D, false));
  double m = static_cast<double>(shift_size);
  register_parameter("shift_kernel", {D, shift_size}, Init::normal(0.0, 1.0 / std::sqrt(m)));
  register_parameter("log_dt", {D}, Init::uniform(std::log(1e-3), std::log(1e-1)));
  register_parameter("log_neg_lambda", {D, P},
                     Init::uniform(std::log(0.5), std::log(static_cast<double>(P))));
  register_parameter("B", {D, P}, Init::ones());
  register_parameter("C", {D, P}, Init::normal(0.0, 1.0 / std::sqrt(static_cast<double>(P))));
  register_parameter("D", {D}, Init::ones());
}

Tensor H3::diag_kernel(Trace& t, int64_t n, DType dt) {
  int64_t D = d_model_, P = d_state_;
  Tensor lambda = -exp(param(t, "log_neg_lambda")); // [D, P]
  Tensor log_a = lambda * reshape(exp(param(t, "log_dt")), {D, 1});
  Tensor b_bar = (exp(log_a) - 1.0) / lambda * param(t, "B"); // [D, P]
  Tensor steps = iota(t, {1, 1, n}, 2, dt);                   // [1, 1, n]
  Tensor powers = exp(reshape(log_a, {D, P, 1}) * steps);     // [D, P, n]
  Tensor cb = reshape(param(t, "C") * b_bar, {D, P, 1});
  return sum(cb * powers, {1}); // [D, n]
}

Tensor H3::forward(Tensor x) {
  check_input(x, d_model_, "H3");
  Trace& t = x.trace();
  Tensor q = call(t, *q_, x), k = call(t, *k_, x), v = call(t, *v_, x);
  Tensor k_bar = causal_conv(k, param(t, "shift_kernel")); // SSM_shift(K)
  Tensor kv = k_bar * v;
  Tensor ssm = causal_conv(kv, diag_kernel(t, x.dim(1), x.dtype())) + kv * param(t, "D");
  return call(t, *out_, q * ssm);
}

} // namespace tevo::nn::variants
