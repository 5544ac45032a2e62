// pass_manager.h: PassManager: parses a pipeline string, runs it, and owns all of the
// instrumentation (IR dumps, verification after each pass, timings, statistics).
//
// Passes never print; everything a run shows goes to the caller's stream (the CLI uses
// standard error). Dumps are deterministic: the pipeline, then
// "// ----- IR after cse -----" and the printed IR; timings only ever appear in the
// separate report().
#pragma once

#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ir/diag.h"
#include "ir/graph.h"
#include "ir/printer.h"
#include "passes/pass.h"

namespace tevo::passes {

/// The pipeline "default" stands for: clean-ups, then the cost-driven rewrites of
/// transformer variants, then dead-code removal. Every backend runs it before its own
/// passes; "canonicalize,cse,dce" is the same without rewrites.
inline constexpr std::string_view kDefaultPipeline =
    "canonicalize,cse,fuse-attention,toeplitz-bias,dft-matmul,reassociate-matmul,long-conv,"
    "decay-scan,canonicalize,cse,dce";

/// How a pipeline runs and what it shows.
struct PipelineOptions {
  bool print_after_all = false;       ///< dump the IR after every pass
  std::set<std::string> print_before; ///< dump the IR before these passes
  std::set<std::string> print_after;  ///< dump the IR after these passes
  /// Dump after a pass (every pass, or those in print_after / print_after_all) only when
  /// its text changed; otherwise print "// ----- IR after P (unchanged) -----".
  bool print_changed = false;
  bool verify_each = true;  ///< ir::verify after each pass; failure is an internal error
  bool time_passes = false; ///< report() includes wall time per pass
  bool pass_stats = false;  ///< report() includes the statistics table
  /// Which pass remarks go to `log` as each pass finishes: "" (none), "missed",
  /// "applied" or "all".
  std::string remarks;
  ir::PrintOptions print;   ///< how dumps print the IR
  /// Where dumps go; nullptr discards them. Not owned.
  std::ostream* log = nullptr;
  /// Pass options ("canonicalize.max-iterations" -> "4"), seen through PassContext.
  std::map<std::string, std::string> pass_options;
};

class PassManager {
public:
  /// Parses "canonicalize,cse,dce" ("default" expands to kDefaultPipeline; "" is the
  /// empty pipeline). Fails on an unknown pass (in the pipeline or in print_before /
  /// print_after), naming the known ones.
  /// Fails on an unknown remark filter too.
  static ir::Expected<PassManager> parse(std::string_view pipeline, PipelineOptions opts = {});

  PassManager(PassManager&&) = default;
  PassManager& operator=(PassManager&&) = default;

  /// Appends a pass made by the caller (for pipelines built in code, and tests).
  void add(std::unique_ptr<Pass> p) {
    passes_.push_back(std::move(p));
    seconds_.push_back(0.0);
  }

  /// Runs every pass over `g`; true when one changed it. Throws ir::Error on an internal
  /// failure (a pass broke the IR, did not converge, ...), naming the pass.
  bool run(ir::Graph& g);
  /// Runs every pass over each function of `m` (pass by pass; dumps show the module).
  bool run(ir::Module& m);

  /// Pass names in order, e.g. {"canonicalize", "cse", "dce"}.
  std::vector<std::string> pipeline() const;
  /// "canonicalize,cse,dce".
  std::string pipeline_string() const;
  /// Statistics accumulated over every run so far.
  const PassContext& context() const {
    return ctx_;
  }
  /// The timing table (time_passes) and statistics table (pass_stats) accumulated over
  /// every run so far; "" when neither is enabled.
  std::string report() const;

private:
  PassManager() = default;
  bool run_graphs(const std::vector<ir::Graph*>& gs);
  std::string text(const std::vector<ir::Graph*>& gs) const;
  void dump(const std::string& header, const std::string& body);

  std::vector<std::unique_ptr<Pass>> passes_;
  PipelineOptions opts_;
  PassContext ctx_;
  std::vector<double> seconds_; ///< wall time per pipeline position, summed over runs
  bool dumped_header_ = false;  ///< "// pipeline:" already printed in this run
  size_t remarks_shown_ = 0;    ///< ctx_.remarks() already considered for printing
  void show_remarks();
};

} // namespace tevo::passes
