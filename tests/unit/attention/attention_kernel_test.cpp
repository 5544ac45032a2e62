// attention_kernel_test.cpp: the CPU runtime kernels of attention / attention_grad against
// the reference interpreter, through cpu::compile (1 and 2 threads), plus the kernel
// contract: tile-boundary sizes, strided operands, masked rows, deterministic backward,
// workspace independent of N x M, and check() errors.
#include "backends/cpu/compile.h"
#include "ir/interp/interpreter.h"
#include "ir/parser.h"
#include "passes/autodiff/grad.h"
#include "runtime/json.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/attention_gemm.h"
#include "runtime/kernels/kernels.h"
#include "tests/support/dense_desc.h"
#include "tests/support/random_inputs.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace tevo;
using namespace tevo::ir;

namespace {

/// One attention call: shapes, mask and optional operands.
struct Shape4 {
  std::vector<int64_t> batch;
  int64_t hq = 1, hkv = 1, n = 1, m = 1, d = 1, dv = 1;
  std::string mask = "none";
  int64_t window = 0;
  std::vector<int64_t> bias; ///< empty: no bias
  bool toeplitz = false;     ///< bias is a relative-position table [.., N + M - 1]
  std::vector<int64_t> keep; ///< empty: no keep
  bool grad = false, dlse = false;
  bool k_transposed = false; ///< k arrives as [*B, M, Hkv, d] and is transposed (a view)

  Shape4 with_bias(std::vector<int64_t> b) const {
    Shape4 s = *this;
    s.bias = std::move(b);
    return s;
  }
  /// A relative-position table broadcasting to [*B, Hq, N + M - 1].
  Shape4 with_table(std::vector<int64_t> b) const {
    Shape4 s = with_bias(std::move(b));
    s.toeplitz = true;
    return s;
  }
  Shape4 with_keep(std::vector<int64_t> k) const {
    Shape4 s = *this;
    s.keep = std::move(k);
    return s;
  }
  Shape4 with_grad(bool dlse_used) const {
    Shape4 s = *this;
    s.grad = true;
    s.dlse = dlse_used;
    return s;
  }
};

Shape4 sh(std::vector<int64_t> batch,
          int64_t hq,
          int64_t hkv,
          int64_t n,
          int64_t m,
          int64_t d,
          int64_t dv,
          std::string mask = "none",
          int64_t window = 0) {
  Shape4 s;
  s.batch = std::move(batch);
  s.hq = hq;
  s.hkv = hkv;
  s.n = n;
  s.m = m;
  s.d = d;
  s.dv = dv;
  s.mask = std::move(mask);
  s.window = window;
  return s;
}

std::string dims(std::vector<int64_t> lead, std::initializer_list<int64_t> tail) {
  lead.insert(lead.end(), tail);
  return fmt::format("[{}]", fmt::join(lead, ","));
}

/// The function text: attention, and with s.grad its attention_grad on a random `do`.
std::string graph_text(const Shape4& s, const char* t) {
  std::string q = t + dims(s.batch, {s.hq, s.n, s.d}), k = t + dims(s.batch, {s.hkv, s.m, s.d}),
              v = t + dims(s.batch, {s.hkv, s.m, s.dv}), o = t + dims(s.batch, {s.hq, s.n, s.dv}),
              l = t + dims(s.batch, {s.hq, s.n});
  std::string args = s.k_transposed ? fmt::format("%q: {}, %kin: {}, %v: {}", q,
                                                  t + dims(s.batch, {s.m, s.hkv, s.d}), v)
                                    : fmt::format("%q: {}, %k: {}, %v: {}", q, k, v);
  std::string ops = "%q, %k, %v";
  std::string attrs = fmt::format("scale = {}, mask = \"{}\", window = {}",
                                  1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(s.d, 1))),
                                  s.mask, s.window);
  if (!s.bias.empty()) {
    args += fmt::format(", %bias: {}[{}]", t, fmt::join(s.bias, ","));
    ops += ", %bias";
    attrs += s.toeplitz ? ", has_bias = true, bias_toeplitz = true" : ", has_bias = true";
  }
  if (!s.keep.empty()) {
    args += fmt::format(", %keep: bool[{}]", fmt::join(s.keep, ","));
    ops += ", %keep";
    attrs += ", has_keep = true";
  }
  std::string body;
  int64_t r = static_cast<int64_t>(s.batch.size());
  if (s.k_transposed) {
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < r; ++i)
      perm.push_back(i);
    perm.insert(perm.end(), {r + 1, r, r + 2});
    body += fmt::format("  %k = transpose %kin {{perm = [{}]}} : {}\n", fmt::join(perm, ","), k);
  }
  body += fmt::format("  %o, %l = attention {} {{{}}} : {}, {}\n", ops, attrs, o, l);
  std::string ret = "%o, %l", rtypes = o + ", " + l;
  if (s.grad) {
    args += fmt::format(", %do: {}", o);
    std::string gops = ops + ", %o, %l, %do", gattrs = attrs;
    if (s.dlse) {
      args += fmt::format(", %dlse: {}", l);
      gops += ", %dlse";
      gattrs += ", has_dlse = true";
    }
    std::string res = "%dq, %dk, %dv", types = fmt::format("{}, {}, {}", q, k, v);
    if (!s.bias.empty()) {
      res += ", %db";
      types += fmt::format(", {}[{}]", t, fmt::join(s.bias, ","));
    }
    body += fmt::format("  {} = attention_grad {} {{{}}} : {}\n", res, gops, gattrs, types);
    ret = res + ", " + ret;
    rtypes = types + ", " + rtypes;
  }
  return fmt::format("func @f({}) -> ({}) {{\n{}  return {}\n}}\n", args, rtypes, body, ret);
}

