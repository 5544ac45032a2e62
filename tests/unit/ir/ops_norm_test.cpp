// ops_norm_test.cpp: norm decompositions against their direct kernels, plus what the golden
// sweep cannot express for the source, fft, conv and norm families: type-inference errors,
// costs, the statistics and reproducibility of the counter-based random generator, and the
// fft/conv/norm gradient rules over many attribute combinations.
#include "ir/builder.h"
#include "ir/interp/interpreter.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/random.h"
#include "ir/verifier.h"
#include "ir/vjp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <limits>

#include "tests/support/op_infer.h"

using namespace tevo;
using namespace tevo::ir;

namespace {

using Ints = std::vector<int64_t>;

using testing::cost_of;
using testing::infer;
using testing::tt;

/// Deterministic pseudo-random inputs for every graph input.
std::vector<interp::Array> inputs_for(const Graph& g) {
  std::vector<interp::Array> ins;
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    interp::Array a(g.inputs()[i]->type);
    for (int64_t j = 0; j < a.numel(); ++j)
      a[j] = random::normal(static_cast<int64_t>(i) + 100, static_cast<uint64_t>(j), 0.5, 2.0);
    ins.push_back(a);
  }
  return ins;
}

/// Replaces every composite node by its decomposition; returns how many were replaced.
int decompose_all(Graph& g) {
  int replaced = 0;
  for (size_t i = 0; i < g.nodes().size();) {
    const Node& n = *g.nodes()[i];
    if (!n.def().has(kComposite)) {
      ++i;
      continue;
    }
    REQUIRE(static_cast<bool>(n.def().decompose));
    Builder b(g);
    b.set_insertion_before(&n);
    size_t first = static_cast<size_t>(g.index_of(&n));
    std::vector<Value*> repl = n.def().decompose(b, n);
    REQUIRE_EQ(static_cast<int>(repl.size()), n.num_results());
    size_t at = static_cast<size_t>(g.index_of(&n));
    for (int r = 0; r < n.num_results(); ++r) {
      CHECK_EQ(repl[static_cast<size_t>(r)]->type, n.result(r)->type);
      g.replace_all_uses(n.result(r), repl[static_cast<size_t>(r)]);
    }
    g.erase_node(at);
    i = first; // the expansion may hold composites itself (layer_norm makes a mean)
    ++replaced;
  }
  return replaced;
}

/// Largest |direct - decomposed| over the graph's first output.
double decomposition_gap(const std::string& text) {
  auto g = parse_graph(text, "t.tir");
  auto ins = inputs_for(*g);
  auto direct = interp::run(*g, ins).at(0);
  auto h = g->clone();
  CHECK_GE(decompose_all(*h), 1);
  auto err = verify(*h);
  CHECK_MESSAGE(!err.has_value(), (err ? err->str() : ""));
  for (const auto& n : h->nodes())
    CHECK_FALSE(n->def().has(kComposite));
  auto lowered = interp::run(*h, ins).at(0);
  REQUIRE_EQ(direct.data.size(), lowered.data.size());
  double gap = 0;
  for (size_t i = 0; i < direct.data.size(); ++i)
    gap = std::max(gap, std::fabs(direct.data[i] - lowered.data[i]));
  return gap;
}

/// Output 0 of a graph without inputs.
interp::Array run_source(const std::string& text) {
  auto g = parse_graph(text, "t.tir");
  return interp::run(*g, {}).at(0);
}

constexpr int64_t kBig = int64_t{1} << 40;

} // namespace

