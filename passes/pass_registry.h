// pass_registry.h: the frozen table of passes, built from passes.def.
//
// Built once on first use and never changed afterwards (as ir/op_registry.h): no
// registration side effects, no mutable global state.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "passes/pass.h"

namespace tevo::passes {

/// One row of passes.def.
struct PassInfo {
  std::string_view name;        ///< pipeline flag, e.g. "cse"
  std::string_view description; ///< one-line summary
  std::unique_ptr<Pass> (*factory)();
};

/// Every pass, in passes.def order.
std::span<const PassInfo> all_passes();
/// The row for `name`, or nullptr.
const PassInfo* find_pass(std::string_view name);
/// A new instance of the pass `name`, or nullptr when there is no such pass.
std::unique_ptr<Pass> create_pass(std::string_view name);
/// "canonicalize, cse, dce": the known flags, for error messages.
std::string known_pass_names();

// One factory per pass, each in its pass file.
#define TEVO_PASS(flag, factory, summary) std::unique_ptr<Pass> factory();
#include "passes/passes.def"
#undef TEVO_PASS

} // namespace tevo::passes
