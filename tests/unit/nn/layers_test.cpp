// layers_test.cpp: forward shapes and values of the nn layers; dropout train vs eval.
#include "ir/verifier.h"
#include "tests/unit/nn/nn_test_util.h"

#include <cmath>
#include <doctest/doctest.h>
#include <set>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::test;

namespace {

/// Traces m.forward(x) for an f32 input of `shape`; returns the output shape.
template <class M> std::vector<int64_t> out_shape(M& m, std::vector<int64_t> shape) {
  Trace t("shape");
  Tensor y = m.forward(t.input("x", shape));
  t.output(y);
  auto g = t.finish();
  CHECK_FALSE(ir::verify(*g).has_value());
  return y.shape();
}

/// Runs m on x (f64 parameters from seed 1) and returns the single output.
template <class M> Array run1(M& m, const Array& x) {
  m.to(x.dtype());
  Trace t("run");
  t.output(m.forward(t.input("x", x.shape().to_vector(), x.dtype())));
  auto g = t.finish();
  return run(*g, init_params(m, 1), {{"x", x}})[0];
}

using V = std::vector<int64_t>;

} // namespace

TEST_CASE("nn: forward shapes of every layer") {
  Linear lin(4, 6);
  CHECK_EQ(out_shape(lin, {2, 3, 4}), V{2, 3, 6});
  CHECK_EQ(out_shape(lin, {4}), V{6});
  LayerNorm ln(4);
  CHECK_EQ(out_shape(ln, {2, 3, 4}), V{2, 3, 4});
  LayerNorm ln_nobias(4, 1e-5, false);
  CHECK_EQ(out_shape(ln_nobias, {3, 4}), V{3, 4});
  RMSNorm rms(4);
  CHECK_EQ(out_shape(rms, {2, 4}), V{2, 4});
  Dropout drop(0.25);
  CHECK_EQ(out_shape(drop, {2, 4}), V{2, 4});
  for (Activation a :
       {Activation::Relu, Activation::Gelu, Activation::GeluTanh, Activation::Silu}) {
    MLP mlp(4, 16, a);
    CHECK_EQ(out_shape(mlp, {2, 3, 4}), V{2, 3, 4});
  }
  GLU glu(4, 8);
  ReGLU reglu(4, 8);
  GEGLU geglu(4, 8);
  SwiGLU swiglu(4, 8);
  Bilinear bil(4, 8);
  CHECK_EQ(out_shape(glu, {2, 3, 4}), V{2, 3, 4});
  CHECK_EQ(out_shape(reglu, {2, 3, 4}), V{2, 3, 4});
  CHECK_EQ(out_shape(geglu, {2, 3, 4}), V{2, 3, 4});
  CHECK_EQ(out_shape(swiglu, {2, 3, 4}), V{2, 3, 4});
  CHECK_EQ(out_shape(bil, {2, 3, 4}), V{2, 3, 4});
  SinusoidalPositionalEncoding sin_pe(5);
  CHECK_EQ(out_shape(sin_pe, {2, 3, 5}), V{2, 3, 5});
  LearnedPositionalEmbedding learned(8, 4);
  CHECK_EQ(out_shape(learned, {2, 3, 4}), V{2, 3, 4});

  Embedding emb(10, 4);
  Trace t("emb");
  Tensor ids = t.input("ids", {2, 3}, DType::I64);
  CHECK_EQ(emb.forward(ids).shape(), V{2, 3, 4});
  CHECK_EQ(emb.attend(emb.forward(ids)).shape(), V{2, 3, 10});
}

TEST_CASE("nn: Linear computes x W^T + b") {
  Linear lin(3, 2);
  lin.to(DType::F64);
  auto p = init_params(lin, 7);
  Array x = rand_array(DType::F64, {4, 3}, 11);
  Trace t("lin");
  t.output(lin.forward(t.input("x", {4, 3}, DType::F64)));
  auto g = t.finish();
  Array y = run(*g, p, {{"x", x}})[0];
  const Array &w = p.at("weight"), &b = p.at("bias");
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t o = 0; o < 2; ++o) {
      double s = b[o];
      for (int64_t k = 0; k < 3; ++k)
        s += x[i * 3 + k] * w[o * 3 + k];
      CHECK_EQ(y[i * 2 + o], doctest::Approx(s).epsilon(1e-12));
    }
}

