// cmd_dot.cpp: `tevo dot`: Graphviz picture of a function.
#include "ir/dot.h"
#include "tools/commands.h"

namespace tevo::cli {

namespace {
int run_dot(const Parsed& p) {
  auto mods = load_modules(p);
  write_output(p.get("o"), ir::to_dot(pick_function(mods[0], p)));
  return 0;
}
} // namespace

const Command& dot_command() {
  static const Command c{"dot",
                         "write a Graphviz (dot) picture of a function",
                         "tevo dot FILE [--func=NAME] [-o OUT]    (render: dot -Tsvg OUT)",
                         {{"func", true, "the function to draw (default: the first)"},
                          {"o", true, "write to OUT instead of standard output"}},
                         run_dot};
  return c;
}

} // namespace tevo::cli
