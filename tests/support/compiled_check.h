// compiled_check.h: a graph compiled by the CPU backend against the reference interpreter,
// for the tests of runtime-kernel ops (fft_conv, linear_scan, ...). Header-only: the test
// binaries that include it link tevo_cpu themselves.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "backends/cpu/compile.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "passes/autodiff/grad.h"
#include "tests/support/random_inputs.h"

namespace tevo::test {

/// "" when got matches want within rtol relative to max(|want|, the rms of want).
inline std::string compare_rms(const ir::interp::Array& got, const ir::interp::Array& want,
                               double rtol) {
  if (!(got.type == want.type))
    return fmt::format("type {} but expected {}", got.type.str(), want.type.str());
  double ss = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    ss += want[i] * want[i];
  double rms = want.numel() > 0 ? std::sqrt(ss / static_cast<double>(want.numel())) : 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    double a = got[i], b = want[i];
    if (!(std::fabs(a - b) <= rtol * std::max(std::fabs(b), rms)))
      return fmt::format("element {}: got {} expected {} (rms {})", i, a, b, rms);
  }
  return "";
}

/// Runs g compiled with `pipeline` on `threads` threads, twice (no state kept between runs).
inline std::vector<ir::interp::Array> run_compiled(const ir::Graph& g,
                                                   const std::vector<ir::interp::Array>& ins,
                                                   int threads,
                                                   const std::string& pipeline = "default") {
  cpu::CompileOptions o;
  o.threads = threads;
  o.pipeline = pipeline;
  auto exe = cpu::compile(g, o);
  cpu::run_arrays(*exe, ins);
  return cpu::run_arrays(*exe, ins);
}

/// Every result of `text`'s first function, compiled on 1 and 2 threads, against the
/// interpreter on random inputs in [-1, 1): f32 within 1e-5, f64 within 1e-11 (rms-relative).
inline void check_compiled(const std::string& text, uint64_t seed,
                           const std::string& pipeline = "default") {
  INFO(text);
  ir::Module m = ir::parse_module(text, "case.tir");
  const ir::Graph& g = *m.funcs[0];
  auto ins = random_inputs(g, seed, -1.0, 1.0, 0.75);
  auto want = ir::interp::run(g, ins);
  double rtol = text.find("f32") != std::string::npos ? 1e-5 : 1e-11;
  for (int threads : {1, 2}) {
    auto got = run_compiled(g, ins, threads, pipeline);
    REQUIRE_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string diff = compare_rms(got[i], want[i], rtol);
      CHECK_MESSAGE(diff.empty(), "threads " << threads << " result " << i << ": " << diff);
    }
  }
}

/// The gradient of every input of a scalar-loss function `text`, compiled (pipeline, 1 and
/// 2 threads) against the interpreter, within 1e-4.
inline void check_gradients(const std::string& text, uint64_t seed,
                            const std::string& pipeline = "default") {
  ir::Module m = ir::parse_module(text, "train.tir");
  ir::Graph& g = *m.funcs[0];
  std::vector<ir::Value*> wrt(g.inputs().begin(), g.inputs().end());
  g.outputs = autodiff::grad(g, g.outputs[0], wrt);
  auto ins = random_inputs(g, seed, -1.0, 1.0, 0.75);
  auto want = ir::interp::run(g, ins);
  for (int threads : {1, 2}) {
    auto got = run_compiled(g, ins, threads, pipeline);
    for (size_t i = 0; i < got.size(); ++i) {
      std::string diff = compare_rms(got[i], want[i], 1e-4);
      CHECK_MESSAGE(diff.empty(), "threads " << threads << " gradient " << i << ": " << diff);
    }
  }
}

} // namespace tevo::test
