// registry_test.cpp: the pass table built from passes.def.
#include <doctest/doctest.h>

#include "ir/diag.h"
#include "passes/pass_registry.h"

using namespace tevo::passes;

TEST_CASE("pass registry: lists passes.def in order with their summaries") {
  auto all = all_passes();
  REQUIRE(all.size() >= 7u);
  CHECK_EQ(all[0].name, "canonicalize");
  CHECK_EQ(all[1].name, "cse");
  CHECK_EQ(all[2].name, "dce");
  CHECK_EQ(all[3].name, "decompose");
  CHECK_EQ(all[4].name, "fuse");
  CHECK_EQ(all[5].name, "reassociate-matmul");
  CHECK_EQ(all[6].name, "fuse-attention");
  CHECK_EQ(all[1].description, "Eliminate common subexpressions");
  std::string names;
  for (const auto& p : all)
    names += (names.empty() ? "" : ", ") + std::string(p.name);
  CHECK_EQ(known_pass_names(), names);
  CHECK(names.rfind("canonicalize, cse, dce, decompose, fuse, reassociate-matmul, fuse-attention", 0) == 0);
}

TEST_CASE("pass registry: create_pass names the pass, unknown names give nullptr") {
  for (const auto& info : all_passes()) {
    auto p = create_pass(info.name);
    REQUIRE(p != nullptr);
    CHECK_EQ(p->name(), info.name);
    CHECK_EQ(p->description(), info.description);
  }
  CHECK(create_pass("fold") == nullptr);
  CHECK(find_pass("cse") != nullptr);
  CHECK(find_pass("CSE") == nullptr);
}

TEST_CASE("pass context: integer options parse or fail with the option's name") {
  PassContext ctx({{"canonicalize.max-iterations", "4"}, {"bad", "4x"}});
  CHECK_EQ(ctx.option_i64("canonicalize.max-iterations", 16), 4);
  CHECK_EQ(ctx.option_i64("absent", 16), 16);
  CHECK_EQ(ctx.option("absent", "d"), "d");
  CHECK_THROWS_WITH_AS(ctx.option_i64("bad", 1),
                       "error: pass option 'bad' must be an integer, got '4x'", tevo::ir::Error);
  ctx.stat("x.y") += 2;
  ctx.stat("x.y") += 3;
  CHECK_EQ(ctx.stats().at("x.y"), 5);
}
