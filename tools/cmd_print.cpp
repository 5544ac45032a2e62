// cmd_print.cpp: `tevo print`: parse, verify and reprint a .tir file.
#include "ir/printer.h"
#include "ir/verifier.h"
#include "tools/commands.h"

namespace tevo::cli {

namespace {
int run_print(const Parsed& p) {
  auto mods = load_modules(p);
  ir::PrintOptions po{p.has("print-loc")};
  std::string out;
  for (size_t i = 0; i < mods.size(); ++i) {
    for (const auto& g : mods[i].funcs)
      if (auto d = ir::verify(*g))
        throw ir::Error(*d);
    if (i)
      out += "// -----\n";
    out += ir::print_module(mods[i], po);
  }
  write_output(p.get("o"), out);
  return 0;
}
} // namespace

const Command& print_command() {
  static const Command c{
      "print",
      "parse, verify and reprint a .tir file",
      "tevo print FILE [--print-loc] [--split-input-file] [-o OUT]",
      {{"print-loc", false, "print source locations loc(\"file\":line:col)"},
       {"split-input-file", false, "treat `// -----` lines as separators of independent inputs"},
       {"o", true, "write to OUT (atomically) instead of standard output"}},
      run_print};
  return c;
}

} // namespace tevo::cli
