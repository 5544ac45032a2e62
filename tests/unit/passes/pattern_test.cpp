// pattern_test.cpp: the pattern matcher (bindings, commutativity, constraints, failure
// reasons) and the greedy driver (fixed point, statistics, remarks, non-convergence).
#include <doctest/doctest.h>

#include "ir/builder.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pattern.h"
#include "passes/pattern_driver.h"

using namespace tevo;
using namespace tevo::passes;
using ir::OpKind;

namespace {

std::unique_ptr<ir::Graph> parse(const char* text) {
  return ir::parse_graph(text, "pattern_test.tir");
}

/// The value named `name` (a node result).
ir::Value* value(ir::Graph& g, const std::string& name) {
  for (const auto& n : g.nodes())
    for (int i = 0; i < n->num_results(); ++i)
      if (n->result(i)->name == name)
        return n->result(i);
  FAIL("no value " << name);
  return nullptr;
}

const char* kGraph = R"(
func @f(%x: f32[4], %y: f32[4]) -> (f32[4], f32[4]) {
  %two = full {shape = [], value = 2.0} : f32[]
  %a = add %x, %y : f32[4]
  %b = mul %two, %a : f32[4]
  %c = add %x, %x : f32[4]
  %d = sum %b {axes = [0], keepdims = true} : f32[1]
  %e = sub %c, %d : f32[4]
  return %e, %a
}
)";

} // namespace

TEST_CASE("pattern: bindings, commutative operands, repeated names") {
  auto g = parse(kGraph);
  UseInfo uses(*g);
  using namespace pat;
  Match m;
  // mul(a, splat) matches mul(splat, a): mul is commutative.
  CHECK(match(op(OpKind::Mul, {op(OpKind::Add, {any("p"), any("q")}, "sum"), splat("k")}),
              value(*g, "b"), uses, m));
  CHECK(m["p"] == g->inputs()[0]);
  CHECK(m["q"] == g->inputs()[1]);
  CHECK(*splat_value(m["k"]) == 2.0);
  // A name bound twice must be one value: add(x, x) yes, add(x, y) no.
  Match m2;
  CHECK(match(op(OpKind::Add, {any("z"), any("z")}), value(*g, "c"), uses, m2));
  Match m3;
  CHECK_FALSE(match(op(OpKind::Add, {any("z"), any("z")}), value(*g, "a"), uses, m3));
  CHECK(m3.values.empty());
  CHECK(m3.failure.find("two different values") != std::string::npos);
  // sub is not commutative: the operand order is fixed.
  Match m4;
  CHECK_FALSE(match(op(OpKind::Sub, {op(OpKind::Sum, {any()}), any()}), value(*g, "e"), uses, m4));
  CHECK(m4.failure == "sum producer");
}

TEST_CASE("pattern: a splat is the value its dtype holds, not the attribute as written") {
  auto g = parse(R"(
func @f() -> (i32[2], f16[2], bool[2], f32[2]) {
  %a = full {shape = [2], value = 2.5, dtype = i32} : i32[2]
  %b = full {shape = [2], value = 0.1, dtype = f16} : f16[2]
  %c = full {shape = [2], value = 0.5, dtype = bool} : bool[2]
  %d = full {shape = [2], value = 0.1} : f32[2]
  return %a, %b, %c, %d
}
)");
  CHECK(*splat_value(value(*g, "a")) == 2.0); // what the interpreter and codegen store
  CHECK(*splat_value(value(*g, "b")) == 0.0999755859375);
  CHECK(*splat_value(value(*g, "c")) == 1.0);
  CHECK(*splat_value(value(*g, "d")) == static_cast<double>(0.1f));
}

