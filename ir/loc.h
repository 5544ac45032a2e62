// loc.h: source locations (of a DSL call or of a token in a .tir file).
//
// Loc::here() captures the caller's file and line as a default argument. It uses
// std::source_location where the standard library provides it and the compiler
// builtins otherwise (clang with older libstdc++ lacks source_location).
#pragma once

#include <cstdint>
#include <string>

#if __has_include(<source_location>)
#include <source_location>
#endif

namespace tevo::ir {

/// Where something came from; line 0 means unknown.
struct Loc {
  std::string file;
  int32_t line = 0;
  int32_t col = 0;

  bool known() const {
    return line > 0;
  }
  /// "file:line:col", "file:line" when col is 0, "<unknown>" when unknown.
  std::string str() const;
  friend bool operator==(const Loc&, const Loc&) = default;

#if defined(__cpp_lib_source_location)
  /// Location of the call site (use as a default argument).
  static Loc here(std::source_location s = std::source_location::current()) {
    return Loc{s.file_name(), static_cast<int32_t>(s.line()), static_cast<int32_t>(s.column())};
  }
#else
  static Loc here(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return Loc{file, line, 0};
  }
#endif
};

} // namespace tevo::ir
