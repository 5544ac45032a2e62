// attention_ir_test.cpp: the attention ops in the IR: type inference as the verifier (one-
// line diagnostics), the cost model's contract, and f64 gradient checks of the VJP.
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/autodiff/grad.h"
#include "tests/support/gradcheck.h"
#include "tests/support/op_infer.h"
#include "tests/support/random_inputs.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::ir;
using testing::infer;
using testing::tt;

namespace {

constexpr DType F32 = DType::F32, F64 = DType::F64;

std::vector<interp::Array> random_inputs(const Graph& g, uint64_t seed) {
  return test::random_inputs(g, seed, -1.5, 1.5, 0.75);
}

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == std::string::npos;
}

} // namespace

TEST_CASE("attention: infers o [*B, Hq, N, dv] and lse [*B, Hq, N] (GQA, no batch dims)") {
  CHECK_EQ(infer(OpKind::Attention,
                 {tt(F32, {2, 8, 5, 16}), tt(F32, {2, 2, 7, 16}), tt(F32, {2, 2, 7, 4})},
                 {{"scale", 0.25}}),
           "f32[2,8,5,4], f32[2,8,5]");
  CHECK_EQ(infer(OpKind::Attention, {tt(F64, {3, 5, 2}), tt(F64, {1, 9, 2}), tt(F64, {1, 9, 6})},
                 {{"scale", 1.0}, {"mask", std::string("causal")}}),
           "f64[3,5,6], f64[3,5]");
  // bias [Hq, N, M] and keep [M] broadcast to the scores.
  CHECK_EQ(infer(OpKind::Attention,
                 {tt(F32, {2, 4, 3, 8}), tt(F32, {2, 4, 6, 8}), tt(F32, {2, 4, 6, 8}),
                  tt(F32, {4, 3, 6}), tt(DType::Bool, {6})},
                 {{"scale", 0.5}, {"has_bias", true}, {"has_keep", true}}),
           "f32[2,4,3,8], f32[2,4,3]");
}

TEST_CASE("attention: the verifier rejects bad shapes, dtypes, counts and attrs in one line") {
  auto q = tt(F32, {2, 4, 5, 8}), k = tt(F32, {2, 2, 7, 8}), v = tt(F32, {2, 2, 7, 3});
  struct Bad {
    std::vector<TensorType> ops;
    AttrList attrs;
    const char* needle;
  };
  std::vector<Bad> bad = {
      {{q, k, v}, {}, "scale"}, // required attribute
      {{q, tt(F64, {2, 2, 7, 8}), v}, {{"scale", 1.0}}, "dtypes differ"},
      {{tt(DType::I32, {2, 4, 5, 8}), k, v}, {{"scale", 1.0}}, "f32 or f64"},
      {{tt(DType::F16, {2, 4, 5, 8}), tt(DType::F16, {2, 2, 7, 8}), tt(DType::F16, {2, 2, 7, 3})},
       {{"scale", 1.0}},
       "cast f16/bf16"},
      {{tt(F32, {5, 8}), tt(F32, {7, 8}), tt(F32, {7, 3})}, {{"scale", 1.0}}, "rank >= 3"},
      {{q, tt(F32, {2, 3, 7, 8}), tt(F32, {2, 3, 7, 3})}, {{"scale", 1.0}}, "multiple"},
      {{q, tt(F32, {2, 2, 7, 9}), v}, {{"scale", 1.0}}, "head sizes differ"},
      {{q, k, tt(F32, {2, 2, 6, 3})}, {{"scale", 1.0}}, "agree on heads and keys"},
      {{q, tt(F32, {1, 2, 7, 8}), tt(F32, {1, 2, 7, 3})}, {{"scale", 1.0}}, "batch dims"},
      {{q, k, v}, {{"scale", 1.0}, {"mask", std::string("upper")}}, "mask must be"},
      {{q, k, v}, {{"scale", 1.0}, {"mask", std::string("sliding")}}, "window must be >= 1"},
      {{q, k, v}, {{"scale", std::nan("")}}, "scale must be finite"},
      {{q, k, v}, {{"scale", 1.0}, {"has_bias", true}}, "expected 4 operands"},
      {{q, k, v, tt(F32, {5, 6})}, {{"scale", 1.0}, {"has_bias", true}}, "does not broadcast"},
      {{q, k, v, tt(F64, {5, 7})}, {{"scale", 1.0}, {"has_bias", true}}, "bias must be f32"},
      {{q, k, v, tt(F32, {5, 7})}, {{"scale", 1.0}, {"has_keep", true}}, "keep must be bool"},
      {{q, k, v, tt(F32, {4, 12})}, // a table has N + M - 1 = 11 entries
       {{"scale", 1.0}, {"has_bias", true}, {"bias_toeplitz", true}},
       "relative-position table [*B, Hq, N + M - 1] = [2,4,11]"},
      {{q, k, v}, {{"scale", 1.0}, {"bias_toeplitz", true}}, "needs a bias operand"},
      {{q, k, v, tt(DType::Bool, {1, 2, 4, 5, 7})},
       {{"scale", 1.0}, {"has_keep", true}},
       "does not broadcast"},
  };
  for (const Bad& b : bad) {
    std::string msg = infer(OpKind::Attention, b.ops, b.attrs);
    INFO(msg);
    CHECK(one_line(msg));
    CHECK(msg.find(b.needle) != std::string::npos);
  }
  // attention_grad: o / lse / do / dlse must have the forward's result types.
  auto o = tt(F32, {2, 4, 5, 3}), lse = tt(F32, {2, 4, 5});
  CHECK_EQ(infer(OpKind::AttentionGrad, {q, k, v, o, lse, o}, {{"scale", 1.0}}),
           "f32[2,4,5,8], f32[2,2,7,8], f32[2,2,7,3]");
  std::string m = infer(OpKind::AttentionGrad, {q, k, v, o, o, o}, {{"scale", 1.0}});
  CHECK(m.find("lse must be f32[2,4,5]") != std::string::npos);
  m = infer(OpKind::AttentionGrad, {q, k, v, o, lse, o}, {{"scale", 1.0}, {"has_dlse", true}});
  CHECK(m.find("expected 7 operands") != std::string::npos);
}

