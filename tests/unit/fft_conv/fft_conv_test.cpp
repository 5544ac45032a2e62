// fft_conv_test.cpp: the long-convolution ops. Type inference as the verifier (one-line
// diagnostics), f64 gradient checks of both VJPs, the CPU runtime kernels against the
// reference interpreter through cpu::compile (1 and 2 threads; strided operands; rows that
// pair across channels; N up to 65536), the f32 accuracy at N = K = 65536 against direct
// sums, check() errors, and a long conv1d rewritten by `long-conv` and compiled.
#include "backends/cpu/compile.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "passes/autodiff/grad.h"
#include "runtime/json.h"
#include "runtime/kernels/kernels.h"
#include "tests/support/dense_desc.h"
#include "tests/support/compiled_check.h"
#include "tests/support/gradcheck.h"
#include "tests/support/op_infer.h"
#include "tests/support/random_inputs.h"

#include <cmath>
#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace tevo;
using namespace tevo::ir;
using testing::infer;
using testing::tt;

namespace {

constexpr DType F32 = DType::F32, F64 = DType::F64;

std::vector<interp::Array> random_inputs(const Graph& g, uint64_t seed) {
  return test::random_inputs(g, seed, -1.0, 1.0, 0.75);
}

using test::check_compiled;
using test::check_gradients;
using test::run_compiled;

std::string dims(std::vector<int64_t> d) {
  return fmt::format("[{}]", fmt::join(d, ","));
}

/// y = fft_conv(x, k) (and g = fft_conv_grad(y, x) when `grad`); x [lead.., c, n].
std::string conv_text(const char* t, std::vector<int64_t> lead, int64_t c, int64_t n, int64_t k,
                      bool reverse, bool grad = false) {
  std::vector<int64_t> xd = lead;
  xd.push_back(c);
  xd.push_back(n);
  std::string x = fmt::format("{}{}", t, dims(xd)), kt = fmt::format("{}[{},{}]", t, c, k);
  std::string body = fmt::format("  %y = fft_conv %x, %k{} : {}\n",
                                 reverse ? " {reverse = true}" : "", x);
  std::string ret = "%y", rt = x;
  if (grad) {
    body += fmt::format("  %g = fft_conv_grad %y, %x {{k = {}}} : {}\n", k, kt);
    ret = "%y, %g";
    rt = fmt::format("({}, {})", x, kt);
  }
  return fmt::format("func @f(%x: {}, %k: {}) -> {} {{\n{}  return {}\n}}\n", x, kt, rt, body,
                     ret);
}

} // namespace

TEST_CASE("fft_conv: infers y like x and g [C, K], rejects bad operands in one line") {
  CHECK_EQ(infer(OpKind::FftConv, {tt(F32, {2, 3, 16}), tt(F32, {3, 16})}), "f32[2,3,16]");
  CHECK_EQ(infer(OpKind::FftConv, {tt(F64, {3, 5}), tt(F64, {3, 1})}, {{"reverse", true}}),
           "f64[3,5]");
  CHECK_EQ(infer(OpKind::FftConvGrad, {tt(F64, {2, 2, 3, 9}), tt(F64, {2, 2, 3, 9})},
                 {{"k", int64_t{4}}}),
           "f64[3,4]");
  CHECK_EQ(infer(OpKind::FftConv, {tt(F32, {2, 3, 8}), tt(F32, {3, 9})}),
           "[fft_conv] kernel length K = 9 must be in [1, N = 8]: f32[2,3,8] * f32[3,9]");
  CHECK_EQ(infer(OpKind::FftConv, {tt(F32, {2, 3, 8}), tt(F32, {2, 4})}),
           "[fft_conv] k must be [channels = 3, K], got f32[2,4] for x f32[2,3,8]");
  CHECK_EQ(infer(OpKind::FftConv, {tt(F32, {8}), tt(F32, {1, 4})}),
           "[fft_conv] x must be [*, channels, length], got f32[8]");
  CHECK_EQ(infer(OpKind::FftConv, {tt(F32, {2, 8}), tt(F64, {2, 4})}),
           "[fft_conv] operand dtypes differ: f32[2,8] vs f64[2,4] (insert a cast)");
  CHECK_EQ(infer(OpKind::FftConv, {tt(DType::I32, {2, 8}), tt(DType::I32, {2, 4})}),
           "[fft_conv] x must be f32 or f64, got i32[2,8]");
  CHECK_EQ(infer(OpKind::FftConvGrad, {tt(F32, {2, 8}), tt(F32, {2, 7})}, {{"k", int64_t{2}}}),
           "[fft_conv_grad] operands must have the same type: f32[2,8] vs f32[2,7]");
  CHECK_EQ(infer(OpKind::FftConvGrad, {tt(F32, {2, 8}), tt(F32, {2, 8})}, {{"k", int64_t{0}}}),
           "[fft_conv_grad] k = 0 must be in [1, N = 8] for f32[2,8]");
}

