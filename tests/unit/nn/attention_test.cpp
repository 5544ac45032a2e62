// attention_test.cpp: attention against a loop reference (masks, GQA, ALiBi), RoPE and
// ALiBi details, and forward shapes of attention, blocks, GPT and BERT.
#include "ir/verifier.h"
#include "tests/unit/nn/nn_test_util.h"

#include <cmath>
#include <doctest/doctest.h>
#include <limits>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::test;

namespace {

using V = std::vector<int64_t>;

/// Attention by loops: q [B,Hq,T,d], k/v [B,Hkv,S,d]; head h reads kv head h / (Hq/Hkv).
Array reference_attention(
    const Array& q, const Array& k, const Array& v, bool causal, const Array* mask, bool alibi) {
  int64_t B = q.shape().dim(0), Hq = q.shape().dim(1), T = q.shape().dim(2), d = q.shape().dim(3),
          Hkv = k.shape().dim(1), S = k.shape().dim(2);
  int64_t G = Hq / Hkv;
  auto slopes = alibi_slopes(Hq);
  Array out(q.type);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < T; ++i) {
        int64_t kh = h / G;
        std::vector<double> s(static_cast<size_t>(S));
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < S; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e)
            dot += q[((b * Hq + h) * T + i) * d + e] * k[((b * Hkv + kh) * S + j) * d + e];
          dot /= std::sqrt(static_cast<double>(d));
          double dist = static_cast<double>(i + (S - T) - j);
          if (alibi)
            dot -= slopes[static_cast<size_t>(h)] * std::abs(dist);
          bool keep = (!causal || dist >= 0) && (!mask || (*mask)[b * S + j] != 0);
          s[static_cast<size_t>(j)] = keep ? dot : -std::numeric_limits<double>::infinity();
          m = std::max(m, s[static_cast<size_t>(j)]);
        }
        double z = 0;
        for (auto& x : s) {
          x = std::isinf(m) ? 0.0 : std::exp(x - m);
          z += x;
        }
        for (int64_t e = 0; e < d; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < S; ++j)
            acc +=
                (z > 0 ? s[static_cast<size_t>(j)] / z : 0.0) * v[((b * Hkv + kh) * S + j) * d + e];
          out[((b * Hq + h) * T + i) * d + e] = acc;
        }
      }
  return out;
}

Array run_sdpa(
    const Array& q, const Array& k, const Array& v, bool causal, const Array* mask, bool alibi) {
  Trace t("sdpa");
  SdpaOptions o;
  o.causal = causal;
  o.alibi = alibi;
  std::vector<Array> ins = {q, k, v};
  Tensor tq = t.input("q", q.shape().to_vector(), DType::F64);
  Tensor tk = t.input("k", k.shape().to_vector(), DType::F64);
  Tensor tv = t.input("v", v.shape().to_vector(), DType::F64);
  if (mask) {
    o.padding_mask = t.input("mask", mask->shape().to_vector(), DType::Bool);
    ins.push_back(*mask);
  }
  t.output(scaled_dot_product_attention(tq, tk, tv, o));
  auto g = t.finish();
  CHECK_FALSE(ir::verify(*g).has_value());
  return ir::interp::run(*g, ins)[0];
}

} // namespace

TEST_CASE("nn: scaled_dot_product_attention matches a loop reference") {
  int64_t B = 2, T = 3, S = 5, d = 3;
  Array mask = bool_array({B, S}, {1, 1, 0, 1, 1, 0, 1, 1, 1, 0});
  for (int64_t hkv : {4, 2, 1})
    for (int causal = 0; causal < 2; ++causal)
      for (int masked = 0; masked < 2; ++masked)
        for (int alibi = 0; alibi < 2; ++alibi) {
          CAPTURE(hkv);
          CAPTURE(causal);
          CAPTURE(masked);
          CAPTURE(alibi);
          Array q = rand_array(DType::F64, {B, 4, T, d}, 1, -2, 2);
          Array k = rand_array(DType::F64, {B, hkv, S, d}, 2, -2, 2);
          Array v = rand_array(DType::F64, {B, hkv, S, d}, 3);
          const Array* m = masked ? &mask : nullptr;
          Array got = run_sdpa(q, k, v, causal != 0, m, alibi != 0);
          Array want = reference_attention(q, k, v, causal != 0, m, alibi != 0);
          CHECK(max_abs_diff(got, want) < 1e-12);
        }
}

TEST_CASE("nn: a query with no visible key attends to nothing: 0, not NaN") {
  Array q = rand_array(DType::F64, {2, 1, 2, 2}, 1);
  Array k = rand_array(DType::F64, {2, 1, 2, 2}, 2);
  Array v = rand_array(DType::F64, {2, 1, 2, 2}, 3);
  Array mask = bool_array({2, 2}, {0, 1, 0, 0}); // batch 1 is all padding
  Array y = run_sdpa(q, k, v, true, &mask, false);
  for (int64_t i = 0; i < y.numel(); ++i)
    CHECK_FALSE(std::isnan(y[i]));
  // batch 0, query 0 sees only key 0 (causal) which is padding; batch 1 sees nothing.
  CHECK_EQ(y[0], 0.0);
  CHECK_EQ(y[1], 0.0);
  for (int64_t i = 4; i < 8; ++i)
    CHECK_EQ(y[i], 0.0);
  CHECK_EQ(y[2], doctest::Approx(v[2]).epsilon(1e-12)); // query 1 sees only key 1
}

