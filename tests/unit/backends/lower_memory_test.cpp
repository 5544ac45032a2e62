// lower_memory_test.cpp: the arena planner (backends/cpu/memory_plan.h) and the memory
// safety of whole lowered plans: a property test over a few hundred random fused graphs.
#include <doctest/doctest.h>

#include <random>

#include "backends/cpu/memory_plan.h"
#include "lower_test_util.h"

using namespace tevo;
using ir::OpKind;
using lower_test::fused;
using Ints = std::vector<int64_t>;

TEST_CASE("arena: buffers live at a common step never share bytes, disjoint ones may") {
  std::vector<cpu::ArenaRequest> reqs = {
      {100, 0, 1}, {64, 1, 2}, {100, 2, 3}, {1, 0, 3}, {0, 1, 1}, {200, 4, 5},
  };
  cpu::ArenaPlan plan = cpu::plan_arena(reqs);
  CHECK(cpu::arena_plan_valid(reqs, plan));
  for (int64_t o : plan.offsets)
    CHECK_EQ(o % cpu::kArenaAlign, 0);
  CHECK_EQ(plan.no_reuse_bytes, 128 + 64 + 128 + 64 + 0 + 256);
  // b5 lives after everything else ended: it reuses offset 0.
  CHECK_EQ(plan.offsets[5], 0);
  CHECK_EQ(plan.arena_bytes, 256);
  // b0 and b2 never meet: they share memory.
  CHECK_EQ(plan.offsets[0], plan.offsets[2]);
}

TEST_CASE("arena: the checker rejects overlapping live buffers and misalignment") {
  std::vector<cpu::ArenaRequest> reqs = {{64, 0, 1}, {64, 1, 2}};
  cpu::ArenaPlan bad{{0, 0}, 128, 128};
  CHECK_FALSE(cpu::arena_plan_valid(reqs, bad));
  cpu::ArenaPlan misaligned{{0, 32}, 128, 128};
  CHECK_FALSE(cpu::arena_plan_valid(reqs, misaligned));
  cpu::ArenaPlan good{{0, 64}, 128, 128};
  CHECK(cpu::arena_plan_valid(reqs, good));
}

TEST_CASE("arena: random request sets are always valid and never above the no-reuse sum") {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<cpu::ArenaRequest> reqs(1 + rng() % 40);
    for (auto& r : reqs) {
      r.first = static_cast<int32_t>(rng() % 30);
      r.last = r.first + static_cast<int32_t>(rng() % 8);
      r.bytes = static_cast<int64_t>(rng() % 5000);
    }
    cpu::ArenaPlan plan = cpu::plan_arena(reqs);
    REQUIRE(cpu::arena_plan_valid(reqs, plan));
    CHECK_LE(plan.arena_bytes, plan.no_reuse_bytes);
    // Deterministic: the same requests give the same plan.
    CHECK_EQ(cpu::plan_arena(reqs).offsets, plan.offsets);
  }
}

