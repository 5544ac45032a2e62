// cpu_train_test.cpp: whole training steps compiled by the CPU backend, against the
// interpreter: the same GPT, the same batches, step for step.
#include <cmath>
#include <doctest/doctest.h>

#include "frontend/nn/transformer.h"
#include "frontend/train/cpu_backend.h"
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"

using namespace tevo;
using namespace tevo::train;

namespace {

Array ids(std::vector<int64_t> shape, std::vector<double> v) {
  Array a(ir::TensorType{ir::DType::I64, ir::Shape(shape)});
  a.data = std::move(v);
  return a;
}

Trainer make_trainer(nn::GPT& model, std::shared_ptr<Backend> backend, int64_t B, int64_t T) {
  auto loss = [&](Trace& t, const std::vector<Tensor>& b) {
    return cross_entropy(model.forward(t, b[0]), b[1]);
  };
  Optimizer opt = Optimizer::adamw(1e-2, 0.9, 0.95, 1e-8, 0.1);
  opt.schedule = LrSchedule::warmup_cosine(2, 20, 1e-3);
  opt.max_grad_norm = 1.0;
  TrainStep step = make_train_step(loss, model.parameters(), opt,
                                   {{"tokens", {B, T}, ir::DType::I64},
                                    {"targets", {B, T}, ir::DType::I64}});
  return Trainer(std::move(step), nn::init_params(model, 7), {"default", std::move(backend)});
}

double max_abs_diff(const nn::ParamStore& a, const nn::ParamStore& b) {
  double worst = 0;
  for (const auto& [name, x] : a) {
    const Array& y = b.at(name);
    for (int64_t i = 0; i < x.numel(); ++i)
      worst = std::max(worst, std::fabs(x[i] - y[i]));
  }
  return worst;
}

} // namespace

TEST_CASE("cpu backend: a GPT training step (forward, backward, AdamW) matches the interpreter") {
  nn::GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  const int64_t B = 3, T = 8;
  nn::GPT model(c);
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    cpu::CompileOptions o;
    o.threads = threads;
    Trainer got = make_trainer(model, cpu_backend(o), B, T);
    Trainer want = make_trainer(model, interpreter_backend(), B, T);
    std::vector<double> tok(static_cast<size_t>(B * T)), tgt(tok.size());
    for (int step = 0; step < 5; ++step) {
      for (size_t i = 0; i < tok.size(); ++i) {
        tok[i] = static_cast<double>((i * 7 + static_cast<size_t>(step) * 3) % 11);
        tgt[i] = static_cast<double>((i * 5 + 1 + static_cast<size_t>(step)) % 11);
      }
      std::vector<Array> batch = {ids({B, T}, tok), ids({B, T}, tgt)};
      StepStats g = got.step(batch), w = want.step(batch);
      CHECK(std::fabs(g.loss - w.loss) <= 1e-4 * std::fabs(w.loss));
      CHECK(std::fabs(g.grad_norm - w.grad_norm) <= 1e-3 * std::fabs(w.grad_norm));
      CHECK(g.lr == doctest::Approx(w.lr).epsilon(1e-6));
    }
    // f32 kernels vs the f64 reference rounded to f32 after each op. AdamW moves each
    // parameter by up to lr = 1e-2 per step, by m / sqrt(v), which is ill-conditioned where a
    // gradient is near zero; so parameters are compared in absolute terms, against the
    // size of one update: within 0.5% of it after 5 steps.
    double dp = max_abs_diff(got.params(), want.params());
    MESSAGE("max |param difference| after 5 steps: " << dp);
    CHECK(dp < 5e-5);
  }
}
