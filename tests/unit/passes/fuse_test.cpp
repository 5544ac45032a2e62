// fuse_test.cpp: the fusion pass on random graphs (seeded), its options, and the
// loop-group contract checker on bodies that break each rule.
//
// The random graphs mix elementwise ops, reductions over either or both axes (kept or
// dropped), composites (softmax, log_softmax, logsumexp, mean, layer_norm), views,
// selects with -inf masks and shared values, over 4x4 tensors: square on purpose, so that
// a reduction result broadcast along the wrong axis is still well typed and the checker
// must refuse to fuse it. Every graph goes through decompose and fuse (check_pipeline:
// verify, contract, decomposed vs original, fused == decomposed exactly).
#include "ir/builder.h"
#include "ir/parser.h"
#include "tests/unit/fuse/fuse_check.h"

#include <doctest/doctest.h>

#include "tests/support/rng.h"

using namespace tevo;
using ir::OpKind;
using ir::Value;

namespace {

using test::Rng;

using Ints = std::vector<int64_t>;
const ir::DType kF = ir::DType::F64;

/// Builds one random graph over shapes [4,4], [4,1], [1,4], [4] and [].
class GraphGen {
public:
  GraphGen(uint64_t seed, ir::Graph& g) : r_(seed), g_(g), b_(g) {}

  void build(int steps) {
    pool_.push_back(g_.add_input({kF, ir::Shape{4, 4}}, "x"));
    pool_.push_back(g_.add_input({kF, shape_of(r_.below(5))}, "y"));
    for (int i = 0; i < steps; ++i)
      pool_.push_back(step());
    g_.outputs.push_back(pool_.back());
    for (int k = r_.below(3); k > 0; --k)
      g_.outputs.push_back(pool_[static_cast<size_t>(r_.below(static_cast<int>(pool_.size())))]);
  }

private:
  static ir::Shape shape_of(int k) {
    switch (k) {
    case 0:
      return ir::Shape{4, 4};
    case 1:
      return ir::Shape{4, 1};
    case 2:
      return ir::Shape{1, 4};
    case 3:
      return ir::Shape{4};
    default:
      return ir::Shape{};
    }
  }

  /// A recent value (values are reused: shared producers).
  Value* pick() {
    int n = static_cast<int>(pool_.size());
    return pool_[static_cast<size_t>(std::max(0, n - 1 - r_.below(std::min(n, 6))))];
  }
  /// A recent value broadcast to [4,4].
  Value* square() {
    Value* v = pick();
    if (v->type.shape == ir::Shape{4, 4})
      return v;
    return b_.op(OpKind::BroadcastTo, {v}, {{"shape", Ints{4, 4}}});
  }
  Value* scalar(double v) {
    return b_.op(OpKind::Full, {}, {{"shape", Ints{}}, {"value", v}, {"dtype", kF}});
  }

  Value* step() {
    static const OpKind kUnary[] = {OpKind::Tanh, OpKind::Sigmoid, OpKind::Neg, OpKind::Abs,
                                    OpKind::Sin,  OpKind::Relu,    OpKind::Exp, OpKind::Square};
    static const OpKind kBinary[] = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Maximum,
                                     OpKind::Minimum};
    static const OpKind kReduce[] = {OpKind::Sum,  OpKind::Max,  OpKind::Min,
                                     OpKind::Mean, OpKind::Prod, OpKind::Logsumexp};
    switch (r_.below(10)) {
    case 0:
    case 1:
      return b_.op(kUnary[r_.below(8)], {b_.op(OpKind::Tanh, {pick()})});
    case 2:
    case 3:
      return b_.op(kBinary[r_.below(5)], {pick(), pick()});
    case 4: { // a reduction over a random axis set; [4]/[] when dropped, else kept
      static const Ints kAxes[] = {{0}, {1}, {0, 1}};
      const Ints& axes = kAxes[r_.below(3)];
      bool keep = r_.below(2) == 0 || axes == Ints{1};
      return b_.op(kReduce[r_.below(6)], {square()}, {{"axes", axes}, {"keepdims", keep}});
    }
    case 5:
      return b_.op(r_.below(2) ? OpKind::Softmax : OpKind::LogSoftmax, {square()},
                   {{"axis", int64_t{r_.below(2)}}});
    case 6: { // mask: -inf where the value is below a threshold (rows may be fully masked)
      Value* x = square();
      Value* m = b_.op(OpKind::Gt, {x, scalar(r_.uniform(-1, 1))});
      return b_.op(OpKind::Select, {m, x, scalar(-INFINITY)});
    }
    case 7: { // a transpose, or a sum over a unit axis (decompose makes it a reshape)
      if (r_.below(2))
        return b_.op(OpKind::Transpose, {square()}, {{"perm", Ints{1, 0}}});
      Value* r = b_.op(OpKind::Reshape, {square()}, {{"shape", Ints{4, 1, 4}}});
      return b_.op(OpKind::Sum, {r}, {{"axes", Ints{1}}});
    }
    case 8: {
      Value* gamma = g_.add_input({kF, ir::Shape{4}}, "gamma");
      Value* beta = g_.add_input({kF, ir::Shape{4}}, "beta");
      return r_.below(2) ? b_.op(OpKind::LayerNorm, {square(), gamma, beta})
                         : b_.op(OpKind::RmsNorm, {square(), gamma});
    }
    default:
      return b_.op(OpKind::Mul, {pick(), b_.op(OpKind::Iota, {},
                                               {{"shape", Ints{4}}, {"axis", 0}, {"dtype", kF}})});
    }
  }