TEST_CASE("nn: gated MLPs compute (act(x W) * x V) W2") {
  Array x = rand_array(DType::F64, {2, 3}, 5);
  auto check = [&](GatedMLP& m, double (*act)(double)) {
    Array y = run1(m, x);
    auto p = init_params(m, 1);
    const Array &w = p.at("gate_proj.weight"), &v = p.at("up_proj.weight"),
                &w2 = p.at("down_proj.weight");
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t o = 0; o < 3; ++o) {
        double s = 0;
        for (int64_t h = 0; h < 4; ++h) {
          double a = 0, u = 0;
          for (int64_t k = 0; k < 3; ++k) {
            a += x[r * 3 + k] * w[h * 3 + k];
            u += x[r * 3 + k] * v[h * 3 + k];
          }
          s += act(a) * u * w2[o * 4 + h];
        }
        CHECK_EQ(y[r * 3 + o], doctest::Approx(s).epsilon(1e-10));
      }
  };
  SwiGLU swi(3, 4);
  check(swi, [](double a) { return a / (1 + std::exp(-a)); });
  GLU glu(3, 4);
  check(glu, [](double a) { return 1 / (1 + std::exp(-a)); });
  ReGLU re(3, 4);
  check(re, [](double a) { return a > 0 ? a : 0.0; });
  GEGLU ge(3, 4);
  check(ge, [](double a) { return 0.5 * a * (1 + std::erf(a / std::sqrt(2.0))); });
  Bilinear bi(3, 4);
  check(bi, [](double a) { return a; });
}

TEST_CASE("nn: LayerNorm and RMSNorm normalise the last axis") {
  Array x = rand_array(DType::F64, {3, 5}, 2, -2, 3);
  LayerNorm ln(5);
  Array y = run1(ln, x);
  RMSNorm rms(5, 0.0);
  Array z = run1(rms, x);
  for (int64_t r = 0; r < 3; ++r) {
    double m = 0, ss = 0, var = 0;
    for (int64_t i = 0; i < 5; ++i) {
      m += y[r * 5 + i];
      var += y[r * 5 + i] * y[r * 5 + i];
      ss += z[r * 5 + i] * z[r * 5 + i];
    }
    CHECK(std::abs(m) < 1e-10);
    CHECK_EQ(var / 5, doctest::Approx(1.0).epsilon(1e-4)); // eps = 1e-5
    CHECK_EQ(ss / 5, doctest::Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("nn: dropout is the identity in eval mode and scales kept elements in training") {
  Dropout drop(0.25, 3);
  Array x = rand_array(DType::F64, {64, 32}, 4, 1, 2);
  drop.train(false);
  {
    Trace t("eval");
    Tensor in = t.input("x", {64, 32}, DType::F64);
    Tensor y = drop.forward(in);
    CHECK_EQ(y.value(), in.value());
  }
  drop.train(true);
  Array y = run1(drop, x);
  int64_t zeros = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (y[i] == 0.0)
      ++zeros;
    else
      CHECK_EQ(y[i], doctest::Approx(x[i] / 0.75).epsilon(1e-12));
  }
  double frac = static_cast<double>(zeros) / static_cast<double>(x.numel());
  CHECK(frac > 0.2);
  CHECK(frac < 0.3);
  // The same module traced again draws the same mask; another seed another one.
  CHECK_EQ(run1(drop, x).data, y.data);
  drop.set_seed(4);
  CHECK_NE(run1(drop, x).data, y.data);

  // Two dropout layers of one model (different scope paths) draw different masks, and
  // train(false) on the root reaches them.
  GPTConfig c;
  c.vocab_size = 5;
  c.block_size = 4;
  c.n_layer = 1;
  c.n_head = 1;
  c.n_embd = 4;
  c.dropout = 0.5;
  GPT gpt(c);
  auto count_random = [&] {
    Trace t("gpt");
    t.output(gpt.forward(t, t.input("tokens", {1, 4}, DType::I64)));
    auto g = t.finish();
    std::set<int64_t> seeds;
    int64_t n = 0;
    for (const auto& node : g->nodes())
      if (node->op == ir::OpKind::RandomUniform) {
        ++n;
        seeds.insert(node->attrs.i64("seed"));
      }
    CHECK_EQ(static_cast<int64_t>(seeds.size()), n);
    return n;
  };
  CHECK_EQ(count_random(), 4); // drop, attn_dropout, drop_attn, drop_mlp
  gpt.train(false);
  CHECK_EQ(count_random(), 0);
}

TEST_CASE("nn: sinusoidal table and learned positions") {
  Trace t("pe");
  t.output(sinusoidal_table(t, 6, 5, DType::F64));
  auto g = t.finish();
  Array pe = ir::interp::run(*g, {})[0];
  for (int64_t p = 0; p < 6; ++p)
    for (int64_t k = 0; k < 5; ++k) {
      double w = std::pow(10000.0, -2.0 * static_cast<double>(k / 2) / 5.0);
      double e =
          k % 2 == 0 ? std::sin(static_cast<double>(p) * w) : std::cos(static_cast<double>(p) * w);
      CHECK_EQ(pe[p * 5 + k], doctest::Approx(e).epsilon(1e-12));
    }
  LearnedPositionalEmbedding learned(4, 2);
  Array x = rand_array(DType::F64, {1, 3, 2}, 1);
  Array y = run1(learned, x);
  Array w = init_params(learned, 1).at("weight");
  for (int64_t i = 0; i < 6; ++i)
    CHECK_EQ(y[i], doctest::Approx(x[i] + w[i]).epsilon(1e-12));
  Trace t2("long");
  CHECK_THROWS_AS(learned.forward(t2.input("x", {1, 5, 2})), ir::Error);
}
