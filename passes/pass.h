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
#include <vector>

#include "ir/graph.h"
#include "ir/loc.h"

namespace tevo::passes {

/// A note from a pass about one rewrite opportunity: applied, or missed and why
/// ("reassociate-matmul: kept left product: N=16 < m=64, ..."). Located at the node the
/// pattern was rooted at, so it points at the user's DSL line.
struct Remark {
  enum class Kind : uint8_t { Applied, Missed };
  Kind kind = Kind::Missed;
  std::string pass;    ///< "reassociate-matmul"
  std::string pattern; ///< the pattern within the pass ("right-product")
  ir::Loc loc;
  std::string node;    ///< the root node's scoped name, when it has one
  std::string message;
  friend bool operator==(const Remark&, const Remark&) = default;
};
/// "file:line:col: remark: [missed] pass/pattern: message (at node)".
std::string format_remark(const Remark& r);

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

  /// Records a remark; an identical one already recorded is dropped (drivers revisit
  /// nodes), so a run reports each opportunity once, in the order first seen.
  void remark(Remark r);
  /// Every remark recorded so far.
  const std::vector<Remark>& remarks() const {
    return remarks_;
  }

private:
  std::map<std::string, std::string> options_;
  std::map<std::string, int64_t> stats_;
  std::vector<Remark> remarks_;
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
