// pass_manager_test.cpp: pipeline parsing, dumps, verification after each pass, reports.
#include <doctest/doctest.h>

#include <sstream>

#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "passes/pass_registry.h"

using namespace tevo;
using namespace tevo::passes;

namespace {

const char* kSrc = R"(func @f(%x: f32[2]) -> f32[2] {
  %one = constant {value = dense<f32[]: [1.0]>} : f32[]
  %a = mul %x, %one : f32[2]
  %b = exp %a : f32[2]
  %c = exp %x : f32[2]
  %d = add %b, %c : f32[2]
  return %d
}
)";

const char* kOptimized = R"(func @f(%x: f32[2]) -> f32[2] {
  %b = exp %x : f32[2]
  %d = add %b, %b : f32[2]
  return %d
}
)";

std::string parse_error(std::string_view pipeline, PipelineOptions opts = {}) {
  auto pm = PassManager::parse(pipeline, std::move(opts));
  return pm.ok() ? "<no error>" : pm.error().message;
}

/// Replaces every exp by a neg without telling anyone: breaks nothing, lies about it.
class LyingPass final : public Pass {
public:
  std::string_view name() const override {
    return "lying";
  }
  PassResult run(ir::Graph& g, PassContext&) override {
    for (const auto& n : g.nodes())
      if (n->op == ir::OpKind::Exp)
        n->op = ir::OpKind::Neg;
    return {false};
  }
};

/// Gives the first node a result type its op does not infer.
class BreakingPass final : public Pass {
public:
  std::string_view name() const override {
    return "break-types";
  }
  PassResult run(ir::Graph& g, PassContext&) override {
    g.nodes().front()->result(0)->type.shape = ir::Shape{7};
    return {true};
  }
};

} // namespace

TEST_CASE("pass manager: parses pipelines, expands default, accepts the empty one") {
  auto pm = PassManager::parse("canonicalize, cse ,dce").take();
  CHECK_EQ(pm.pipeline_string(), "canonicalize,cse,dce");
  CHECK_EQ(PassManager::parse("default").take().pipeline_string(), kDefaultPipeline);
  CHECK_EQ(PassManager::parse("dce,default").take().pipeline_string(),
           "dce," + std::string(kDefaultPipeline));
  CHECK(PassManager::parse("").take().pipeline().empty());
}

TEST_CASE("pass manager: pipeline errors name the problem and the known passes") {
  CHECK_EQ(parse_error("canonicalize,fold"),
           "unknown pass 'fold' in pipeline (known passes: " + known_pass_names() + ")");
  CHECK_EQ(parse_error("cse,,dce"), "empty pass name in pipeline 'cse,,dce'");
  CHECK_EQ(parse_error("cse,"), "empty pass name in pipeline 'cse,'");
  PipelineOptions before;
  before.print_before = {"csee"};
  CHECK_EQ(parse_error("cse", before),
           "unknown pass 'csee' in print-before (known passes: " + known_pass_names() + ")");
  PipelineOptions after;
  after.print_after = {"dce", "x"};
  CHECK_EQ(parse_error("cse", after),
           "unknown pass 'x' in print-after (known passes: " + known_pass_names() + ")");
}

TEST_CASE("pass manager: runs the default pipeline and reports the change") {
  auto g = ir::parse_graph(kSrc, "t.tir");
  auto pm = PassManager::parse("default").take();
  CHECK(pm.run(*g));
  CHECK_EQ(ir::print_graph(*g), kOptimized);
  CHECK_FALSE(pm.run(*g)); // already canonical: nothing left to do
  CHECK_EQ(pm.context().stats().at("cse.eliminated"), 1);
  CHECK_EQ(pm.context().stats().at("canonicalize.mul-by-one"), 1);
  CHECK_EQ(pm.context().stats().at("dce.erased"), 1);
}

TEST_CASE("pass manager: dumps are deterministic and headed by the pipeline once") {
  auto run_dump = [] {
    std::ostringstream log;
    PipelineOptions o;
    o.print_after_all = true;
    o.print_before = {"cse"};
    o.log = &log;
    auto g = ir::parse_graph(kSrc, "t.tir");
    PassManager::parse("canonicalize,cse,dce", o).take().run(*g);
    return log.str();
  };
  std::string s = run_dump();
  CHECK_EQ(s, run_dump());
  CHECK_EQ(s.find("// pipeline: canonicalize,cse,dce\n// ----- IR after canonicalize -----\n"), 0u);
  CHECK_EQ(s.find("// pipeline:", 1), std::string::npos);
  size_t before = s.find("// ----- IR before cse -----\n");
  size_t after_canon = s.find("// ----- IR after canonicalize -----");
  size_t after_cse = s.find("// ----- IR after cse -----\n");
  size_t after_dce = s.find("// ----- IR after dce -----\n");
  CHECK(after_canon < before);
  CHECK(before < after_cse);
  CHECK(after_cse < after_dce);
  CHECK_EQ(s.substr(after_dce), std::string("// ----- IR after dce -----\n") + kOptimized);
}

