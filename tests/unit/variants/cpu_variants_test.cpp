// cpu_variants_test.cpp: every zoo mixer inside a VariantLM training step (forward,
// backward, AdamW) compiled by the CPU backend, against the interpreter, step for step.
// The naive forms must run through cpu::compile today, before any rewrite recognises them.
#include "frontend/train/cpu_backend.h"
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

train::Trainer make_trainer(VariantLM& model, std::shared_ptr<train::Backend> backend) {
  auto loss = [&](Trace& t, const std::vector<Tensor>& b) {
    return train::cross_entropy(model.forward(t, b[0]), b[1]);
  };
  train::TrainStep step = train::make_train_step(
      loss, model.parameters(), train::Optimizer::adamw(1e-2, 0.9, 0.95, 1e-8, 0.1),
      {{"tokens", {2, 6}, DType::I64}, {"targets", {2, 6}, DType::I64}});
  return train::Trainer(std::move(step), init_params(model, 7), {"default", std::move(backend)});
}

} // namespace

TEST_CASE("variants cpu: every registry mixer's LM training step matches the interpreter") {
  std::vector<Array> batch = {ids({2, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1}),
                              ids({2, 6}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2})};
  cpu::CompileOptions o;
  o.threads = 1;
  for (const MixerInfo& info : mixer_registry()) {
    CAPTURE(info.name);
    VariantLMConfig c = mixer_config(info.name);
    c.causal = info.causal;
    VariantLM model(c);
    train::Trainer got = make_trainer(model, train::cpu_backend(o));
    train::Trainer want = make_trainer(model, nullptr);
    for (int s = 0; s < 2; ++s) {
      double lg = got.step(batch).loss, lw = want.step(batch).loss;
      CHECK(std::fabs(lg - lw) <= 1e-4 * std::max(1.0, std::fabs(lw)));
    }
    double worst = 0;
    for (const auto& [name, x] : want.params())
      worst = std::max(worst, max_abs_diff(got.params().at(name), x));
    CHECK(worst < 1e-4);
  }
}
