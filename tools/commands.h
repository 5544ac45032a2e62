// commands.h: the subcommands of `tevo`, one file each (cmd_<name>.cpp).
#pragma once

#include "tools/cli.h"

namespace tevo::cli {

/// Help of --stream-kib (tevo run, tevo compile).
inline constexpr const char* kStreamHelp =
    "cpu: row kernels whose results take at least N KiB write them with streaming "
    "(non-temporal) stores (default: the size of this machine's last-level cache; 0 = never)";

const Command& print_command();
const Command& opt_command();
const Command& run_command();
const Command& dot_command();
const Command& ops_command();
const Command& compile_command();

} // namespace tevo::cli
