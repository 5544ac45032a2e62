// lm_test.cpp: every registry mixer inside VariantLM builds, runs, and one AdamW step
// lowers the loss on a fixed batch (interpreter); FFN, norm and residual choices likewise.
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"
#include "tests/unit/variants/variants_test_util.h"

#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::variants;
using namespace tevo::nn::variants::test;

namespace {

Array ids(std::vector<int64_t> shape, std::vector<double> v) {
  Array a(ir::TensorType{DType::I64, ir::Shape(std::move(shape))});
  a.data = std::move(v);
  return a;
}

/// Two AdamW steps on one batch; returns the losses before and after the first update.
std::pair<double, double> train_two_steps(const VariantLMConfig& c) {
  VariantLM model(c);
  auto loss = [&](Trace& t, const std::vector<Tensor>& b) {
    return train::cross_entropy(model.forward(t, b[0]), b[1]);
  };
  train::TrainStep step = train::make_train_step(
      loss, model.parameters(), train::Optimizer::adamw(1e-2, 0.9, 0.95, 1e-8, 0.0),
      {{"tokens", {2, 6}, DType::I64}, {"targets", {2, 6}, DType::I64}});
  train::Trainer tr(std::move(step), init_params(model, 1));
  std::vector<Array> batch = {ids({2, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1}),
                              ids({2, 6}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2})};
  double l0 = tr.step(batch).loss, l1 = tr.step(batch).loss;
  return {l0, l1};
}

} // namespace

TEST_CASE("variant LM: every registry mixer trains one AdamW step") {
  for (const MixerInfo& info : mixer_registry()) {
    CAPTURE(info.name);
    VariantLMConfig c = mixer_config(info.name);
    c.causal = info.causal;
    c.n_layers = 2;
    auto [l0, l1] = train_two_steps(c);
    CHECK(std::isfinite(l0));
    CHECK(std::fabs(l0 - std::log(11.0)) < 1.0); // near-uniform at init
    CHECK(l1 < l0);
  }
}

TEST_CASE("variant LM: every FFN, norm and residual arrangement trains") {
  for (const std::string& ffn : ffn_names())
    for (const std::string& norm : norm_names())
      for (const std::string& res : residual_names()) {
        if (ffn != "swiglu" && (norm != "rmsnorm" || res != "pre"))
          continue; // each choice once against the defaults, plus all norm x residual
        CAPTURE(ffn);
        CAPTURE(norm);
        CAPTURE(res);
        VariantLMConfig c = mixer_config("rwkv");
        c.ffn = ffn;
        c.norm = norm;
        c.residual = res;
        auto [l0, l1] = train_two_steps(c);
        CHECK(l1 < l0);
      }
}

TEST_CASE("variant LM: parameter names follow the module tree") {
  VariantLM lm(mixer_config("softmax_rope"));
  std::vector<std::string> names;
  for (const ParamSpec& s : lm.parameters())
    names.push_back(s.name);
  CHECK(std::find(names.begin(), names.end(), "layers.0.mixer.attn.q_proj.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "layers.0.ffn.gate_proj.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "norm_f.weight") != names.end());
  CHECK(names.back() == "lm_head.weight");
  auto has = [](const VariantLMConfig& cfg, const std::string& name) {
    for (const ParamSpec& s : VariantLM(cfg).parameters())
      if (s.name == name)
        return true;
    return false;
  };
  VariantLMConfig c = mixer_config("hyena");
  c.ffn = "mlp";
  c.norm = "scalenorm";
  CHECK(has(c, "layers.0.ffn.c_fc.weight"));
  CHECK(has(c, "layers.0.norm_1.g"));
  c.ffn = "rwkv_cmix";
  c.norm = "layernorm";
  CHECK(has(c, "layers.0.ffn.receptance.weight"));
  CHECK(has(c, "layers.0.norm_2.bias"));
}
