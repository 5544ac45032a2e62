// json.cpp: strict recursive-descent JSON parser with a depth limit.
#include "runtime/json.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <locale.h>

namespace tevo::rt {

const Json* Json::find(std::string_view key) const {
  if (!is_object())
    return nullptr;
  for (const auto& [k, val] : object())
    if (k == key)
      return &val;
  return nullptr;
}

namespace {

constexpr int kMaxDepth = 32;

class Reader {
public:
  Reader(std::string_view s, std::string_view what) : s_(s), what_(what) {}

  Json document() {
    Json j = value(0);
    ws();
    if (p_ != s_.size())
      fail("trailing characters after the JSON value");
    return j;
  }

private:
  [[noreturn]] void fail(const std::string& msg) const {
    fail_at(p_, msg);
  }
  [[noreturn]] void fail_at(size_t pos, const std::string& msg) const {
    throw Error(std::string(what_) + ": " + msg + " at offset " + std::to_string(pos));
  }
  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r'))
      ++p_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(p_, w.size()) == w) {
      p_ += w.size();
      return true;
    }
    return false;
  }
  Json value(int depth) {
    if (depth > kMaxDepth)
      fail("nesting too deep");
    ws();
    if (p_ >= s_.size())
      fail("unexpected end of input");
    char c = s_[p_];
    Json j;
    if (c == '{') {
      ++p_;
      Json::Object o;
      ws();
      if (p_ < s_.size() && s_[p_] == '}') {
        ++p_;
        j.v = std::move(o);
        return j;
      }
      for (;;) {
        ws();
        if (p_ >= s_.size() || s_[p_] != '"')
          fail("expected a string key");
        std::string k = str();
        ws();
        if (p_ >= s_.size() || s_[p_] != ':')
          fail("expected ':'");
        ++p_;
        o.emplace_back(std::move(k), value(depth + 1));
        ws();
        if (p_ < s_.size() && s_[p_] == ',') {
          ++p_;
          continue;
        }
        if (p_ < s_.size() && s_[p_] == '}') {
          ++p_;
          break;
        }
        fail("expected ',' or '}'");
      }
      j.v = std::move(o);
      return j;
    }
    if (c == '[') {
      ++p_;
      Json::Array a;
      ws();
      if (p_ < s_.size() && s_[p_] == ']') {
        ++p_;
        j.v = std::move(a);
        return j;
      }
      for (;;) {
        a.push_back(value(depth + 1));
        ws();
        if (p_ < s_.size() && s_[p_] == ',') {
          ++p_;
          continue;
        }
        if (p_ < s_.size() && s_[p_] == ']') {
          ++p_;
          break;
        }
        fail("expected ',' or ']'");
      }
      j.v = std::move(a);
      return j;
    }
    if (c == '"') {
      j.v = str();
      return j;
    }
    if (lit("true")) {
      j.v = true;
      return j;
    }
    if (lit("false")) {
      j.v = false;
      return j;
    }
    if (lit("null"))
      return j;
    return number();
  }
  Json number() {
    size_t start = p_;
    if (p_ < s_.size() && s_[p_] == '-')
      ++p_;
    size_t digits = p_;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9')
      ++p_;
    if (p_ == digits)
      fail("expected a value");
    bool integral = true;
    if (p_ < s_.size() && s_[p_] == '.') {
      integral = false;
      ++p_;
      size_t f = p_;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9')
        ++p_;
      if (p_ == f)
        fail("malformed number");
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      integral = false;
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-'))
        ++p_;
      size_t e = p_;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9')
        ++p_;
      if (p_ == e)
        fail("malformed number");
    }
    std::string text(s_.substr(start, p_ - start));
    Json j;
    // In the C locale, whatever the process locale's decimal point is.
    static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", locale_t{});
    j.v = c_locale ? ::strtod_l(text.c_str(), nullptr, c_locale)
                   : std::strtod(text.c_str(), nullptr);
    if (integral) {
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), j.int_value);
      j.is_int = ec == std::errc() && ptr == text.data() + text.size();
    }
    return j;
  }
  static int hexval(char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  }
  std::string str() {
    ++p_; // opening quote
    std::string out;
    for (;;) {
      if (p_ >= s_.size())
        fail("unterminated string");
      char c = s_[p_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        fail_at(p_ - 1, "control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      size_t esc = p_ - 1; // errors in an escape point at its backslash
      if (p_ >= s_.size())
        fail_at(esc, "unterminated escape");
      char e = s_[p_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        if (p_ + 4 > s_.size())
          fail_at(esc, "short \\u escape");
        int cp = 0;
        for (int i = 0; i < 4; ++i) {
          int h = hexval(s_[p_++]);
          if (h < 0)
            fail_at(p_ - 1, "bad \\u escape");
          cp = cp * 16 + h;
        }
        // UTF-8 encode the BMP code point (surrogates are kept as-is).
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        fail_at(esc, "unknown escape in string");
      }
    }
  }

  std::string_view s_;
  std::string_view what_;
  size_t p_ = 0;
};

} // namespace

Json parse_json(std::string_view text, std::string_view what) {
  return Reader(text, what).document();
}

std::string json_quote(std::string_view s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

} // namespace tevo::rt
