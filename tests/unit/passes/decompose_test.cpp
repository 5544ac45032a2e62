// decompose_test.cpp: the decompose pass keeps the reference kernels' semantics, edge
// cases included (masked rows, infinities, NaN, empty and unit axes), stamps locations
// and names, and reaches a fixed point in one run.
#include "ir/builder.h"
#include "ir/parser.h"
#include "tests/unit/fuse/fuse_check.h"

#include <cmath>
#include <doctest/doctest.h>
#include <limits>

using namespace tevo;
using ir::OpKind;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Runs decompose on a parsed one-function module; returns original and decomposed
/// outputs on `in`, checking that every composite is gone.
void same_after_decompose(const char* text, const std::vector<ir::interp::Array>& in) {
  ir::Module m = ir::parse_module(text, "t.tir");
  ir::Graph& g = *m.funcs[0];
  auto want = ir::interp::run(g, in);
  passes::PassContext ctx;
  test::run_pass(g, "decompose", ctx);
  for (const auto& n : g.nodes())
    CHECK_MESSAGE(!n->def().decompose, n->def().name << " left after decompose");
  auto got = ir::interp::run(g, in);
  REQUIRE_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("output " << i << "\n" << ir::print_graph(g));
    // f64: the decomposition performs the reference kernel's operations in its order.
    CHECK_EQ(test::first_mismatch(got[i], want[i], 1e-15, 0), "");
  }
}

ir::interp::Array f64(std::vector<int64_t> shape, std::vector<double> v) {
  ir::interp::Array a(ir::TensorType{ir::DType::F64, ir::Shape(shape)});
  a.data = std::move(v);
  return a;
}

} // namespace

TEST_CASE("decompose: softmax, log_softmax and logsumexp rows with -inf, +inf and NaN") {
  // Rows: ordinary; partly masked; fully masked; holding +inf; holding NaN; huge values.
  ir::interp::Array x = f64({6, 3}, {1, 2, 3, -kInf, 0.5, -kInf, -kInf, -kInf, -kInf, 1, kInf, 2, 1,
                                     kNaN, 2, 1000, 999, -1000});
  same_after_decompose(R"(
func @f(%x: f64[6,3]) -> (f64[6,3], f64[6,3], f64[6], f64[6,1], f64[3]) {
  %s = softmax %x : f64[6,3]
  %l = log_softmax %x {axis = 1} : f64[6,3]
  %e = logsumexp %x {axes = [1]} : f64[6]
  %k = logsumexp %x {axes = [-1], keepdims = true} : f64[6,1]
  %c = logsumexp %x {axes = [0]} : f64[3]
  return %s, %l, %e, %k, %c
})",
                       {x});
}

TEST_CASE("decompose: mean, and reductions over empty, unit and all axes") {
  same_after_decompose(R"(
func @f(%x: f64[2,1,3], %z: f64[2,0]) -> (f64[2], f64[2,1,1], f64[], f64[2], f64[2], f64[2,3], f64[2,3], f64[]) {
  %a = mean %x {axes = [1, 2]} : f64[2]
  %b = mean %x {axes = [-1], keepdims = true} : f64[2,1,1]
  %c = sum %x : f64[]
  %d = mean %z {axes = [1]} : f64[2]
  %e = prod %z {axes = [1]} : f64[2]
  %f = max %x {axes = [1]} : f64[2,3]
  %g = sum %x {axes = [1]} : f64[2,3]
  %h = logsumexp %z : f64[]
  return %a, %b, %c, %d, %e, %f, %g, %h
})",
                       {f64({2, 1, 3}, {1, -2, 3.5, kNaN, 4, 5}), f64({2, 0}, {})});
}

TEST_CASE("decompose: layer_norm and rms_norm through their OpDef hooks") {
  same_after_decompose(R"(
func @f(%x: f64[2,4], %g: f64[4], %b: f64[4]) -> (f64[2,4], f64[2,4]) {
  %l = layer_norm %x, %g, %b {eps = 0.001} : f64[2,4]
  %r = rms_norm %x, %g : f64[2,4]
  return %l, %r
})",
                       {f64({2, 4}, {1, 2, 3, 4, -1, 0, 7, 0.5}), f64({4}, {1, 2, -1, 0.5}),
                        f64({4}, {0, 1, 2, 3})});
}

TEST_CASE("decompose: every new node has the original's location and a derived name") {
  ir::Module m = ir::parse_module(R"(
func @f(%x: f32[2,4]) -> f32[2,4] {
  %attn.probs = softmax %x : f32[2,4]
  %y = exp %attn.probs : f32[2,4]
  return %y
})",
                                  "t.tir");
  ir::Graph& g = *m.funcs[0];
  ir::Loc loc = g.nodes()[0]->loc;
  REQUIRE(loc.known());
  passes::PassContext ctx;
  test::run_pass(g, "decompose", ctx);
  CHECK_EQ(ctx.stat("decompose.expanded"), 1);
  const ir::Node& last = *g.nodes().back();
  CHECK_EQ(last.operand(0)->name, "attn.probs"); // the replacement keeps the name
  for (size_t i = 0; i + 1 < g.nodes().size(); ++i) {
    const ir::Node& n = *g.nodes()[i];
    CHECK_EQ(n.loc, loc);
    CHECK(n.scoped_name().rfind("attn.probs", 0) == 0);
  }
  // A second run finds nothing to do.
  std::string once = ir::print_graph(g);
  CHECK_FALSE(passes::create_pass("decompose")->run(g, ctx).changed);
  CHECK_EQ(ir::print_graph(g), once);
}

TEST_CASE("decompose: reductions end in the normal form the fusion contract needs") {
  ir::Module m = ir::parse_module(R"(
func @f(%x: f32[3,1,4]) -> (f32[3], f32[], f32[3,1,4]) {
  %a = sum %x {axes = [1, 2]} : f32[3]
  %b = max %x : f32[]
  %c = prod %x {axes = [1], keepdims = true} : f32[3,1,4]
  return %a, %b, %c
})",
                                  "t.tir");
  ir::Graph& g = *m.funcs[0];
  passes::PassContext ctx;
  test::run_pass(g, "decompose", ctx);
  CHECK_EQ(ctx.stat("decompose.reductions-normalized"), 3);
  for (const auto& n : g.nodes()) {
    if (n->op != OpKind::Sum && n->op != OpKind::Max && n->op != OpKind::Prod)
      continue;
    const auto& axes = n->attrs.i64_list("axes");
    CHECK_FALSE(axes.empty());
    for (int64_t a : axes)
      CHECK(n->operand(0)->type.shape.dim(a) > 1);
  }
  CHECK(g.outputs[2] == g.inputs()[0]); // prod over a unit axis, kept: x itself
}