TEST_CASE("norm: decompositions match the direct kernels") {
  CHECK_LT(decomposition_gap("func @f(%x: f64[3,7], %g: f64[7], %b: f64[7]) -> f64[3,7] {\n"
                             "  %y = layer_norm %x, %g, %b : f64[3,7]\n  return %y\n}\n"),
           1e-12);
  CHECK_LT(decomposition_gap("func @f(%x: f64[2,3,5], %g: f64[5], %b: f64[5]) -> f64[2,3,5] {\n"
                             "  %y = layer_norm %x, %g, %b {eps = 0.01} : f64[2,3,5]\n"
                             "  return %y\n}\n"),
           1e-12);
  CHECK_LT(decomposition_gap("func @f(%x: f64[3,7], %g: f64[7]) -> f64[3,7] {\n"
                             "  %y = rms_norm %x, %g : f64[3,7]\n  return %y\n}\n"),
           1e-12);
  CHECK_LT(decomposition_gap("func @f(%x: f64[6], %g: f64[6]) -> f64[6] {\n"
                             "  %y = rms_norm %x, %g {eps = 0.5} : f64[6]\n  return %y\n}\n"),
           1e-12);
  // f32: the decomposition rounds every intermediate to f32, the kernel only its result.
  CHECK_LT(decomposition_gap("func @f(%x: f32[4,16], %g: f32[16], %b: f32[16]) -> f32[4,16] {\n"
                             "  %y = layer_norm %x, %g, %b : f32[4,16]\n  return %y\n}\n"),
           1e-5);
  CHECK_LT(decomposition_gap("func @f(%x: f32[4,16], %g: f32[16]) -> f32[4,16] {\n"
                             "  %y = rms_norm %x, %g : f32[4,16]\n  return %y\n}\n"),
           1e-5);
}

TEST_CASE("norm: traits, costs and type errors") {
  CHECK(op_def(OpKind::LayerNorm).has(kComposite));
  CHECK(op_def(OpKind::RmsNorm).has(kComposite));
  auto x = tt(DType::F32, {2, 8});
  auto c = tt(DType::F32, {8});
  CHECK_EQ(infer(OpKind::LayerNorm, {x, c, c}), "f32[2,8]");
  CHECK_EQ(infer(OpKind::RmsNorm, {x, c}), "f32[2,8]");
  CHECK_EQ(infer(OpKind::LayerNorm, {x, tt(DType::F32, {2}), c}),
           "[layer_norm] gamma must be [8] (the last dimension of x), got f32[2] for x f32[2,8]");
  CHECK_EQ(infer(OpKind::LayerNorm, {x, c, tt(DType::F32, {1, 8})}),
           "[layer_norm] beta must be [8] (the last dimension of x), got f32[1,8] for x f32[2,8]");
  CHECK_EQ(infer(OpKind::RmsNorm, {x, tt(DType::F64, {8})}),
           "[rms_norm] operand dtypes differ: f32[2,8] vs f64[8] (insert a cast)");
  CHECK_EQ(infer(OpKind::RmsNorm, {tt(DType::I32, {2, 8}), tt(DType::I32, {8})}),
           "[rms_norm] operand 0 must be a float tensor, got i32[2,8]");
  CHECK_EQ(infer(OpKind::RmsNorm, {tt(DType::F32, {}), tt(DType::F32, {1})}),
           "[rms_norm] x must have rank >= 1 (normalises over the last axis), got f32[]");
  CHECK_EQ(infer(OpKind::LayerNorm, {x, c, c}, {{"eps", -1.0}}),
           "[layer_norm] eps must be finite and non-negative, got -1");
  CHECK_EQ(infer(OpKind::RmsNorm, {x, c, c}), "[rms_norm] expects 2 operands, got 3");
  Cost k = cost_of(OpKind::LayerNorm, {x, c, c});
  CHECK_EQ(k.flops, 8.0 * 16);
  CHECK_EQ(k.transcendentals, 2.0);
}

