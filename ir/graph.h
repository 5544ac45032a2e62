// graph.h: the IR proper: values, nodes, graphs (functions) and modules.
//
// A Graph is a function in SSA form: typed inputs (data, parameter or state), a
// topologically ordered node list, and outputs. Values are owned by the node that
// produces them (or by the graph, for inputs), so erasing a node frees its results.
// Nodes refer to operands by pointer; all iteration is in node order, never by pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/attr.h"
#include "ir/loc.h"
#include "ir/op_kind.h"
#include "ir/shape.h"

namespace tevo::ir {

class Node;
struct OpDef;

/// How a graph input is fed: per-call data, a trained parameter, or carried state.
enum class InputKind : uint8_t { Data, Param, State };

/// An SSA value: a graph input or one result of a node.
class Value {
public:
  TensorType type;
  /// SSA name without '%'; empty means the printer numbers it.
  std::string name;
  /// Producing node, or nullptr for a graph input.
  Node* producer = nullptr;
  /// Result index within the producer, or input index within the graph.
  int index = 0;
  /// Meaningful for graph inputs only.
  InputKind input_kind = InputKind::Data;

  bool is_input() const {
    return producer == nullptr;
  }
};

/// One operation: an op from the registry applied to operands, with attributes.
class Node {
public:
  OpKind op;
  std::vector<Value*> operands;
  AttrDict attrs;
  Loc loc;

  const OpDef& def() const;
  Value* result(int i = 0) const {
    return results_[static_cast<size_t>(i)].get();
  }
  int num_results() const {
    return static_cast<int>(results_.size());
  }
  Value* operand(int i) const {
    return operands[static_cast<size_t>(i)];
  }
  int num_operands() const {
    return static_cast<int>(operands.size());
  }
  /// Scoped name used in diagnostics ("blocks.3.attn.q"), from the first result.
  const std::string& scoped_name() const {
    return results_.empty() ? kEmpty : results_[0]->name;
  }

private:
  friend class Graph;
  std::vector<std::unique_ptr<Value>> results_;
  static const std::string kEmpty;
};

/// A function: inputs, topologically ordered nodes, outputs.
class Graph {
public:
  std::string name;

  Graph() = default;
  explicit Graph(std::string n) : name(std::move(n)) {}
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  /// Adds an input at the end of the signature.
  Value* add_input(TensorType type, std::string name, InputKind kind = InputKind::Data);
  /// Creates a node at position `pos` in the node list (size() appends), with results of
  /// the given types. No inference or checking: use Builder for that.
  Node* insert_node(size_t pos, OpKind op, std::vector<Value*> operands, AttrDict attrs,
                    const std::vector<TensorType>& result_types, Loc loc);
  /// Removes the node at index i; its results must be unused.
  void erase_node(size_t i);
  /// Removes every node for which keep[i] is false (stable).
  void erase_nodes_if_not(const std::vector<bool>& keep);
  /// Points every use of `from` (operands and outputs) at `to`.
  void replace_all_uses(Value* from, Value* to);
  /// Index of node n in the node list (linear scan); -1 when absent.
  int64_t index_of(const Node* n) const;

  const std::vector<Value*>& inputs() const {
    return inputs_;
  }
  Value* input(int i) const {
    return inputs_[static_cast<size_t>(i)];
  }
  const std::vector<std::unique_ptr<Node>>& nodes() const {
    return nodes_;
  }
  std::vector<Value*> outputs;

  /// Deep copy (regions included).
  std::unique_ptr<Graph> clone() const;

private:
  std::vector<std::unique_ptr<Value>> input_storage_;
  std::vector<Value*> inputs_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

/// A .tir file: an ordered list of functions.
struct Module {
  std::vector<std::unique_ptr<Graph>> funcs;
  /// The function named `name` or nullptr.
  Graph* find(const std::string& name) const;
};

} // namespace tevo::ir
