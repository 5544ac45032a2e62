// grad_test.cpp: f64 finite-difference gradient checks of every zoo mixer, of ScaleNorm
// and of the three residual arrangements (tests/support/gradcheck.h).
#include "frontend/nn/variants/softmax_attention.h"
#include "tests/support/gradcheck.h"
#include "tests/unit/variants/variants_test_util.h"

#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::variants;
using namespace tevo::nn::variants::test;

namespace {

void check_grad(const ir::Graph& g, const Module& m, const std::map<std::string, Array>& data) {
  REQUIRE(testing::is_double_precision(g));
  auto r = testing::gradcheck(g, bind_inputs(g, noisy_params(m, 3), data));
  INFO(r.report);
  CHECK(r.ok);
  CHECK(r.checked > 0);
}

} // namespace

TEST_CASE("variants grad: every registry mixer (B=1, N=5, D=8, 2 heads)") {
  for (const std::string& name : mixer_names()) {
    CAPTURE(name);
    VariantLMConfig c = mixer_config(name);
    c.long_conv_squash = 0; // the soft threshold has kinks; its values are checked by goldens
    TracedMixer m = trace_mixer(c, 1, 5, DType::F64);
    check_grad(*m.graph, *m.mixer, {{"x", uniform(DType::F64, {1, 5, 8}, 17)}});
  }
}

TEST_CASE("variants grad: the sliding window and KERPLE together, bidirectional") {
  ScoreModOptions o;
  o.d_model = 8;
  o.n_heads = 2;
  o.causal = false;
  o.window = 2;
  o.kerple = true;
  ScoreModAttention m(o);
  m.to(DType::F64);
  Trace t("f");
  t.output(m.forward(t.input("x", {2, 4, 8}, DType::F64)));
  auto g = t.finish();
  check_grad(*g, m, {{"x", uniform(DType::F64, {2, 4, 8}, 5)}});
}

TEST_CASE("variants grad: ScaleNorm and pre / post / B2T blocks") {
  ScaleNorm sn(8);
  sn.to(DType::F64);
  {
    Trace t("f");
    t.output(sn.forward(t.input("x", {2, 3, 8}, DType::F64)));
    auto g = t.finish();
    check_grad(*g, sn, {{"x", uniform(DType::F64, {2, 3, 8}, 7)}});
  }
  for (auto [res, norm, ffn] : {std::tuple{ResidualKind::Pre, NormKind::ScaleNorm, FfnKind::SwiGlu},
                                {ResidualKind::Post, NormKind::LayerNorm, FfnKind::Mlp},
                                {ResidualKind::B2T, NormKind::RmsNorm, FfnKind::RwkvChannelMix}}) {
    CAPTURE(static_cast<int>(res));
    VariantBlock b(make_mixer(mixer_config("linear_elu_causal")), 8, 12, norm, res, ffn);
    b.to(DType::F64);
    Trace t("f");
    t.output(b.forward(t.input("x", {1, 4, 8}, DType::F64)));
    auto g = t.finish();
    check_grad(*g, b, {{"x", uniform(DType::F64, {1, 4, 8}, 9)}});
  }
}
