// variants_test_util.h: helpers of the variant-zoo tests (configs, tracing a mixer).
#pragma once

#include "frontend/nn/variants/lm.h"
#include "ir/interp/interpreter.h"
#include "ir/random.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tevo::nn::variants::test {

using ir::interp::Array;

/// The mixer configuration the goldens were generated with (tests/variants/gen_golden.py):
/// D = 8, 2 heads (gqa: 4 query heads over 2 key/value heads), kernels of length 8.
inline VariantLMConfig mixer_config(const std::string& name) {
  VariantLMConfig c;
  c.mixer = name;
  c.d_model = 8;
  c.n_heads = name == "gqa" ? 4 : 2;
  c.seq_len = 8;
  c.vocab = 11;
  c.window = 3;
  c.d_state = 3;
  c.feature_seed = 5;
  c.long_conv_squash = 0.05;
  c.long_conv_smooth = 1;
  return c;
}

/// U(lo, hi) values of the given type.
inline Array
uniform(DType dt, std::vector<int64_t> shape, int64_t seed, double lo = -1.0, double hi = 1.0) {
  Array a(ir::TensorType{dt, ir::Shape(shape)});
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = ir::random::uniform(seed, static_cast<uint64_t>(i), lo, hi);
  a.round_to_dtype();
  return a;
}

/// A mixer traced on input "x" [B, N, d_model] of dtype dt (the module moved to dt).
struct TracedMixer {
  std::unique_ptr<TokenMixer> mixer;
  std::unique_ptr<ir::Graph> graph;
};
inline TracedMixer trace_mixer(const VariantLMConfig& c, int64_t B, int64_t N, DType dt) {
  TracedMixer r;
  r.mixer = make_mixer(c);
  r.mixer->to(dt);
  Trace t("mixer");
  t.output(r.mixer->forward(t.input("x", {B, N, c.d_model}, dt)));
  r.graph = t.finish();
  return r;
}

/// Parameters from init_params(seed) plus U(-0.1, 0.1) noise (so that constant
/// initialisers such as ones do not hide terms from a check).
inline ParamStore noisy_params(const Module& m, uint64_t seed) {
  ParamStore p = init_params(m, seed);
  int64_t k = static_cast<int64_t>(seed) * 1000;
  for (auto& [name, a] : p) {
    Array noise = uniform(a.dtype(), a.shape().to_vector(), ++k, -0.1, 0.1);
    for (int64_t i = 0; i < a.numel(); ++i)
      a[i] += noise[i];
  }
  return p;
}

inline double max_abs_diff(const Array& a, const Array& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

} // namespace tevo::nn::variants::test
