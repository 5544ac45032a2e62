// builder.h: the one way nodes are made: attributes completed from the schema, types
// inferred and checked, location and name stamped.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ir/op_def.h"

namespace tevo::ir {

/// Attributes as given by a caller (any order, defaults omitted).
using AttrList = std::vector<std::pair<std::string, Attr>>;

/// Completes `given` against the op's schema: schema order, defaults filled, i64
/// literals widened to f64 where the schema says f64. Fails on unknown, missing or
/// wrongly typed attributes.
Expected<AttrDict> complete_attrs(const OpDef& def, const AttrList& given);

/// Checks operand count and runs the op's type inference. Messages start "[op] ".
Expected<std::vector<TensorType>> infer_result_types(const OpDef& def,
                                                     std::span<const TensorType> operands,
                                                     const AttrDict& attrs);

/// Creates nodes in a graph at an insertion point (the end by default).
class Builder {
public:
  explicit Builder(Graph& g) : g_(g), pos_(g.nodes().size()), at_end_(true) {}

  Graph& graph() {
    return g_;
  }
  /// Subsequent nodes go before node index `pos`.
  void set_insertion_index(size_t pos) {
    pos_ = pos;
    at_end_ = false;
  }
  void set_insertion_before(const Node* n);
  void set_insertion_end() {
    at_end_ = true;
  }

  /// Makes a node, or returns the diagnostic (located at `loc`, noting `name`).
  Expected<Node*> try_create(OpKind k, std::vector<Value*> operands, const AttrList& attrs = {},
                             Loc loc = {}, std::string name = {});
  /// Makes a node; throws ir::Error on failure.
  Node* create(OpKind k, std::vector<Value*> operands, const AttrList& attrs = {}, Loc loc = {},
               std::string name = {});
  /// Makes a node and returns its first result; throws ir::Error on failure.
  Value* op(OpKind k, std::vector<Value*> operands, const AttrList& attrs = {}, Loc loc = {},
            std::string name = {}) {
    return create(k, std::move(operands), attrs, std::move(loc), std::move(name))->result(0);
  }

private:
  Graph& g_;
  size_t pos_;
  bool at_end_;
};

} // namespace tevo::ir
