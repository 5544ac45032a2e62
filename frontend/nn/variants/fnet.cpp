// fnet.cpp: FNet's 2-D DFT mixing as real DFT-matrix products (see the header).
#include "frontend/nn/variants/fnet.h"

#include <cmath>
#include <numbers>

namespace tevo::nn::variants {

std::pair<Tensor, Tensor> dft_matrices(Trace& t, int64_t n, DType dt) {
  std::vector<double> c(static_cast<size_t>(n * n)), s(c.size());
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) {
      // (a b mod n) keeps the angle exact for large n.
      double ang =
          2.0 * std::numbers::pi * static_cast<double>((a * b) % n) / static_cast<double>(n);
      c[static_cast<size_t>(a * n + b)] = std::cos(ang);
      s[static_cast<size_t>(a * n + b)] = std::sin(ang);
    }
  return {constant(t, {n, n}, c, dt), constant(t, {n, n}, s, dt)};
}

FNetMixer::FNetMixer(int64_t d_model) : d_model_(d_model) {
  require_positive(d_model, "FNet d_model");
}

Tensor FNetMixer::forward(Tensor x) {
  check_input(x, d_model_, "FNet");
  Trace& t = x.trace();
  auto [cn, sn] = dft_matrices(t, x.dim(1), x.dtype());
  auto [cd, sd] = dft_matrices(t, d_model_, x.dtype());
  // Re(F_N X F_D) = C_N X C_D - S_N X S_D
  return matmul(matmul(cn, x), cd) - matmul(matmul(sn, x), sd);
}

} // namespace tevo::nn::variants
