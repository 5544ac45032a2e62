// gpt_gen.cpp: generator of the AOT GPT sampler (examples/aot/CMakeLists.txt):
//
//   gpt_gen DIR NAME tiny|small [--data=PATH]
//
// Traces the gpt example's sampling graph (examples/gpt/config.h: gpt_sample_graph) as
// function @NAME into DIR/NAME.tir: input "tokens" i64[1, block_size] and the parameters
// (PyTorch state_dict names, bound at run time from a `gpt` checkpoint), output the logits
// f32[block_size, vocab].
#include "examples/aot/gen_args.h"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  using namespace tevo::examples;
  try {
    GenArgs a = parse_gen_args(argc, argv, /*train=*/false);
    tevo::nn::GPT model(a.config.gpt);
    write_tir(a, *gpt_sample_graph(model, a.name));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpt_gen: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
