// dsl_test.cpp: tracing through the C++ DSL: names, scopes, locations, conveniences, errors.
#include <doctest/doctest.h>

#include "frontend/ops.h"
#include "ir/interp/interpreter.h"
#include "ir/printer.h"
#include "ir/verifier.h"

using namespace tevo;

TEST_CASE("dsl: operators and functions trace to scoped, located IR") {
  Trace t("mlp");
  Tensor x = t.input("x", {2, 3});
  Tensor w = t.param("w", {3, 4});
  Tensor y;
  int line = 0;
  {
    auto s = t.scope("fc");
    line = __LINE__ + 1;
    y = relu(matmul(x, w) * 2.0);
  }
  t.output(y);
  auto g = t.finish();
  CHECK_FALSE(ir::verify(*g).has_value());
  std::string text = ir::print_graph(*g, ir::PrintOptions{true});
  CHECK_EQ(ir::print_graph(*g),
           "func @mlp(%x: f32[2,3], %w: f32[3,4] param) -> f32[2,4] {\n"
           "  %fc.matmul = matmul %x, %w : f32[2,4]\n"
           "  %fc.full = full {shape = [], value = 2.0} : f32[]\n"
           "  %fc.mul = mul %fc.matmul, %fc.full : f32[2,4]\n"
           "  %fc.relu = relu %fc.mul : f32[2,4]\n"
           "  return %fc.relu\n"
           "}\n");
  // Every node points at the DSL line that made it, operators included.
  CHECK(text.find(fmt::format("loc(\"tests/unit/frontend/dsl_test.cpp\":{}:", line)) !=
        std::string::npos);
  for (const auto& n : g->nodes())
    CHECK_EQ(n->loc.line, line);
}

TEST_CASE("dsl: a shape mismatch names the user's line, the scope, the op and both shapes") {
  Trace t("bad");
  Tensor x = t.input("x", {2, 3});
  Tensor w = t.param("w", {5, 3});
  auto s = t.scope("blocks.3.attn");
  int line = 0;
  try {
    line = __LINE__ + 1;
    matmul(x, w);
    FAIL("no error");
  } catch (const ir::Error& e) {
    // The column is the compiler's idea of the call (gcc: start of the statement).
    CHECK_EQ(e.diag().loc.file, "tests/unit/frontend/dsl_test.cpp");
    CHECK_EQ(e.diag().loc.line, line);
    CHECK_EQ(e.diag().message,
             "[matmul] inner dimensions differ: f32[2,3] x f32[5,3] (transpose the second "
             "operand?)");
    CHECK_EQ(e.diag().notes, std::vector<std::string>{"in blocks.3.attn.matmul"});
    CHECK(std::string(e.what()).starts_with(fmt::format("tests/unit/frontend/dsl_test.cpp:{}:", line)));
  }
}

TEST_CASE("dsl: reshape with -1, python-style slices, vector matmul") {
  Trace t("conv");
  Tensor x = t.input("x", {2, 3, 4});
  CHECK_EQ(reshape(x, {-1, 4}).shape(), std::vector<int64_t>{6, 4});
  CHECK_EQ(slice(x, -1, -3, 100).shape(), std::vector<int64_t>{2, 3, 3});
  CHECK_EQ(slice(x, 1, 0, 3, 2).shape(), std::vector<int64_t>{2, 2, 4});
  Tensor v = t.input("v", {4});
  CHECK_EQ(matmul(x, v).shape(), std::vector<int64_t>{2, 3});
  CHECK_EQ(matmul(v, t.input("m", {4, 5})).shape(), std::vector<int64_t>{5});
  CHECK_EQ(transpose(x).shape(), std::vector<int64_t>{2, 4, 3});
  CHECK_THROWS_WITH_AS(reshape(x, {-1, 5}),
                       doctest::Contains("cannot reshape f32[2,3,4] to [-1,5]"), ir::Error);
}

TEST_CASE("dsl: several traces live side by side and do not mix") {
  Trace a("a"), b("b");
  Tensor xa = a.input("x", {2});
  Tensor xb = b.input("x", {2});
  CHECK_THROWS_WITH_AS(xa + xb, doctest::Contains("operands come from different traces"),
                       ir::Error);
  a.output(exp(xa));
  b.output(-xb);
  auto ga = a.finish(), gb = b.finish();
  ir::interp::Array in(ga->input(0)->type);
  in.data = {0.0, 1.0};
  CHECK_EQ(ir::interp::run(*ga, {in})[0][1], doctest::Approx(2.718281828).epsilon(1e-6));
  CHECK_EQ(ir::interp::run(*gb, {in})[0][1], -1.0);
}
