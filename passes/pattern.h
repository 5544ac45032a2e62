// pattern.h: declarative patterns over the IR, and the matcher.
//
// A pattern is a tree that mirrors the op tree it matches, read from a root value
// towards its operands:
//
//   using namespace tevo::passes::pat;
//   Pattern p = op(OpKind::Matmul, {one_use(op(OpKind::Div, {any("s"), any("den")})),
//                                   any("v")}, "out");
//
// Leaves bind values by name (`any("s")`); a name bound twice must bind the same value
// (so `op(Add, {any("x"), any("x")})` matches x + x only). Binary ops with the
// kCommutative trait are tried in both operand orders. Constraints sit on any sub-pattern:
// `one_use` (the value has exactly one use and is not a graph output), `where` (a named
// predicate), `attr` (an attribute equals a value), and `splat` matches a constant whose
// elements are all equal. When a match fails, Match::failure names the first constraint
// that failed on the deepest path tried, which passes turn into missed-rewrite remarks.
//
// Matching is read-only; rewriting is the driver's job (pattern_driver.h).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "ir/op_kind.h"

namespace tevo::passes {

/// Who reads each value: (node, operand index) pairs in node order, and graph outputs.
/// Computed once per graph state; the driver recomputes it after every rewrite.
class UseInfo {
public:
  struct Use {
    ir::Node* node;
    int operand;
  };
  explicit UseInfo(const ir::Graph& g);

  std::span<const Use> uses(const ir::Value* v) const;
  bool is_output(const ir::Value* v) const;
  /// Uses by nodes plus appearances among the graph outputs.
  int64_t count(const ir::Value* v) const;

private:
  std::unordered_map<const ir::Value*, std::vector<Use>> uses_;
  std::unordered_map<const ir::Value*, int64_t> outputs_;
};

/// The single value every element of `v` holds, when `v` is a `full` or a `constant`
/// whose elements are all equal (real dtypes; the value must round-trip its dtype).
std::optional<double> splat_value(const ir::Value* v);

/// Named bindings of one successful match (and why the last attempt failed).
struct Match {
  std::map<std::string, ir::Value*, std::less<>> values;
  /// First failed constraint of the deepest attempt ("one_use(s)", "axes == [-1]", ...);
  /// empty after a success or a plain op-kind mismatch at the root.
  std::string failure;

  bool has(std::string_view name) const {
    return values.find(name) != values.end();
  }
  /// The value bound to `name`; an internal error when unbound.
  ir::Value* operator[](std::string_view name) const;
  /// The producer of the value bound to `name` (nullptr for a graph input).
  ir::Node* node(std::string_view name) const {
    return (*this)[name]->producer;
  }
};

namespace pat {

struct PatNode;
using Pattern = std::shared_ptr<const PatNode>;
/// A predicate over a candidate value and the bindings made so far.
using Pred = std::function<bool(const ir::Value&, const Match&)>;

/// Any value; binds it to `bind` unless empty.
Pattern any(std::string bind = {});
/// A result of an `k` node whose operands match `operands` (exact count; both orders for
/// commutative binary ops). Binds the result to `bind` unless empty.
Pattern op(ir::OpKind k, std::vector<Pattern> operands, std::string bind = {});
/// The first alternative that matches.
Pattern one_of(std::vector<Pattern> alternatives);
/// `p`, and then `pred` holds; `what` names the constraint in failure messages.
Pattern where(Pattern p, std::string what, Pred pred);
/// `p`, and the value has exactly one use and is not a graph output.
Pattern one_use(Pattern p);
/// `p`, and its producer's attribute `name` equals `value`.
Pattern attr(Pattern p, std::string name, ir::Attr value);
/// A splat constant (see splat_value); binds it to `bind` unless empty.
Pattern splat(std::string bind = {});

} // namespace pat

/// Matches `p` against value `v`, adding bindings to `m`. On failure `m.values` is left as
/// it was and `m.failure` says why.
bool match(const pat::Pattern& p, ir::Value* v, const UseInfo& uses, Match& m);

} // namespace tevo::passes
