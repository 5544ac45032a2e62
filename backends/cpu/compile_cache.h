// compile_cache.h: compiled graphs reused by key (the graph's text + the options), so a
// program that compiles the same graph again (a sampling loop re-tracing its model, a
// trainer rebuilt after loading a checkpoint) gets the machine code it already has.
//
// The cache is an object the caller owns (no process-wide state). Executables are shared:
// run them from one thread at a time, as any Executable.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "backends/cpu/compile.h"

namespace tevo::cpu {

class CompileCache {
public:
  /// The executable compiled for `g` with `opts`; compiles on a miss. The key is the
  /// printed graph (names, types, attributes and locations) and every option that changes
  /// the generated code or its execution.
  std::shared_ptr<Executable> get(const ir::Graph& g, const CompileOptions& opts = {});

  size_t size() const {
    return entries_.size();
  }
  size_t hits() const {
    return hits_;
  }
  size_t misses() const {
    return misses_;
  }
  void clear() {
    entries_.clear();
  }

  /// The cache key of (g, opts).
  static std::string key(const ir::Graph& g, const CompileOptions& opts);

private:
  std::map<std::string, std::shared_ptr<Executable>> entries_;
  size_t hits_ = 0, misses_ = 0;
};

} // namespace tevo::cpu
