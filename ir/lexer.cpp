// lexer.cpp: hand-written tokenizer for .tir files.
#include "ir/lexer.h"

#include <cctype>
#include <cstdint>

namespace tevo::ir {

namespace {
bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$' ||
         c == '-';
}
bool word_char(char c) { // identifiers (no '-', so that "->" and "-1" stay separate tokens)
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
} // namespace

void Lexer::fail(int32_t line, int32_t col, const std::string& msg) const {
  throw Error(Diag{Loc{file_, line, col}, msg, {}});
}

void Lexer::advance() {
  if (pos_ >= src_.size())
    return;
  if (src_[pos_] == '\n') {
    if (line_ < INT32_MAX) // saturate: positions past 2^31 lines or columns are not exact
      ++line_;
    col_ = 1;
  } else if (col_ < INT32_MAX) {
    ++col_;
  }
  ++pos_;
}

Token Lexer::number(Token t) {
  std::string s;
  if (peek() == '-' || peek() == '+') {
    s += peek();
    advance();
  }
  if (std::isalpha(static_cast<unsigned char>(peek()))) { // -inf, +inf, -nan
    std::string w;
    while (std::isalpha(static_cast<unsigned char>(peek()))) {
      w += peek();
      advance();
    }
    if (w != "inf" && w != "nan")
      fail(t.line, t.col, fmt::format("expected a number, got '{}{}'", s, w));
    t.kind = Tok::Float;
    t.text = s + w;
    return t;
  }
  bool is_float = false;
  auto digits = [&] {
    size_t n = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      s += peek();
      advance();
      ++n;
    }
    return n;
  };
  if (digits() == 0)
    fail(t.line, t.col, "expected a number");
  if (peek() == '.') {
    is_float = true;
    s += '.';
    advance();
    digits();
  }
  if (peek() == 'e' || peek() == 'E') {
    is_float = true;
    s += 'e';
    advance();
    if (peek() == '+' || peek() == '-') {
      s += peek();
      advance();
    }
    if (digits() == 0)
      fail(t.line, t.col, "malformed exponent in number");
  }
  if (ident_start(peek()))
    fail(line_, col_, fmt::format("unexpected character '{}' after number", peek()));
  t.kind = is_float ? Tok::Float : Tok::Int;
  t.text = s;
  return t;
}

Token Lexer::next() {
  for (;;) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance();
    } else if (c == '/' && peek(1) == '/') {
      while (pos_ < src_.size() && peek() != '\n')
        advance();
    } else {
      break;
    }
  }
  Token t;
  t.line = line_;
  t.col = col_;
  if (pos_ >= src_.size())
    return t;
  char c = peek();
  auto single = [&](Tok k) {
    advance();
    t.kind = k;
    return t;
  };
  switch (c) {
  case '(':
    return single(Tok::LParen);
  case ')':
    return single(Tok::RParen);
  case '[':
    return single(Tok::LBracket);
  case ']':
    return single(Tok::RBracket);
  case '{':
    return single(Tok::LBrace);
  case '}':
    return single(Tok::RBrace);
  case ',':
    return single(Tok::Comma);
  case ':':
    return single(Tok::Colon);
  case '=':
    return single(Tok::Equal);
  case '<':
    return single(Tok::Less);
  case '>':
    return single(Tok::Greater);
  default:
    break;
  }
  if (c == '-' && peek(1) == '>') {
    advance();
    advance();
    t.kind = Tok::Arrow;
    return t;
  }
  if (c == '%' || c == '@') {
    advance();
    std::string name;
    while (ident_char(peek())) {
      name += peek();
      advance();
    }
    if (name.empty())
      fail(t.line, t.col, fmt::format("expected a name after '{}'", c));
    t.kind = c == '%' ? Tok::Percent : Tok::At;
    t.text = name;
    return t;
  }
  if (c == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
    advance();
    advance();
    std::string hex;
    while (std::isxdigit(static_cast<unsigned char>(peek()))) {
      hex += peek();
      advance();
    }
    t.kind = Tok::Hex;
    t.text = hex;
    return t;
  }
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+')
    return number(t);
  if (ident_start(c)) {
    std::string w;
    while (word_char(peek())) {
      w += peek();
      advance();
    }
    t.kind = Tok::Ident;
    t.text = w;
    return t;
  }
  if (c == '"') {
    advance();
    std::string s;
    for (;;) {
      if (pos_ >= src_.size() || peek() == '\n')
        fail(t.line, t.col, "unterminated string");
      char d = peek();
      advance();
      if (d == '"')
        break;
      if (d != '\\') {
        s += d;
        continue;
      }
      char e = peek();
      advance();
      if (e == 'n') {
        s += '\n';
      } else if (e == 't') {
        s += '\t';
      } else if (e == '"' || e == '\\') {
        s += e;
      } else if (e == 'x' && std::isxdigit(static_cast<unsigned char>(peek())) &&
                 std::isxdigit(static_cast<unsigned char>(peek(1)))) {
        s += static_cast<char>(std::stoi(std::string{peek(), peek(1)}, nullptr, 16));
        advance();
        advance();
      } else {
        fail(line_, col_ - 1, "unknown escape in string");
      }
    }
    t.kind = Tok::String;
    t.text = s;
    return t;
  }
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
    fail(t.line, t.col, fmt::format("unexpected byte 0x{:02x}", static_cast<unsigned char>(c)));
  fail(t.line, t.col, fmt::format("unexpected character '{}'", c));
}

} // namespace tevo::ir
