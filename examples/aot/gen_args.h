// gen_args.h: the command line of the examples/aot model generators (gpt_gen, train_gen),
// following tevo_add_model's contract `GEN DIR NAME ARGS...` (cmake/TevoModel.cmake):
//
//   GEN DIR NAME CONFIG [--data=PATH] [--seed=N] [--steps=N]
//
// CONFIG is a gpt example configuration (examples/gpt/config.h); the vocabulary size comes
// from the data file, as in `gpt`. Writes DIR/NAME.tir (and the generator's extra files).
#pragma once

#include "examples/gpt/config.h"
#include "examples/gpt/corpus.h"
#include "ir/printer.h"
#include "runtime/file_io.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef TEVO_GPT_DEFAULT_DATA
#define TEVO_GPT_DEFAULT_DATA "examples/data/perldiag.txt"
#endif

namespace tevo::examples {

struct GenArgs {
  std::string dir, name;
  RunConfig config; ///< with the vocabulary of `data` and `steps` applied
  std::string data = TEVO_GPT_DEFAULT_DATA;
  uint64_t seed = 1; ///< parameter initialisation (train_gen)
};

/// Parses argv; `train` enables --seed and --steps. Throws std::runtime_error.
inline GenArgs parse_gen_args(int argc, char** argv, bool train) {
  const std::string usage = std::string("usage: ") + (train ? "train_gen" : "gpt_gen") +
                            " DIR NAME tiny|small [--data=PATH]" +
                            (train ? " [--seed=N] [--steps=N]" : "");
  if (argc < 4)
    throw std::runtime_error(usage);
  GenArgs a;
  a.dir = argv[1];
  a.name = argv[2];
  std::string config = argv[3];
  int64_t steps = -1;
  auto number = [](const std::string& flag, const std::string& v) {
    size_t used = 0;
    int64_t x = -1;
    try {
      x = std::stoll(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != v.size() || x < 0)
      throw std::runtime_error(flag + ": not a non-negative integer: '" + v + "'");
    return x;
  };
  for (int i = 4; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--data=", 0) == 0)
      a.data = s.substr(7);
    else if (train && s.rfind("--seed=", 0) == 0)
      a.seed = static_cast<uint64_t>(number("--seed", s.substr(7)));
    else if (train && s.rfind("--steps=", 0) == 0)
      steps = number("--steps", s.substr(8));
    else
      throw std::runtime_error("unknown argument '" + s + "'; " + usage);
  }
  Corpus corpus = load_corpus(a.data);
  a.config = config_by_name(config, static_cast<int64_t>(corpus.vocab.size()));
  if (steps >= 0)
    a.config.steps = steps;
  return a;
}

/// Writes `g` as DIR/NAME.tir.
inline void write_tir(const GenArgs& a, const ir::Graph& g) {
  std::string text = ir::print_graph(g);
  rt::write_file_atomic(
      a.dir + "/" + a.name + ".tir",
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

} // namespace tevo::examples
