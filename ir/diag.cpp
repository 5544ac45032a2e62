// diag.cpp: formatting of diagnostics and the internal-error handler.
#include "ir/diag.h"

#include <cstdio>
#include <cstdlib>

namespace tevo::ir {

std::string Loc::str() const {
  if (!known())
    return file.empty() ? "<unknown>" : file;
  if (col > 0)
    return fmt::format("{}:{}:{}", file, line, col);
  return fmt::format("{}:{}", file, line);
}

std::string Diag::str() const {
  std::string s = loc.known() || !loc.file.empty() ? fmt::format("{}: error: {}", loc.str(), message)
                                                   : fmt::format("error: {}", message);
  for (const auto& n : notes)
    s += "\nnote: " + n;
  return s;
}

void internal_error(const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "%s:%d: internal error: %s\n", file, line, msg.c_str());
  std::fflush(stderr);
  std::abort();
}

} // namespace tevo::ir
