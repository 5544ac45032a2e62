// cli.h: shared plumbing of the `tevo` command: flag parsing, input files, output files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tevo::cli {

/// A flag a command accepts. `value` flags take `--name=V` or `--name V`.
struct FlagSpec {
  std::string name; ///< without leading dashes
  bool value = false;
  std::string help;
  bool repeatable = false;
};

/// Parsed command line of one subcommand.
struct Parsed {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> flags;

  bool has(const std::string& f) const {
    return flags.count(f) > 0;
  }
  /// Last value of a value flag, or `def`.
  std::string get(const std::string& f, const std::string& def = "") const;
  /// All values of a repeatable flag.
  std::vector<std::string> all(const std::string& f) const;
};

/// Integer value flag --f in [lo, 2^20], or `def` when absent; ir::Error on anything else.
int int_flag(const Parsed& p, const std::string& f, int def, int lo);

/// TargetOptions::stream_bytes from --stream-kib (-1, the host's cache, when absent).
int64_t stream_bytes_flag(const Parsed& p);

/// One subcommand.
struct Command {
  const char* name;
  const char* summary;
  const char* usage; ///< e.g. "tevo print FILE [--print-loc]"
  std::vector<FlagSpec> flags;
  int (*run)(const Parsed&);
};

/// Parses argv against a command's flags; throws ir::Error("tevo NAME: ...") on misuse.
Parsed parse_args(const Command& cmd, const std::vector<std::string>& args);
/// Prints `--help` text for a command.
std::string help_text(const Command& cmd);

/// Reads a file, or standard input for "-".
std::string read_input(const std::string& path);
/// Writes `text` to `path` atomically, or to standard output for "" or "-".
void write_output(const std::string& path, const std::string& text);

/// One `// -----` chunk of an input file, with the line it starts on.
struct Chunk {
  std::string text;
  int first_line = 1;
};
/// The whole file as one chunk, or split at lines consisting of `// -----`.
std::vector<Chunk> split_input(const std::string& text, bool split);

/// The display name of an input file ("<stdin>" for "-").
std::string display_name(const std::string& path);

/// Parses FILE (first positional) into a module, chunk by chunk when --split-input-file.
std::vector<ir::Module> load_modules(const Parsed& p);

/// Picks the function to run: --func=NAME, else the only (or first) function.
ir::Graph& pick_function(ir::Module& m, const Parsed& p);

} // namespace tevo::cli