  Rng r_;
  ir::Graph& g_;
  ir::Builder b_;
  std::vector<Value*> pool_;
};

std::vector<ir::interp::Array> random_inputs(const ir::Graph& g, Rng& r) {
  std::vector<ir::interp::Array> ins;
  for (const Value* in : g.inputs()) {
    ir::interp::Array a(in->type);
    for (double& x : a.data) // a coarse grid, so that ties and exact zeros happen
      x = static_cast<double>(r.below(17) - 8) / 4.0 + (r.below(4) ? r.uniform(-0.1, 0.1) : 0.0);
    ins.push_back(std::move(a));
  }
  return ins;
}

} // namespace

TEST_CASE("fuse: random elementwise/reduction DAGs compute the same and keep the contract") {
  passes::PassContext ctx;
  Rng data(99);
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    ir::Graph g("random");
    GraphGen(seed, g).build(6 + static_cast<int>(seed % 10));
    REQUIRE(!ir::verify(g));
    INFO("seed " << seed << "\n" << ir::print_graph(g));
    test::check_pipeline(g, random_inputs(g, data), ctx);
  }
  // The generator must exercise what it is for: reduce groups, several reductions in one
  // group and refused merges (more groups than reductions' rows would need).
  CHECK(ctx.stat("fuse.reduce-groups") > 300);
  CHECK(ctx.stat("fuse.nodes-fused") > 3000);
}

TEST_CASE("fuse: max-group-size bounds the groups, epilogue=0 keeps matmuls bare") {
  const char* text = R"(
func @f(%x: f32[4,8], %w: f32[8,6], %b: f32[6]) -> f32[4,6] {
  %m = matmul %x, %w : f32[4,6]
  %a = add %m, %b : f32[4,6]
  %g = gelu %a : f32[4,6]
  %e = exp %g : f32[4,6]
  %t = tanh %e : f32[4,6]
  return %t
})";
  auto fuse_with = [&](std::map<std::string, std::string> opts) {
    ir::Module m = ir::parse_module(text, "f.tir");
    passes::PassContext ctx(std::move(opts));
    test::run_pass(*m.funcs[0], "fuse", ctx);
    test::check_groups(*m.funcs[0]);
    return std::make_pair(test::check_groups(*m.funcs[0]), ctx.stats());
  };
  auto [all, s_all] = fuse_with({});
  CHECK_EQ(all.library, 1); // matmul + add + gelu + exp + tanh, all post-ops
  CHECK_EQ(all.loop, 0);
  auto [bare, s_bare] = fuse_with({{"fuse.epilogue", "0"}});
  CHECK_EQ(bare.library, 0);
  CHECK_EQ(bare.loop, 1); // the epilogue as one loop group after a bare matmul
  auto [small, s_small] = fuse_with({{"fuse.epilogue", "0"}, {"fuse.max-group-size", "2"}});
  CHECK_EQ(small.loop, 2); // 4 elementwise ops in groups of at most 2
  CHECK_EQ(s_small.at("fuse.nodes-fused"), 4);
  ir::Module m = ir::parse_module(text, "f.tir");
  passes::PassContext bad(std::map<std::string, std::string>{{"fuse.max-group-size", "0"}});
  CHECK_THROWS_AS(passes::create_pass("fuse")->run(*m.funcs[0], bad), ir::Error);
}

TEST_CASE("fuse: a graph with nothing to fuse is reported unchanged") {
  ir::Module m = ir::parse_module(R"(
func @f(%x: f32[4,8], %w: f32[8,6]) -> (f32[4,6], f32[6,8]) {
  %m = matmul %x, %w : f32[4,6]
  %t = transpose %w {perm = [1, 0]} : f32[6,8]
  return %m, %t
})",
                                  "f.tir");
  passes::PassContext ctx;
  std::string before = ir::print_graph(*m.funcs[0]);
  CHECK_FALSE(passes::create_pass("fuse")->run(*m.funcs[0], ctx).changed);
  CHECK_EQ(ir::print_graph(*m.funcs[0]), before);
}