std::vector<interp::Array> random_inputs(const Graph& g, uint64_t seed) {
  return test::random_inputs(g, seed, -2.0, 2.0, 0.8);
}

/// |got - want| <= rtol (|want| + max(1, max |want|)) elementwise (the floor of 1 covers
/// results that cancel to 0, e.g. dq with one key per query); infinities must match.
std::string compare(const interp::Array& got, const interp::Array& want, double rtol) {
  if (!(got.type == want.type))
    return fmt::format("type {} vs {}", got.type.str(), want.type.str());
  double scale = 1;
  for (double w : want.data)
    if (std::isfinite(w))
      scale = std::max(scale, std::fabs(w));
  for (int64_t i = 0; i < got.numel(); ++i) {
    double a = got[i], b = want[i];
    bool ok = std::isinf(b) ? a == b : std::fabs(a - b) <= rtol * (std::fabs(b) + scale);
    if (!ok)
      return fmt::format("element {}: got {} expected {}", i, a, b);
  }
  return "";
}

std::vector<interp::Array>
run_compiled(const Graph& g, const std::vector<interp::Array>& ins, int threads) {
  cpu::CompileOptions o;
  o.threads = threads;
  auto exe = cpu::compile(g, o);
  return cpu::run_arrays(*exe, ins);
}

void check_against_interpreter(
    const Shape4& s, uint64_t seed,
    const std::function<void(std::vector<interp::Array>&)>& edit = {}) {
  for (const char* t : {"f32", "f64"}) {
    std::string text = graph_text(s, t);
    INFO(text);
    Module m = parse_module(text, "case.tir");
    const Graph& g = *m.funcs[0];
    auto ins = random_inputs(g, seed);
    if (edit)
      edit(ins);
    auto want = interp::run(g, ins);
    double rtol = std::string(t) == "f32" ? 1e-4 : 1e-10;
    for (int threads : {1, 2}) {
      auto got = run_compiled(g, ins, threads);
      REQUIRE_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        std::string diff = compare(got[i], want[i], rtol);
        CHECK_MESSAGE(diff.empty(), t << " threads " << threads << " output " << i << ": " << diff);
      }
    }
  }
}

} // namespace

