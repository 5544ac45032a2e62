// commands.h: the subcommands of `tevo`, one file each (cmd_<name>.cpp).
#pragma once

#include "tools/cli.h"

namespace tevo::cli {

const Command& print_command();
const Command& opt_command();
const Command& run_command();
const Command& dot_command();
const Command& ops_command();
const Command& compile_command();

} // namespace tevo::cli