TEST_CASE("pattern: one_use, attr, where, one_of") {
  auto g = parse(kGraph);
  UseInfo uses(*g);
  using namespace pat;
  CHECK(uses.count(value(*g, "a")) == 2); // b and the outputs
  CHECK(uses.is_output(value(*g, "a")));
  Match m;
  CHECK_FALSE(match(op(OpKind::Mul, {splat(), one_use(any("a"))}), value(*g, "b"), uses, m));
  CHECK(m.failure == "single use");
  Match m1;
  CHECK(match(one_use(op(OpKind::Mul, {splat(), any()})), value(*g, "b"), uses, m1));
  Match m2;
  CHECK(match(attr(op(OpKind::Sum, {any()}), "keepdims", true), value(*g, "d"), uses, m2));
  Match m3;
  CHECK_FALSE(match(attr(op(OpKind::Sum, {any()}), "keepdims", false), value(*g, "d"), uses, m3));
  CHECK(m3.failure == "keepdims == false");
  Match m4;
  auto rank1 = where(any("v"), "rank 1", [](const ir::Value& v, const Match&) {
    return v.type.shape.rank() == 1;
  });
  CHECK(match(rank1, value(*g, "d"), uses, m4));
  Match m5;
  auto either = one_of({op(OpKind::Mul, {any(), any()}), op(OpKind::Sub, {any("l"), any()})});
  CHECK(match(either, value(*g, "e"), uses, m5));
  CHECK(m5["l"] == value(*g, "c"));
}

namespace {

/// x + x -> 2 * x (a real rewrite, to test the driver).
class AddSelf final : public RewritePattern {
public:
  std::string_view name() const override {
    return "add-self";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Add;
  }
  Outcome apply(RewriteCtx& ctx) const override {
    ir::Node& n = ctx.root();
    if (n.operand(0) != n.operand(1))
      return Outcome::missed("operands differ");
    ir::Builder b = ctx.builder();
    ir::Value* two = b.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}}, {"value", 2.0}});
    ctx.replace(n.result(0), b.op(OpKind::Mul, {two, n.operand(0)}));
    return Outcome::applied("x + x -> 2 * x");
  }
};

/// Flips add operands forever: never converges.
class Flip final : public RewritePattern {
public:
  std::string_view name() const override {
    return "flip";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Add;
  }
  Outcome apply(RewriteCtx& ctx) const override {
    ir::Node& n = ctx.root();
    ir::Builder b = ctx.builder();
    ctx.replace(n.result(0), b.op(OpKind::Add, {n.operand(1), n.operand(0)}));
    return Outcome::applied("flipped");
  }
};

} // namespace

TEST_CASE("driver: fixed point, statistics, deduplicated remarks, dead nodes removed") {
  auto g = parse(kGraph);
  PatternList ps;
  ps.push_back(std::make_unique<AddSelf>());
  PassContext ctx;
  CHECK(apply_patterns(*g, ps, ctx, "test"));
  std::string text = ir::print_graph(*g);
  CHECK(text.find("add %x, %x") == std::string::npos);
  CHECK(text.find("mul") != std::string::npos);
  CHECK(ctx.stats().at("test.add-self") == 1);
  // add %x, %y was looked at in every sweep but is remarked once.
  int missed = 0, applied = 0;
  for (const Remark& r : ctx.remarks()) {
    missed += r.kind == Remark::Kind::Missed;
    applied += r.kind == Remark::Kind::Applied;
  }
  CHECK(missed == 1);
  CHECK(applied == 1);
  CHECK(format_remark(ctx.remarks()[0]).find("pattern_test.tir:") == 0);
  // A second run finds nothing to do.
  CHECK_FALSE(apply_patterns(*g, ps, ctx, "test"));
}

TEST_CASE("driver: patterns that never converge are an error, not a hang") {
  auto g = parse(kGraph);
  PatternList ps;
  ps.push_back(std::make_unique<Flip>());
  PassContext ctx;
  ctx.set_option("test.max-rewrites", "10");
  CHECK_THROWS_WITH_AS(apply_patterns(*g, ps, ctx, "test"),
                       doctest::Contains("did not converge after 10 rewrites"), ir::Error);
}
