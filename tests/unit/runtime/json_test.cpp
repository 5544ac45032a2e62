// json_test.cpp: the strict JSON reader (values, exact integers, escapes, limits, errors).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "runtime/json.h"

using namespace tevo::rt;

namespace {
std::string json_error(const std::string& text) {
  try {
    parse_json(text, "h");
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}
} // namespace

TEST_CASE("json: objects keep file order and find() looks members up") {
  Json j = parse_json(R"( {"b": 1, "a": [true, false, null], "c": {"d": "e"}} )");
  REQUIRE(j.is_object());
  REQUIRE_EQ(j.object().size(), 3);
  CHECK_EQ(j.object()[0].first, "b");
  CHECK_EQ(j.object()[1].first, "a");
  CHECK_EQ(j.find("a")->array().size(), 3);
  CHECK(std::get<bool>(j.find("a")->array()[0].v));
  CHECK(j.find("a")->array()[2].v.index() == 0);
  CHECK_EQ(j.find("c")->find("d")->string(), "e");
  CHECK_EQ(j.find("zzz"), nullptr);
  CHECK_EQ(j.find("a")->find("x"), nullptr); // find on a non-object
}

TEST_CASE("json: integers are exact beyond 2^53, others fall back to double") {
  Json big = parse_json("9007199254740993");
  CHECK(big.is_int);
  CHECK_EQ(big.int_value, 9007199254740993);
  Json min = parse_json("-9223372036854775808");
  CHECK(min.is_int);
  CHECK_EQ(min.int_value, INT64_MIN);
  Json over = parse_json("9223372036854775808");
  CHECK_FALSE(over.is_int);
  CHECK_EQ(std::get<double>(over.v), 9223372036854775808.0);
  Json neg0 = parse_json("-0");
  CHECK(neg0.is_int);
  CHECK_EQ(neg0.int_value, 0);
  CHECK_FALSE(parse_json("1.0").is_int);
  CHECK_FALSE(parse_json("1e2").is_int);
  CHECK_EQ(std::get<double>(parse_json("-2.5E-1").v), -0.25);
  CHECK_EQ(std::get<double>(parse_json("1e400").v), HUGE_VAL);
}

TEST_CASE("json: string escapes decode to UTF-8") {
  CHECK_EQ(parse_json(R"("a\"b\\c\/d\b\f\n\r\t")").string(), "a\"b\\c/d\b\f\n\r\t");
  CHECK_EQ(parse_json(R"("\u0041\u00e9\u20AC")").string(), "A\xc3\xa9\xe2\x82\xac");
  CHECK_EQ(parse_json(R"("\u0000")").string(), std::string(1, '\0'));
  CHECK_EQ(parse_json("\"\xc3\xa9\"").string(), "\xc3\xa9"); // raw UTF-8 passes through
}

TEST_CASE("json: json_quote output parses back to every byte string") {
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  CHECK_EQ(parse_json(json_quote(all)).string(), all);
  CHECK_EQ(json_quote("a\"\\\n\x01"), "\"a\\\"\\\\\\u000a\\u0001\"");
}

TEST_CASE("json: nesting is limited to 33 levels") {
  std::string ok = std::string(33, '[') + std::string(33, ']');
  CHECK_NOTHROW(parse_json(ok));
  std::string deep = std::string(34, '[') + std::string(34, ']');
  CHECK_EQ(json_error(deep), "h: nesting too deep at offset 33");
  // Deep hostile input fails at the limit instead of overflowing the stack.
  CHECK_EQ(json_error(std::string(1000000, '{')), "h: expected a string key at offset 1");
  CHECK_EQ(json_error(std::string(1000000, '[')), "h: nesting too deep at offset 33");
}

TEST_CASE("json: malformed input gives an error with its offset") {
  struct Row {
    const char* text;
    const char* error;
  };
  const Row rows[] = {
      {"", "h: unexpected end of input at offset 0"},
      {"   ", "h: unexpected end of input at offset 3"},
      {"{", "h: expected a string key at offset 1"},
      {"{\"a\" 1}", "h: expected ':' at offset 5"},
      {"{\"a\":1 \"b\":2}", "h: expected ',' or '}' at offset 7"},
      {"{\"a\":1,}", "h: expected a string key at offset 7"},
      {"[1 2]", "h: expected ',' or ']' at offset 3"},
      {"[1,]", "h: expected a value at offset 3"},
      {"tru", "h: expected a value at offset 0"},
      {"-", "h: expected a value at offset 1"},
      {"1.", "h: malformed number at offset 2"},
      {"1e+", "h: malformed number at offset 3"},
      {"01x", "h: trailing characters after the JSON value at offset 2"},
      {"\"abc", "h: unterminated string at offset 4"},
      {"\"a\nb\"", "h: control character in string at offset 2"},
      {"\"\\", "h: unterminated escape at offset 1"},
      {"\"\\x\"", "h: unknown escape in string at offset 1"},
      {"\"\\u12\"", "h: short \\u escape at offset 1"},
      {"\"\\u12G4\"", "h: bad \\u escape at offset 5"},
      {"{} {}", "h: trailing characters after the JSON value at offset 3"},
      {"NaN", "h: expected a value at offset 0"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.text);
    CHECK_EQ(json_error(r.text), r.error);
  }
}