TEST_CASE("fft_conv: f64 gradients of both directions and of the kernel gradient") {
  for (bool reverse : {false, true}) {
    Module m = parse_module(conv_text("f64", {2}, 3, 11, 5, reverse, true), "g.tir");
    auto r = testing::gradcheck(*m.funcs[0], random_inputs(*m.funcs[0], reverse ? 3 : 4));
    CHECK_MESSAGE(r.ok, r.report);
    CHECK(r.checked > 0);
  }
}

TEST_CASE("fft_conv kernel: matches the interpreter (causal, reverse, f32/f64, 1 and 2 threads)") {
  uint64_t seed = 1;
  // Row counts that pair rows of one channel, rows of two channels, and leave one alone.
  const std::vector<std::vector<int64_t>> leads = {{}, {1}, {2}, {3}, {2, 3}};
  for (const char* t : {"f64", "f32"})
    for (const auto& lead : leads)
      for (int64_t c : {1, 2, 3})
        for (bool reverse : {false, true})
          check_compiled(conv_text(t, lead, c, 37, c == 2 ? 37 : 13, reverse, true), seed++);
  check_compiled(conv_text("f64", {4}, 2, 1, 1, false, true), seed++); // N = K = 1: n = 1
  check_compiled(conv_text("f64", {1}, 3, 64, 1, false, true), seed++); // K = 1
  check_compiled(conv_text("f32", {2}, 5, 1000, 1000, false, true), seed++);
}

TEST_CASE("fft_conv kernel: strided operands (x as a permuted view, the zoo's layout)") {
  const char* text = R"(func @f(%xt: f32[2,50,6], %k: f32[6,20]) -> (f32[2,6,50], f32[6,20]) {
  %x = transpose %xt {perm = [0, 2, 1]} : f32[2,6,50]
  %kk = transpose %k {perm = [1, 0]} : f32[20,6]
  %k2 = transpose %kk {perm = [1, 0]} : f32[6,20]
  %y = fft_conv %x, %k2 : f32[2,6,50]
  %g = fft_conv_grad %x, %y {k = 20} : f32[6,20]
  return %y, %g
}
)";
  check_compiled(text, 77);
}

TEST_CASE("fft_conv kernel: N = 65536 against the interpreter (f32, 1 and 2 threads)") {
  check_compiled(conv_text("f32", {1}, 3, 65536, 200, false, true), 5);
  check_compiled(conv_text("f32", {2}, 1, 65536, 64, true), 6);
}

TEST_CASE("fft_conv kernel: f32 at N = K = 65536 within 1e-4 of direct sums") {
  const int64_t n = 65536;
  Module m = parse_module(conv_text("f32", {1}, 2, n, n, false), "big.tir");
  const Graph& g = *m.funcs[0];
  auto ins = random_inputs(g, 9);
  for (int threads : {1, 2}) {
    auto y = run_compiled(g, ins, threads)[0];
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{1000}, int64_t{32767}, int64_t{40000},
                        n - 2, n - 1}) {
        long double want = 0;
        for (int64_t s = 0; s <= t; ++s)
          want += static_cast<long double>(ins[1][c * n + s]) * ins[0][c * n + t - s];
        double w = static_cast<double>(want), got = y[c * n + t];
        // Sums of t+1 unit-scale terms: ~sqrt(t+1) in size.
        double tol = 1e-4 * std::max(std::fabs(w), std::sqrt(static_cast<double>(t + 1)) * 0.1);
        CHECK_MESSAGE(std::fabs(got - w) <= tol, "threads " << threads << " c " << c << " t "
                                                            << t << ": " << got << " vs " << w);
      }
  }
}

