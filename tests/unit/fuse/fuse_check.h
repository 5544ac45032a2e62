// fuse_check.h: runs a graph through decompose and fuse and checks the result, for the
// fusion tests (tests/unit/passes/fuse_test.cpp and tests/unit/fuse/).
//
// check_pipeline: both passes' outputs verify, every loop group satisfies the contract
// (check_loop_group), the decomposed graph matches the original within a tolerance, and
// the fused graph matches the decomposed one exactly (a fused node runs its body, which
// holds the same nodes, so not even rounding may differ).
#pragma once

#include "ir/interp/interpreter.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/fusion/loop_group.h"
#include "passes/pass.h"
#include "passes/pass_registry.h"

#include <cmath>
#include <doctest/doctest.h>
#include <memory>
#include <string>
#include <vector>

namespace tevo::test {

/// What the fused graph turned out to contain.
struct FuseCounts {
  int loop = 0, reduce = 0, library = 0, bare = 0;
};

inline std::string first_mismatch(const ir::interp::Array& got,
                                  const ir::interp::Array& want,
                                  double rtol,
                                  double atol) {
  if (!(got.type == want.type))
    return "type " + got.type.str() + " vs " + want.type.str();
  auto bad = [&](double a, double b) {
    if (std::isnan(b))
      return !std::isnan(a);
    if (std::isinf(b))
      return a != b;
    return !(std::fabs(a - b) <= atol + rtol * std::fabs(b));
  };
  for (size_t i = 0; i < got.data.size(); ++i)
    if (bad(got.data[i], want.data[i]))
      return fmt::format("element {}: {} vs {}", i, got.data[i], want.data[i]);
  return "";
}

/// Tolerance of decomposed vs original, by dtype: f64 1e-9 relative; f32/f16/bf16 a few
/// ulps of the dtype (each decomposed op rounds); integers and bool exact.
inline double rtol_for(ir::DType t) {
  switch (t) {
  case ir::DType::F64:
    return 1e-9;
  case ir::DType::F32:
    return 1e-5;
  case ir::DType::F16:
  case ir::DType::BF16:
    return 3e-2;
  default:
    return 0;
  }
}

/// Runs `pass` over g; fails the test if the result does not verify.
inline void run_pass(ir::Graph& g, const char* pass, passes::PassContext& ctx) {
  passes::create_pass(pass)->run(g, ctx);
  auto err = ir::verify(g);
  REQUIRE_MESSAGE(!err, pass << " broke the graph: " << (err ? err->str() : "") << "\n"
                             << ir::print_graph(g));
}

/// Checks every loop group of g against the contract and counts the units.
inline FuseCounts check_groups(const ir::Graph& g) {
  FuseCounts c;
  for (const auto& n : g.nodes()) {
    if (n->op != ir::OpKind::Fused) {
      ++c.bare;
      continue;
    }
    const ir::Graph& body = *n->attrs.get("body").region();
    if (n->attrs.get("kind").str() == "library") {
      ++c.library;
      continue;
    }
    ++c.loop;
    auto why = passes::fusion::check_loop_group(body);
    CHECK_MESSAGE(!why, "loop group breaks the contract: " << why.value_or("") << "\n"
                                                           << ir::print_graph(body));
    auto info = passes::fusion::analyze_loop_group(body);
    c.reduce += info.ok() && info->reduce ? 1 : 0;
  }
  return c;
}

/// decompose + fuse over a copy of g, checked as described above; returns the fused graph.
inline std::unique_ptr<ir::Graph> check_pipeline(const ir::Graph& g,
                                                 const std::vector<ir::interp::Array>& inputs,
                                                 passes::PassContext& ctx) {
  auto dec = g.clone();
  run_pass(*dec, "decompose", ctx);
  auto fused = dec->clone();
  run_pass(*fused, "fuse", ctx);
  check_groups(*fused);
  std::vector<ir::interp::Array> want, mid, got;
  try {
    want = ir::interp::run(g, inputs);
  } catch (const ir::Error&) {
    // A data error in the original must be one in the rewritten graphs too.
    CHECK_THROWS_AS(ir::interp::run(*dec, inputs), ir::Error);
    CHECK_THROWS_AS(ir::interp::run(*fused, inputs), ir::Error);
    return fused;
  }
  mid = ir::interp::run(*dec, inputs);
  got = ir::interp::run(*fused, inputs);
  REQUIRE_EQ(mid.size(), want.size());
  REQUIRE_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    double rtol = rtol_for(want[i].dtype());
    double atol = want[i].dtype() == ir::DType::F64 ? 1e-12 : rtol;
    std::string d = first_mismatch(mid[i], want[i], rtol, atol);
    CHECK_MESSAGE(d.empty(), "decomposed output " << i << ": " << d << "\n"
                                                  << ir::print_graph(*dec));
    std::string f = first_mismatch(got[i], mid[i], 0, 0);
    CHECK_MESSAGE(f.empty(), "fused output " << i << ": " << f << "\n" << ir::print_graph(*fused));
  }
  return fused;
}

} // namespace tevo::test