TEST_CASE("source: result types and attribute errors") {
  CHECK_EQ(infer(OpKind::Full, {}, {{"shape", Ints{2, 3}}}), "f32[2,3]");
  CHECK_EQ(infer(OpKind::Full, {}, {{"shape", Ints{2, -1}}}),
           "[full] shape [2,-1] has a negative dimension");
  CHECK_EQ(infer(OpKind::Full, {}, {{"shape", Ints{kBig + 1}}}),
           "[full] shape [1099511627777] has a dimension above 2^40");
  CHECK_EQ(infer(OpKind::Full, {}, {{"shape", Ints{kBig, kBig}}}),
           "[full] shape [1099511627776,1099511627776] has more than 2^50 elements");
  CHECK_EQ(infer(OpKind::Full, {}, {{"shape", Ints(17, 1)}}),
           "[full] shape [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1] has rank 17, above 16");
  CHECK_EQ(infer(OpKind::Full, {},
                 {{"shape", Ints{2}},
                  {"value", std::numeric_limits<double>::quiet_NaN()},
                  {"dtype", DType::I64}}),
           "[full] value nan is not representable in i64");
  CHECK_EQ(infer(OpKind::Full, {tt(DType::F32, {2})}, {{"shape", Ints{2}}}),
           "[full] expects 0 operands, got 1");
  CHECK_EQ(infer(OpKind::Iota, {}, {{"shape", Ints{2, 3}}, {"axis", int64_t{-1}}}), "i64[2,3]");
  CHECK_EQ(infer(OpKind::Iota, {}, {{"shape", Ints{2, 3}}, {"axis", int64_t{2}}}),
           "[iota] axis 2 out of range for shape [2,3]");
  CHECK_EQ(infer(OpKind::Iota, {}, {{"shape", Ints{}}, {"axis", int64_t{0}}}),
           "[iota] axis 0 out of range for shape []");
  CHECK_EQ(
      infer(OpKind::Iota, {}, {{"shape", Ints{2}}, {"axis", int64_t{0}}, {"dtype", DType::Bool}}),
      "[iota] dtype must be a float or integer type, got bool");
  CHECK_EQ(infer(OpKind::Arange, {}, {{"limit", 10.0}, {"step", 3.0}}), "i64[4]");
  CHECK_EQ(infer(OpKind::Arange, {}, {{"start", 5.0}, {"limit", 1.0}}), "i64[0]");
  CHECK_EQ(infer(OpKind::Arange, {}, {{"limit", 1.0}, {"step", 0.0}}),
           "[arange] step must be nonzero");
  CHECK_EQ(infer(OpKind::Arange, {}, {{"limit", 1e10}}),
           "[arange] arange(0, 10000000000, 1) has more than 2^31 elements");
  CHECK_EQ(infer(OpKind::Arange, {}, {{"start", -1e308}, {"limit", 1e308}}),
           "[arange] arange(-1e+308, 1e+308, 1) has more than 2^31 elements");
  CHECK_EQ(infer(OpKind::Arange, {}, {{"limit", std::numeric_limits<double>::infinity()}}),
           "[arange] limit must be finite, got inf");
  CHECK_EQ(infer(OpKind::Arange, {}, {{"limit", 4.0}, {"dtype", DType::C64}}),
           "[arange] dtype must be a float or integer type, got c64");
  CHECK_EQ(infer(OpKind::Arange, {}), "[arange] missing required attribute 'limit' (f64)");
  CHECK_EQ(infer(OpKind::RandomUniform, {}, {{"shape", Ints{2}}, {"seed", int64_t{1}}}), "f32[2]");
  CHECK_EQ(infer(OpKind::RandomUniform, {},
                 {{"shape", Ints{2}}, {"seed", int64_t{1}}, {"dtype", DType::I32}}),
           "[random_uniform] dtype must be a float type, got i32");
  CHECK_EQ(infer(OpKind::RandomUniform, {},
                 {{"shape", Ints{2}}, {"seed", int64_t{1}}, {"low", 2.0}, {"high", 1.0}}),
           "[random_uniform] low 2 is above high 1");
  CHECK_EQ(
      infer(OpKind::RandomNormal, {}, {{"shape", Ints{2}}, {"seed", int64_t{1}}, {"std", -0.5}}),
      "[random_normal] std must be non-negative, got -0.5");
  CHECK_EQ(infer(OpKind::RandomNormal, {}, {{"shape", Ints{2}}}),
           "[random_normal] missing required attribute 'seed' (i64)");
  CHECK_EQ(infer(OpKind::Constant, {}, {{"value", DenseRef{}}}),
           "[constant] value is a null dense literal");
  auto lit = DenseData::from_doubles(tt(DType::I32, {3}), {1, 2, 3});
  CHECK_EQ(infer(OpKind::Constant, {}, {{"value", lit}}), "i32[3]");
  CHECK(op_def(OpKind::RandomNormal).has(kRandom));
  CHECK(op_def(OpKind::RandomUniform).has(kNotDifferentiable));
  CHECK(op_def(OpKind::Constant).has(kSource));
}