TEST_CASE("attention kernel: forward and backward match the interpreter at tile boundaries") {
  using rt::kernels::kAttnBlockK;
  using rt::kernels::kAttnBlockQ;
  using rt::kernels::kAttnFwdBlockK;
  using rt::kernels::kAttnFwdBlockQ;
  using rt::kernels::kAttnFwdLongN;
  const int64_t bq = kAttnBlockQ, bk = kAttnBlockK;
  std::vector<Shape4> shapes = {
      sh({}, 1, 1, bq - 1, bk + 1, 8, 8, "causal"),
      sh({}, 1, 1, bq, bk, 8, 4, "causal"),
      sh({1}, 2, 1, bq + 1, bk - 1, 4, 8, "none"),
      sh({}, 2, 2, 2 * bq + 1, 2 * bk + 1, 8, 8, "causal"),
      sh({}, 1, 1, bq + 1, bk + 1, 8, 8, "sliding", bk / 2 + 3),
      sh({2}, 4, 2, 7, 2 * bk + 3, 16, 8, "causal"), // queries are the last 7 keys
      sh({}, 2, 1, bk + 5, bq - 3, 8, 8, "causal"),  // N > M: leading rows see no key
      sh({}, 1, 1, 1, 1, 1, 1, "none"),
      sh({}, 1, 1, 70, 300, 8, 8, "sliding", 1),   // one key per query
      sh({}, 1, 1, 70, 300, 8, 8, "sliding", 999), // window beyond M: causal
      // the forward's long-sequence tiles (backward keeps its own)
      sh({}, 1, 1, kAttnFwdLongN, 2 * kAttnFwdBlockK + 1, 8, 8, "causal"),
      sh({}, 2, 1, 3 * kAttnFwdBlockQ + 5, kAttnFwdBlockK - 1, 4, 4, "sliding", 300),
      // several query tiles per head, GQA and a batch: the forward's K^T cache changes head
      // between units and serves tiles packed by earlier units
      sh({2}, 4, 2, kAttnFwdLongN + 33, 2 * kAttnFwdBlockK + 77, 16, 8, "causal"),
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    INFO("shape " << i);
    check_against_interpreter(shapes[i], 100 + i);
    check_against_interpreter(shapes[i].with_grad(i % 2 == 1), 200 + i);
  }
}

TEST_CASE("attention kernel: bias and keep broadcasts, GQA/MQA, strided k, with gradients") {
  Shape4 strided = sh({2, 1}, 2, 1, 5, 9, 4, 2, "causal");
  strided.k_transposed = true;
  std::vector<Shape4> shapes = {
      sh({2}, 4, 2, 33, 65, 8, 4, "causal").with_bias({4, 33, 65}),
      sh({2}, 3, 1, 9, 140, 8, 8).with_bias({1, 1, 1, 140}).with_keep({9, 140}),
      sh({1}, 2, 2, 70, 70, 4, 4, "sliding", 20).with_bias({70}).with_keep({1, 2, 70, 70}),
      // few keys, d > dv: the packed K^T (keys rounded up to 32) outgrows K and V's tiles
      sh({2}, 4, 1, 5, 9, 8, 4).with_bias({4, 5, 9}),
      strided,
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    INFO("shape " << i);
    Shape4 s = shapes[i];
    check_against_interpreter(s, 300 + i);
    check_against_interpreter(s.with_grad(true), 400 + i);
  }
}

TEST_CASE("attention kernel: relative-position bias tables (ALiBi / KERPLE form), with gradients") {
  // Tables are read along diagonals (row stride -1): broadcast heads and batches, GQA,
  // sliding windows, N > M and N < M, tile boundaries of both kernels.
  const int64_t bq = rt::kernels::kAttnBlockQ, bk = rt::kernels::kAttnBlockK;
  std::vector<Shape4> shapes = {
      sh({2}, 4, 2, 33, 65, 8, 4, "causal").with_table({4, 33 + 65 - 1}),
      sh({2}, 3, 1, 9, 140, 8, 8).with_table({2, 1, 9 + 140 - 1}).with_keep({9, 140}),
      sh({1}, 2, 2, 70, 70, 4, 4, "sliding", 20).with_table({139}),
      sh({}, 2, 1, bk + 5, bq - 3, 8, 8, "causal").with_table({2, bk + bq + 1}),
      sh({}, 1, 1, bq + 1, 2 * bk + 1, 8, 8, "none").with_table({1, 1}),
      sh({}, 1, 1, rt::kernels::kAttnFwdLongN, rt::kernels::kAttnFwdBlockK + 3, 4, 4, "causal")
          .with_table({rt::kernels::kAttnFwdLongN + rt::kernels::kAttnFwdBlockK + 2}),
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    INFO("shape " << i);
    check_against_interpreter(shapes[i], 500 + i);
    check_against_interpreter(shapes[i].with_grad(i % 2 == 0), 600 + i);
  }
}

