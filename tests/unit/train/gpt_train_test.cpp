// gpt_train_test.cpp: a tiny nn::GPT trained end to end through make_train_step + Trainer.
#include "../runtime/test_util.h"
#include "frontend/nn/transformer.h"
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"
#include "runtime/safetensors.h"
#include "train_test_util.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::train;

TEST_CASE("gpt: a tiny GPT memorises a sequence, checkpoint names are the state_dict's") {
  nn::GPTConfig c;
  c.vocab_size = 8;
  c.block_size = 4;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 8;
  nn::GPT model(c);
  auto loss = [&](Trace& t, const std::vector<Tensor>& b) {
    return cross_entropy(model.forward(t, b[0]), b[1]);
  };
  Optimizer opt = Optimizer::adamw(3e-2, 0.9, 0.95, 1e-8, 0.1);
  opt.schedule = LrSchedule::warmup_cosine(3, 40, 3e-3);
  opt.max_grad_norm = 1.0;
  TrainStep step =
      make_train_step(loss, model.parameters(), opt,
                      {{"tokens", {2, 4}, DType::I64}, {"targets", {2, 4}, DType::I64}});
  Trainer tr(std::move(step), nn::init_params(model, 1), {"default", nullptr});
  std::vector<ir::interp::Array> batch = {test::arr(DType::I64, {2, 4}, {1, 2, 3, 4, 5, 6, 7, 0}),
                                          test::arr(DType::I64, {2, 4}, {2, 3, 4, 5, 6, 7, 0, 1})};
  StepStats first = tr.step(batch), last;
  CHECK(std::fabs(first.loss - std::log(8.0)) < 0.5); // near-uniform at init
  for (int k = 1; k < 40; ++k) {
    last = tr.step(batch);
    REQUIRE(std::isfinite(last.loss));
    REQUIRE(std::isfinite(last.grad_norm));
  }
  CHECK(last.loss < 0.5 * first.loss);

  test::TempDir dir;
  tr.save_checkpoint(dir.path("gpt.safetensors"));
  rt::TensorFile f = rt::read_safetensors(dir.path("gpt.safetensors"));
  CHECK(f.find("wte.weight") != nullptr);
  CHECK(f.find("h.0.attn.c_attn.weight") != nullptr);
  CHECK(f.find("optimizer.h.0.mlp.c_fc.weight.exp_avg_sq") != nullptr);
  CHECK_EQ(f.find("optimizer.step")->data, test::arr(DType::F32, {}, {40}).to_bytes());
}
