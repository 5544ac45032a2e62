// fuse_golden_test.cpp: decompose + fuse over every golden op case (tests/ops/golden),
// on the golden inputs: the rewritten graphs verify, loop groups keep the contract, the
// decomposed graph matches the original (f64 within 1e-9 relative) and the fused graph
// matches the decomposed one exactly.
#include "ir/parser.h"
#include "runtime/file_io.h"
#include "runtime/safetensors.h"
#include "tests/unit/fuse/fuse_check.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>

using namespace tevo;

namespace {

const std::string kGolden = std::string(TEVO_SOURCE_DIR) + "/tests/ops/golden";

std::vector<std::string> families() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(kGolden))
    if (e.path().extension() == ".tir")
      out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("fuse: every golden case computes the same after decompose and fuse") {
  passes::PassContext ctx;
  int cases = 0;
  test::FuseCounts total;
  for (const auto& fam : families()) {
    auto bytes = rt::read_file(kGolden + "/" + fam + ".tir");
    ir::Module m = ir::parse_module(std::string(bytes.begin(), bytes.end()), fam + ".tir");
    auto data = rt::read_safetensors(kGolden + "/" + fam + ".safetensors");
    for (const auto& g : m.funcs) {
      INFO("case " << g->name << " (" << fam << ".tir)");
      std::vector<ir::interp::Array> ins;
      for (size_t i = 0; i < g->inputs().size(); ++i) {
        const rt::HostTensor* t = data.find(fmt::format("{}.in{}", g->name, i));
        REQUIRE(t != nullptr);
        ins.push_back(ir::interp::Array::from_bytes(ir::TensorType{t->dtype, ir::Shape(t->shape)},
                                                    t->data.data()));
      }
      auto fused = test::check_pipeline(*g, ins, ctx);
      test::FuseCounts c = test::check_groups(*fused);
      total.loop += c.loop;
      total.reduce += c.reduce;
      total.library += c.library;
      ++cases;
    }
  }
  MESSAGE(cases << " golden cases: " << total.loop << " loop groups (" << total.reduce
                << " reduce), " << total.library << " library groups");
  CHECK(cases > 100);
  CHECK(total.reduce > 10); // the reduce/norm families must actually fuse
  CHECK(ctx.stat("decompose.expanded") > 0);
}