namespace {

std::optional<std::string> check_body(const char* text) {
  ir::Module m = ir::parse_module(text, "body.tir");
  return passes::fusion::check_loop_group(*m.funcs[0]);
}

} // namespace

TEST_CASE("check_loop_group: accepts the contract's groups") {
  CHECK_FALSE(check_body(R"(
func @softmax(%x: f32[4,8]) -> (f32[4,8], f32[4]) {
  %m = max %x {axes = [1], keepdims = true} : f32[4,1]
  %d = sub %x, %m : f32[4,8]
  %e = exp %d : f32[4,8]
  %s = sum %e {axes = [1]} : f32[4]
  %k = reshape %s {shape = [4, 1]} : f32[4,1]
  %y = div %e, %k : f32[4,8]
  return %y, %s
})"));
  CHECK_FALSE(check_body(R"(
func @map_broadcasts(%x: f32[4], %y: f32[3,4]) -> (f32[3,4], f32[3,4]) {
  %e = exp %x : f32[4]
  %a = add %e, %y : f32[3,4]
  %t = transpose %y {perm = [1, 0]} : f32[4,3]
  %u = transpose %t {perm = [1, 0]} : f32[3,4]
  return %a, %u
})"));
  CHECK_FALSE(check_body(R"(
func @leading_axis(%x: f32[5,3]) -> f32[5,3] {
  %s = sum %x {axes = [0]} : f32[3]
  %y = sub %x, %s : f32[5,3]
  return %y
})"));
}

TEST_CASE("check_loop_group: refuses each broken rule with a reason") {
  auto why = [](const char* text) { return check_body(text).value_or("(accepted)"); };
  CHECK_EQ(why(R"(
func @axes_differ(%x: f32[4,8]) -> (f32[4], f32[8]) {
  %a = sum %x {axes = [1]} : f32[4]
  %b = sum %x {axes = [0]} : f32[8]
  return %a, %b
})"),
           "reductions differ: %a reduces [4,8] over 1 but %b reduces [4,8] over 0");
  // s is indexed by the row, but broadcasting [4] against [4,4] reads it by the column.
  CHECK_EQ(why(R"(
func @wrong_axis(%x: f32[4,4]) -> f32[4,4] {
  %s = sum %x {axes = [1]} : f32[4]
  %y = sub %x, %s : f32[4,4]
  return %y
})"),
           "%s depends on a reduction but %y reads it at a non-canonical index");
  CHECK_EQ(why(R"(
func @transposed(%x: f32[4,4]) -> f32[4,4] {
  %m = max %x {axes = [1], keepdims = true} : f32[4,1]
  %d = sub %x, %m : f32[4,4]
  %t = transpose %d {perm = [1, 0]} : f32[4,4]
  return %t
})"),
           "%d depends on a reduction but %t reads it at a non-canonical index");
  CHECK_EQ(why(R"(
func @gathered(%x: f32[4,8], %i: i64[4,1]) -> f32[4,1] {
  %m = max %x {axes = [1], keepdims = true} : f32[4,1]
  %d = sub %x, %m : f32[4,8]
  %g = gather %d, %i {axis = 1} : f32[4,1]
  return %g
})"),
           "%d depends on a reduction but %g reads it at a non-canonical index");
  CHECK_EQ(why(R"(
func @map_shapes(%x: f32[4,8]) -> (f32[4,8], f32[8]) {
  %a = exp %x : f32[4,8]
  %b = slice %x {starts = [0, 0], ends = [1, 8]} : f32[1,8]
  %c = reshape %b {shape = [8]} : f32[8]
  return %a, %c
})"),
           "map group results differ in shape: %a is [4,8] but %c is [8]");
  CHECK_EQ(why(R"(
func @unit_axis(%x: f32[4,1]) -> f32[4] {
  %s = sum %x {axes = [1]} : f32[4]
  return %s
})"),
           "reduction %s reduces axis 1 of extent 1 (run decompose first)");
  CHECK_EQ(why(R"(
func @runtime_op(%x: f32[4,8]) -> f32[4,8] {
  %c = cumsum %x {axis = 1} : f32[4,8]
  return %c
})"),
           "cumsum (%c) cannot be part of a loop group");
  CHECK_EQ(why(R"(
func @passthrough(%x: f32[4,8]) -> (f32[4,8], f32[4,8]) {
  %e = exp %x : f32[4,8]
  return %e, %x
})"),
           "result %x is not computed by the group");
}
