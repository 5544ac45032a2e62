// demo.cpp: the `make demo` program: build a small attention block as IR, print it, run it.
//
// Until the C++ DSL lands this builds the graph directly through ir::Builder, which is what
// the DSL will do under the hood: every node records the source line that made it, so the
// dump below (printed with locations) points back into this file.
#include <cmath>
#include <cstdio>

#include "ir/builder.h"
#include "ir/interp/interpreter.h"
#include "ir/printer.h"
#include "ir/verifier.h"

using namespace tevo::ir;

namespace {

/// Single-head self-attention with a causal mask and a GELU MLP, pre-LN, residuals.
std::unique_ptr<Graph> build_block(int64_t n, int64_t d) {
  auto g = std::make_unique<Graph>("attention_block");
  TensorType x_t{DType::F32, Shape{n, d}}, w_t{DType::F32, Shape{d, d}}, v_t{DType::F32, Shape{d}};
  Value* x = g->add_input(x_t, "x");
  Value* wq = g->add_input(w_t, "wq", InputKind::Param);
  Value* wk = g->add_input(w_t, "wk", InputKind::Param);
  Value* wv = g->add_input(w_t, "wv", InputKind::Param);
  Value* gamma = g->add_input(v_t, "ln.weight", InputKind::Param);
  Value* beta = g->add_input(v_t, "ln.bias", InputKind::Param);
  Builder b(*g);
  auto L = [](Loc l = Loc::here()) { return l; };
  Value* h = b.op(OpKind::LayerNorm, {x, gamma, beta}, {}, L(), "ln");
  Value* q = b.op(OpKind::Matmul, {h, wq}, {}, L(), "attn.q");
  Value* k = b.op(OpKind::Matmul, {h, wk}, {}, L(), "attn.k");
  Value* v = b.op(OpKind::Matmul, {h, wv}, {}, L(), "attn.v");
  Value* kt = b.op(OpKind::Transpose, {k}, {{"perm", std::vector<int64_t>{1, 0}}}, L(), "attn.kt");
  Value* s = b.op(OpKind::Matmul, {q, kt}, {}, L(), "attn.scores");
  Value* scale = b.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}},
                                         {"value", 1.0 / std::sqrt(static_cast<double>(d))}},
                      L(), "attn.scale");
  s = b.op(OpKind::Mul, {s, scale}, {}, L(), "attn.scaled");
  // Causal mask: keep j <= i, send the rest to -inf before the softmax.
  Value* ones = b.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{n, n}}, {"value", 1.0}},
                     L(), "attn.ones");
  Value* keep = b.op(OpKind::Tril, {ones}, {}, L(), "attn.causal");
  Value* zero = b.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}}, {"value", 0.0}}, L());
  Value* mask = b.op(OpKind::Gt, {keep, zero}, {}, L(), "attn.mask");
  Value* ninf = b.op(OpKind::Full, {}, {{"shape", std::vector<int64_t>{}}, {"value", -INFINITY}}, L());
  s = b.op(OpKind::Select, {mask, s, ninf}, {}, L(), "attn.masked");
  Value* p = b.op(OpKind::Softmax, {s}, {{"axis", int64_t{-1}}}, L(), "attn.probs");
  Value* o = b.op(OpKind::Matmul, {p, v}, {}, L(), "attn.out");
  Value* y = b.op(OpKind::Add, {x, b.op(OpKind::Gelu, {o}, {}, L(), "mlp.act")}, {}, L(), "y");
  g->outputs.push_back(y);
  return g;
}

interp::Array ramp(const TensorType& t, double scale, double offset) {
  interp::Array a(t);
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = std::sin(scale * static_cast<double>(i) + offset); // deterministic, no RNG needed
  a.round_to_dtype();
  return a;
}

} // namespace

int main(int argc, char** argv) {
  try {
    const int64_t n = 4, d = 8;
    auto g = build_block(n, d);
    if (auto err = verify(*g)) {
      std::fprintf(stderr, "%s\n", err->str().c_str());
      return 1;
    }
    std::printf("== IR (as traced, with source locations) ==\n%s\n",
                print_graph(*g, PrintOptions{true}).c_str());
    std::vector<interp::Array> ins;
    double k = 0.37;
    for (Value* in : g->inputs())
      ins.push_back(ramp(in->type, k += 0.11, 0.5));
    auto outs = interp::run(*g, ins);
    std::printf("== output of the reference interpreter ==\n%%y: %s\n", outs[0].type.str().c_str());
    for (int64_t i = 0; i < n; ++i) {
      std::printf("  [");
      for (int64_t j = 0; j < d; ++j)
        std::printf("%s%8.4f", j ? ", " : "", outs[0][i * d + j]);
      std::printf("]\n");
    }
    if (argc > 1) {
      // Save the IR (without locations) for the tevo command to work on.
      std::FILE* f = std::fopen(argv[1], "w");
      if (!f) {
        std::fprintf(stderr, "error: cannot write %s\n", argv[1]);
        return 1;
      }
      std::fputs(print_graph(*g).c_str(), f);
      std::fclose(f);
      std::printf("\nwrote %s: try `tevo print`, `tevo run --seed=1`, `tevo dot` and "
                  "`tevo opt --passes=default --print-after-all` on it\n",
                  argv[1]);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
