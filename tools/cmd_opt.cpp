// cmd_opt.cpp: `tevo opt`: parse a .tir file, run a pass pipeline over it, print the result.
//
// The final IR goes to standard output (or -o); IR dumps, timings and statistics go to
// standard error, so `tevo opt ... 2>&1 | FileCheck` sees both.
#include <algorithm>
#include <iostream>

#include "ir/cost.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "passes/pass_registry.h"
#include "tools/commands.h"

namespace tevo::cli {

namespace {

/// Every value of a repeatable flag, each split at commas.
std::set<std::string> name_set(const Parsed& p, const std::string& flag) {
  std::set<std::string> out;
  for (const auto& v : p.all(flag)) {
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t comma = v.find(',', pos);
      if (comma == std::string::npos)
        comma = v.size();
      if (comma > pos)
        out.insert(v.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  return out;
}

std::string list_passes() {
  std::string s = "passes (use --passes=a,b,c; \"default\" is " +
                  std::string(passes::kDefaultPipeline) + "):\n";
  for (const auto& info : passes::all_passes())
    s += fmt::format("  {:<14} {}\n", info.name, info.description);
  return s;
}

int run_opt(const Parsed& p) {
  if (p.has("list-passes")) {
    write_output("", list_passes());
    return 0;
  }
  passes::PipelineOptions opts;
  opts.print_after_all = p.has("print-after-all");
  opts.print_before = name_set(p, "print-before");
  opts.print_after = name_set(p, "print-after");
  opts.print_changed = p.has("print-changed");
  opts.verify_each = !p.has("no-verify-each");
  opts.time_passes = p.has("time-passes");
  opts.pass_stats = p.has("pass-stats");
  opts.remarks = p.get("remarks");
  opts.print = ir::PrintOptions{p.has("print-loc")};
  opts.log = &std::cerr;
  for (const auto& kv : p.all("pass-option")) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ir::Error(ir::make_diag("--pass-option wants NAME=VALUE (e.g. long-conv.force=1), "
                                    "got '{}'",
                                    kv));
    opts.pass_options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto pm = passes::PassManager::parse(p.get("passes", "default"), opts).take();
  // An option is named after its pass: one for a pass the pipeline does not run is a typo.
  std::vector<std::string> run = pm.pipeline();
  for (const auto& [name, value] : opts.pass_options) {
    std::string pass = name.substr(0, name.find('.'));
    if (std::find(run.begin(), run.end(), pass) == run.end())
      throw ir::Error(ir::make_diag("--pass-option {}: no pass '{}' in the pipeline ({})", name,
                                    pass, fmt::join(run, ",")));
  }

  auto mods = load_modules(p);
  std::string out;
  for (size_t i = 0; i < mods.size(); ++i) {
    pm.run(mods[i]);
    if (i)
      out += "// -----\n";
    out += ir::print_module(mods[i], opts.print);
    if (p.has("cost"))
      for (const auto& f : mods[i].funcs)
        std::cerr << ir::format_cost(*f);
  }
  write_output(p.get("o"), out);
  std::cerr << pm.report();
  return 0;
}

} // namespace

const Command& opt_command() {
  static const Command c{
      "opt",
      "run a pass pipeline over a .tir file",
      "tevo opt FILE [--passes=default] [options] [-o OUT]",
      {{"passes", true, "comma-separated pipeline (default: \"default\"; --passes= runs none)"},
       {"print-after-all", false, "dump the IR after every pass (to stderr)"},
       {"print-before", true, "dump the IR before these passes (comma-separated)", true},
       {"print-after", true, "dump the IR after these passes (comma-separated)", true},
       {"print-changed", false, "dump after a pass only if it changed the IR"},
       {"no-verify-each", false, "do not verify the IR after each pass"},
       {"time-passes", false, "print the wall time of each pass (to stderr)"},
       {"pass-stats", false, "print the pass statistics (to stderr)"},
       {"remarks", true, "print pass remarks as passes run (to stderr): missed|applied|all"},
       {"pass-option", true, "set a pass option NAME=VALUE (e.g. long-conv.force=1)", true},
       {"cost", false, "print the cost model's table of the final IR (to stderr)"},
       {"list-passes", false, "list the available passes and exit"},
       {"split-input-file", false, "treat `// -----` lines as separators of independent inputs"},
       {"print-loc", false, "print source locations loc(\"file\":line:col)"},
       {"o", true, "write to OUT (atomically) instead of standard output"}},
      run_opt};
  return c;
}

} // namespace tevo::cli