TEST_CASE("attention kernel: data masks skip empty tiles (block-local, dilated, padded heads)") {
  // keep [N, M] written as data: tiles with no kept pair are skipped, full tiles are not
  // masked, mixed tiles are; the results must not notice. Blocks of 150 do not align with
  // the 64 x 256 tiles; a dilated mask leaves no tile empty; one head keeps nothing.
  const int64_t n = 600;
  auto fill_keep = [&](size_t at, const std::function<bool(int64_t, int64_t, int64_t)>& f) {
    return [at, f, n](std::vector<interp::Array>& ins) {
      interp::Array& k = ins[at];
      int64_t heads = k.numel() / (n * n);
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < n; ++j)
            k[(h * n + i) * n + j] = f(h, i, j) ? 1 : 0;
    };
  };
  Shape4 block = sh({}, 2, 1, n, n, 8, 8).with_keep({n, n});
  auto blocks = fill_keep(3, [](int64_t, int64_t i, int64_t j) { return i / 150 == j / 150; });
  check_against_interpreter(block, 700, blocks);
  check_against_interpreter(block.with_grad(true), 701, blocks);
  Shape4 dilated = sh({}, 1, 1, n, n, 8, 8, "causal").with_keep({n, n});
  auto every_third = fill_keep(3, [](int64_t, int64_t i, int64_t j) { return (i - j) % 3 == 0; });
  check_against_interpreter(dilated.with_grad(false), 702, every_third);
  Shape4 heads = sh({}, 2, 2, n, n, 4, 4).with_bias({2, n, n}).with_keep({2, n, n});
  auto head1_empty = fill_keep(4, [](int64_t h, int64_t i, int64_t j) {
    return h == 0 && (j < 300 || i == j);
  });
  check_against_interpreter(heads, 703, head1_empty);
  check_against_interpreter(heads.with_grad(false), 704, head1_empty);
  // One mask per batch item (broadcast over heads): item 0 keeps keys < 100, item 1 all.
  const int64_t m = 300;
  Shape4 per_item = sh({2}, 2, 1, m, m, 4, 4).with_keep({2, 1, m, m});
  auto items = [m](std::vector<interp::Array>& ins) {
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < m; ++j)
          ins[3][(b * m + i) * m + j] = b == 1 || j < 100 ? 1 : 0;
  };
  check_against_interpreter(per_item, 705, items);
  check_against_interpreter(per_item.with_grad(true), 706, items);
}

TEST_CASE("attention kernel: large scores (|s| ~ 1e3) stay finite and accurate") {
  Shape4 s = sh({1}, 2, 1, 100, 300, 16, 16, "causal").with_grad(true);
  for (const char* t : {"f32", "f64"}) {
    Module m = parse_module(graph_text(s, t), "large.tir");
    const Graph& g = *m.funcs[0];
    auto ins = random_inputs(g, 31);
    for (double& x : ins[0].data) // q: scores of several hundred, far beyond exp's range
      x *= 60;
    ins[0].round_to_dtype();
    auto want = interp::run(g, ins);
    for (int threads : {1, 2}) {
      auto got = run_compiled(g, ins, threads);
      for (size_t i = 0; i < got.size(); ++i) {
        std::string diff = compare(got[i], want[i], std::string(t) == "f32" ? 1e-4 : 1e-10);
        CHECK_MESSAGE(diff.empty(), t << " threads " << threads << " output " << i << ": " << diff);
      }
    }
  }
}

