// causality_test.cpp: causal mixers ignore the future, bidirectional ones do not; ScaleNorm
// against RMSNorm; the registry's error messages.
#include "tests/unit/variants/variants_test_util.h"

#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::variants;
using namespace tevo::nn::variants::test;

TEST_CASE("variants causality: changing token t leaves outputs before t unchanged") {
  constexpr int64_t kN = 6, kT = 3, kD = 8;
  for (const MixerInfo& info : mixer_registry()) {
    CAPTURE(info.name);
    TracedMixer m = trace_mixer(mixer_config(info.name), 1, kN, DType::F64);
    ParamStore p = noisy_params(*m.mixer, 11);
    Array x = uniform(DType::F64, {1, kN, kD}, 21), x2 = x;
    for (int64_t c = 0; c < kD; ++c)
      x2[kT * kD + c] += 0.5;
    Array y = ir::interp::run(*m.graph, bind_inputs(*m.graph, p, {{"x", x}}))[0];
    Array y2 = ir::interp::run(*m.graph, bind_inputs(*m.graph, p, {{"x", x2}}))[0];
    double before = 0, at = 0, first = 0;
    for (int64_t i = 0; i < kN * kD; ++i) {
      double d = std::fabs(y[i] - y2[i]);
      if (i < kT * kD)
        before = std::max(before, d);
      if (i / kD == kT)
        at = std::max(at, d);
      if (i / kD == 0)
        first = std::max(first, d);
    }
    CHECK(at > 1e-6); // the change reaches its own position
    if (info.causal)
      CHECK(before == 0.0);
    else
      CHECK(first > 1e-6); // a bidirectional mixer lets position 0 see token t
  }
}

TEST_CASE("variants: ScaleNorm(x, g) equals RMSNorm(x) with weight g / sqrt(D)") {
  ScaleNorm sn(8);
  RMSNorm rms(8, 0.0);
  sn.to(DType::F64);
  rms.to(DType::F64);
  Trace t("f");
  Tensor x = t.input("x", {3, 8}, DType::F64);
  t.output(sn.forward(x));
  t.output(rms.forward(x));
  auto g = t.finish();
  ParamStore p;
  p["g"] = uniform(DType::F64, {1}, 3, 1.0, 2.0);
  p["weight"] = Array(ir::TensorType{DType::F64, ir::Shape({8})});
  for (int64_t i = 0; i < 8; ++i)
    p["weight"][i] = p["g"][0] / std::sqrt(8.0);
  auto out = ir::interp::run(*g, bind_inputs(*g, p, {{"x", uniform(DType::F64, {3, 8}, 4)}}));
  CHECK(max_abs_diff(out[0], out[1]) < 1e-9);
}

TEST_CASE("variants: unknown names and illegal combinations are one-line errors at the call") {
  VariantLMConfig c = mixer_config("softmax_rope");
  c.mixer = "flash_magic";
  CHECK_THROWS_WITH_AS(VariantLM{c}, doctest::Contains("causality_test.cpp"), ir::Error);
  CHECK_THROWS_WITH_AS(VariantLM{c},
                       doctest::Contains("unknown mixer 'flash_magic' (known: softmax_rope"),
                       ir::Error);
  c.mixer = "fnet";
  CHECK_THROWS_WITH_AS(VariantLM{c}, doctest::Contains("mixer 'fnet' is bidirectional"), ir::Error);
  c.causal = false;
  CHECK_NOTHROW(VariantLM{c});
  c = mixer_config("gqa");
  c.n_heads = 3;
  CHECK_THROWS_WITH_AS(VariantLM{c}, doctest::Contains("n_heads must be even, got 3"), ir::Error);
  c = mixer_config("s5");
  c.ffn = "moe";
  CHECK_THROWS_WITH_AS(VariantLM{c}, doctest::Contains("unknown ffn 'moe'"), ir::Error);
  c = mixer_config("softmax_rope");
  c.n_heads = 3;
  try {
    VariantLM lm(c);
    FAIL("expected an error");
  } catch (const ir::Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("causality_test.cpp") != std::string::npos);
    CHECK(msg.find("not a multiple of 3 heads") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}
