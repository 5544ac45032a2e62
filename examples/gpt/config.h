// config.h: the gpt example's configurations (tiny, small) and the graphs built from them:
// the AdamW training step and the sampling graph.
//
// Shared by examples/gpt (JIT / interpreter) and the AOT generators of examples/aot, so
// that a compiled training step or sampler is the very graph the `gpt` program runs.
#pragma once

#include "frontend/nn/nn.h"
#include "frontend/train/losses.h"
#include "frontend/train/train_step.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tevo::examples {

/// A model size plus how to train it.
struct RunConfig {
  std::string name;
  nn::GPTConfig gpt;
  int64_t batch = 0;
  int64_t steps = 0;
  double lr = 0;
  int64_t warmup = 0;
};

/// The configuration `name` ("tiny" or "small") for a vocabulary of `vocab` tokens.
inline RunConfig config_by_name(const std::string& name, int64_t vocab) {
  RunConfig r;
  r.name = name;
  r.gpt.vocab_size = vocab;
  if (name == "tiny") {
    // Sized by measurement: trains on the reference interpreter in well under two minutes
    // on two cores and gets clearly below the unigram baseline.
    r.gpt.block_size = 16;
    r.gpt.n_layer = 1;
    r.gpt.n_head = 2;
    r.gpt.n_embd = 32;
    r.batch = 16;
    r.steps = 600;
    r.lr = 1e-2;
    r.warmup = 20;
  } else if (name == "small") {
    // For a compiled CPU backend: far too slow for the interpreter.
    r.gpt.block_size = 128;
    r.gpt.n_layer = 4;
    r.gpt.n_head = 4;
    r.gpt.n_embd = 128;
    r.batch = 32;
    r.steps = 3000;
    r.lr = 3e-3;
    r.warmup = 100;
  } else {
    throw std::runtime_error("unknown --config '" + name + "' (tiny, small)");
  }
  return r;
}

/// AdamW with a warmup-cosine schedule over `r.steps` updates (a resumed run ends at
/// min_lr) and global-norm clipping at 1.
inline train::Optimizer gpt_optimizer(const RunConfig& r) {
  train::Optimizer opt = train::Optimizer::adamw(r.lr, 0.9, 0.95, 1e-8, 0.01);
  int64_t total = std::max<int64_t>(r.steps, r.warmup + 1);
  opt.schedule = train::LrSchedule::warmup_cosine(std::min(r.warmup, total - 1), total, r.lr / 10);
  opt.max_grad_norm = 1.0;
  return opt;
}

/// The training step: cross-entropy of the next character, its gradient and the AdamW
/// update. Batch inputs: "tokens" and "targets", i64 [batch, block_size].
inline train::TrainStep
gpt_train_step(nn::GPT& model, const RunConfig& r, const train::TrainStepOptions& options = {}) {
  model.train(true);
  auto loss_fn = [&model](Trace& t, const std::vector<Tensor>& b) {
    return train::cross_entropy(model.forward(t, b[0]), b[1]);
  };
  const int64_t B = r.batch, T = r.gpt.block_size;
  return train::make_train_step(
      loss_fn, model.parameters(), gpt_optimizer(r),
      {{"tokens", {B, T}, ir::DType::I64}, {"targets", {B, T}, ir::DType::I64}}, options);
}

/// The sampling graph for a fixed context of block_size: input "tokens" i64 [1, T], the
/// parameters, output "logits" f32 [T, vocab_size] (see corpus.h: fill_context).
inline std::unique_ptr<ir::Graph> gpt_sample_graph(nn::GPT& model,
                                                   const std::string& name = "sample") {
  const int64_t T = model.config().block_size, V = model.config().vocab_size;
  model.train(false);
  Trace t(name);
  Tensor tokens = t.input("tokens", {1, T}, ir::DType::I64);
  Tensor logits = reshape(model.forward(t, tokens), {T, V});
  t.output(logits.named("logits"));
  return t.finish();
}

} // namespace tevo::examples
