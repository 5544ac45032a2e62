// lexer.h: tokens of the .tir text format, with line:col positions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ir/diag.h"

namespace tevo::ir {

enum class Tok : uint8_t {
  Eof,
  Ident,    ///< bare word: func, return, op names, dtypes, true, inf, ...
  Percent,  ///< %name (text holds the name without '%')
  At,       ///< @name
  Int,      ///< integer literal (with optional sign)
  Float,    ///< float literal (with optional sign; includes inf/nan after a sign)
  String,   ///< "..." (text holds the unescaped contents)
  Hex,      ///< 0x... blob (text holds the hex digits)
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Comma, Colon, Equal, Arrow, Less, Greater,
};

struct Token {
  Tok kind = Tok::Eof;
  std::string text;
  int32_t line = 1;
  int32_t col = 1;
};

/// Splits .tir text into tokens; `//` comments and whitespace are skipped.
class Lexer {
public:
  Lexer(std::string_view src, std::string file, int32_t first_line = 1)
      : src_(src), file_(std::move(file)), line_(first_line) {}
  /// The next token; throws ir::Error ("file:line:col: error: ...") on bad input.
  Token next();
  const std::string& file() const {
    return file_;
  }

private:
  [[noreturn]] void fail(int32_t line, int32_t col, const std::string& msg) const;
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  void advance();
  Token number(Token t);

  std::string_view src_;
  std::string file_;
  size_t pos_ = 0;
  int32_t line_;
  int32_t col_ = 1;
};

} // namespace tevo::ir