TEST_CASE("attention kernel: fully masked rows give exactly 0 / -inf and no NaN anywhere") {
  Shape4 s = sh({}, 2, 1, 70, 130, 8, 8, "causal").with_keep({70, 130}).with_grad(true);
  for (const char* t : {"f32", "f64"}) {
    Module m = parse_module(graph_text(s, t), "masked.tir");
    const Graph& g = *m.funcs[0];
    auto ins = random_inputs(g, 9);
    interp::Array& keep = ins[3];
    for (int64_t j = 0; j < 130; ++j) { // rows 5 and 69 keep nothing
      keep[5 * 130 + j] = 0;
      keep[69 * 130 + j] = 0;
    }
    for (int threads : {1, 2}) {
      auto out = run_compiled(g, ins, threads);
      const interp::Array &dq = out[0], &o = out[3], &lse = out[4];
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t row : {5, 69}) {
          CHECK(std::isinf(lse[h * 70 + row]));
          CHECK(lse[h * 70 + row] < 0);
          for (int64_t c = 0; c < 8; ++c) {
            CHECK_EQ(o[(h * 70 + row) * 8 + c], 0.0);
            CHECK_EQ(dq[(h * 70 + row) * 8 + c], 0.0);
          }
        }
      for (const interp::Array& a : out)
        for (double x : a.data)
          CHECK_FALSE(std::isnan(x));
    }
  }
}

TEST_CASE("attention kernel: f32 flushes denormals (documented in OPS.md), f64 does not") {
  // The f32 kernels run under FTZ/DAZ (a probability near exp's cutoff times a value is a
  // denormal, and each costs a microcode assist): values of ~1e-39 in v give an o of
  // exactly 0, where the reference keeps ~1e-39. f64 keeps them.
  Shape4 s = sh({}, 1, 1, 4, 8, 16, 4);
  for (const char* t : {"f32", "f64"}) {
    Module m = parse_module(graph_text(s, t), "denormal.tir");
    const Graph& g = *m.funcs[0];
    auto ins = random_inputs(g, 3);
    for (double& x : ins[2].data)
      x = 1e-39; // every o is then a weighted mean of 1e-39s
    auto want = interp::run(g, ins);
    auto got = run_compiled(g, ins, 1);
    bool f32 = std::string(t) == "f32";
    for (int64_t e = 0; e < got[0].numel(); ++e) {
      CHECK(std::fabs(want[0][e]) > 0.9e-39); // the reference keeps the denormal
      if (f32)
        CHECK_EQ(got[0][e], 0.0);
      else
        CHECK(std::fabs(got[0][e] - want[0][e]) <= 1e-12 * std::fabs(want[0][e]));
    }
  }
}

TEST_CASE("attention kernel: runs as runtime-op steps (fuse leaves it alone), deterministic") {
  Shape4 s = sh({1}, 4, 2, 150, 300, 16, 16, "causal").with_bias({1, 1, 1, 300}).with_grad(true);
  Module m = parse_module(graph_text(s, "f32"), "steps.tir");
  const Graph& g = *m.funcs[0];
  cpu::CompileOptions o;
  o.threads = 2;
  auto exe = cpu::compile(g, o);
  CHECK_EQ(exe->stats().runtime_ops, 2);
  int attn = 0;
  for (const auto& n : exe->fused_graph().nodes())
    attn += n->op == OpKind::Attention || n->op == OpKind::AttentionGrad;
  CHECK_EQ(attn, 2);
  auto ins = random_inputs(g, 11);
  auto a = cpu::run_arrays(*exe, ins);
  auto b = cpu::run_arrays(*exe, ins);
  for (size_t i = 0; i < a.size(); ++i)
    CHECK(a[i].data == b[i].data); // bit-identical for a given thread count
}

