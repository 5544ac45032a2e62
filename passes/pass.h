// pass.h: the Pass interface, what a pass sees while it runs (PassContext) and what it
// reports (PassResult).
//
// A pass transforms one graph in place. It reads options and bumps named statistics
// through its PassContext; it never prints (the pass manager owns all output) and keeps
// no global state. It must report `changed` truthfully: dumps rely on it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ir/graph.h"

namespace tevo::passes {

/// What a pass reports about one run.
struct PassResult {
  bool changed = false;
};

/// Options and statistics shared by the passes of one pipeline run.
class PassContext {
public:
  PassContext() = default;
  explicit PassContext(std::map<std::string, std::string> options) : options_(std::move(options)) {}

  /// The named counter ("cse.eliminated"), created at 0 on first use.
  int64_t& stat(const std::string& name) {
    return stats_[name];
  }
  /// Every counter touched so far, sorted by name.
  const std::map<std::string, int64_t>& stats() const {
    return stats_;
  }

  /// A string option ("canonicalize.max-iterations"), or `def` when unset.
  std::string option(const std::string& name, const std::string& def = "") const;
  /// An integer option, or `def` when unset; throws ir::Error when it is not an integer.
  int64_t option_i64(const std::string& name, int64_t def) const;
  void set_option(std::string name, std::string value) {
    options_[std::move(name)] = std::move(value);
  }

private:
  std::map<std::string, std::string> options_;
  std::map<std::string, int64_t> stats_;
};

struct PassInfo;

/// A graph transformation. Made by create_pass (pass_registry.h), which names it.
class Pass {
public:
  virtual ~Pass() = default;
  /// The pipeline flag ("cse") from passes.def; a pass made outside the registry (a test
  /// pass) overrides this.
  virtual std::string_view name() const;
  /// One-line summary from passes.def.
  virtual std::string_view description() const;
  /// Transforms `g` in place. Throws ir::Error only for internal failures.
  virtual PassResult run(ir::Graph& g, PassContext& ctx) = 0;

private:
  friend std::unique_ptr<Pass> create_pass(std::string_view name);
  const PassInfo* info_ = nullptr;
};

} // namespace tevo::passes
