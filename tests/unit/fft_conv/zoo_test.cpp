// zoo_test.cpp: the long-conv rewrite on the variant zoo's long-convolution mixers (simple
// long conv, Hyena, H3) traced at N = 1024: every long causal conv1d becomes fft_conv, the
// short ones stay, and the interpreter computes the same before and after (f64).
#include "frontend/nn/variants/lm.h"
#include "ir/interp/interpreter.h"
#include "passes/pass_manager.h"
#include "tests/support/count_ops.h"
#include "tests/support/rng.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::ir;

namespace {

int count(const Graph& g, OpKind k) {
  return test::count_ops(g, k);
}

} // namespace

TEST_CASE("long-conv: the zoo's long-conv mixers get fft_conv and compute the same") {
  struct Want {
    const char* mixer;
    int fft, conv_left; ///< fft_conv nodes after the pass, conv1d nodes kept (short kernels)
  };
  // simple long conv: one K = N conv; Hyena (order 2): a short filter, two long ones;
  // H3: a short shift conv, one long diagonal-SSM conv.
  for (Want w : {Want{"long_conv", 1, 0}, Want{"hyena", 2, 1}, Want{"h3", 1, 1}}) {
    CAPTURE(w.mixer);
    nn::variants::VariantLMConfig c;
    c.mixer = w.mixer;
    c.d_model = 8;
    c.n_heads = 2;
    c.seq_len = 1024;
    c.vocab = 11;
    c.d_state = 3;
    auto mixer = nn::variants::make_mixer(c);
    mixer->to(DType::F64);
    Trace t("mixer");
    t.output(mixer->forward(t.input("x", {1, 1024, 8}, DType::F64)));
    std::unique_ptr<Graph> g = t.finish();
    test::Rng rng(3);
    std::vector<interp::Array> ins;
    for (const Value* v : g->inputs()) {
      interp::Array a(v->type);
      for (int64_t i = 0; i < a.numel(); ++i)
        a[i] = rng.uniform(-1, 1) * (v->type.shape.numel() > 1000 ? 0.05 : 1.0);
      ins.push_back(std::move(a));
    }
    auto want = interp::run(*g, ins);
    passes::PassManager pm = passes::PassManager::parse("long-conv,dce").take();
    CHECK(pm.run(*g));
    CHECK_EQ(count(*g, OpKind::FftConv), w.fft);
    CHECK_EQ(count(*g, OpKind::Conv1d), w.conv_left);
    auto got = interp::run(*g, ins);
    REQUIRE_EQ(got.size(), want.size());
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < want[0].numel(); ++i) {
      worst = std::max(worst, std::fabs(got[0][i] - want[0][i]));
      scale = std::max(scale, std::fabs(want[0][i]));
    }
    CHECK(worst <= 1e-9 * std::max(scale, 1.0));
  }
}
