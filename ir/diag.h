// diag.h: user-facing diagnostics and the internal-error assertion.
//
// Two kinds of errors (after Halide): user errors are values (Diag, Expected<T>)
// returned through the compiler and thrown as tevo::Error only at an API boundary;
// internal errors are TEVO_ASSERT, which aborts with file:line.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "ir/loc.h"

namespace tevo::ir {

/// One user-facing error: a location, a one-line message and optional notes.
struct Diag {
  Loc loc;
  std::string message;
  std::vector<std::string> notes;

  /// "file:line:col: error: message" followed by "note: ..." lines.
  std::string str() const;
};

/// Exception carrying a Diag; thrown at API boundaries (DSL, parser, CLI).
class Error : public std::runtime_error {
public:
  explicit Error(Diag d) : std::runtime_error(d.str()), diag_(std::move(d)) {}
  const Diag& diag() const {
    return diag_;
  }

private:
  Diag diag_;
};

/// A value or a Diag. Minimal stand-in for std::expected (C++23).
template <class T> class Expected {
public:
  Expected(T v) : v_(std::move(v)) {} // NOLINT: implicit by design
  Expected(Diag d) : v_(std::move(d)) {} // NOLINT: implicit by design
  bool ok() const {
    return v_.index() == 0;
  }
  explicit operator bool() const {
    return ok();
  }
  T& value() {
    return std::get<0>(v_);
  }
  const T& value() const {
    return std::get<0>(v_);
  }
  T& operator*() {
    return value();
  }
  T* operator->() {
    return &value();
  }
  const Diag& error() const {
    return std::get<1>(v_);
  }
  /// The value, or throws the Diag as tevo::Error.
  T take() {
    if (!ok())
      throw Error(error());
    return std::move(std::get<0>(v_));
  }

private:
  std::variant<T, Diag> v_;
};

/// Builds a Diag with an fmt message and no location (the caller adds one).
template <class... A> Diag make_diag(fmt::format_string<A...> f, A&&... a) {
  return Diag{Loc{}, fmt::format(f, std::forward<A>(a)...), {}};
}

[[noreturn]] void internal_error(const char* file, int line, const std::string& msg);

} // namespace tevo::ir

/// Internal invariant check: aborts with file:line (never for user input).
#define TEVO_ASSERT(cond, ...)                                                                     \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::tevo::ir::internal_error(__FILE__, __LINE__,                                               \
                                 std::string("assertion failed: " #cond " ") __VA_OPT__(+)         \
                                     __VA_OPT__(fmt::format(__VA_ARGS__)));                        \
  } while (0)