TEST_CASE("nn: ALiBi slopes follow the paper's recipe") {
  auto s8 = alibi_slopes(8);
  for (int h = 0; h < 8; ++h)
    CHECK_EQ(s8[static_cast<size_t>(h)], std::exp2(-(h + 1)));
  CHECK_EQ(alibi_slopes(6), (std::vector<double>{0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125}));
  CHECK_EQ(alibi_slopes(1), std::vector<double>{std::exp2(-8.0)});
}

TEST_CASE("nn: RoPE rotates pairs so that q.k depends on relative position only") {
  // The same vector at every position: <rope(x)_i, rope(x)_j> is a function of i - j.
  int64_t T = 6, d = 8;
  Array one = rand_array(DType::F64, {1, d}, 9);
  Array x(ir::TensorType{DType::F64, ir::Shape({1, T, d})});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t e = 0; e < d; ++e)
      x[i * d + e] = one[e];
  Trace t("rope");
  t.output(rope(t.input("x", {1, T, d}, DType::F64)));
  auto g = t.finish();
  Array r = ir::interp::run(*g, {x})[0];
  auto dot = [&](int64_t i, int64_t j) {
    double s = 0;
    for (int64_t e = 0; e < d; ++e)
      s += r[i * d + e] * r[j * d + e];
    return s;
  };
  for (int64_t e = 0; e < d; ++e) // position 0 is not rotated
    CHECK_EQ(r[e], doctest::Approx(x[e]).epsilon(1e-14));
  CHECK_EQ(dot(3, 1), doctest::Approx(dot(5, 3)).epsilon(1e-12));
  CHECK_EQ(dot(2, 2), doctest::Approx(dot(0, 0)).epsilon(1e-12)); // norm preserved
  CHECK_EQ(dot(4, 0), doctest::Approx(dot(5, 1)).epsilon(1e-12));
  // Pair (e, e + d/2) at position 1 is rotated by angle base^(-2e/d).
  double w = std::pow(10000.0, -2.0 / 8.0), c = std::cos(w), s = std::sin(w);
  CHECK_EQ(r[d + 1], doctest::Approx(x[1] * c - x[5] * s).epsilon(1e-12));
  CHECK_EQ(r[d + 5], doctest::Approx(x[5] * c + x[1] * s).epsilon(1e-12));
}

TEST_CASE("nn: grouped-query attention shares each K/V head across its query group") {
  // GQA (4 query heads, 2 kv heads) equals MHA whose k/v projections repeat each kv head
  // for its group of query heads (query head h uses kv head h / 2).
  AttentionConfig ac;
  ac.d_model = 8;
  ac.n_heads = 4;
  ac.n_kv_heads = 2;
  ac.fused_qkv = false;
  ac.causal = true;
  ac.pos = PositionEncoding::Rope;
  MultiHeadAttention gqa(ac);
  ac.n_kv_heads = 4;
  MultiHeadAttention mha(ac);
  gqa.to(DType::F64);
  mha.to(DType::F64);
  ParamStore pg = init_params(gqa, 3);
  ParamStore pm = pg;
  for (const char* name : {"k_proj.weight", "k_proj.bias", "v_proj.weight", "v_proj.bias"}) {
    const Array& src = pg.at(name);
    bool weight = std::string(name).ends_with("weight");
    Array dst(ir::TensorType{DType::F64, weight ? ir::Shape({8, 8}) : ir::Shape({8})});
    int64_t row = weight ? 8 : 1, hd = 2;
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t r = 0; r < hd * row; ++r)
        dst[h * hd * row + r] = src[(h / 2) * hd * row + r];
    pm[name] = dst;
  }
  Array x = rand_array(DType::F64, {2, 5, 8}, 8);
  Array mask = bool_array({2, 5}, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
  auto go = [&](MultiHeadAttention& m, const ParamStore& p) {
    Trace t("attn");
    t.output(m.forward(t.input("x", {2, 5, 8}, DType::F64), t.input("mask", {2, 5}, DType::Bool)));
    auto g = t.finish();
    return run(*g, p, {{"x", x}, {"mask", mask}})[0];
  };
  CHECK(max_abs_diff(go(gqa, pg), go(mha, pm)) < 1e-12);
}

