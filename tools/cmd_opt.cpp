// cmd_opt.cpp: `tevo opt`: PLACEHOLDER until the pass manager lands.
#include "tools/commands.h"

namespace tevo::cli {

namespace {
int run_opt(const Parsed&) {
  throw ir::Error(ir::Diag{ir::Loc{}, "tevo opt: not implemented yet", {}});
}
} // namespace

const Command& opt_command() {
  static const Command c{"opt", "run passes over a .tir file", "tevo opt FILE --passes=LIST", {},
                         run_opt};
  return c;
}

} // namespace tevo::cli