TEST_CASE("attention kernel: an autodiff training graph (o and lse used) compiles and matches") {
  const char* text =
      R"(func @loss(%q: f32[2,4,70,16], %k: f32[2,2,300,16], %v: f32[2,2,300,8], %b: f32[1,1,1,300]) -> f32[] {
  %o, %l = attention %q, %k, %v, %b {scale = 0.25, mask = "causal", has_bias = true} : f32[2,4,70,8], f32[2,4,70]
  %t = tanh %o : f32[2,4,70,8]
  %s1 = sum %t {axes = []} : f32[]
  %s2 = sum %l {axes = []} : f32[]
  %c = full {shape = [], value = 0.01, dtype = f32} : f32[]
  %s3 = mul %s2, %c : f32[]
  %y = add %s1, %s3 : f32[]
  return %y
}
)";
  Module m = parse_module(text, "train.tir");
  Graph& g = *m.funcs[0];
  std::vector<Value*> wrt(g.inputs().begin(), g.inputs().end());
  std::vector<Value*> grads = autodiff::grad(g, g.outputs[0], wrt);
  g.outputs = grads;
  auto ins = random_inputs(g, 21);
  auto want = interp::run(g, ins);
  for (int threads : {1, 2}) {
    auto got = run_compiled(g, ins, threads);
    for (size_t i = 0; i < got.size(); ++i) {
      std::string diff = compare(got[i], want[i], 1e-4);
      CHECK_MESSAGE(diff.empty(), "threads " << threads << " gradient " << i << ": " << diff);
    }
  }
}

namespace {

int64_t attn_numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t e : dims)
    n *= e;
  return n;
}

rt::RuntimeOpStep step(bool grad, int64_t n, int64_t m) {
  const auto desc = test::dense_desc;
  rt::RuntimeOpStep s;
  s.op = grad ? "attention_grad" : "attention";
  s.iattrs = {1, 0, 0, 0, 0};
  s.fattrs = {0.125};
  s.operands = {desc(DType::F32, {1, 8, n, 64}), desc(DType::F32, {1, 8, m, 64}),
                desc(DType::F32, {1, 8, m, 64})};
  s.results = {desc(DType::F32, {1, 8, n, 64}), desc(DType::F32, {1, 8, n})};
  if (grad) {
    s.iattrs.push_back(0);
    s.operands.push_back(s.results[0]);
    s.operands.push_back(s.results[1]);
    s.operands.push_back(s.results[0]);
    s.results = {s.operands[0], s.operands[1], s.operands[2]};
  }
  return s;
}

} // namespace

TEST_CASE("attention kernel: workspace never scales with N x M") {
  for (int threads : {1, 2, 4}) {
    // Forward: per-thread tiles, plus (f32 on AVX-512) a per-thread cache of one head's
    // packed K^T: independent of N, linear in M up to KtCache::kMaxBytes, then dropped.
    auto fwd = [&](int64_t n, int64_t m) {
      rt::RuntimeOpStep s = step(false, n, m);
      rt::kernels::check(s);
      return rt::kernels::workspace_bytes(s, threads);
    };
    using rt::kernels::attn::KtCache;
    CHECK_EQ(fwd(4096, 8192), fwd(16384, 8192)); // not in N
    const int64_t cache8 = KtCache::floats(8192, 64) * 4;
    const bool cached = rt::kernels::attn::tile_gemm_available();
    CHECK_EQ(fwd(8192, 8192) - fwd(8192, 4096),
             cached ? threads * (cache8 - KtCache::floats(4096, 64) * 4) : 0);
    CHECK_EQ(fwd(8192, 65536), fwd(8192, 131072)); // over the cap: no cache
    CHECK(fwd(8192, 65536) < (int64_t{1} << 20) * threads);
    for (int64_t m : {4096, 8192, 32768, 65536})
      CHECK(fwd(8192, m) < ((int64_t{1} << 20) + KtCache::kMaxBytes) * threads);
    rt::RuntimeOpStep g4 = step(true, 4096, 4096), g8 = step(true, 8192, 8192);
    rt::kernels::check(g4);
    rt::kernels::check(g8);
    int64_t b4 = rt::kernels::workspace_bytes(g4, threads);
    int64_t b8 = rt::kernels::workspace_bytes(g8, threads);
    // Backward: tiles plus (threads - 1) private dq copies, linear in N (4 bytes * 8 * 64).
    CHECK_EQ(b8 - b4, (threads - 1) * int64_t{4} * 8 * 4096 * 64);
    CHECK(b8 < int64_t{8192} * 8192 * 4);
  }
}

