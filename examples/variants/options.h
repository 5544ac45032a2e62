// options.h: the command line of the `variants` example (flags parsed like examples/gpt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tevo::examples::variants {

struct Options {
  bool list = false;     ///< --list: the mixers and the rewrite each should get, then exit
  bool print_ir = false; ///< --print-ir: the forward IR before/after the pipeline, then exit
  bool remarks = false;  ///< --remarks: the pipeline's rewrite remarks (applied and missed)
  bool profile = false;  ///< --profile: the costliest plan steps of each compiled run
  std::vector<std::string> variants; ///< --variant=a,b (empty: every registry mixer)
  int64_t steps = 5;
  int64_t seq = 64; ///< N, the sequence length (also the LM's seq_len)
  int64_t batch = 4;
  int64_t d_model = 64;
  int64_t heads = 0; ///< 0: 2, except gqa: 4 (2 key/value heads shared by 2 query heads)
  int64_t layers = 2;
  int64_t threads = 0; ///< cpu backend threads (0: TEVO_NUM_THREADS or every core)
  /// --ffn / --norm / --residual: the block's FFN, norm and residual arrangement (empty:
  /// the LM's defaults, swiglu / rmsnorm / pre); names from frontend/nn/variants/lm.h.
  std::string ffn, norm, residual;
  uint64_t seed = 1;
  double lr = 3e-3;
  double tolerance = 1e-4;     ///< largest relative loss difference naive vs rewritten
  std::string backend = "cpu"; ///< cpu | interp
  std::string data;            ///< the corpus (a text file; its bytes are the vocabulary)
};

/// The usage text (--help).
const char* usage();

/// Parses argv; `default_data` is the corpus used without --data. Throws
/// std::runtime_error with a one-line message for a bad flag or value.
Options parse_options(int argc, char** argv, const std::string& default_data);

} // namespace tevo::examples::variants
