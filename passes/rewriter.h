// rewriter.h: Rewriter, the one way passes mutate a graph.
//
// Passes sweep the node list in order. Replacements are recorded in a map and applied
// lazily: update_operands() redirects a node's operands just before the pass looks at
// it, and commit() redirects the rest (outputs included) and erases the nodes marked
// dead, in one linear pass. This keeps a sweep O(nodes) instead of O(nodes^2) with
// Graph::replace_all_uses. A node can also be rewritten in place (morph) when its result
// types stay. The rewriter counts what it did, so passes report `changed` truthfully.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/builder.h"
#include "ir/graph.h"

namespace tevo::passes {

class Rewriter {
public:
  explicit Rewriter(ir::Graph& g) : g_(g) {}
  Rewriter(const Rewriter&) = delete;
  Rewriter& operator=(const Rewriter&) = delete;

  ir::Graph& graph() {
    return g_;
  }

  /// The value that currently stands for `v` (after every pending replacement).
  ir::Value* resolve(ir::Value* v) const;
  /// Redirects n's operands to their replacements; call before inspecting n.
  void update_operands(ir::Node& n);

  /// Every use of n's results becomes a use of `with` (one value per result, each of
  /// the same type: an internal error otherwise); n is erased at commit.
  void replace(ir::Node& n, const std::vector<ir::Value*>& with);
  /// Every use of `from` becomes a use of `to` (same type); nothing is erased.
  void replace_value(ir::Value* from, ir::Value* to);
  /// Marks n for erasure at commit; its results must be unused by then.
  void erase(const ir::Node& n);
  bool is_erased(const ir::Node& n) const {
    return erased_.count(&n) > 0;
  }

  /// Creates a node before node index `pos` through ir::Builder (attributes completed,
  /// types inferred); fails with the builder's diagnostic.
  ir::Expected<ir::Node*> create(size_t pos,
                                 ir::OpKind k,
                                 std::vector<ir::Value*> operands,
                                 const ir::AttrList& attrs,
                                 ir::Loc loc,
                                 std::string name = {});

  /// Turns n into a different op in place (`k` with `operands` and `attrs`), keeping its
  /// results, names and uses; only when the new op infers exactly n's result types.
  /// Returns false (and changes nothing) otherwise. Cheaper than create + replace: no
  /// node moves in the list.
  bool
  morph(ir::Node& n, ir::OpKind k, std::vector<ir::Value*> operands, const ir::AttrList& attrs);

  /// Applies pending replacements to all operands and outputs, then erases the marked
  /// nodes. Returns the number of nodes erased.
  size_t commit();

  /// Nodes created, nodes marked for erasure and values replaced so far.
  size_t num_created() const {
    return created_;
  }
  size_t num_erased() const {
    return erased_total_;
  }
  bool changed() const {
    return created_ > 0 || erased_total_ > 0 || replaced_ > 0 || morphed_ > 0;
  }

private:
  ir::Graph& g_;
  std::unordered_map<ir::Value*, ir::Value*> repl_;
  std::unordered_set<const ir::Node*> erased_;
  size_t created_ = 0;
  size_t erased_total_ = 0;
  size_t replaced_ = 0;
  size_t morphed_ = 0;
};

} // namespace tevo::passes