TEST_CASE("source: the random generator is reproducible and has the right moments") {
  // splitmix64's published first output for seed 0 pins the mixing function.
  CHECK_EQ(random::mix(0), 0xE220A8397B1DCDAFull);
  auto n1 = run_source("func @f() -> f64[20000] {\n"
                       "  %y = random_normal {shape = [20000], seed = 3, mean = 1.0, std = 2.0, "
                       "dtype = f64} : f64[20000]\n  return %y\n}\n");
  auto n2 = run_source("func @f() -> f64[20000] {\n"
                       "  %y = random_normal {shape = [20000], seed = 3, mean = 1.0, std = 2.0, "
                       "dtype = f64} : f64[20000]\n  return %y\n}\n");
  CHECK(n1.data == n2.data);
  double sum = 0, sq = 0;
  for (double v : n1.data) {
    REQUIRE(std::isfinite(v));
    sum += v;
  }
  double mean = sum / 20000;
  for (double v : n1.data)
    sq += (v - mean) * (v - mean);
  double sd = std::sqrt(sq / 20000);
  CHECK(std::fabs(mean - 1.0) < 0.06); // 4 standard errors (2 / sqrt(20000) = 0.014)
  CHECK(std::fabs(sd - 2.0) < 0.06);
  auto u = run_source("func @f() -> f32[100,200] {\n"
                      "  %y = random_uniform {shape = [100, 200], seed = 9, low = -1.0, high = 3.0}"
                      " : f32[100,200]\n  return %y\n}\n");
  auto u_other = run_source("func @f() -> f32[100,200] {\n"
                            "  %y = random_uniform {shape = [100, 200], seed = 10, low = -1.0, "
                            "high = 3.0} : f32[100,200]\n  return %y\n}\n");
  CHECK(u.data != u_other.data);
  double lo = 1e9, hi = -1e9, usum = 0;
  for (double v : u.data) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    usum += v;
  }
  CHECK(lo >= -1.0);
  CHECK(hi <= 3.0);
  CHECK(lo < -0.99);
  CHECK(hi > 2.99);
  CHECK(std::fabs(usum / 20000 - 1.0) < 0.04); // sd of the mean: 4 / sqrt(12 * 20000)
  // Element i does not depend on the shape: a prefix of a longer tensor is the same.
  auto u_flat = run_source("func @f() -> f32[300] {\n  %y = random_uniform {shape = [300], "
                           "seed = 9, low = -1.0, high = 3.0} : f32[300]\n  return %y\n}\n");
  CHECK(std::equal(u_flat.data.begin(), u_flat.data.end(), u.data.begin()));
}

TEST_CASE("fft: result types and errors") {
  CHECK_EQ(infer(OpKind::Rfft, {tt(DType::F32, {3, 8})}), "c64[3,5]");
  CHECK_EQ(infer(OpKind::Rfft, {tt(DType::F64, {7, 2})}, {{"axis", int64_t{0}}}), "c128[4,2]");
  CHECK_EQ(infer(OpKind::Irfft, {tt(DType::C64, {3, 5})}, {{"n", int64_t{9}}}), "f32[3,9]");
  CHECK_EQ(
      infer(OpKind::Irfft, {tt(DType::C128, {4, 2})}, {{"n", int64_t{6}}, {"axis", int64_t{0}}}),
      "f64[6,2]");
  CHECK_EQ(infer(OpKind::Rfft, {tt(DType::I64, {4})}),
           "[rfft] operand 0 must be f32 or f64, got i64[4]");
  CHECK_EQ(infer(OpKind::Rfft, {tt(DType::C64, {4})}),
           "[rfft] operand 0 must be f32 or f64, got c64[4]");
  CHECK_EQ(infer(OpKind::Rfft, {tt(DType::F32, {4})}, {{"axis", int64_t{1}}}),
           "[rfft] axis 1 out of range for f32[4]");
  CHECK_EQ(infer(OpKind::Rfft, {tt(DType::F32, {})}), "[rfft] axis -1 out of range for f32[]");
  CHECK_EQ(infer(OpKind::Rfft, {tt(DType::F32, {3, 0})}),
           "[rfft] transform length must be at least 1, got 0 along axis -1 of f32[3,0]");
  CHECK_EQ(infer(OpKind::Irfft, {tt(DType::C64, {3, 5})}, {{"n", int64_t{10}}}),
           "[irfft] n = 10 needs 6 frequencies along axis -1, but c64[3,5] has 5");
  CHECK_EQ(infer(OpKind::Irfft, {tt(DType::C64, {3, 5})}, {{"n", int64_t{0}}}),
           "[irfft] n must be at least 1, got 0");
  CHECK_EQ(
      infer(OpKind::Irfft, {tt(DType::C64, {5})}, {{"n", std::numeric_limits<int64_t>::max()}}),
      "[irfft] n = 9223372036854775807 needs 4611686018427387904 frequencies along axis -1, "
      "but c64[5] has 5");
  CHECK_EQ(infer(OpKind::Irfft, {tt(DType::F32, {5})}, {{"n", int64_t{8}}}),
           "[irfft] operand 0 must be c64 or c128, got f32[5]");
  CHECK_EQ(infer(OpKind::Irfft, {tt(DType::C64, {5})}),
           "[irfft] missing required attribute 'n' (i64)");
}

