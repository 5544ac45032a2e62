// parser.h: the .tir text format (reader side).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ir/graph.h"

namespace tevo::ir {

/// Parses a whole file. Every node is completed and type-checked as it is read, so a
/// parsed module is verified. Throws ir::Error located at file:line:col on bad input.
/// `first_line` lets a caller parse one `// -----` chunk of a larger file.
Module parse_module(std::string_view text, const std::string& file, int first_line = 1);

/// Parses a file that must hold exactly one function.
std::unique_ptr<Graph> parse_graph(std::string_view text, const std::string& file);

} // namespace tevo::ir
