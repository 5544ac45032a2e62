// pattern_driver.h: rewrite patterns and the greedy fixed-point driver that applies them.
//
// A RewritePattern looks at one root node and either rewrites the graph (Applied), says
// why a near-match did not fire (Missed: becomes a remark), or does not apply (NoMatch).
// Rewrites insert new nodes before the root through RewriteCtx::builder() and redirect
// uses with RewriteCtx::replace(); the driver then removes what became dead.
//
// The driver sweeps the nodes in order and tries each pattern whose root kind matches.
// After a rewrite it recomputes use information and starts the sweep again, so a pattern
// always sees an up-to-date graph (single-use checks are exact). It stops when a whole
// sweep applies nothing; more than "<pass>.max-rewrites" rewrites (default
// 64 + 4 x nodes) means the patterns do not converge, which is an internal error (tests
// fail rather than loop). Statistics: "<pass>.<pattern>" counts rewrites; remarks go to
// PassContext (applied and missed, deduplicated).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/builder.h"
#include "ir/cost.h"
#include "ir/graph.h"
#include "passes/pass.h"
#include "passes/pattern.h"

namespace tevo::passes {

/// What a pattern did at one root.
struct Outcome {
  enum class Kind : uint8_t { NoMatch, Applied, Missed } kind = Kind::NoMatch;
  std::string message; ///< Applied: what it did; Missed: why not
  static Outcome no_match() {
    return {};
  }
  static Outcome applied(std::string msg) {
    return {Kind::Applied, std::move(msg)};
  }
  static Outcome missed(std::string msg) {
    return {Kind::Missed, std::move(msg)};
  }
};

/// What a pattern sees while it looks at a root node.
class RewriteCtx {
public:
  RewriteCtx(ir::Graph& g, const UseInfo& uses, PassContext& pass, size_t pos)
      : g_(g), uses_(uses), pass_(pass), pos_(pos) {}

  ir::Graph& graph() {
    return g_;
  }
  const UseInfo& uses() const {
    return uses_;
  }
  PassContext& pass() {
    return pass_;
  }
  ir::Node& root() {
    return *g_.nodes()[pos_];
  }
  /// A builder that inserts before the root node (in order of creation).
  ir::Builder builder() {
    ir::Builder b(g_);
    b.set_insertion_before(&root());
    return b;
  }
  /// Every use of `from` (operands and graph outputs) becomes a use of `to`.
  void replace(ir::Value* from, ir::Value* to);

private:
  ir::Graph& g_;
  const UseInfo& uses_;
  PassContext& pass_;
  size_t pos_;
};

/// One rewrite.
class RewritePattern {
public:
  virtual ~RewritePattern() = default;
  /// Stable name used in statistics and remarks ("right-product").
  virtual std::string_view name() const = 0;
  /// The op the root node must have; nullopt tries every node.
  virtual std::optional<ir::OpKind> root() const = 0;
  /// Looks at ctx.root(); rewrites and returns Applied, or changes nothing.
  virtual Outcome apply(RewriteCtx& ctx) const = 0;
};

using PatternList = std::vector<std::unique_ptr<RewritePattern>>;

/// Applies `patterns` to `g` until none fires; `pass` names the pass for statistics,
/// remarks and options. Returns true when the graph changed.
bool apply_patterns(ir::Graph& g, const PatternList& patterns, PassContext& ctx,
                    std::string_view pass);

/// Nodes a pattern builds tentatively (to price a form, or before it knows the whole
/// form is legal): each goes before a given node; a failure to build is recorded rather
/// than thrown; discard() removes exactly what was built (they must be unused).
class Tentative {
public:
  Tentative(ir::Graph& g, const ir::Node& before) : g_(g), before_(&before) {}

  /// Builds before the default node; nullptr (and failed()) when the op rejects the
  /// operands, or when an operand is nullptr (an earlier failure).
  ir::Value* op(ir::OpKind k, std::vector<ir::Value*> operands, const ir::AttrList& attrs = {});
  /// The same, before `before`.
  ir::Value* op_before(const ir::Node& before, ir::OpKind k, std::vector<ir::Value*> operands,
                       const ir::AttrList& attrs = {}, std::string name = {});
  /// `v` reshaped to `to` (v itself when it already has that shape).
  ir::Value* reshape(ir::Value* v, std::vector<int64_t> to);

  ir::Graph& graph() {
    return g_;
  }
  bool failed() const {
    return !error_.empty();
  }
  const std::string& error() const {
    return error_;
  }
  void fail(std::string why) {
    if (error_.empty())
      error_ = std::move(why);
  }
  /// Summed cost of the nodes built.
  const ir::Cost& cost() const {
    return cost_;
  }
  void discard();

private:
  ir::Graph& g_;
  const ir::Node* before_;
  std::vector<const ir::Node*> created_;
  ir::Cost cost_;
  std::string error_;
};

/// A pass that is nothing but a pattern set run by apply_patterns under the pass's name
/// (statistics "<name>.<pattern>", option "<name>.max-rewrites").
std::unique_ptr<Pass> make_pattern_pass(std::string_view name, PatternList patterns);

/// Removes nodes whose results are all unused (repeatedly); returns how many.
size_t erase_dead_nodes(ir::Graph& g);

} // namespace tevo::passes
