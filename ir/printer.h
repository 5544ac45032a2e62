// printer.h: the .tir text format (writer side). See docs/IR.md for the grammar.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace tevo::ir {

struct PrintOptions {
  bool print_loc = false; ///< append loc("file":line:col) to nodes with a known location
};

/// Prints one function.
std::string print_graph(const Graph& g, const PrintOptions& opts = {});
/// The names print_graph gives g's inputs, without the '%' (unnamed inputs numbered).
std::vector<std::string> printed_input_names(const Graph& g);
/// Prints every function, separated by a blank line.
std::string print_module(const Module& m, const PrintOptions& opts = {});
/// Prints one attribute value as it appears in the text format.
std::string print_attr(const Attr& a);
/// Formats a double so that it reads back exactly ("1.0", "0.1", "inf", "-inf", "nan").
std::string format_f64(double v);
/// Formats a float so that it reads back exactly as a float.
std::string format_f32(float v);

} // namespace tevo::ir