TEST_CASE("attention: a bad node in text is a located one-line error") {
  const char* text =
      R"(func @f(%q: f32[1,2,4,8], %k: f32[1,2,4,8], %v: f32[1,2,4,8]) -> f32[1,2,4,8] {
  %o, %l = attention %q, %k, %v {scale = 0.5, mask = "sliding"} : f32[1,2,4,8], f32[1,2,4]
  return %o
}
)";
  try {
    parse_module(text, "bad.tir");
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.rfind("bad.tir:2:", 0) == 0);
    CHECK(msg.find("[attention] window must be >= 1") != std::string::npos);
  }
}

TEST_CASE("attention: cost counts allowed pairs exactly and bytes of operands and results only") {
  // B=1, H=2, N=M=4, d=8, dv=4, f32. Causal: 1+2+3+4 = 10 pairs per head.
  auto q = tt(F32, {1, 2, 4, 8}), k = tt(F32, {1, 2, 4, 8}), v = tt(F32, {1, 2, 4, 4});
  Cost none = testing::cost_of(OpKind::Attention, {q, k, v}, {{"scale", 1.0}});
  Cost causal = testing::cost_of(OpKind::Attention, {q, k, v},
                                 {{"scale", 1.0}, {"mask", std::string("causal")}});
  Cost sliding =
      testing::cost_of(OpKind::Attention, {q, k, v},
                       {{"scale", 1.0}, {"mask", std::string("sliding")}, {"window", int64_t{2}}});
  CHECK_EQ(none.transcendentals, 2 * 16);
  CHECK_EQ(causal.transcendentals, 2 * 10);
  CHECK_EQ(sliding.transcendentals, 2 * 7); // 1 + 2 + 2 + 2
  CHECK_EQ(causal.flops, 2 * (10 * (2.0 * (8 + 4) + 4) + 4 * 4));
  double bytes_in = 4.0 * (64 + 64 + 32), bytes_out = 4.0 * (32 + 8);
  CHECK_EQ(none.bytes_read, bytes_in);
  CHECK_EQ(none.bytes_written, bytes_out);
  // Queries are the last N of M keys: N=2, M=5 causal sees 4 + 5 keys per head.
  Cost tail = testing::cost_of(OpKind::Attention,
                               {tt(F32, {1, 2, 8}), tt(F32, {1, 5, 8}), tt(F32, {1, 5, 8})},
                               {{"scale", 1.0}, {"mask", std::string("causal")}});
  CHECK_EQ(tail.transcendentals, 9);
  // Large N: cost is computed without N x M work and stays proportional to the pairs.
  Cost big = testing::cost_of(
      OpKind::Attention,
      {tt(F32, {1, 8, 16384, 64}), tt(F32, {1, 8, 16384, 64}), tt(F32, {1, 8, 16384, 64})},
      {{"scale", 0.125}, {"mask", std::string("causal")}});
  CHECK_EQ(big.transcendentals, 8.0 * 16384 * 16385 / 2);
  CHECK_EQ(big.bytes_read, 3.0 * 4 * 8 * 16384 * 64);
}