TEST_CASE("fft: irfft inverts rfft for every length from 1 to 12, on either axis") {
  for (int n = 1; n <= 12; ++n)
    for (int axis = 0; axis < 2; ++axis) {
      std::string t = axis == 0 ? fmt::format("f64[{},3]", n) : fmt::format("f64[3,{}]", n);
      std::string f =
          axis == 0 ? fmt::format("c128[{},3]", n / 2 + 1) : fmt::format("c128[3,{}]", n / 2 + 1);
      auto g = parse_graph(fmt::format("func @f(%x: {0}) -> {0} {{\n"
                                       "  %f = rfft %x {{axis = {2}}} : {1}\n"
                                       "  %y = irfft %f {{axis = {2}, n = {3}}} : {0}\n"
                                       "  return %y\n}}\n",
                                       t, f, axis, n),
                           "t.tir");
      auto ins = inputs_for(*g);
      auto out = interp::run(*g, ins).at(0);
      double gap = 0;
      for (size_t i = 0; i < out.data.size(); ++i)
        gap = std::max(gap, std::fabs(out.data[i] - ins[0].data[i]));
      INFO("n = " << n << ", axis = " << axis);
      CHECK_LT(gap, 1e-12);
    }
}

TEST_CASE("conv1d: result types, costs and errors") {
  auto x = tt(DType::F32, {2, 4, 10});
  auto w = tt(DType::F32, {6, 2, 3});
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{2}}}), "f32[2,6,8]");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w},
                 {{"groups", int64_t{2}},
                  {"stride", int64_t{3}},
                  {"padding", Ints{4, 0}},
                  {"dilation", int64_t{2}}}),
           "f32[2,6,4]");
  CHECK_EQ(infer(OpKind::Conv1d, {tt(DType::F32, {1, 1, 0}), tt(DType::F32, {1, 1, 1})},
                 {{"padding", Ints{0, 1}}}),
           "f32[1,1,1]");
  CHECK_EQ(infer(OpKind::Conv1d, {tt(DType::F32, {0, 1, 5}), tt(DType::F32, {0, 1, 2})}),
           "f32[0,0,4]");
  Cost k = cost_of(OpKind::Conv1d, {x, w}, {{"groups", int64_t{2}}});
  CHECK_EQ(k.flops, 2.0 * 2 * 6 * 8 * 2 * 3);
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}),
           "[conv1d] w has 2 input channels per group, expected 4 (4 channels / 1 groups): "
           "f32[2,4,10] * f32[6,2,3]");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{4}}}),
           "[conv1d] groups = 4 must divide the 4 input and 6 output channels: f32[2,4,10] * "
           "f32[6,2,3]");
  CHECK_EQ(infer(OpKind::Conv1d, {x, tt(DType::F64, {6, 2, 3})}),
           "[conv1d] operand dtypes differ: f32[2,4,10] vs f64[6,2,3] (insert a cast)");
  CHECK_EQ(infer(OpKind::Conv1d, {tt(DType::I32, {2, 4, 10}), tt(DType::I32, {6, 4, 3})}),
           "[conv1d] operand 0 must be a float tensor, got i32[2,4,10]");
  CHECK_EQ(infer(OpKind::Conv1d, {tt(DType::F32, {4, 10}), w}),
           "[conv1d] x must be [batch, channels, length], got f32[4,10]");
  CHECK_EQ(infer(OpKind::Conv1d, {x, tt(DType::F32, {6, 4})}),
           "[conv1d] w must be [out_channels, in_channels/groups, kernel], got f32[6,4]");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{2}}, {"stride", int64_t{0}}}),
           "[conv1d] stride must be in [1, 2^40], got 0");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{2}}, {"dilation", int64_t{-1}}}),
           "[conv1d] dilation must be in [1, 2^40], got -1");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{0}}}),
           "[conv1d] groups must be at least 1, got 0");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{2}}, {"padding", Ints{1}}}),
           "[conv1d] padding must be [left, right], got 1 values");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{2}}, {"padding", Ints{-1, 0}}}),
           "[conv1d] padding [-1, 0] must be in [0, 2^40]");
  CHECK_EQ(infer(OpKind::Conv1d, {x, tt(DType::F32, {6, 2, 0})}, {{"groups", int64_t{2}}}),
           "[conv1d] kernel size must be at least 1: f32[2,4,10] * f32[6,2,0]");
  CHECK_EQ(infer(OpKind::Conv1d, {x, w}, {{"groups", int64_t{2}}, {"dilation", int64_t{5}}}),
           "[conv1d] padded input length 10 is shorter than the dilated kernel (3 taps, dilation "
           "5): f32[2,4,10] * f32[6,2,3]");
  // dilation * (K - 1) would overflow int64: still just "too short".
  CHECK_EQ(infer(OpKind::Conv1d, {tt(DType::F32, {1, 1, 8}), tt(DType::F32, {1, 1, kBig})},
                 {{"dilation", kBig}}),
           "[conv1d] padded input length 8 is shorter than the dilated kernel (1099511627776 "
           "taps, dilation 1099511627776): f32[1,1,8] * f32[1,1,1099511627776]");
  const int64_t m = int64_t{1} << 20;
  CHECK_EQ(infer(OpKind::Conv1d, {tt(DType::F32, {m, m, 1}), tt(DType::F32, {m, 1, 1})},
                 {{"groups", m}, {"padding", Ints{kBig, 0}}}),
           "[conv1d] result f32[1048576,1048576,1099511627777] is too large (limits: rank 16, "
           "dims 2^40, 2^50 elements)");
}