TEST_CASE("pass manager: print_changed says (unchanged) for a pass that changed nothing") {
  std::ostringstream log;
  PipelineOptions o;
  o.print_changed = true;
  o.log = &log;
  auto g = ir::parse_graph(kOptimized, "t.tir");
  CHECK_FALSE(PassManager::parse("cse", o).take().run(*g));
  CHECK_EQ(log.str(), "// pipeline: cse\n// ----- IR after cse (unchanged) -----\n");
}

TEST_CASE("pass manager: a pass that changes the IR but says it did not is caught") {
  std::ostringstream log;
  PipelineOptions o;
  o.print_changed = true;
  o.log = &log;
  auto pm = PassManager::parse("", o).take();
  pm.add(std::make_unique<LyingPass>());
  auto g = ir::parse_graph(kOptimized, "t.tir");
  CHECK_THROWS_WITH_AS(pm.run(*g),
                       "error: internal error: pass 'lying' changed the IR but reported no change",
                       ir::Error);
}

TEST_CASE("pass manager: verify_each turns invalid IR into an internal error naming the pass") {
  auto g = ir::parse_graph(kOptimized, "t.tir");
  auto pm = PassManager::parse("").take();
  pm.add(std::make_unique<BreakingPass>());
  CHECK_THROWS_WITH_AS(pm.run(*g),
                       "t.tir:2:3: error: internal error: pass 'break-types' produced invalid IR: "
                       "[exp] "
                       "result 0 has type f32[7] but the op infers f32[2]\nnote: in b",
                       ir::Error);
  // With verification off, the broken graph goes through unnoticed.
  PipelineOptions o;
  o.verify_each = false;
  auto g2 = ir::parse_graph(kOptimized, "t.tir");
  auto pm2 = PassManager::parse("", o).take();
  pm2.add(std::make_unique<BreakingPass>());
  CHECK(pm2.run(*g2));
}

TEST_CASE("pass manager: runs every function of a module") {
  auto m =
      ir::parse_module(std::string(kSrc) + "\n" +
                           "func @g(%x: f32[2]) -> f32[2] {\n  %a = exp %x : f32[2]\n"
                           "  %b = exp %x : f32[2]\n  %c = add %a, %b : f32[2]\n  return %c\n}\n",
                       "t.tir");
  std::ostringstream log;
  PipelineOptions o;
  o.print_after = {"dce"};
  o.log = &log;
  auto pm = PassManager::parse("default", o).take();
  CHECK(pm.run(m));
  std::string text = ir::print_module(m);
  CHECK_EQ(log.str(), "// pipeline: " + std::string(kDefaultPipeline) +
                          "\n// ----- IR after dce -----\n" + text);
  CHECK_EQ(pm.context().stats().at("cse.eliminated"), 2);
}

TEST_CASE("pass manager: report() holds the statistics and timing tables when asked") {
  PipelineOptions o;
  o.pass_stats = true;
  o.time_passes = true;
  auto pm = PassManager::parse("default", o).take();
  auto g = ir::parse_graph(kSrc, "t.tir");
  pm.run(*g);
  std::string r = pm.report();
  CHECK(r.find("===----- pass execution times (wall clock) -----===\n") == 0);
  CHECK(r.find("  canonicalize\n") != std::string::npos);
  CHECK(r.find("  total\n") != std::string::npos);
  CHECK(r.find("===----- pass statistics -----===\n"
               "  canonicalize.mul-by-one  1\n"
               "  cse.eliminated           1\n"
               "  dce.erased               1\n") != std::string::npos);
  CHECK_EQ(PassManager::parse("default").take().report(), "");
}

TEST_CASE("canonicalize: not converging within the iteration cap is an internal error") {
  // Any change needs one more, quiet sweep to confirm the fixed point: a cap of one sweep
  // leaves no room for it.
  const char* src = R"(func @f(%x: f32[2,3]) -> f32[2,3] {
  %t = transpose %x {perm = [1, 0]} : f32[3,2]
  %u = transpose %t {perm = [1, 0]} : f32[2,3]
  return %u
}
)";
  PipelineOptions o;
  o.pass_options["canonicalize.max-iterations"] = "1";
  auto g = ir::parse_graph(src, "t.tir");
  CHECK_THROWS_WITH_AS(PassManager::parse("canonicalize", o).take().run(*g),
                       "error: internal error: canonicalize did not converge in 1 iterations on @f",
                       ir::Error);
  o.pass_options["canonicalize.max-iterations"] = "2";
  auto g2 = ir::parse_graph(src, "t.tir");
  CHECK(PassManager::parse("canonicalize", o).take().run(*g2));
}
