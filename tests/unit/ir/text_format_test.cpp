// text_format_test.cpp: printer/parser round trip and parse-error locations.
#include <doctest/doctest.h>

#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

using namespace tevo::ir;

namespace {
std::string reprint(const std::string& text) {
  return print_module(parse_module(text, "t.tir"));
}
std::string parse_error(const std::string& text) {
  try {
    parse_module(text, "t.tir");
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}
} // namespace

TEST_CASE("text format: a printed graph reprints byte-identically") {
  std::string src = R"(func @f(%x: f32[2,3], %w: f32[2,3] param) -> f32[2,3] {
  %y = add %x, %w : f32[2,3]
  %0 = gelu %y {approximate = "tanh"} : f32[2,3]
  %1 = elu %0 : f32[2,3]
  return %1
}
)";
  std::string once = reprint(src);
  CHECK_EQ(once, src);
  CHECK_EQ(reprint(once), once);
}

TEST_CASE("text format: numbered values are renumbered in program order") {
  std::string src = "func @f(%7: f32[2]) -> f32[2] {\n  %3 = exp %7 : f32[2]\n  return %3\n}\n";
  CHECK_EQ(reprint(src), "func @f(%0: f32[2]) -> f32[2] {\n  %1 = exp %0 : f32[2]\n  return %1\n}\n");
}

TEST_CASE("text format: parse errors carry file:line:col") {
  CHECK_EQ(parse_error("func @f(%x: f32[2]) -> f32[2] {\n  %y = exp %z : f32[2]\n  return %y\n}\n"),
           "t.tir:2:12: error: use of undefined value '%z'");
  CHECK_EQ(parse_error("func @f(%x: f32[2]) -> f32[2] {\n  %y = expp %x : f32[2]\n  return %y\n}\n"),
           "t.tir:2:8: error: unknown op 'expp' (see `tevo ops`)");
  CHECK_EQ(parse_error("func @f(%x: f32[2], %y: f32[3]) -> f32[2] {\n  %z = add %x, %y : f32[2]\n"
                       "  return %z\n}\n"),
           "t.tir:2:8: error: [add] shapes do not broadcast: f32[2] vs f32[3]");
  CHECK_EQ(parse_error("func @f(%x: f32[2]) -> f32[2] {\n  %y = exp %x : f32[3]\n  return %y\n}\n"),
           "t.tir:2:8: error: [exp] result 0 declared as f32[3] but inferred as f32[2]");
}

TEST_CASE("interpreter: elementwise ops broadcast and round to f32") {
  auto g = parse_graph("func @f(%x: f32[2,1], %y: f32[3]) -> f32[2,3] {\n"
                       "  %z = add %x, %y : f32[2,3]\n  return %z\n}\n",
                       "t.tir");
  interp::Array x(TensorType{DType::F32, Shape{2, 1}}), y(TensorType{DType::F32, Shape{3}});
  x.data = {1, 2};
  y.data = {0.1, 0.2, 0.3};
  auto out = interp::run(*g, {x, y});
  REQUIRE_EQ(out.size(), 1u);
  CHECK_EQ(out[0].data[0], static_cast<double>(1.0f + 0.1f));
  CHECK_EQ(out[0].data[5], static_cast<double>(2.0f + 0.3f));
  CHECK_FALSE(verify(*g).has_value());
}
