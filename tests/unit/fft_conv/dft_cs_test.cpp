// dft_cs_test.cpp: the dft_cs op (cosine and sine parts of the DFT) and the dft-matmul
// rewrite: the interpreter against the DFT-matrix products it stands for, f64 gradient
// checks, the CPU runtime kernel (radix-2 and Bluestein lengths, any axis, strided input,
// 1 and 2 threads) against the interpreter, and FNet's mixer rewritten at N = 512.
#include "frontend/nn/variants/fnet.h"
#include "frontend/nn/variants/lm.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "passes/pass_manager.h"
#include "tests/support/compiled_check.h"
#include "tests/support/count_ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/op_infer.h"
#include "tests/support/rng.h"

#include <cmath>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <numbers>

using namespace tevo;
using namespace tevo::ir;

namespace {

std::string dims_str(const std::vector<int64_t>& d) {
  return fmt::format("[{}]", fmt::join(d, ","));
}

/// func @f(%x) -> (c, s) = dft_cs(x) along `axis`.
std::string dft_text(const char* t, const std::vector<int64_t>& dims, int64_t axis) {
  std::string ty = t + dims_str(dims);
  return fmt::format("func @f(%x: {0}) -> ({0}, {0}) {{\n  %c, %s = dft_cs %x {{axis = {1}}} : "
                     "{0}, {0}\n  return %c, %s\n}}\n",
                     ty, axis);
}

} // namespace

TEST_CASE("dft_cs: the interpreter equals the products with the cos / sin DFT matrices") {
  test::Rng rng(5);
  for (int64_t n : {1, 2, 3, 8, 12, 17}) {
    CAPTURE(n);
    // x [2, n, 3], transformed along axis 1.
    interp::Array x(TensorType{DType::F64, Shape{2, n, 3}});
    for (int64_t i = 0; i < x.numel(); ++i)
      x[i] = rng.uniform(-1, 1);
    Module m = parse_module(dft_text("f64", {2, n, 3}, 1), "dft.tir");
    auto got = interp::run(*m.funcs[0], {x});
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < 3; ++i) {
          double c = 0, s = 0;
          for (int64_t j = 0; j < n; ++j) {
            double a = 2 * std::numbers::pi * static_cast<double>(j * k) / static_cast<double>(n);
            c += std::cos(a) * x[(b * n + j) * 3 + i];
            s += std::sin(a) * x[(b * n + j) * 3 + i];
          }
          int64_t at = (b * n + k) * 3 + i;
          CHECK(std::fabs(got[0][at] - c) <= 1e-12 * static_cast<double>(n));
          CHECK(std::fabs(got[1][at] - s) <= 1e-12 * static_cast<double>(n));
        }
  }
}

TEST_CASE("dft_cs: type rules are one-line errors") {
  using testing::infer;
  using testing::tt;
  CHECK_EQ(infer(OpKind::DftCs, {tt(DType::F32, {3, 8})}), "f32[3,8], f32[3,8]");
  CHECK(infer(OpKind::DftCs, {tt(DType::I64, {4})}).find("f32 or f64") != std::string::npos);
  CHECK(infer(OpKind::DftCs, {tt(DType::F32, {4})}, {{"axis", int64_t{1}}}).find("axis") !=
        std::string::npos);
  CHECK(infer(OpKind::DftCs, {tt(DType::F32, {3, 0})}).find("at least 1") != std::string::npos);
}

TEST_CASE("dft_cs: f64 gradient checks (both parts, one part, through ops)") {
  const char* text = R"(
func @both(%x: f64[3,5]) -> f64[3,5] {
  %c, %s = dft_cs %x {axis = 1} : f64[3,5], f64[3,5]
  %t = tanh %c : f64[3,5]
  %y = mul %t, %s : f64[3,5]
  return %y
}
func @sin_only_axis0(%x: f64[4,2]) -> f64[4,2] {
  %c, %s = dft_cs %x {axis = 0} : f64[4,2], f64[4,2]
  return %s
}
)";
  Module m = parse_module(text, "grad.tir");
  for (const auto& g : m.funcs) {
    INFO(g->name);
    test::Rng rng(9);
    std::vector<interp::Array> ins;
    for (const Value* v : g->inputs()) {
      interp::Array a(v->type);
      for (int64_t i = 0; i < a.numel(); ++i)
        a[i] = rng.uniform(-1, 1);
      ins.push_back(std::move(a));
    }
    testing::GradcheckResult r = testing::gradcheck(*g, ins);
    CHECK_MESSAGE(r.ok, r.report);
    CHECK(r.checked > 0);
  }
}

