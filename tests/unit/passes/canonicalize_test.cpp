// canonicalize_test.cpp: canonicalize cases that need setup code the text format cannot
// express.
#include <doctest/doctest.h>

#include <cstring>

#include "ir/builder.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"

using namespace tevo;
using ir::OpKind;

TEST_CASE("canonicalize: an i64 splat above 2^53 does not become an (f64-valued) full") {
  ir::Graph g("f");
  ir::Builder b(g);
  auto d = std::make_shared<ir::DenseData>();
  d->type = ir::TensorType{ir::DType::I64, {}};
  int64_t big = (int64_t{1} << 53) + 1; // not a double
  d->bytes.resize(8);
  std::memcpy(d->bytes.data(), &big, 8);
  ir::Value* c = b.op(OpKind::Constant, {}, {{"value", ir::DenseRef(d)}});
  g.outputs = {b.op(OpKind::BroadcastTo, {c}, {{"shape", std::vector<int64_t>{100}}})};
  CHECK_FALSE(passes::PassManager::parse("canonicalize").take().run(g));
  CHECK_EQ(g.nodes().back()->op, OpKind::BroadcastTo);

  // 2^53 itself is exact, so the same graph with it does become a full.
  ir::Graph h("h");
  ir::Builder bh(h);
  ir::Value* c2 =
      bh.op(OpKind::Constant, {}, {{"value", ir::DenseData::from_doubles(d->type, {0x1.0p53})}});
  h.outputs = {bh.op(OpKind::BroadcastTo, {c2}, {{"shape", std::vector<int64_t>{100}}})};
  CHECK(passes::PassManager::parse("canonicalize").take().run(h));
  CHECK_EQ(h.nodes().back()->op, OpKind::Full);
}

TEST_CASE("canonicalize: rewrites keep names, and a fold keeps the folded node's name") {
  ir::Graph g("f");
  ir::Builder b(g);
  ir::TensorType t{ir::DType::F32, {2}};
  ir::Value* a =
      b.op(OpKind::Constant, {}, {{"value", ir::DenseData::from_doubles(t, {1, 2})}}, {}, "a");
  ir::Value* s = b.op(OpKind::Add, {a, a}, {}, {}, "sum");
  g.outputs = {s};
  CHECK(passes::PassManager::parse("canonicalize,dce").take().run(g));
  CHECK_EQ(ir::print_graph(g), "func @f() -> f32[2] {\n"
                               "  %sum = constant {value = dense<f32[2]: [2.0, 4.0]>} : f32[2]\n"
                               "  return %sum\n}\n");
}