TEST_CASE("attention kernel: check() rejects inconsistent steps with one-line errors") {
  auto expect_error = [](const rt::RuntimeOpStep& s, const char* needle) {
    try {
      rt::kernels::check(s);
      FAIL("expected an error");
    } catch (const rt::Error& e) {
      std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find('\n') == std::string::npos);
      CHECK(msg.find(needle) != std::string::npos);
    }
  };
  rt::RuntimeOpStep s = step(false, 16, 16);
  s.iattrs[0] = 3;
  expect_error(s, "mask must be");
  s = step(false, 16, 16);
  s.iattrs = {2, 0, 0, 0, 0};
  expect_error(s, "window");
  s = step(false, 16, 16);
  s.iattrs[2] = 1; // a bias announced but absent
  expect_error(s, "expected 4 operands");
  s = step(false, 16, 16);
  s.iattrs[4] = 1; // a table without a bias
  expect_error(s, "needs a bias");
  s = step(false, 16, 16);
  s.iattrs[2] = s.iattrs[4] = 1;
  s.operands.push_back(test::dense_desc(DType::F32, {8, 16, 16})); // scores, not a table
  expect_error(s, "bias");
  s = step(false, 16, 16);
  s.operands[1].dims[3] = 32;
  s.operands[1].strides = {8 * 16 * 32, 16 * 32, 32, 1};
  expect_error(s, "shapes do not fit");
  s = step(false, 16, 16);
  s.results[1].dims = {1, 8, 15};
  expect_error(s, "lse is");
  s = step(true, 16, 16);
  s.operands[4].dims = {1, 8, 17};
  expect_error(s, "lse is");
}

TEST_CASE("attention kernel: forward and backward stay inside workspace_bytes") {
  // The per-thread tiles are carved out of one workspace; a tile larger than its share
  // (the packed K^T panels round keys up to 32) would overwrite the next thread's tiles or
  // whatever follows. Every byte past workspace_bytes is a canary here.
  const auto desc = test::dense_desc;
  for (bool grad : {false, true})
    for (int64_t m : {1, 9, 31, 33, 700})
      for (int64_t d : {1, 8, 20})
        for (int threads : {1, 2}) {
          CAPTURE(grad);
          CAPTURE(m);
          CAPTURE(d);
          CAPTURE(threads);
          const int64_t n = 5;
          rt::RuntimeOpStep s;
          s.op = grad ? "attention_grad" : "attention";
          s.iattrs = {0, 0, 1, 0, 0};
          s.fattrs = {0.5};
          s.operands = {desc(DType::F32, {2, n, d}), desc(DType::F32, {2, m, d}),
                        desc(DType::F32, {2, m, 3}), desc(DType::F32, {2, n, m})};
          s.results = {desc(DType::F32, {2, n, 3}), desc(DType::F32, {2, n})};
          if (grad) {
            s.iattrs.push_back(0);
            s.operands.push_back(s.results[0]);
            s.operands.push_back(s.results[1]);
            s.operands.push_back(s.results[0]);
            s.results = {s.operands[0], s.operands[1], s.operands[2], s.operands[3]};
          }
          rt::kernels::check(s);
          std::vector<std::vector<float>> ins, outs;
          std::mt19937 gen(static_cast<uint32_t>(m * 7 + d));
          std::normal_distribution<float> nd(0.0f, 1.0f);
          for (const auto& o : s.operands) {
            ins.emplace_back(static_cast<size_t>(attn_numel(o.dims)));
            for (float& e : ins.back())
              e = nd(gen);
          }
          for (const auto& r : s.results)
            outs.emplace_back(static_cast<size_t>(attn_numel(r.dims)));
          std::vector<const void*> ip;
          std::vector<void*> op;
          for (auto& x : ins)
            ip.push_back(x.data());
          for (auto& x : outs)
            op.push_back(x.data());
          const int64_t ws = rt::kernels::workspace_bytes(s, threads);
          constexpr int64_t kCanary = 1 << 16;
          std::vector<uint8_t> buf(static_cast<size_t>(ws + kCanary + 64), 0xA5);
          auto* base = reinterpret_cast<uint8_t*>(
              (reinterpret_cast<uintptr_t>(buf.data()) + 63) / 64 * 64);
          rt::kernels::run(s, ip, op, base, threads);
          int64_t touched = 0;
          for (int64_t i = ws; i < ws + kCanary; ++i)
            touched += base[i] != 0xA5;
          CHECK(touched == 0);
        }
}