TEST_CASE("nn: causal attention ignores the future, padded keys are ignored") {
  MultiHeadAttention attn(8, 2, 0, true, PositionEncoding::Alibi);
  attn.to(DType::F64);
  ParamStore p = init_params(attn, 1);
  Trace t("attn");
  t.output(attn.forward(t.input("x", {1, 4, 8}, DType::F64), t.input("mask", {1, 4}, DType::Bool)));
  auto g = t.finish();
  Array x = rand_array(DType::F64, {1, 4, 8}, 2);
  Array mask = bool_array({1, 4}, {1, 1, 0, 1});
  Array y = run(*g, p, {{"x", x}, {"mask", mask}})[0];
  // Moving position `pos` changes no output row in `same` and some value of `changed`.
  auto perturb = [&](int64_t pos, std::vector<int64_t> same, int64_t changed) {
    Array x2 = x;
    for (int64_t e = 0; e < 8; ++e)
      x2[pos * 8 + e] += 1.0;
    Array y2 = run(*g, p, {{"x", x2}, {"mask", mask}})[0];
    for (int64_t row : same)
      for (int64_t e = 0; e < 8; ++e)
        CHECK_EQ(y2[row * 8 + e], doctest::Approx(y[row * 8 + e]).epsilon(1e-13));
    double moved = 0;
    for (int64_t e = 0; e < 8; ++e)
      moved = std::max(moved, std::abs(y2[changed * 8 + e] - y[changed * 8 + e]));
    CHECK(moved > 1e-6);
  };
  perturb(3, {0, 1, 2}, 3); // the future of every other position
  perturb(2, {0, 1, 3}, 2); // a padded key: only its own query row moves
  perturb(1, {0}, 3);       // a real past key is seen
}

TEST_CASE("nn: forward shapes of attention variants, blocks, GPT and BERT") {
  for (auto pos : {PositionEncoding::None, PositionEncoding::Rope, PositionEncoding::Alibi})
    for (int64_t kv : {0, 2, 1})
      for (bool fused : {true, false}) {
        AttentionConfig ac;
        ac.d_model = 8;
        ac.n_heads = 4;
        ac.n_kv_heads = kv;
        ac.pos = pos;
        ac.fused_qkv = fused;
        ac.causal = kv == 2;
        MultiHeadAttention m(ac);
        Trace t("a");
        Tensor y = m.forward(t.input("x", {2, 3, 8}), t.input("m", {2, 3}, DType::Bool));
        CHECK_EQ(y.shape(), V{2, 3, 8});
        t.output(y);
        CHECK_FALSE(ir::verify(*t.finish()).has_value());
      }
  for (auto r : {Residual::PreLN, Residual::PostLN, Residual::ReZero, Residual::DeepNorm}) {
    BlockConfig bc;
    bc.attn.d_model = 8;
    bc.attn.n_heads = 2;
    bc.residual = r;
    if (r == Residual::DeepNorm)
      bc = deepnorm_encoder(bc, 6);
    Block b(bc);
    Trace t("b");
    CHECK_EQ(b.forward(t.input("x", {2, 3, 8})).shape(), V{2, 3, 8});
  }
  GPTConfig gc;
  gc.vocab_size = 7;
  gc.block_size = 6;
  gc.n_layer = 2;
  gc.n_head = 2;
  gc.n_embd = 8;
  GPT gpt(gc);
  {
    Trace t("gpt");
    CHECK_EQ(gpt.forward(t, t.input("tokens", {2, 6}, DType::I64)).shape(), V{2, 6, 7});
    CHECK_THROWS_WITH_AS(gpt.forward(t, t.input("long", {1, 7}, DType::I64)),
                         doctest::Contains("GPT: sequence length 7 exceeds block_size 6"),
                         ir::Error);
  }
  BertConfig bc;
  bc.vocab_size = 9;
  bc.hidden_size = 8;
  bc.n_layer = 2;
  bc.n_head = 2;
  bc.intermediate_size = 16;
  bc.max_position_embeddings = 6;
  Bert bert(bc);
  Trace t("bert");
  Tensor ids = t.input("ids", {2, 5}, DType::I64);
  CHECK_EQ(bert.forward(t, ids, t.input("mask", {2, 5}, DType::Bool)).shape(), V{2, 5, 8});
  CHECK_EQ(bert.forward(t, ids, {}, t.input("types", {2, 5}, DType::I64)).shape(), V{2, 5, 8});
}

TEST_CASE("nn: GPT logits are finite and tied to wte") {
  GPTConfig gc;
  gc.vocab_size = 7;
  gc.block_size = 6;
  gc.n_layer = 2;
  gc.n_head = 2;
  gc.n_embd = 8;
  GPT gpt(gc);
  gpt.train(false);
  Trace t("gpt");
  t.output(gpt.forward(t, t.input("tokens", {2, 4}, DType::I64)));
  auto g = t.finish();
  auto y = run(*g, init_params(gpt, 0), {{"tokens", rand_ids({2, 4}, 7, 1)}})[0];
  CHECK_EQ(y.shape().to_vector(), V{2, 4, 7});
  for (double v : y.data)
    CHECK(std::isfinite(v));
}
