// compare.h: one variant LM trained twice, naive and rewritten, and what each run costs.
//
// The naive run builds its training step with forward_pipeline = "canonicalize,cse,dce"
// and runs that same rewrite-free pipeline wherever a pipeline runs (the Trainer, the CPU
// backend); the rewritten run uses "default" everywhere (kDefaultPipeline: the same plus
// fuse-attention and reassociate-matmul). Both start from the same parameters and see the
// same batches, so their losses must agree up to floating-point rounding.
#pragma once

#include "examples/gpt/corpus.h"
#include "examples/variants/options.h"
#include "frontend/nn/variants/lm.h"
#include "ir/interp/array.h"
#include "passes/pass.h"

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace tevo::examples::variants {

using nn::variants::MixerInfo;
using nn::variants::VariantLMConfig;

/// The pipeline without rewrites (what the naive run uses).
inline constexpr const char* kNaivePipeline = "canonicalize,cse,dce";

/// The passes of the default pipeline that the naive one lacks: the rewrites.
std::vector<std::string> rewrite_passes();

/// The rewrite pass expected to fire on mixer `m` ("" when none), from its rewrite
/// families: R1 -> fuse-attention; R2 on a bidirectional mixer -> reassociate-matmul (the
/// right product; the causal form needs a chunked scan); R3 on a long convolution ->
/// long-conv. Only passes of the default pipeline count.
std::string expected_rewrite(const MixerInfo& m);
/// Why no rewrite is expected for `m` (for --list), e.g. "R3, R4: no pass yet".
std::string no_rewrite_reason(const MixerInfo& m);

/// The LM `variants` trains for mixer `m` with the sizes of `o` over `vocab` tokens
/// (causal exactly when the mixer is).
VariantLMConfig lm_config(const Options& o, const MixerInfo& m, int64_t vocab);

/// What the default pipeline did to the forward (loss) graph of an LM.
struct ForwardReport {
  std::map<std::string, int64_t> rewrites; ///< "fuse-attention.sdpa" -> 2 (fired only)
  std::vector<passes::Remark> remarks;     ///< of the rewrite passes, applied and missed
};

/// Traces the loss of `c`'s LM on a [batch, c.seq_len] batch and runs the default
/// pipeline over it. With `print_ir`, `out` gets the IR before the pipeline and after
/// every pass that changed it; with `remarks`, every remark as its pass finishes.
ForwardReport run_forward_pipeline(
    const VariantLMConfig& c, int64_t batch, bool print_ir, bool remarks, std::ostream& out);

/// One training run.
struct RunResult {
  std::vector<double> losses;       ///< loss of each step (before its update)
  std::vector<double> step_seconds; ///< wall time of each Trainer::step
  double compile_seconds = 0;       ///< building the step graph and compiling it
  int64_t arena_bytes = -1;         ///< the CPU plan's peak scratch (-1: interpreter)
  std::string profile;              ///< with --profile (cpu): the costliest plan steps
};

/// Trains `steps` = batches.size() AdamW steps of `c`'s LM from init_params(seed).
/// `rewrite` selects the rewritten (default) or naive pipeline.
RunResult train_run(const VariantLMConfig& c,
                    const Options& o,
                    const std::vector<std::vector<ir::interp::Array>>& batches,
                    bool rewrite);

/// The fixed batches both runs see: `o.steps` random windows of the corpus, drawn from
/// the seed (tokens and next-token targets, i64 [batch, seq]).
std::vector<std::vector<ir::interp::Array>> make_batches(const Corpus& corpus, const Options& o);

/// One variant, both runs and their comparison.
struct Comparison {
  std::string variant;
  VariantLMConfig config;
  ForwardReport forward;
  RunResult naive, rewritten;
  double max_rel_diff = 0;
  int64_t worst_step = 0; ///< 1-based step of max_rel_diff
  int64_t first_bad = 0;  ///< 1-based first step above the tolerance (0: none)
  std::string error;      ///< set when the variant could not be built or run
};

/// |a - b| / max(|a|, |b|) (0 when both are 0; infinite when one is not finite).
double rel_diff(double a, double b);

/// Runs both trainings of mixer `m`, printing the per-step losses to `out`.
Comparison
compare_variant(const Options& o, const MixerInfo& m, const Corpus& corpus, std::ostream& out);

} // namespace tevo::examples::variants
