// grad_test.cpp: f64 finite-difference checks of autodiff through the nn modules.
//
// Each module is moved to f64 (Module::to), traced, and checked with gradcheck against
// every float input: the data input and all parameters. The checks need the VJP rules of
// every op on the path; a missing one throws "[op] has no gradient rule".
#include "tests/support/gradcheck.h"
#include "tests/unit/nn/nn_test_util.h"

#include <doctest/doctest.h>
#include <functional>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::test;

namespace {

/// Gradcheck of m traced by fwd, parameters from init_params perturbed by U(-0.1, 0.1)
/// (so that ones/zeros initialisers do not hide terms), data inputs by name.
void check_grad(Module& m,
                const std::function<Tensor(Trace&)>& fwd,
                const std::map<std::string, Array>& data) {
  m.to(DType::F64);
  Trace t("f");
  t.output(fwd(t));
  auto g = t.finish();
  REQUIRE(testing::is_double_precision(*g));
  ParamStore p = init_params(m, 3);
  int64_t k = 100;
  for (auto& [name, a] : p) {
    Array noise = rand_array(DType::F64, a.shape().to_vector(), ++k, -0.1, 0.1);
    for (int64_t i = 0; i < a.numel(); ++i)
      a[i] += noise[i];
  }
  auto r = testing::gradcheck(*g, bind_inputs(*g, p, data));
  INFO(r.report);
  CHECK(r.ok);
  CHECK(r.checked > 0);
}

AttentionConfig attn_config(int64_t kv, bool causal, PositionEncoding pos) {
  AttentionConfig c;
  c.d_model = 8;
  c.n_heads = 4;
  c.n_kv_heads = kv;
  c.causal = causal;
  c.pos = pos;
  return c;
}

const Array kX = rand_array(DType::F64, {2, 3, 8}, 17);
const Array kMask = bool_array({2, 3}, {1, 1, 0, 1, 0, 1});

void check_attention(const AttentionConfig& c, bool masked) {
  MultiHeadAttention m(c);
  std::map<std::string, Array> data = {{"x", kX}};
  if (masked)
    data["mask"] = kMask;
  check_grad(
      m,
      [&](Trace& t) {
        Tensor x = t.input("x", {2, 3, 8}, DType::F64);
        return masked ? m.forward(x, t.input("mask", {2, 3}, DType::Bool)) : m.forward(x);
      },
      data);
}

} // namespace

TEST_CASE("nn grad: causal attention") {
  check_attention(attn_config(0, true, PositionEncoding::None), false);
}

TEST_CASE("nn grad: attention with a padding mask") {
  check_attention(attn_config(0, false, PositionEncoding::None), true);
}

TEST_CASE("nn grad: grouped-query and multi-query attention") {
  auto c = attn_config(2, true, PositionEncoding::None);
  c.fused_qkv = false;
  check_attention(c, true);
  check_attention(attn_config(1, false, PositionEncoding::None), true);
}

TEST_CASE("nn grad: RoPE attention") {
  check_attention(attn_config(2, true, PositionEncoding::Rope), false);
}

TEST_CASE("nn grad: ALiBi attention") {
  check_attention(attn_config(0, true, PositionEncoding::Alibi), true);
  check_attention(attn_config(0, false, PositionEncoding::Alibi), false);
}

TEST_CASE("nn grad: LayerNorm and RMSNorm") {
  LayerNorm ln(8);
  check_grad(ln,
             [&](Trace& t) {
               return ln.forward(t.input("x", {2, 3, 8}, DType::F64));
             },
             {{"x", kX}});
  RMSNorm rms(8);
  check_grad(rms,
             [&](Trace& t) {
               return rms.forward(t.input("x", {2, 3, 8}, DType::F64));
             },
             {{"x", kX}});
}

TEST_CASE("nn grad: gated MLP") {
  SwiGLU m(8, 6);
  check_grad(m,
             [&](Trace& t) {
               return m.forward(t.input("x", {2, 3, 8}, DType::F64));
             },
             {{"x", kX}});
}

TEST_CASE("nn grad: transformer blocks (pre-LN, post-LN, ReZero, DeepNorm)") {
  for (auto r : {Residual::PreLN, Residual::PostLN, Residual::ReZero, Residual::DeepNorm}) {
    CAPTURE(static_cast<int>(r));
    BlockConfig bc;
    bc.attn = attn_config(0, true, PositionEncoding::None);
    bc.mlp_hidden = 12;
    bc.residual = r;
    if (r == Residual::DeepNorm)
      bc = deepnorm_encoder(bc, 4);
    Block b(bc);
    check_grad(b,
               [&](Trace& t) {
                 return b.forward(t.input("x", {2, 3, 8}, DType::F64),
                                  t.input("mask", {2, 3}, DType::Bool));
               },
               {{"x", kX}, {"mask", kMask}});
  }
}

TEST_CASE("nn grad: a tiny GPT end to end") {
  GPTConfig c;
  c.vocab_size = 5;
  c.block_size = 4;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 4;
  GPT gpt(c);
  check_grad(gpt,
             [&](Trace& t) {
               return gpt.forward(t, t.input("tokens", {1, 3}, DType::I64));
             },
             {{"tokens", rand_ids({1, 3}, 5, 2)}});
}

TEST_CASE("nn grad: a block in training mode, through fixed dropout masks") {
  BlockConfig bc;
  bc.attn = attn_config(2, true, PositionEncoding::Rope);
  bc.attn.dropout = 0.3;
  bc.dropout = 0.3;
  bc.mlp_hidden = 12;
  Block b(bc);
  b.train(true);
  check_grad(b, [&](Trace& t) { return b.forward(t.input("x", {2, 3, 8}, DType::F64)); },
             {{"x", kX}});
}