// ---- gradient (VJP) rules, checked against central differences on the interpreter ----------

namespace {

/// Random values for every part (real and imaginary) of an array.
interp::Array random_array(const TensorType& t, int64_t seed) {
  interp::Array a(t);
  for (size_t j = 0; j < a.data.size(); ++j)
    a.data[j] = random::standard_normal(seed, j);
  for (size_t j = 0; j < a.imag.size(); ++j)
    a.imag[j] = random::standard_normal(seed + 1000, j);
  return a;
}

/// Checks the VJP rule of the one node of `text` (whose operands are the inputs, in order)
/// for L = sum(Re y Re c + Im y Im c) with a random cotangent c, against central
/// differences of L in the real and imaginary part of every input element. Returns the
/// largest error relative to the largest gradient; `analytic` receives the gradients.
double vjp_error(const std::string& text, std::vector<interp::Array>* analytic = nullptr) {
  auto g = parse_graph(text, "t.tir");
  REQUIRE_EQ(g->nodes().size(), 1u);
  std::vector<interp::Array> ins;
  for (size_t i = 0; i < g->inputs().size(); ++i)
    ins.push_back(random_array(g->inputs()[i]->type, static_cast<int64_t>(i) + 1));
  interp::Array cot = random_array(g->outputs[0]->type, 77);
  auto loss = [&] {
    auto y = interp::run(*g, ins).at(0);
    double l = 0;
    for (size_t j = 0; j < y.data.size(); ++j)
      l += y.data[j] * cot.data[j];
    for (size_t j = 0; j < y.imag.size(); ++j)
      l += y.imag[j] * cot.imag[j];
    return l;
  };
  // Analytic: the rule applied to a clone whose extra input is the cotangent.
  auto h = g->clone();
  Value* seed = h->add_input(h->outputs[0]->type, "");
  const Node& n = *h->nodes()[0];
  Builder b(*h);
  VjpCtx ctx{b, n, {seed}, std::vector<bool>(static_cast<size_t>(n.num_operands()), true)};
  REQUIRE(static_cast<bool>(n.def().vjp));
  std::vector<Value*> grads = n.def().vjp(ctx);
  REQUIRE_EQ(grads.size(), static_cast<size_t>(n.num_operands()));
  for (int i = 0; i < n.num_operands(); ++i) {
    REQUIRE(grads[static_cast<size_t>(i)] != nullptr);
    CHECK_EQ(grads[static_cast<size_t>(i)]->type, n.operand(i)->type);
  }
  h->outputs = grads;
  auto err = verify(*h);
  CHECK_MESSAGE(!err.has_value(), (err ? err->str() : ""));
  std::vector<interp::Array> hin = ins;
  hin.push_back(cot);
  auto an = interp::run(*h, hin);
  double scale = 1e-300, worst = 0;
  for (const auto& a : an) {
    for (double v : a.data)
      scale = std::max(scale, std::fabs(v));
    for (double v : a.imag)
      scale = std::max(scale, std::fabs(v));
  }
  for (size_t i = 0; i < ins.size(); ++i)
    for (int part = 0; part < 2; ++part) {
      std::vector<double>& xs = part ? ins[i].imag : ins[i].data;
      const std::vector<double>& gs = part ? an[i].imag : an[i].data;
      for (size_t j = 0; j < xs.size(); ++j) {
        double orig = xs[j], step = 1e-6 * std::max(1.0, std::fabs(orig));
        xs[j] = orig + step;
        double lp = loss();
        xs[j] = orig - step;
        double lm = loss();
        xs[j] = orig;
        worst = std::max(worst, std::fabs((lp - lm) / (2 * step) - gs[j]) / std::max(1.0, scale));
      }
    }
  if (analytic)
    *analytic = an;
  return worst;
}

} // namespace

