// decay_scan_zoo_test.cpp: the decay-scan rewrite on the variant zoo's recurrences (S5 and
// RWKV time mixing, written as their papers' masked decay matrices) traced at N = 256: the
// matrices become linear scans (no [N, N] value is left) and the interpreter computes the
// same before and after (f64, 1e-9); and WKV with keys of +-60 (RWKV's overflow trap)
// compiled in f32 stays finite and matches the f64 matrix form.
#include "frontend/nn/variants/lm.h"
#include "passes/pass_manager.h"
#include "tests/support/compiled_check.h"
#include "tests/support/count_ops.h"
#include "tests/support/rng.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::ir;

namespace {

int count(const Graph& g, OpKind k) {
  return test::count_ops(g, k);
}

/// Nodes with an [.., N, N] result.
int square(const Graph& g, int64_t n) {
  int c = 0;
  for (const auto& node : g.nodes())
    for (int r = 0; r < node->num_results(); ++r) {
      const Shape& s = node->result(r)->type.shape;
      c += s.rank() >= 2 && s.dim(s.rank() - 1) == n && s.dim(s.rank() - 2) == n ? 1 : 0;
    }
  return c;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

double max_rel(const interp::Array& got, const interp::Array& want) {
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    worst = std::max(worst, std::fabs(got[i] - want[i]));
    scale = std::max(scale, std::fabs(want[i]));
  }
  return worst / std::max(scale, 1e-300);
}

/// `text` (a scalar loss) compiled with the default pipeline has one linear_scan and no
/// [n, n] value; its value (1 and 2 threads) and gradients match the interpreter's.
void check_one_scan(const char* text, int64_t n, uint64_t seed) {
  Module m = parse_module(text, "case.tir");
  cpu::CompileOptions o;
  std::unique_ptr<Graph> low = cpu::prepare(*m.funcs[0], o);
  CHECK_EQ(count(*low, OpKind::LinearScan), 1);
  CHECK_EQ(square(*low, n), 0);
  test::check_compiled(text, seed);
  test::check_gradients(text, seed + 1);
}

} // namespace

TEST_CASE("decay-scan: the zoo's S5 and RWKV mixers become linear scans and compute the same") {
  struct Want {
    const char* mixer;
    int scans; ///< linear_scan nodes after the pass
  };
  // S5: one scan over the P states; RWKV: numerator and denominator.
  for (Want w : {Want{"s5", 1}, Want{"rwkv", 2}}) {
    CAPTURE(w.mixer);
    const int64_t n = 256;
    nn::variants::VariantLMConfig c;
    c.mixer = w.mixer;
    c.d_model = 8;
    c.n_heads = 2;
    c.seq_len = n;
    c.vocab = 11;
    c.d_state = 3;
    auto mixer = nn::variants::make_mixer(c);
    mixer->to(DType::F64);
    Trace t("mixer");
    t.output(mixer->forward(t.input("x", {2, n, 8}, DType::F64)));
    std::unique_ptr<Graph> g = t.finish();
    CHECK(square(*g, n) > 0);
    auto ins = test::random_inputs(*g, 5, -1.0, 1.0, 0.75);
    auto want = interp::run(*g, ins);
    passes::PassManager pm = passes::PassManager::parse("decay-scan,canonicalize,cse,dce").take();
    CHECK(pm.run(*g));
    CHECK_EQ(count(*g, OpKind::LinearScan), w.scans);
    CHECK_EQ(count(*g, OpKind::Select), 0);
    CHECK_EQ(square(*g, n), 0);
    auto got = interp::run(*g, ins);
    REQUIRE_EQ(got.size(), want.size());
    CHECK(max_rel(got[0], want[0]) <= 1e-9);
  }
}

