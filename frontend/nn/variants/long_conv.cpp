// long_conv.cpp: causal depthwise long convolution and the simple long-conv mixer.
#include "frontend/nn/variants/long_conv.h"

#include <algorithm>
#include <cmath>

namespace tevo::nn::variants {

Tensor causal_conv(Tensor x, Tensor h) {
  int64_t N = x.dim(1), D = x.dim(2);
  if (h.rank() != 2 || h.dim(0) != D)
    fail(fmt::format("causal convolution of {} needs a kernel [{}, K], got {}", x.type().str(), D,
                     h.type().str()));
  Trace& t = x.trace();
  int64_t K = std::min(h.dim(1), N);
  Tensor taps = K < h.dim(1) ? slice(h, 1, 0, K) : h;                           // h[c, 0..K-1]
  Tensor flipped = take(taps, static_cast<double>(K - 1) - iota(t, {K}, 0), 1); // h[c, K-1-s]
  Conv1dOptions o;
  o.padding_left = K - 1;
  o.groups = D;
  Tensor y = conv1d(permute(x, {0, 2, 1}), reshape(flipped, {D, 1, K}), o); // [B, D, N]
  return permute(y, {0, 2, 1});
}

SimpleLongConv::SimpleLongConv(const LongConvOptions& o) : o_(o) {
  require_positive(o.d_model, "long conv d_model");
  require_positive(o.max_len, "long conv kernel length");
  if (o.squash < 0 || o.smooth < 0)
    fail(fmt::format("long conv squash ({}) and smooth ({}) must be >= 0", o.squash, o.smooth));
  register_parameter("kernel", {o.d_model, o.max_len},
                     Init::normal(0.0, 1.0 / std::sqrt(static_cast<double>(o.max_len))));
  register_parameter("skip", {o.d_model}, Init::ones());
  out_ = &register_module("o_proj", std::make_unique<Linear>(o.d_model, o.d_model, false));
}

Tensor SimpleLongConv::kernel(Trace& t) {
  Tensor k = param(t, "kernel");
  if (o_.smooth > 0) {
    int64_t p = o_.smooth, L = o_.max_len;
    Tensor padded = pad(k, {0, p}, {0, p});
    Tensor acc = slice(padded, 1, 0, L);
    for (int64_t j = 1; j <= 2 * p; ++j)
      acc = acc + slice(padded, 1, j, j + L);
    k = acc * (1.0 / static_cast<double>(2 * p + 1));
  }
  if (o_.squash > 0)
    k = sign(k) * relu(abs(k) - o_.squash);
  return k;
}

Tensor SimpleLongConv::forward(Tensor x) {
  check_input(x, o_.d_model, "long conv");
  Trace& t = x.trace();
  if (x.dim(1) > o_.max_len)
    fail(fmt::format("long conv: sequence length {} exceeds the kernel length {}", x.dim(1),
                     o_.max_len));
  Tensor y = causal_conv(x, kernel(t)) + x * param(t, "skip");
  return call(t, *out_, y);
}

} // namespace tevo::nn::variants
