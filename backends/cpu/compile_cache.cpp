// compile_cache.cpp: CompileCache (see compile_cache.h).
#include "backends/cpu/compile_cache.h"

#include <fmt/format.h>

#include "ir/printer.h"

namespace tevo::cpu {

std::string CompileCache::key(const ir::Graph& g, const CompileOptions& opts) {
  // Locations are part of the key: generated kernels name them in their error messages.
  std::string k = ir::print_graph(g, ir::PrintOptions{true});
  k += fmt::format("\ncpu={};features={};O{};rows={};stream={};threads={};pipeline={};llvm_ir={};"
                   "profile={}",
                   opts.target.cpu, opts.target.features, opts.target.opt_level,
                   opts.target.row_pipeline, opts.target.stream_bytes, opts.threads, opts.pipeline, opts.keep_llvm_ir,
                   opts.profile);
  for (const auto& [name, value] : opts.pipeline_options.pass_options)
    k += fmt::format(";{}={}", name, value);
  return k;
}

std::shared_ptr<Executable> CompileCache::get(const ir::Graph& g, const CompileOptions& opts) {
  std::string k = key(g, opts);
  if (auto it = entries_.find(k); it != entries_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  std::shared_ptr<Executable> exe = compile(g, opts);
  entries_.emplace(std::move(k), exe);
  return exe;
}

} // namespace tevo::cpu
