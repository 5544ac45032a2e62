// numeric_test.cpp: the default pipeline (canonicalize, cse, dce) preserves what the
// interpreter computes, on random graphs full of things those passes rewrite.
#include <doctest/doctest.h>

#include "tests/support/rng.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "ir/builder.h"
#include "ir/interp/interpreter.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pass_manager.h"

using namespace tevo;
using ir::OpKind;
using ir::Value;

namespace {

using test::Rng;

using Ints = std::vector<int64_t>;

const ir::TensorType kT{ir::DType::F64, ir::Shape{2, 3}};

Value* constant(ir::Builder& b, const ir::TensorType& t, const std::vector<double>& v) {
  return b.op(OpKind::Constant, {}, {{"value", ir::DenseData::from_doubles(t, v)}});
}

Value* splat(ir::Builder& b, Rng& r, double v) {
  switch (r.below(3)) {
  case 0:
    return constant(b, {ir::DType::F64, {}}, {v});
  case 1:
    return b.op(OpKind::Full, {}, {{"shape", Ints{3}}, {"value", v}, {"dtype", ir::DType::F64}});
  default:
    return b.op(OpKind::Full, {}, {{"shape", Ints{2, 3}}, {"value", v}, {"dtype", ir::DType::F64}});
  }
}

/// Builds a random f64[2,3] -> f64[2,3] graph mixing identities, foldable constants,
/// duplicated and dead computations and layout round trips.
std::unique_ptr<ir::Graph> random_graph(uint64_t seed) {
  Rng r(seed);
  auto g = std::make_unique<ir::Graph>("rand");
  ir::Builder b(*g);
  std::vector<Value*> pool = {g->add_input(kT, "x"), g->add_input(kT, "y")};
  auto any = [&] { return pool[static_cast<size_t>(r.below(static_cast<int>(pool.size())))]; };
  const OpKind unary[] = {OpKind::Tanh, OpKind::Neg, OpKind::Sin, OpKind::Sigmoid};
  const OpKind binary[] = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Maximum};
  for (int step = 0; step < 30; ++step) {
    Value* v = any();
    switch (r.below(10)) {
    case 0:
      pool.push_back(b.op(unary[r.below(4)], {v}));
      break;
    case 1: { // a binary op, sometimes twice (swapped when commutative): food for cse
      OpKind k = binary[r.below(4)];
      Value* w = any();
      pool.push_back(b.op(k, {v, w}));
      if (r.below(2))
        pool.push_back(k == OpKind::Sub ? b.op(k, {v, w}) : b.op(k, {w, v}));
      break;
    }
    case 2: { // v * 1, 1 * v, v + 0, 0 + v, v - 0, v / 1
      int which = r.below(6);
      Value* one = splat(b, r, which < 2 || which == 5 ? 1.0 : 0.0);
      const OpKind ops[] = {OpKind::Mul, OpKind::Mul, OpKind::Add,
                            OpKind::Add, OpKind::Sub, OpKind::Div};
      bool swap = which == 1 || which == 3;
      pool.push_back(
          b.op(ops[which], swap ? std::vector<Value*>{one, v} : std::vector<Value*>{v, one}));
      break;
    }
    case 3: { // transpose round trip, sometimes through an elementwise op
      Value* t = b.op(OpKind::Transpose, {v}, {{"perm", Ints{1, 0}}});
      if (r.below(2))
        t = b.op(OpKind::Tanh, {t});
      pool.push_back(b.op(OpKind::Transpose, {t}, {{"perm", Ints{1, 0}}}));
      break;
    }
    case 4: { // reshape chains
      Value* a = b.op(OpKind::Reshape, {v}, {{"shape", Ints{6}}});
      Value* c = b.op(OpKind::Reshape, {a}, {{"shape", Ints{3, 2}}});
      pool.push_back(b.op(OpKind::Reshape, {c}, {{"shape", Ints{2, 3}}}));
      break;
    }
    case 5: { // broadcasts: to the same shape, and of a splat
      Value* same = b.op(OpKind::BroadcastTo, {v}, {{"shape", Ints{2, 3}}});
      Value* s = b.op(OpKind::BroadcastTo, {constant(b, {ir::DType::F64, {}}, {r.uniform(-1, 1)})},
                      {{"shape", Ints{2, 3}}});
      pool.push_back(b.op(OpKind::Add, {same, s}));
      break;
    }
    case 6: { // a foldable constant subgraph feeding live code
      std::vector<double> vals;
      for (int i = 0; i < 6; ++i)
        vals.push_back(r.uniform(-2, 2));
      Value* c = b.op(OpKind::Exp, {constant(b, kT, vals)});
      Value* d = b.op(OpKind::Mul, {c, constant(b, {ir::DType::F64, {3}}, {0.5, 1.5, -1.0})});
      pool.push_back(b.op(OpKind::Add, {v, d}));
      break;
    }
    case 7:
      pool.push_back(b.op(OpKind::Cast, {v}, {{"dtype", ir::DType::F64}}));
      break;
    case 8: // dead code
      b.op(OpKind::Exp, {b.op(unary[r.below(4)], {v})});
      break;
    default: // a cheap duplicate of an existing value's producer
      pool.push_back(b.op(OpKind::Tanh, {v}));
      pool.push_back(b.op(OpKind::Tanh, {v}));
      break;
    }
  }
  g->outputs = {pool.back(), pool[pool.size() / 2]};
  return g;
}

