// mixer.cpp: helpers shared by the variant mixers (see mixer.h).
#include "frontend/nn/variants/mixer.h"

namespace tevo::nn::variants {

void fail(const std::string& msg) {
  throw ir::Error(ir::make_diag("{}", msg));
}

void check_input(const Tensor& x, int64_t d_model, const char* who) {
  if (!x.valid() || x.rank() != 3 || x.dim(2) != d_model || !ir::is_float(x.dtype()))
    fail(fmt::format("{} of d_model {} expects a float [B, N, {}] input, got {}", who, d_model,
                     d_model, x.valid() ? x.type().str() : std::string("no tensor")));
}

Tensor split_heads(Tensor x, int64_t n_heads) {
  int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2);
  return permute(reshape(x, {B, N, n_heads, C / n_heads}), {0, 2, 1, 3});
}

Tensor merge_heads(Tensor x) {
  int64_t B = x.dim(0), H = x.dim(1), N = x.dim(2), d = x.dim(3);
  return reshape(permute(x, {0, 2, 1, 3}), {B, N, H * d});
}

IndexGrid index_grid(Trace& t, int64_t n, int64_t m, DType dt) {
  return {iota(t, {n, m}, 0, dt), iota(t, {n, m}, 1, dt)};
}

Tensor shift_tokens(Tensor x) {
  int64_t N = x.dim(1);
  return slice(pad(x, {0, 1, 0}, {0, 0, 0}), 1, 0, N);
}

int64_t head_dim(int64_t d_model, int64_t n_heads, const char* who) {
  require_positive(d_model, who);
  require_positive(n_heads, "head count");
  if (d_model % n_heads != 0)
    fail(fmt::format("{}: d_model {} is not a multiple of {} heads", who, d_model, n_heads));
  return d_model / n_heads;
}

} // namespace tevo::nn::variants