TEST_CASE("fft: rfft and irfft gradients for every length from 1 to 9, on any axis") {
  for (int n = 1; n <= 9; ++n) {
    int m = n / 2 + 1;
    for (int axis = 0; axis < 3; ++axis) {
      auto dims = [&](int len) {
        std::vector<int> d{2, 3, 2};
        d[static_cast<size_t>(axis)] = len;
        return fmt::format("[{},{},{}]", d[0], d[1], d[2]);
      };
      INFO("n = " << n << ", axis = " << axis);
      CHECK_LT(vjp_error(fmt::format("func @f(%x: f64{0}) -> c128{1} {{\n"
                                     "  %y = rfft %x {{axis = {2}}} : c128{1}\n  return %y\n}}\n",
                                     dims(n), dims(m), axis)),
               1e-8);
      std::vector<interp::Array> an;
      CHECK_LT(vjp_error(fmt::format("func @f(%x: c128{1}) -> f64{0} {{\n"
                                     "  %y = irfft %x {{axis = {2}, n = {3}}} : f64{0}\n"
                                     "  return %y\n}}\n",
                                     dims(n), dims(m), axis - 3, n),
                         &an),
               1e-8);
      // irfft ignores the imaginary parts of bin 0 and, for even n, bin n/2: exactly 0.
      Shape s = an.at(0).shape();
      for (int64_t f = 0; f < s.numel(); ++f) {
        int64_t k = interp::unravel(f, s.to_vector())[static_cast<size_t>(axis)];
        if (k == 0 || (n % 2 == 0 && k == n / 2))
          CHECK_EQ(an[0].imag[static_cast<size_t>(f)], 0.0);
      }
    }
  }
}