TEST_CASE("dft_cs: the CPU kernel matches the interpreter (radix 2, Bluestein, axes, threads)") {
  struct Case {
    std::vector<int64_t> dims;
    int64_t axis;
  };
  for (const char* t : {"f64", "f32"})
    for (Case c : {Case{{3, 16}, -1}, Case{{2, 17, 3}, 1}, Case{{12, 5}, 0}, Case{{4, 1}, 1},
                   Case{{1, 1000}, 1}, Case{{6, 256}, 1}}) {
      CAPTURE(t);
      CAPTURE(dims_str(c.dims));
      test::check_compiled(dft_text(t, c.dims, c.axis), 17, "canonicalize,cse,dce");
    }
  // A strided operand (a transposed view) and a training graph's gradient.
  test::check_compiled(R"(func @f(%x: f32[9,4]) -> f32[4,9] {
  %t = transpose %x {perm = [1, 0]} : f32[4,9]
  %c, %s = dft_cs %t {axis = 1} : f32[4,9], f32[4,9]
  %y = sub %c, %s : f32[4,9]
  return %y
}
)",
                       3, "canonicalize,cse,dce");
  // (sum c s would be 0 for every real x: c is even in k, s odd.)
  test::check_gradients(R"(func @f(%x: f32[3,24], %w: f32[3,24]) -> f32[] {
  %c, %s = dft_cs %x {axis = 1} : f32[3,24], f32[3,24]
  %a = mul %c, %w : f32[3,24]
  %b = mul %s, %w : f32[3,24]
  %p = add %a, %b : f32[3,24]
  %l = sum %p {axes = [0, 1]} : f32[]
  return %l
}
)",
                        4, "canonicalize,cse,dce");
}

TEST_CASE("dft-matmul: FNet's mixer at N = 512 uses the FFT along the sequence and computes "
          "the same") {
  // N = 512: 2 N^2 per lane as a matmul vs the FFT's cost: the rewrite fires for the token
  // axis; D = 8 keeps its matmuls (an 8-point DFT is cheaper as a product).
  const int64_t N = 512, D = 8;
  nn::variants::FNetMixer mixer(D);
  mixer.to(DType::F64);
  Trace t("fnet");
  t.output(mixer.forward(t.input("x", {2, N, D}, DType::F64)));
  std::unique_ptr<Graph> g = t.finish();
  test::Rng rng(11);
  interp::Array x(g->inputs()[0]->type);
  for (int64_t i = 0; i < x.numel(); ++i)
    x[i] = rng.uniform(-1, 1);
  auto want = interp::run(*g, {x});
  int matmuls = test::count_ops(*g, OpKind::Matmul);
  passes::PassManager pm = passes::PassManager::parse("dft-matmul,canonicalize,cse,dce").take();
  CHECK(pm.run(*g));
  CHECK_EQ(test::count_ops(*g, OpKind::DftCs), 1); // cos and sin share one transform
  CHECK_EQ(test::count_ops(*g, OpKind::Matmul), matmuls - 2);
  auto got = interp::run(*g, {x});
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < want[0].numel(); ++i) {
    worst = std::max(worst, std::fabs(got[0][i] - want[0][i]));
    scale = std::max(scale, std::fabs(want[0][i]));
  }
  CHECK(worst <= 1e-9 * scale);
  // Compiled with the default pipeline (f32), against the interpreter.
  mixer.to(DType::F32);
  Trace t32("fnet32");
  t32.output(mixer.forward(t32.input("x", {2, N, D})));
  std::unique_ptr<Graph> g32 = t32.finish();
  interp::Array x32(g32->inputs()[0]->type);
  for (int64_t i = 0; i < x32.numel(); ++i)
    x32[i] = x[i];
  auto want32 = interp::run(*g32, {x32});
  for (int threads : {1, 2}) {
    auto got32 = test::run_compiled(*g32, {x32}, threads);
    std::string diff = test::compare_rms(got32[0], want32[0], 1e-4);
    CHECK_MESSAGE(diff.empty(), "threads " << threads << ": " << diff);
  }
}