TEST_CASE("fft_conv kernel: a training graph (autodiff through fft_conv) compiles and matches") {
  const char* text = R"(func @loss(%x: f32[2,4,300], %k: f32[4,300]) -> f32[] {
  %y = fft_conv %x, %k : f32[2,4,300]
  %t = tanh %y : f32[2,4,300]
  %s = sum %t {axes = []} : f32[]
  return %s
}
)";
  check_gradients(text, 21);
}

TEST_CASE("long-conv: a causal depthwise conv1d rewritten to fft_conv compiles and matches") {
  // K = N = 2048: the FFT form is far cheaper; K > N: only the first N taps matter;
  // padding [0, K-1]: the anti-causal (reverse) form.
  struct Conv {
    int64_t n, k;
    bool anti;
  };
  for (Conv cv : {Conv{2048, 2048, false}, Conv{1200, 1500, false}, Conv{1500, 1500, true},
                  Conv{1500, 1800, true}}) {
    std::string text = fmt::format(
        R"(func @f(%x: f32[2,3,{0}], %w: f32[3,1,{1}]) -> f32[2,3,{0}] {{
  %y = conv1d %x, %w {{padding = [{2}, {3}], groups = 3}} : f32[2,3,{0}]
  return %y
}}
)",
        cv.n, cv.k, cv.anti ? 0 : cv.k - 1, cv.anti ? cv.k - 1 : 0);
    Module m = parse_module(text, "conv.tir");
    cpu::CompileOptions o;
    o.pipeline = "long-conv,dce";
    std::unique_ptr<Graph> low = cpu::prepare(*m.funcs[0], o);
    bool has_fft = false, has_conv = false;
    for (const auto& node : low->nodes()) {
      has_fft = has_fft || node->op == OpKind::FftConv;
      has_conv = has_conv || node->op == OpKind::Conv1d;
    }
    CHECK(has_fft);
    CHECK_FALSE(has_conv);
    check_compiled(text, 31, "long-conv,dce");
  }
}

TEST_CASE("fft_conv kernel: check() rejects malformed steps in one line") {
  const auto desc = test::dense_desc;
  rt::RuntimeOpStep ok{"fft_conv", {desc(F32, {2, 3, 8}), desc(F32, {3, 4})},
                       {desc(F32, {2, 3, 8})}, {0}, {}};
  CHECK_NOTHROW(rt::kernels::check(ok));
  const auto err = test::check_message;
  rt::RuntimeOpStep s = ok;
  s.operands[1] = desc(F32, {3, 9});
  CHECK_EQ(err(s), "runtime op 'fft_conv': k is f32[3,9], expected f32[3,K] with 1 <= K <= 8");
  s = ok;
  s.iattrs = {2};
  CHECK_EQ(err(s), "runtime op 'fft_conv': iattr 0 (reverse) must be 0 or 1, got 2");
  s = ok;
  s.results[0] = desc(F64, {2, 3, 8});
  CHECK_EQ(err(s), "runtime op 'fft_conv': result is f64[2,3,8], expected f32[2,3,8]");
  rt::RuntimeOpStep gs{"fft_conv_grad", {desc(F64, {3, 8}), desc(F64, {3, 8})},
                       {desc(F64, {3, 9})}, {}, {}};
  CHECK_EQ(err(gs), "runtime op 'fft_conv_grad': result is f64[3,9], expected f64[3,K] with 1 "
                    "<= K <= 8");
  // The workspace depends on N + K only, not on the batch or the channels.
  rt::RuntimeOpStep big = ok;
  big.operands[0] = desc(F32, {64, 512, 8});
  big.operands[1] = desc(F32, {512, 4});
  big.results[0] = desc(F32, {64, 512, 8});
  CHECK_EQ(rt::kernels::workspace_bytes(ok, 2), rt::kernels::workspace_bytes(big, 2));
}