namespace {

ir::Value* unary(ir::Builder& b, ir::Value* x, OpKind op) {
  return fused(b, {x}, [op](ir::Builder& rb, std::vector<ir::Value*> in) {
           return std::vector<ir::Value*>{rb.op(op, {in[0]})};
         })->result(0);
}

/// A random fused-like graph: loop groups (elementwise, broadcasting, reductions, two
/// results), standalone views, bare matmuls, library groups and runtime ops, with outputs
/// that may be inputs, views or the same value twice.
std::unique_ptr<ir::Graph> random_graph(std::mt19937& rng) {
  auto g = std::make_unique<ir::Graph>("rand");
  ir::Builder b(*g);
  std::vector<ir::Value*> pool;
  int nin = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < nin; ++i)
    pool.push_back(g->add_input({ir::DType::F32, {4, 8}}, fmt::format("x{}", i)));
  auto pick = [&](auto pred) -> ir::Value* {
    std::vector<ir::Value*> c;
    for (ir::Value* v : pool)
      if (pred(v))
        c.push_back(v);
    return c.empty() ? nullptr : c[rng() % c.size()];
  };
  auto rank2 = [](ir::Value* v) { return v->type.shape.rank() == 2; };
  int nodes = 2 + static_cast<int>(rng() % 14);
  for (int i = 0; i < nodes; ++i) {
    ir::Value* x = pool[rng() % pool.size()];
    ir::Value* made = nullptr;
    switch (rng() % 9) {
    case 0:
      made = unary(b, x, OpKind::Exp);
      break;
    case 1:
      if (ir::Value* y = pick([&](ir::Value* v) { return v->type == x->type; }))
        made = fused(b, {x, y}, [](ir::Builder& rb, std::vector<ir::Value*> in) {
                 return std::vector<ir::Value*>{rb.op(OpKind::Add, {in[0], in[1]})};
               })->result(0);
      break;
    case 2:
      if (rank2(x))
        made = b.op(OpKind::Transpose, {x}, {{"perm", Ints{1, 0}}});
      break;
    case 3:
      if (rank2(x) && x->type.shape.dim(1) > 1)
        made = fused(b, {x}, [](ir::Builder& rb, std::vector<ir::Value*> in) {
                 return std::vector<ir::Value*>{rb.op(OpKind::Sum, {in[0]}, {{"axes", Ints{1}}})};
               })->result(0);
      break;
    case 4:
      if (rank2(x))
        if (ir::Value* y = pick([&](ir::Value* v) {
              return rank2(v) && v->type.shape.dim(0) == x->type.shape.dim(1);
            }))
          made = b.op(OpKind::Matmul, {x, y});
      break;
    case 5:
      made = b.op(OpKind::Reshape, {x}, {{"shape", Ints{x->type.numel()}}});
      break;
    case 6:
      made = b.op(OpKind::Cumsum, {x}, {{"axis", int64_t{0}}});
      break;
    case 7: // two results: x * 2 and x + x
      if (ir::Node* n = fused(b, {x}, [](ir::Builder& rb, std::vector<ir::Value*> in) {
            ir::Value* two = rb.op(OpKind::Full, {}, {{"shape", Ints{}}, {"value", 2.0}});
            return std::vector<ir::Value*>{rb.op(OpKind::Mul, {in[0], two}),
                                           rb.op(OpKind::Add, {in[0], in[0]})};
          })) {
        pool.push_back(n->result(0));
        made = n->result(1);
      }
      break;
    case 8:
      if (rank2(x))
        if (ir::Value* y = pick([&](ir::Value* v) {
              return rank2(v) && v->type.shape.dim(0) == x->type.shape.dim(1);
            }))
          made = fused(b, {x, y}, [](ir::Builder& rb, std::vector<ir::Value*> in) {
                   return std::vector<ir::Value*>{
                       rb.op(OpKind::Relu, {rb.op(OpKind::Matmul, {in[0], in[1]})})};
                 }, "library")->result(0);
      break;
    }
    if (made)
      pool.push_back(made);
  }
  int nout = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < nout; ++i)
    g->outputs.push_back(pool[rng() % pool.size()]);
  return g;
}

} // namespace

TEST_CASE("lower: random fused graphs give plans whose live buffers never overlap") {
  std::mt19937 rng(2024);
  int64_t reused = 0, inplace = 0, copies = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::unique_ptr<ir::Graph> g = random_graph(rng);
    cpu::Lowered low = cpu::lower(*g);
    CAPTURE(trial);
    lower_test::check_memory(low);
    const rt::Plan& p = low.plan;
    REQUIRE_EQ(p.kernels.size(), low.kernels.size());
    REQUIRE_EQ(p.kernel_errors.size(), p.kernels.size());
    CHECK_EQ(p.arena_bytes, low.stats.arena_bytes);
    CHECK_LE(low.stats.arena_bytes, low.stats.no_reuse_bytes);
    reused += low.stats.arena_bytes < low.stats.no_reuse_bytes;
    inplace += low.stats.inplace_reuses;
    copies += static_cast<int64_t>(p.copies.size());
    // Every output buffer is written by exactly one step, and no input ever.
    std::vector<int> writes(p.buffers.size(), 0);
    for (const auto& w : lower_test::step_writes(low))
      for (int32_t b : w)
        ++writes[static_cast<size_t>(b)];
    for (size_t b = 0; b < p.buffers.size(); ++b) {
      if (p.buffers[b].storage == rt::Storage::Output)
        CHECK_EQ(writes[b], 1);
      if (p.buffers[b].storage == rt::Storage::Input)
        CHECK_EQ(writes[b], 0);
    }
  }
  // The generator exercises what it is meant to.
  CHECK_GT(reused, 20);
  CHECK_GT(inplace, 20);
  CHECK_GT(copies, 20);
}
