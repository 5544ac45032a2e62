// train_gen.cpp: generator of the AOT GPT training step (examples/aot/CMakeLists.txt):
//
//   train_gen DIR NAME tiny|small [--data=PATH] [--seed=N] [--steps=N]
//
// Writes DIR/NAME.tir: the gpt example's whole AdamW training step (examples/gpt/config.h:
// gpt_train_step; forward, backward, clipping, the warmup-cosine schedule over --steps
// updates, default the configuration's) as function @NAME, with the input/output contract
// of frontend/train/train_step.h. Also writes DIR/NAME.weights.safetensors: the initial
// parameters nn::init_params(model, seed), what `gpt --seed=N` starts from.
#include "examples/aot/gen_args.h"
#include "frontend/train/trainer.h"
#include "runtime/safetensors.h"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  using namespace tevo::examples;
  try {
    GenArgs a = parse_gen_args(argc, argv, /*train=*/true);
    tevo::nn::GPT model(a.config.gpt);
    tevo::train::TrainStep step = gpt_train_step(model, a.config, {a.name});
    write_tir(a, *step.graph);
    tevo::nn::ParamStore init = tevo::nn::init_params(model, a.seed);
    tevo::rt::TensorFile w;
    for (const tevo::train::TensorSpec& p : step.params)
      w.tensors.emplace_back(p.name, tevo::train::to_host(init.at(p.name)));
    w.metadata = {{"seed", std::to_string(a.seed)}, {"config", a.config.name}};
    tevo::rt::write_safetensors(a.dir + "/" + a.name + ".weights.safetensors", w);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_gen: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
