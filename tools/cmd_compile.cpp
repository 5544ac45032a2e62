// cmd_compile.cpp: `tevo compile`: compile a function ahead of time into an object file,
// a static or shared library or an executable, with a C header (backends/cpu/aot.h).
//
// Quiet on success; every failure is one `error:` line and exit status 1 (tevo.cpp).
#include "backends/cpu/aot.h"
#include "tools/commands.h"

namespace tevo::cli {

namespace {

[[noreturn]] void error(std::string msg) {
  throw ir::Error(ir::Diag{ir::Loc{}, std::move(msg), {}});
}

int run_compile(const Parsed& p) {
  std::string target = p.get("target", "cpu");
  if (target != "cpu")
    error(fmt::format("unknown --target '{}' (available: cpu)", target));
  if (!p.has("emit"))
    error("tevo compile: --emit=obj|lib|shared|exe is required (see tevo compile --help)");
  if (!p.has("o"))
    error("tevo compile: -o OUT is required (see tevo compile --help)");
  cpu::AotOptions opts;
  opts.emit = cpu::parse_aot_emit(p.get("emit"));
  opts.output = p.get("o");
  opts.name = p.get("name");
  opts.weights = p.get("weights");
  opts.embed_weights = p.has("embed-weights");
  opts.compile.target.cpu = p.get("cpu");
  opts.compile.target.features = p.get("features");
  opts.compile.target.stream_bytes = stream_bytes_flag(p);
  opts.compile.pipeline = p.get("passes", "default");
  if (p.has("opt-level")) {
    std::string lvl = p.get("opt-level");
    if (lvl.size() != 1 || lvl[0] < '0' || lvl[0] > '3')
      error(fmt::format("--opt-level must be 0, 1, 2 or 3, got '{}'", lvl));
    opts.compile.target.opt_level = lvl[0] - '0';
  }
  auto mods = load_modules(p);
  ir::Graph& g = pick_function(mods[0], p);
  cpu::compile_aot(g, opts);
  return 0;
}

} // namespace

const Command& compile_command() {
  static const Command c{
      "compile",
      "compile a function ahead of time into an object, library or executable",
      "tevo compile FILE --target=cpu --emit=obj|lib|shared|exe -o OUT [--name=NAME] "
      "[--weights=W.safetensors [--embed-weights]] [--cpu=CPU] [--features=+a,-b]",
      {{"target", true, "cpu (the only one so far)"},
       {"emit", true, "obj (.o), lib (.a), shared (.so) or exe (a program)"},
       {"o", true, "the artefact; NAME.h (and NAME.safetensors) are written beside it"},
       {"name", true, "C prefix of the entry points (default: from OUT, \"libmlp.a\" -> mlp)"},
       {"func", true, "the function to compile (default: the first)"},
       {"weights", true, "safetensors file with the values of the param inputs"},
       {"embed-weights", false, "put the parameters into the artefact (they stop being inputs)"},
       {"cpu", true, "target CPU, e.g. znver4 (default: this machine's)"},
       {"features", true, "target features, e.g. +avx2,-avx512f (default: this machine's)"},
       {"passes", true, "passes before the backend's own (default: \"default\")"},
       {"opt-level", true, "LLVM optimisation level 0-3 (default 2)"},
       {"stream-kib", true, kStreamHelp}},
      run_compile};
  return c;
}

} // namespace tevo::cli
