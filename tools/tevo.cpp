// tevo.cpp: entry point of the `tevo` command; dispatches to subcommands.
//
// Every failure is reported as one `error:` line (with file:line:col where the input has
// one) and exit status 1; misuse of the command line is also exit status 1.
#include <cstdio>
#include <exception>
#include <iostream>

#include "ir/diag.h"
#include "runtime/json.h"
#include "tools/commands.h"

using namespace tevo;

namespace {

std::vector<const cli::Command*> commands() {
  return {&cli::print_command(), &cli::opt_command(), &cli::run_command(), &cli::dot_command(),
          &cli::ops_command(), &cli::compile_command()};
}

void usage(std::FILE* to) {
  std::fprintf(to, "tevo: the tevo compiler driver\n\nusage: tevo COMMAND [options] [FILE]\n\n"
                   "commands:\n");
  for (const auto* c : commands())
    std::fprintf(to, "  %-8s %s\n", c->name, c->summary);
  std::fprintf(to, "\nRun `tevo COMMAND --help` for a command's options. FILE may be - for "
                   "standard input.\n");
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  const cli::Command* cmd = nullptr;
  for (const auto* c : commands())
    if (name == c->name)
      cmd = c;
  if (!cmd) {
    std::fprintf(stderr, "error: unknown command '%s' (see tevo --help)\n", name.c_str());
    return 1;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::cout << cli::help_text(*cmd);
      return 0;
    }
  try {
    return cmd->run(cli::parse_args(*cmd, args));
  } catch (const ir::Error& e) {
    std::cout.flush();
    std::fprintf(stderr, "%s\n", e.diag().str().c_str());
  } catch (const rt::Error& e) {
    std::cout.flush();
    std::fprintf(stderr, "error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