TEST_CASE("decay-scan: WKV with keys of +-60 stays finite in f32 and matches f64") {
  const int64_t n = 200;
  std::string text = fmt::format(R"(func @wkv(%w: f32[4,1,1], %kc: f32[1,4,1,{0}], %bonus: f32[1,4,{0},1], %v: f32[1,4,{0},1]) -> f32[1,4,{0},1] {{
  %i = iota {{shape = [{0}, {0}], axis = 0, dtype = f32}} : f32[{0},{0}]
  %j = iota {{shape = [{0}, {0}], axis = 1, dtype = f32}} : f32[{0},{0}]
  %one = full {{shape = [], value = 1.0, dtype = f32}} : f32[]
  %d = sub %i, %j : f32[{0},{0}]
  %d1 = sub %d, %one : f32[{0},{0}]
  %age = relu %d1 : f32[{0},{0}]
  %wa = mul %w, %age : f32[4,{0},{0}]
  %arg = sub %kc, %wa : f32[1,4,{0},{0}]
  %past = exp %arg : f32[1,4,{0},{0}]
  %eq = eq %i, %j : bool[{0},{0}]
  %zero = full {{shape = [], dtype = f32}} : f32[]
  %diag = select %eq, %bonus, %zero : f32[1,4,{0},{0}]
  %lt = lt %j, %i : bool[{0},{0}]
  %e = select %lt, %past, %diag : f32[1,4,{0},{0}]
  %num = matmul %e, %v : f32[1,4,{0},1]
  %den = sum %e {{axes = [-1], keepdims = true}} : f32[1,4,{0},1]
  %wkv = div %num, %den : f32[1,4,{0},1]
  return %wkv
}}
)",
                                 n);
  Module m = parse_module(text, "wkv.tir");
  const Graph& g = *m.funcs[0];
  test::Rng rng(7);
  std::vector<interp::Array> ins;
  for (const Value* v : g.inputs())
    ins.emplace_back(v->type);
  for (int64_t i = 0; i < ins[0].numel(); ++i)
    ins[0][i] = 0.05 + 0.5 * rng.uniform(0, 1); // decay rates w > 0
  for (int64_t i = 0; i < ins[1].numel(); ++i)
    ins[1][i] = (i % 3 == 0 ? 60.0 : i % 3 == 1 ? -60.0 : rng.uniform(-1, 1));
  for (int64_t i = 0; i < ins[2].numel(); ++i)
    ins[2][i] = std::exp(rng.uniform(-1, 1)); // e^(u + k): positive
  for (int64_t i = 0; i < ins[3].numel(); ++i)
    ins[3][i] = rng.uniform(-1, 1);
  // The f64 matrix form is the reference.
  Module m64 = parse_module(replace_all(text, "f32", "f64"), "wkv64.tir");
  std::vector<interp::Array> ins64;
  for (size_t k = 0; k < ins.size(); ++k) {
    interp::Array a(m64.funcs[0]->inputs()[k]->type);
    for (int64_t i = 0; i < a.numel(); ++i)
      a[i] = ins[k][i];
    ins64.push_back(std::move(a));
  }
  auto want = interp::run(*m64.funcs[0], ins64);
  cpu::CompileOptions o;
  o.pipeline = "default";
  std::unique_ptr<Graph> low = cpu::prepare(g, o);
  CHECK_EQ(count(*low, OpKind::LinearScan), 2);
  for (int threads : {1, 2}) {
    auto got = test::run_compiled(g, ins, threads);
    bool finite = true;
    for (int64_t i = 0; i < got[0].numel(); ++i)
      finite = finite && std::isfinite(got[0][i]);
    CHECK(finite);
    CHECK(max_rel(got[0], want[0]) <= 1e-5);
  }
}