TEST_CASE("attention: f64 gradient checks of both VJPs (o and lse used, bias, keep, GQA, masks)") {
  const char* text = R"(
func @none_bias(%q: f64[2,2,3,4], %k: f64[2,2,5,4], %v: f64[2,2,5,3], %b: f64[2,3,5]) -> (f64[2,2,3,3], f64[2,2,3]) {
  %o, %l = attention %q, %k, %v, %b {scale = 0.7, has_bias = true} : f64[2,2,3,3], f64[2,2,3]
  return %o, %l
}
func @causal_gqa_keys_bias(%q: f64[1,4,4,3], %k: f64[1,2,6,3], %v: f64[1,2,6,2], %b: f64[1,1,1,6]) -> (f64[1,4,4,2], f64[1,4,4]) {
  %o, %l = attention %q, %k, %v, %b {scale = 0.5, mask = "causal", has_bias = true} : f64[1,4,4,2], f64[1,4,4]
  return %o, %l
}
func @sliding_mqa(%q: f64[3,6,2], %k: f64[1,6,2], %v: f64[1,6,4]) -> (f64[3,6,4], f64[3,6]) {
  %o, %l = attention %q, %k, %v {scale = 1.1, mask = "sliding", window = 3} : f64[3,6,4], f64[3,6]
  return %o, %l
}
func @lse_only(%q: f64[2,3,4], %k: f64[2,5,4], %v: f64[2,5,2]) -> f64[2,3] {
  %o, %l = attention %q, %k, %v {scale = 0.9, mask = "causal"} : f64[2,3,2], f64[2,3]
  return %l
}
func @second_order_keep_mqa(%q: f64[1,2,4,3], %k: f64[1,1,5,3], %v: f64[1,1,5,2], %keep: bool[4,5], %o: f64[1,2,4,2], %l: f64[1,2,4], %do: f64[1,2,4,2], %dl: f64[1,2,4]) -> (f64[1,2,4,3], f64[1,1,5,3], f64[1,1,5,2]) {
  %dq, %dk, %dv = attention_grad %q, %k, %v, %keep, %o, %l, %do, %dl {scale = 0.6, mask = "sliding", window = 3, has_keep = true, has_dlse = true} : f64[1,2,4,3], f64[1,1,5,3], f64[1,1,5,2]
  return %dq, %dk, %dv
}
func @table_gqa_causal(%q: f64[1,4,3,2], %k: f64[1,2,5,2], %v: f64[1,2,5,2], %t: f64[4,7]) -> (f64[1,4,3,2], f64[1,4,3]) {
  %o, %l = attention %q, %k, %v, %t {scale = 0.6, mask = "causal", has_bias = true, bias_toeplitz = true} : f64[1,4,3,2], f64[1,4,3]
  return %o, %l
}
func @table_broadcast_heads(%q: f64[2,5,2], %k: f64[2,4,2], %v: f64[2,4,3], %t: f64[8]) -> (f64[2,5,3], f64[2,5]) {
  %o, %l = attention %q, %k, %v, %t {scale = 0.9, has_bias = true, bias_toeplitz = true} : f64[2,5,3], f64[2,5]
  return %o, %l
}
func @second_order_table(%q: f64[1,2,3,2], %k: f64[1,2,4,2], %v: f64[1,2,4,2], %t: f64[2,6], %o: f64[1,2,3,2], %l: f64[1,2,3], %do: f64[1,2,3,2]) -> (f64[1,2,3,2], f64[1,2,4,2], f64[1,2,4,2], f64[2,6]) {
  %dq, %dk, %dv, %dt = attention_grad %q, %k, %v, %t, %o, %l, %do {scale = 0.7, mask = "causal", has_bias = true, bias_toeplitz = true} : f64[1,2,3,2], f64[1,2,4,2], f64[1,2,4,2], f64[2,6]
  return %dq, %dk, %dv, %dt
}
func @o_through_ops(%q: f64[1,2,3,2], %k: f64[1,2,3,2], %v: f64[1,2,3,2]) -> f64[1,2,3,2] {
  %o, %l = attention %q, %k, %v {scale = 0.8} : f64[1,2,3,2], f64[1,2,3]
  %t = tanh %o : f64[1,2,3,2]
  return %t
}
)";
  Module m = parse_module(text, "grad.tir");
  for (const auto& g : m.funcs) {
    INFO(g->name);
    auto ins = random_inputs(*g, 3);
    if (g->name == "second_order_keep_mqa") // each query keeps key i + M - N: some p > 0
      for (int64_t i = 0; i < 4; ++i)
        ins[3][i * 5 + i + 1] = 1;
    testing::GradcheckResult r = testing::gradcheck(*g, ins);
    CHECK_MESSAGE(r.ok, r.report);
    CHECK(r.checked > 0);
  }
}

