// hyena.cpp: the order-N Hyena operator with implicit, exponentially windowed filters.
#include "frontend/nn/variants/hyena.h"

#include "frontend/nn/variants/long_conv.h"

#include <cmath>
#include <numbers>

namespace tevo::nn::variants {

Hyena::Hyena(const HyenaOptions& o) : o_(o) {
  require_positive(o.d_model, "Hyena d_model");
  require_positive(o.max_len, "Hyena filter length");
  require_positive(o.order, "Hyena order");
  require_positive(o.filter_hidden, "Hyena filter width");
  require_positive(o.bands, "Hyena positional bands");
  require_positive(o.short_kernel, "Hyena short kernel");
  int64_t D = o.d_model, M = o.order, E = 1 + 2 * o.bands, F = o.filter_hidden;
  in_ = &register_module("in_proj", std::make_unique<Linear>(D, (M + 1) * D));
  register_parameter("short_filter", {(M + 1) * D, o.short_kernel},
                     Init::normal(0.0, 1.0 / std::sqrt(static_cast<double>(o.short_kernel))));
  f0_ = &register_module("filter_in", std::make_unique<Linear>(E, F));
  f1_ = &register_module("filter_mid", std::make_unique<Linear>(F, F));
  f2_ = &register_module("filter_out", std::make_unique<Linear>(F, M * D, false));
  register_parameter("filter_bias", {M, D}, Init::normal(0.0, 1.0));
  out_ = &register_module("out_proj", std::make_unique<Linear>(D, D));
}

Tensor Hyena::filters(Trace& t, DType dt) {
  int64_t L = o_.max_len, K = o_.bands, C = o_.order * o_.d_model;
  double inv_l = 1.0 / static_cast<double>(L);
  Tensor pos = iota(t, {L, 1}, 0, dt) * inv_l; // t / L
  Tensor freq = arange(t, 1.0, static_cast<double>(K) + 1.0, 1.0, dt);
  Tensor ang = pos * (2.0 * std::numbers::pi) * reshape(freq, {1, K}); // [L, K]
  Tensor feats = concat({pos, cos(ang), -sin(ang)}, 1);                // [L, 1 + 2K]
  Tensor h = call(t, *f0_, feats);
  h = sin(call(t, *f1_, sin(h)));
  h = call(t, *f2_, h); // [L, C]
  // window(t) = exp(-alpha_c t / L), alpha_c from slow to fast decay over the channels.
  double slow = -std::log(1e-2) / 1.5, fast = -std::log(1e-2) / 0.3;
  std::vector<double> alpha(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c)
    alpha[static_cast<size_t>(c)] =
        C == 1 ? slow : slow + (fast - slow) * static_cast<double>(c) / static_cast<double>(C - 1);
  Tensor window = exp(-(pos * constant(t, {1, C}, alpha, dt))); // [L, C]
  return transpose(h * window);                                 // [C, L]
}

Tensor Hyena::forward(Tensor x) {
  check_input(x, o_.d_model, "Hyena");
  Trace& t = x.trace();
  int64_t D = o_.d_model;
  if (x.dim(1) > o_.max_len)
    fail(fmt::format("Hyena: sequence length {} exceeds the filter length {}", x.dim(1),
                     o_.max_len));
  Tensor u = causal_conv(call(t, *in_, x), param(t, "short_filter")); // [B, N, (M+1) D]
  Tensor h = filters(t, x.dtype());
  Tensor bias = param(t, "filter_bias");
  Tensor z = slice(u, 2, 0, D); // v
  for (int64_t i = 1; i <= o_.order; ++i) {
    Tensor xi = slice(u, 2, i * D, (i + 1) * D);
    Tensor hi = slice(h, 0, (i - 1) * D, i * D);
    Tensor bi = reshape(slice(bias, 0, i - 1, i), {D});
    z = xi * (causal_conv(z, hi) + z * bi);
  }
  return call(t, *out_, z);
}

} // namespace tevo::nn::variants