std::vector<ir::interp::Array> random_inputs(const ir::Graph& g, uint64_t seed) {
  Rng r(seed * 7919 + 1);
  std::vector<ir::interp::Array> in;
  for (const Value* v : g.inputs()) {
    ir::interp::Array a(v->type);
    for (auto& x : a.data)
      x = r.uniform(-2, 2);
    in.push_back(std::move(a));
  }
  return in;
}

} // namespace

TEST_CASE("default pipeline: preserves interpreter outputs on random graphs") {
  int64_t total_before = 0, total_after = 0;
  auto pm = passes::PassManager::parse("default").take(); // statistics add up over seeds
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    auto g = random_graph(seed);
    REQUIRE_FALSE(ir::verify(*g).has_value());
    auto original = g->clone();
    pm.run(*g);
    CAPTURE(ir::print_graph(*g));
    REQUIRE_FALSE(ir::verify(*g).has_value());
    total_before += static_cast<int64_t>(original->nodes().size());
    total_after += static_cast<int64_t>(g->nodes().size());
    // A second run finds nothing: the pipeline reaches a fixed point in one go.
    CHECK_FALSE(passes::PassManager::parse("default").take().run(*g));

    auto in = random_inputs(*original, seed);
    auto want = ir::interp::run(*original, in);
    auto got = ir::interp::run(*g, in);
    REQUIRE_EQ(want.size(), got.size());
    for (size_t o = 0; o < want.size(); ++o) {
      REQUIRE(want[o].type == got[o].type);
      for (int64_t i = 0; i < want[o].numel(); ++i)
        CHECK(std::abs(want[o][i] - got[o][i]) <= 1e-12 * (1 + std::abs(want[o][i])));
    }
  }
  // The graphs are built to be shrunk: the pipeline must actually have done work, with
  // every rule the generator aims at.
  CHECK(total_after * 2 < total_before);
  for (const char* stat :
       {"canonicalize.fold-constant", "canonicalize.mul-by-one", "canonicalize.add-zero",
        "canonicalize.sub-zero", "canonicalize.div-by-one", "canonicalize.transpose-transpose",
        "canonicalize.reshape-reshape", "canonicalize.broadcast-identity",
        "canonicalize.cast-identity", "cse.eliminated", "dce.erased"}) {
    CAPTURE(stat);
    auto it = pm.context().stats().find(stat);
    CHECK((it != pm.context().stats().end() && it->second > 0));
  }
}

TEST_CASE("each pass alone preserves interpreter outputs") {
  for (const char* pipeline : {"canonicalize", "cse", "dce"}) {
    for (uint64_t seed = 100; seed < 110; ++seed) {
      CAPTURE(pipeline);
      CAPTURE(seed);
      auto g = random_graph(seed);
      auto original = g->clone();
      passes::PassManager::parse(pipeline).take().run(*g);
      auto in = random_inputs(*original, seed);
      auto want = ir::interp::run(*original, in);
      auto got = ir::interp::run(*g, in);
      for (size_t o = 0; o < want.size(); ++o)
        for (int64_t i = 0; i < want[o].numel(); ++i)
          CHECK(std::abs(want[o][i] - got[o][i]) <= 1e-12 * (1 + std::abs(want[o][i])));
    }
  }
}