TEST_CASE("depthwise_conv1d kernel: direct conv1d with groups = C matches the interpreter") {
  // The CPU backend runs conv1d with groups = C_in = C_out, stride 1, dilation 1 on its own
  // kernel (not oneDNN's im2col): padding on either or both sides, K > N, K = 1, K = N
  // (one output), a strided (permuted) input, f32 and f64, 1 and 2 threads. "canonicalize,cse"
  // keeps the long-conv rewrite out, so the direct kernel is what runs.
  struct Case {
    const char* t;
    int64_t b, c, n, k, pl, pr;
  };
  uint64_t seed = 300;
  for (Case c : {Case{"f64", 2, 3, 37, 5, 4, 0}, Case{"f32", 1, 4, 50, 50, 49, 0},
                 Case{"f64", 1, 2, 20, 7, 0, 6}, Case{"f32", 3, 2, 9, 4, 2, 3},
                 Case{"f64", 1, 3, 5, 12, 11, 0}, Case{"f32", 2, 5, 16, 1, 0, 0},
                 Case{"f64", 1, 1, 3, 3, 0, 0}, Case{"f32", 1, 8, 5000, 700, 699, 0}}) {
    int64_t nout = std::max<int64_t>(0, c.n + c.pl + c.pr - c.k + 1);
    std::string x = fmt::format("{}[{},{},{}]", c.t, c.b, c.c, c.n);
    std::string w = fmt::format("{}[{},1,{}]", c.t, c.c, c.k);
    std::string y = fmt::format("{}[{},{},{}]", c.t, c.b, c.c, nout);
    check_compiled(fmt::format("func @f(%x: {0}, %w: {1}) -> {2} {{\n  %y = conv1d %x, %w "
                               "{{padding = [{3}, {4}], groups = {5}}} : {2}\n  return %y\n}}\n",
                               x, w, y, c.pl, c.pr, c.c),
                   seed++, "canonicalize,cse");
  }
  // x as a permuted view (the zoo's [B, N, C] -> [B, C, N]).
  check_compiled(R"(func @f(%xt: f32[2,40,3], %w: f32[3,1,9]) -> f32[2,3,40] {
  %x = transpose %xt {perm = [0, 2, 1]} : f32[2,3,40]
  %y = conv1d %x, %w {padding = [8, 0], groups = 3} : f32[2,3,40]
  return %y
}
)",
                 seed++, "canonicalize,cse");
}

TEST_CASE("depthwise_conv1d kernel: gradients of a depthwise conv1d compile and match") {
  // conv1d's VJP builds the input gradient as another depthwise conv1d (the kernel again)
  // and the weight gradient as a grouped conv1d over the batch (oneDNN).
  const char* text = R"(func @loss(%x: f32[2,3,40], %w: f32[3,1,9]) -> f32[] {
  %y = conv1d %x, %w {padding = [8, 0], groups = 3} : f32[2,3,40]
  %t = tanh %y : f32[2,3,40]
  %s = sum %t {axes = []} : f32[]
  return %s
}
)";
  check_gradients(text, 23, "canonicalize,cse");
}

TEST_CASE("depthwise_conv1d kernel: check() rejects malformed steps in one line") {
  // A plan read from an AOT artefact reaches the kernel only through check().
  const auto desc = test::dense_desc;
  // x [2, 3*2, 8], w [3, 2, 4], padding [3, 0] -> y [2, 3, 8]
  rt::RuntimeOpStep ok{"depthwise_conv1d", {desc(F32, {2, 6, 8}), desc(F32, {3, 2, 4})},
                       {desc(F32, {2, 3, 8})}, {3, 0}, {}};
  CHECK_NOTHROW(rt::kernels::check(ok));
  const auto err = test::check_message;
  rt::RuntimeOpStep s = ok;
  s.results[0] = desc(F32, {2, 3, 9});
  CHECK_EQ(err(s), "runtime op 'depthwise_conv1d': shapes do not fit x [B, C * G, N], w [C, G, "
                   "K], y [B, C, N + 3 + 0 - K + 1]: f32[2,6,8], f32[3,2,4], f32[2,3,9]");
  s = ok;
  s.iattrs = {-1, 0};
  CHECK_EQ(err(s), "runtime op 'depthwise_conv1d': padding [-1, 0] out of range");
  s = ok;
  s.operands[1] = desc(F64, {3, 2, 4});
  CHECK_EQ(err(s), "runtime op 'depthwise_conv1d': x, w, y must be rank-3 tensors of one dtype, "
                   "got f32[2,6,8], f64[3,2,4], f32[2,3,8]");
  s = ok;
  s.iattrs = {3};
  CHECK_EQ(err(s), "runtime op 'depthwise_conv1d': expected 2 operands, 1 result, 2 iattrs, 0 "
                   "fattrs, got 2, 1, 1, 0");
  s = ok;
  s.results[0].strides = {24, 1, 3};
  CHECK_EQ(err(s), "runtime op 'depthwise_conv1d': y must be contiguous along its last dim, got "
                   "strides [24,1,3]");
}