TEST_CASE("attention: a relative-position table equals the bias it expands to (take by j - i + N - 1)") {
  // The oracle for bias_toeplitz: the same call with the [.., N, M] bias built by take.
  const char* text = R"(
func @table(%q: f64[2,3,4,3], %k: f64[2,3,6,3], %v: f64[2,3,6,2], %t: f64[3,9]) -> (f64[2,3,4,2], f64[2,3,4]) {
  %o, %l = attention %q, %k, %v, %t {scale = 0.5, mask = "causal", has_bias = true, bias_toeplitz = true} : f64[2,3,4,2], f64[2,3,4]
  return %o, %l
}
func @expanded(%q: f64[2,3,4,3], %k: f64[2,3,6,3], %v: f64[2,3,6,2], %t: f64[3,9]) -> (f64[2,3,4,2], f64[2,3,4]) {
  %i = iota {shape = [4,6], axis = 0} : i64[4,6]
  %j = iota {shape = [4,6], axis = 1} : i64[4,6]
  %d = sub %j, %i : i64[4,6]
  %c = full {shape = [], value = 3.0, dtype = i64} : i64[]
  %x = add %d, %c : i64[4,6]
  %b = take %t, %x {axis = -1} : f64[3,4,6]
  %o, %l = attention %q, %k, %v, %b {scale = 0.5, mask = "causal", has_bias = true} : f64[2,3,4,2], f64[2,3,4]
  return %o, %l
}
)";
  Module m = parse_module(text, "table.tir");
  auto ins = random_inputs(*m.funcs[0], 11);
  auto a = interp::run(*m.funcs[0], ins), b = interp::run(*m.funcs[1], ins);
  REQUIRE_EQ(a.size(), b.size());
  for (size_t r = 0; r < a.size(); ++r)
    for (int64_t e = 0; e < a[r].numel(); ++e)
      CHECK(std::fabs(a[r][e] - b[r][e]) <= 1e-12 * (1 + std::fabs(b[r][e])));
}

TEST_CASE("attention: the VJP emits one attention_grad with has_dlse only when lse is used") {
  const char* text =
      R"(func @f(%q: f64[2,3,4], %k: f64[2,5,4], %v: f64[2,5,2], %keep: bool[3,5]) -> (f64[2,3,2], f64[2,3]) {
  %o, %l = attention %q, %k, %v, %keep {scale = 0.5, has_keep = true} : f64[2,3,2], f64[2,3]
  return %o, %l
}
)";
  for (bool use_lse : {false, true}) {
    Module m = parse_module(text, "vjp.tir");
    Graph& g = *m.funcs[0];
    std::vector<Value*> ys{g.outputs[0]}, seeds;
    if (use_lse)
      ys.push_back(g.outputs[1]);
    Builder b(g);
    for (Value* y : ys)
      seeds.push_back(
          b.op(OpKind::Full, {},
               {{"shape", y->type.shape.to_vector()}, {"value", 1.0}, {"dtype", y->type.dtype}}));
    std::vector<Value*> wrt{g.inputs()[0], g.inputs()[1], g.inputs()[2]};
    std::vector<Value*> grads = autodiff::vjp(g, ys, seeds, wrt);
    int n_grad = 0;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::AttentionGrad) {
        ++n_grad;
        CHECK_EQ(n->attrs.boolean("has_dlse"), use_lse);
        CHECK(n->attrs.boolean("has_keep"));
        CHECK_EQ(n->num_operands(), use_lse ? 8 : 7);
      }
    CHECK_EQ(n_grad, 1);
    REQUIRE_EQ(grads.size(), 3u);
    CHECK_EQ(grads[0]->type, g.inputs()[0]->type);
    CHECK_EQ(grads[1]->type, g.inputs()[1]->type);
  }
}

TEST_CASE("attention: rows without an allowed key give o = 0 and lse = -inf, no NaN") {
  const char* text =
      R"(func @f(%q: f64[1,5,3], %k: f64[1,3,3], %v: f64[1,3,2], %keep: bool[5,3]) -> (f64[1,5,2], f64[1,5]) {
  %o, %l = attention %q, %k, %v, %keep {scale = 1.0, mask = "causal", has_keep = true} : f64[1,5,2], f64[1,5]
  return %o, %l
}
)";
  Module m = parse_module(text, "masked.tir");
  auto ins = random_inputs(*m.funcs[0], 5);
  for (int64_t j = 0; j < 3; ++j)
    ins[3][4 * 3 + j] = 0; // row 4 keeps nothing; rows 0 and 1 see no key (off = -2)
  auto outs = interp::run(*m.funcs[0], ins);
  for (int64_t i : {0, 1, 4}) {
    CHECK(std::isinf(outs[1][i]));
    CHECK(outs[1][i] < 0);
    CHECK_EQ(outs[0][i * 2], 0.0);
    CHECK_EQ(outs[0][i * 2 + 1], 0.0);
  }
  CHECK(std::isfinite(outs[1][2]));
}