TEST_CASE("decay-scan: retention (Q K^T ⊙ gamma^(i-j)) V as a chunked scan, compiled, with gradients") {
  // N = 256 = 4 chunks of 64; two heads with their own decay (relu(i - j) keeps the masked
  // exponents finite, so the matrix form's gradient has no inf * 0). The loss is a sum of
  // tanh so that every output element gets a distinct cotangent.
  const char* text = R"(func @loss(%rate: f32[2,1,1], %q: f32[2,256,8], %kt: f32[2,8,256], %v: f32[2,256,8]) -> f32[] {
  %r = mul %rate, %rate : f32[2,1,1]
  %log_gamma = neg %r : f32[2,1,1]
  %i = iota {shape = [256, 256], axis = 0, dtype = f32} : f32[256,256]
  %j = iota {shape = [256, 256], axis = 1, dtype = f32} : f32[256,256]
  %d = sub %i, %j : f32[256,256]
  %age = relu %d : f32[256,256]
  %e = mul %log_gamma, %age : f32[2,256,256]
  %decay = exp %e : f32[2,256,256]
  %keep = le %j, %i : bool[256,256]
  %zero = full {shape = [], dtype = f32} : f32[]
  %dm = select %keep, %decay, %zero : f32[2,256,256]
  %s = matmul %q, %kt : f32[2,256,256]
  %m = mul %s, %dm : f32[2,256,256]
  %y = matmul %m, %v : f32[2,256,8]
  %t = tanh %y : f32[2,256,8]
  %l = sum %t {axes = []} : f32[]
  return %l
}
)";
  check_one_scan(text, 256, 61);
}

TEST_CASE("decay-scan: a selective decay exp(L_i - L_j), L = cumsum(log a), compiled, with gradients") {
  // Per-step decays a_t = sigmoid(z_t) in (0, 1) (log a = -softplus(-z)), N = 300: the
  // rewritten graph is one time-varying linear_scan; values and gradients match the matrix.
  const char* text = R"(func @loss(%z: f32[2,300,1], %v: f32[2,300,3]) -> f32[] {
  %s = sigmoid %z : f32[2,300,1]
  %la = log %s : f32[2,300,1]
  %l = cumsum %la {axis = 1} : f32[2,300,1]
  %lt = transpose %l {perm = [0, 2, 1]} : f32[2,1,300]
  %i = iota {shape = [300, 300], axis = 0, dtype = f32} : f32[300,300]
  %j = iota {shape = [300, 300], axis = 1, dtype = f32} : f32[300,300]
  %keep = le %j, %i : bool[300,300]
  %e = sub %l, %lt : f32[2,300,300]
  %zero = full {shape = [], dtype = f32} : f32[]
  %em = select %keep, %e, %zero : f32[2,300,300]
  %decay = exp %em : f32[2,300,300]
  %m = select %keep, %decay, %zero : f32[2,300,300]
  %y = matmul %m, %v : f32[2,300,3]
  %t = tanh %y : f32[2,300,3]
  %o = sum %t {axes = []} : f32[]
  return %o
}
)";
  check_one_scan(text, 300, 71);
}

TEST_CASE("decay-scan: per-step decays on Q K^T (SSD) as a chunked scan, compiled, with gradients") {
  // a_t = sigmoid(z_t) per head and step, N = 192 = 3 chunks of 64, f32.
  const char* text = R"(func @loss(%z: f32[2,192,1], %q: f32[2,192,8], %kt: f32[2,8,192], %v: f32[2,192,4]) -> f32[] {
  %s = sigmoid %z : f32[2,192,1]
  %la = log %s : f32[2,192,1]
  %l = cumsum %la {axis = 1} : f32[2,192,1]
  %lt = transpose %l {perm = [0, 2, 1]} : f32[2,1,192]
  %i = iota {shape = [192, 192], axis = 0, dtype = f32} : f32[192,192]
  %j = iota {shape = [192, 192], axis = 1, dtype = f32} : f32[192,192]
  %keep = le %j, %i : bool[192,192]
  %e = sub %l, %lt : f32[2,192,192]
  %zero = full {shape = [], dtype = f32} : f32[]
  %em = select %keep, %e, %zero : f32[2,192,192]
  %decay = exp %em : f32[2,192,192]
  %dm = select %keep, %decay, %zero : f32[2,192,192]
  %sc = matmul %q, %kt : f32[2,192,192]
  %m = mul %sc, %dm : f32[2,192,192]
  %y = matmul %m, %v : f32[2,192,4]
  %t = tanh %y : f32[2,192,4]
  %o = sum %t {axes = []} : f32[]
  return %o
}
)";
  check_one_scan(text, 192, 81);
}
