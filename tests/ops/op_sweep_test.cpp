// op_sweep_test.cpp: every op in the registry, driven by the golden cases.
//
// For each case in tests/ops/golden/<family>.{tir,safetensors} (generated from NumPy by
// gen_golden.py): the text round-trips byte for byte, the verifier accepts, and the
// interpreter's outputs (whose types are checked against type inference) match NumPy's
// within the case tolerance. The sweep fails when an op in the registry has no case:
// a new op cannot land untested.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "ir/interp/interpreter.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "runtime/file_io.h"
#include "runtime/safetensors.h"
#include "tests/support/gradcheck.h"

using namespace tevo;
using namespace tevo::ir;

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

interp::Array to_array(const rt::HostTensor& t) {
  return interp::Array::from_bytes(TensorType{t.dtype, Shape(t.shape)}, t.data.data());
}

/// Max violation of |got - want| <= atol + rtol |want| (NaN must match NaN, inf must
/// match inf of the same sign). Returns "" when within tolerance.
std::string compare(const interp::Array& got, const interp::Array& want, double rtol,
                    double atol) {
  if (!(got.type == want.type))
    return fmt::format("type {} but expected {}", got.type.str(), want.type.str());
  auto check = [&](const std::vector<double>& g, const std::vector<double>& w) -> std::string {
    for (size_t i = 0; i < g.size(); ++i) {
      double a = g[i], b = w[i];
      if (std::isnan(b) ? !std::isnan(a) : (std::isinf(b) ? a != b : std::fabs(a - b) > atol + rtol * std::fabs(b)))
        return fmt::format("element {}: got {} expected {}", i, a, b);
    }
    return "";
  };
  std::string e = check(got.data, want.data);
  if (e.empty() && !want.imag.empty())
    e = check(got.imag, want.imag);
  return e;
}

} // namespace

TEST_CASE("op sweep: every golden case round-trips, verifies and matches NumPy") {
  std::set<OpKind> covered;
  int cases = 0;
  for (const auto& fam : families()) {
    auto text_bytes = rt::read_file(kGolden + "/" + fam + ".tir");
    std::string text(text_bytes.begin(), text_bytes.end());
    Module m = parse_module(text, fam + ".tir");
    std::string printed = print_module(m);
    CHECK_MESSAGE(print_module(parse_module(printed, fam + ".tir")) == printed,
                  fam << ": reprint differs");
    auto data = rt::read_safetensors(kGolden + "/" + fam + ".safetensors");
    for (const auto& g : m.funcs) {
      ++cases;
      INFO("case " << g->name << " (" << fam << ".tir)");
      auto err = verify(*g);
      CHECK_MESSAGE(!err.has_value(), (err ? err->str() : ""));
      for (const auto& n : g->nodes())
        covered.insert(n->op);
      std::vector<interp::Array> ins;
      for (size_t i = 0; i < g->inputs().size(); ++i) {
        const rt::HostTensor* t = data.find(fmt::format("{}.in{}", g->name, i));
        REQUIRE_MESSAGE(t != nullptr, "missing input " << i);
        ins.push_back(to_array(*t));
      }
      const std::string* rtol = data.meta(g->name + ".rtol");
      const std::string* atol = data.meta(g->name + ".atol");
      REQUIRE((rtol && atol));
      std::vector<interp::Array> outs;
      try {
        outs = interp::run(*g, ins);
      } catch (const Error& e) {
        FAIL_CHECK("interpreter failed: " << std::string(e.what()));
        continue;
      }
      REQUIRE_EQ(outs.size(), g->outputs.size());
      for (size_t i = 0; i < outs.size(); ++i) {
        const rt::HostTensor* t = data.find(fmt::format("{}.out{}", g->name, i));
        REQUIRE_MESSAGE(t != nullptr, "missing expected output " << i);
        std::string diff = compare(outs[i], to_array(*t), std::stod(*rtol), std::stod(*atol));
        CHECK_MESSAGE(diff.empty(), "output " << i << ": " << diff);
      }
    }
  }
  MESSAGE(cases << " golden cases, " << covered.size() << " of " << kNumOps << " ops covered");
  std::string missing;
  for (const auto& d : all_ops())
    if (!covered.count(d.kind))
      missing += (missing.empty() ? "" : ", ") + std::string(d.name);
  CHECK_MESSAGE(missing.empty(), "ops without a golden case: " << missing);
}

TEST_CASE("op sweep: every differentiable op passes an f64 finite-difference gradient check") {
  std::set<OpKind> checked;
  int cases = 0;
  for (const auto& fam : families()) {
    auto text_bytes = rt::read_file(kGolden + "/" + fam + ".tir");
    Module m = parse_module(std::string(text_bytes.begin(), text_bytes.end()), fam + ".tir");
    auto data = rt::read_safetensors(kGolden + "/" + fam + ".safetensors");
    for (const auto& g : m.funcs) {
      const std::string* flag = data.meta(g->name + ".gradcheck");
      if ((flag && *flag == "0") || !testing::is_double_precision(*g))
        continue;
      INFO("case " << g->name << " (" << fam << ".tir)");
      std::vector<interp::Array> ins;
      for (size_t i = 0; i < g->inputs().size(); ++i)
        ins.push_back(to_array(*data.find(fmt::format("{}.in{}", g->name, i))));
      testing::GradcheckResult r;
      try {
        r = testing::gradcheck(*g, ins);
      } catch (const Error& e) {
        FAIL_CHECK("gradient failed: " << std::string(e.what()));
        continue;
      }
      CHECK_MESSAGE(r.ok, r.report);
      if (r.ok && r.checked > 0) {
        ++cases;
        for (const auto& n : g->nodes())
          checked.insert(n->op);
      }
    }
  }
  MESSAGE(cases << " cases gradient-checked");
  std::string missing;
  for (const auto& d : all_ops())
    if (!d.has(kNotDifferentiable) && !d.has(kSource) && !checked.count(d.kind))
      missing += (missing.empty() ? "" : ", ") + std::string(d.name);
  CHECK_MESSAGE(missing.empty(), "differentiable ops without a passing f64 gradient check: " << missing);
}