TEST_CASE("conv1d: gradients for every stride, padding, dilation and groups") {
  int checked = 0;
  for (int64_t groups : {1, 2})
    for (int64_t stride : {1, 2, 3})
      for (int64_t dilation : {1, 2})
        for (int64_t k : {1, 3})
          for (auto pad : {Ints{0, 0}, Ints{2, 1}, Ints{0, 3}, Ints{5, 0}})
            for (int64_t len : {1, 4, 7}) {
              auto x = tt(DType::F64, {2, 4, len});
              auto w = tt(DType::F64, {6, 4 / groups, k});
              AttrList attrs{
                  {"stride", stride}, {"padding", pad}, {"dilation", dilation}, {"groups", groups}};
              std::string y = infer(OpKind::Conv1d, {x, w}, attrs);
              if (y.starts_with("["))
                continue; // kernel longer than the padded input
              std::string text = fmt::format(
                  "func @f(%x: {0}, %w: {1}) -> {2} {{\n  %y = conv1d %x, %w {{stride = {3}, "
                  "padding = [{4}, {5}], dilation = {6}, groups = {7}}} : {2}\n  return %y\n}}\n",
                  x.str(), w.str(), y, stride, pad[0], pad[1], dilation, groups);
              INFO(text);
              CHECK_LT(vjp_error(text), 1e-8);
              ++checked;
            }
  CHECK_GT(checked, 100);
  // Every tap of w reads left padding: dw = 0. And the large-stride single-output case.
  CHECK_LT(vjp_error("func @f(%x: f64[1,1,1], %w: f64[1,1,2]) -> f64[1,1,2] {\n"
                     "  %y = conv1d %x, %w {stride = 4, padding = [6, 0]} : f64[1,1,2]\n"
                     "  return %y\n}\n"),
           1e-8);
  CHECK_LT(vjp_error("func @f(%x: f64[2,3,9], %w: f64[3,1,2]) -> f64[2,3,1] {\n"
                     "  %y = conv1d %x, %w {stride = 100, groups = 3, dilation = 4} : f64[2,3,1]\n"
                     "  return %y\n}\n"),
           1e-8);
  // Empty batch: zero gradients of the right types.
  CHECK_LT(vjp_error("func @f(%x: f64[0,2,5], %w: f64[3,2,2]) -> f64[0,3,4] {\n"
                     "  %y = conv1d %x, %w : f64[0,3,4]\n  return %y\n}\n"),
           1e-8);
}

TEST_CASE("norm: layer_norm and rms_norm gradients") {
  for (const char* shape : {"[7]", "[3,5]", "[2,3,4]", "[4,1]"}) {
    std::string c = std::string(shape);
    c = "[" + c.substr(c.rfind(',') == std::string::npos ? 1 : c.rfind(',') + 1);
    INFO("x = " << shape);
    CHECK_LT(vjp_error(fmt::format("func @f(%x: f64{0}, %g: f64{1}, %b: f64{1}) -> f64{0} {{\n"
                                   "  %y = layer_norm %x, %g, %b {{eps = 0.01}} : f64{0}\n"
                                   "  return %y\n}}\n",
                                   shape, c)),
             1e-8);
    CHECK_LT(vjp_error(fmt::format("func @f(%x: f64{0}, %g: f64{1}) -> f64{0} {{\n"
                                   "  %y = rms_norm %x, %g : f64{0}\n  return %y\n}}\n",
                                   shape, c)),
             1e-8);
  }
}

TEST_CASE("vjp rules build nothing for operands that need no gradient") {
  auto g = parse_graph("func @f(%x: f64[2,3,8], %w: f64[4,3,3], %b: f64[6]) -> f64[2,4,6] {\n"
                       "  %y = conv1d %x, %w : f64[2,4,6]\n"
                       "  %z = layer_norm %y, %b, %b : f64[2,4,6]\n  return %z\n}\n",
                       "t.tir");
  Builder b(*g);
  Value* seed = g->add_input(g->outputs[0]->type, "");
  size_t before = g->nodes().size();
  VjpCtx ln{b, *g->nodes()[1], {seed}, {false, false, true}};
  auto r = g->nodes()[1]->def().vjp(ln);
  CHECK(r[0] == nullptr);
  CHECK(r[1] == nullptr);
  CHECK_EQ(r[2]->type.str(), "f64[6]");
  CHECK_EQ(g->nodes().size(), before + 1); // one sum
  VjpCtx cv{b, *g->nodes()[0], {g->nodes()[1]->result(0)}, {false, true}};
  auto rc = g->nodes()[0]->def().vjp(cv);
  CHECK(rc[0] == nullptr);
  CHECK_EQ(rc[1]->type.str(), "f64[4,3,3]");
}
