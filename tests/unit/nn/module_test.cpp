// module_test.cpp: nn::Module contract: PyTorch state_dict names, shapes, init, dtypes.
#include "ir/verifier.h"
#include "tests/unit/nn/nn_test_util.h"

#include <cmath>
#include <doctest/doctest.h>
#include <set>

using namespace tevo;
using namespace tevo::nn;
using namespace tevo::nn::test;

namespace {

GPTConfig tiny_gpt() {
  GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  return c;
}

std::vector<std::string> names_of(const std::vector<ParamSpec>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps)
    out.push_back(p.name);
  return out;
}

const ParamSpec& spec(const std::vector<ParamSpec>& ps, const std::string& name) {
  for (const auto& p : ps)
    if (p.name == name)
      return p;
  FAIL("no parameter " << name);
  return ps.front();
}

} // namespace

TEST_CASE("nn: GPT parameter names are PyTorch GPT-2's state_dict keys") {
  GPTConfig c = tiny_gpt();
  GPT gpt(c);
  // [k for k, _ in transformers.GPT2Model(GPT2Config(n_layer=2, ...)).named_parameters()]
  std::vector<std::string> expected = {"wte.weight", "wpe.weight"};
  for (int i = 0; i < 2; ++i)
    for (const char* s :
         {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
          "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
          "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"})
      expected.push_back(fmt::format("h.{}.{}", i, s));
  expected.push_back("ln_f.weight");
  expected.push_back("ln_f.bias");
  auto ps = gpt.parameters();
  CHECK_EQ(names_of(ps), expected);

  // Shapes: as HF's, except that Linear weights are [out, in] (HF's Conv1D: [in, out]).
  using V = std::vector<int64_t>;
  CHECK_EQ(spec(ps, "wte.weight").shape, V{11, 8});
  CHECK_EQ(spec(ps, "wpe.weight").shape, V{8, 8});
  CHECK_EQ(spec(ps, "h.1.ln_1.weight").shape, V{8});
  CHECK_EQ(spec(ps, "h.0.attn.c_attn.weight").shape, V{24, 8});
  CHECK_EQ(spec(ps, "h.0.attn.c_attn.bias").shape, V{24});
  CHECK_EQ(spec(ps, "h.0.attn.c_proj.weight").shape, V{8, 8});
  CHECK_EQ(spec(ps, "h.0.mlp.c_fc.weight").shape, V{32, 8});
  CHECK_EQ(spec(ps, "h.0.mlp.c_proj.weight").shape, V{8, 32});
  CHECK_EQ(spec(ps, "ln_f.bias").shape, V{8});

  // The traced graph's param inputs carry exactly these names (each once).
  Trace t("gpt");
  t.output(gpt.forward(t, t.input("tokens", {2, 5}, DType::I64)));
  auto g = t.finish();
  CHECK_FALSE(ir::verify(*g).has_value());
  auto traced = param_inputs(*g);
  CHECK_EQ(std::set<std::string>(traced.begin(), traced.end()),
           std::set<std::string>(expected.begin(), expected.end()));
  CHECK_EQ(traced.size(), expected.size());
}

TEST_CASE("nn: GPT without tied weights and without biases") {
  GPTConfig c = tiny_gpt();
  c.tie_weights = false;
  c.bias = false;
  GPT gpt(c);
  auto names = names_of(gpt.parameters());
  CHECK_EQ(names.back(), "lm_head.weight");
  CHECK_EQ(std::count_if(names.begin(), names.end(),
                         [](const std::string& n) { return n.ends_with(".bias"); }),
           0);
  CHECK_EQ(spec(gpt.parameters(), "lm_head.weight").shape, std::vector<int64_t>{11, 8});
}

TEST_CASE("nn: BERT parameter names are Hugging Face BertModel's") {
  BertConfig c;
  c.vocab_size = 13;
  c.hidden_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.intermediate_size = 16;
  c.max_position_embeddings = 10;
  Bert bert(c);
  std::vector<std::string> expected = {"embeddings.word_embeddings.weight",
                                       "embeddings.position_embeddings.weight",
                                       "embeddings.token_type_embeddings.weight",
                                       "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
  for (int i = 0; i < 2; ++i)
    for (const char* s :
         {"attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
          "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
          "attention.output.dense.weight", "attention.output.dense.bias",
          "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
          "intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight",
          "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"})
      expected.push_back(fmt::format("encoder.layer.{}.{}", i, s));
  CHECK_EQ(names_of(bert.parameters()), expected);
  CHECK_EQ(spec(bert.parameters(), "encoder.layer.1.intermediate.dense.weight").shape,
           std::vector<int64_t>{16, 8});
}

TEST_CASE("nn: other modules name their parameters like PyTorch") {
  CHECK_EQ(names_of(Linear(3, 4).parameters()), std::vector<std::string>{"weight", "bias"});
  CHECK_EQ(names_of(Linear(3, 4, false).parameters()), std::vector<std::string>{"weight"});
  CHECK_EQ(names_of(SwiGLU(4, 8).parameters()),
           (std::vector<std::string>{"gate_proj.weight", "up_proj.weight", "down_proj.weight"}));
  AttentionConfig ac;
  ac.d_model = 8;
  ac.n_heads = 4;
  ac.n_kv_heads = 2;
  ac.fused_qkv = false;
  ac.bias = false;
  MultiHeadAttention llama(ac);
  auto ps = llama.parameters();
  CHECK_EQ(names_of(ps), (std::vector<std::string>{"q_proj.weight", "k_proj.weight",
                                                   "v_proj.weight", "o_proj.weight"}));
  CHECK_EQ(spec(ps, "k_proj.weight").shape, std::vector<int64_t>{4, 8});
  ac.fused_qkv = true;
  CHECK_EQ(spec(MultiHeadAttention(ac).parameters(), "c_attn.weight").shape,
           std::vector<int64_t>{16, 8});
  BlockConfig bc;
  bc.attn.d_model = 4;
  bc.residual = Residual::ReZero;
  auto rz = Block(bc).parameters();
  CHECK_EQ(rz.front().name, "alpha");
  CHECK_EQ(rz.front().shape, std::vector<int64_t>{1});
  CHECK_EQ(rz.front().init.kind, Init::Kind::Zeros);
}

TEST_CASE("nn: init is deterministic in (seed, name) and independent across names") {
  GPT gpt(tiny_gpt());
  ParamStore a = init_params(gpt, 1), b = init_params(gpt, 1), c = init_params(gpt, 2);
  REQUIRE_EQ(a.size(), gpt.parameters().size());
  for (const auto& [name, arr] : a) {
    CHECK_EQ(arr.dtype(), DType::F32);
    CHECK_EQ(arr.data, b.at(name).data);
  }
  CHECK_NE(a.at("wte.weight").data, c.at("wte.weight").data);
  // Same shape and initialiser, different names: different values.
  CHECK_NE(a.at("h.0.attn.c_attn.weight").data, a.at("h.1.attn.c_attn.weight").data);
  // Adding a parameter does not move the others: a Linear's weight is the same with and
  // without a bias.
  Linear with(5, 3, true), without(5, 3, false);
  CHECK_EQ(init_params(with, 9).at("weight").data, init_params(without, 9).at("weight").data);
  // LayerNorm ones / zeros.
  for (double v : a.at("h.1.ln_2.weight").data)
    CHECK_EQ(v, 1.0);
  for (double v : a.at("h.1.ln_2.bias").data)
    CHECK_EQ(v, 0.0);
}

TEST_CASE("nn: init distributions follow PyTorch defaults and GPT-2's scheme") {
  Linear lin(16, 64);
  auto p = init_params(lin, 3);
  double bound = 1.0 / 4.0;
  for (double v : p.at("weight").data)
    CHECK(std::abs(v) <= bound);
  for (double v : p.at("bias").data)
    CHECK(std::abs(v) <= bound);
  auto stats = [](const Array& a) {
    double m = 0, s = 0;
    for (double v : a.data)
      m += v;
    m /= static_cast<double>(a.numel());
    for (double v : a.data)
      s += (v - m) * (v - m);
    return std::pair{m, std::sqrt(s / static_cast<double>(a.numel()))};
  };
  auto [em, es] = stats(init_params(Embedding(100, 50), 4).at("weight"));
  CHECK(std::abs(em) < 0.05);
  CHECK_EQ(es, doctest::Approx(1.0).epsilon(0.05));
  GPTConfig c = tiny_gpt();
  c.n_embd = 64;
  GPT gpt(c);
  auto g = init_params(gpt, 5);
  CHECK_EQ(stats(g.at("h.0.mlp.c_fc.weight")).second, doctest::Approx(0.02).epsilon(0.05));
  CHECK_EQ(stats(g.at("h.0.mlp.c_proj.weight")).second, doctest::Approx(0.01).epsilon(0.05));
  CHECK_EQ(stats(g.at("h.0.attn.c_proj.weight")).second, doctest::Approx(0.01).epsilon(0.05));
  for (double v : g.at("h.0.attn.c_attn.bias").data)
    CHECK_EQ(v, 0.0);
}

TEST_CASE("nn: a Uniform parameter equals random_uniform with its param_seed") {
  Linear lin(4, 3, false);
  auto p = init_params(lin, 42);
  Trace t("r");
  double b = 0.5;
  t.output(random_uniform(t, {3, 4}, param_seed(42, "weight"), -b, b));
  auto g = t.finish();
  CHECK_EQ(ir::interp::run(*g, {})[0].data, p.at("weight").data);
  CHECK_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  CHECK_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
}

TEST_CASE("nn: to(f64) sets parameter dtypes for a whole tree") {
  GPT gpt(tiny_gpt());
  gpt.to(DType::F64);
  for (const auto& p : gpt.parameters())
    CHECK_EQ(p.dtype, DType::F64);
  for (const auto& [name, arr] : init_params(gpt, 0))
    CHECK_EQ(arr.dtype(), DType::F64);
  Trace t("gpt64");
  Tensor logits = gpt.forward(t, t.input("tokens", {1, 3}, DType::I64));
  CHECK_EQ(logits.dtype(), DType::F64);
  CHECK_THROWS_WITH_AS(gpt.to(DType::I32),
                       doctest::Contains("module parameters must be float, got i32"), ir::Error);
}

TEST_CASE("nn: a module called twice is one set of parameters, names are checked") {
  Linear lin(4, 4);
  Trace t("twice");
  Tensor x = t.input("x", {2, 4});
  t.output(lin.forward(lin.forward(x)));
  auto g = t.finish();
  CHECK_EQ(param_inputs(*g), (std::vector<std::string>{"weight", "bias"}));

  struct Bad : Module {
    Bad() {
      register_parameter("w", {2}, Init::zeros());
      register_parameter("w", {2}, Init::zeros());
    }
  };
  CHECK_THROWS_WITH_AS(Bad(), doctest::Contains("'w' is already a parameter of this module"),
                       ir::Error);
  CHECK_THROWS_WITH_AS(lin.set_init("nope", Init::ones()),
                       doctest::Contains("no parameter 'nope' in this module"), ir::Error);
  CHECK_THROWS_WITH_AS(MultiHeadAttention(8, 3),
                       doctest::Contains("d_model 8 is not a multiple of 3 heads"), ir::Error);
  CHECK_THROWS_WITH_AS(MultiHeadAttention(8, 4, 3),
                       doctest::Contains("3 key/value heads do not divide 4 query heads"),
                       ir::Error);
  CHECK_THROWS_WITH_AS(
      Dropout(1.0), doctest::Contains("dropout probability must be in [0, 1), got 1"), ir::Error);
}

TEST_CASE("nn: apply visits modules with their dotted paths, bind_inputs reports gaps") {
  GPT gpt(tiny_gpt());
  std::vector<std::string> paths;
  gpt.apply([&](const std::string& p, Module&) { paths.push_back(p); });
  CHECK_EQ(paths.front(), "");
  CHECK(std::find(paths.begin(), paths.end(), "h.1.attn.c_attn") != paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "h.0.mlp") != paths.end());

  Trace t("lin");
  Linear lin(2, 2);
  t.output(lin.forward(t.input("x", {1, 2})));
  auto g = t.finish();
  CHECK_THROWS_WITH_AS(bind_inputs(*g, init_params(lin, 0), {}),
                       doctest::Contains("no value for data input 'x' (f32[1,2])"), ir::Error);
}

namespace {
// The example module of docs/NN.md.
class Classifier : public Module {
public:
  Classifier(int64_t d, int64_t classes) {
    ln_ = &register_module("norm", std::make_unique<LayerNorm>(d));
    mlp_ = &register_module("mlp", std::make_unique<MLP>(d, 4 * d, Activation::Gelu));
    register_parameter("head", {classes, d}, Init::normal(0.0, 0.02));
  }
  Tensor forward(Tensor x) {
    Trace& t = x.trace();
    Tensor h = call(t, *mlp_, call(t, *ln_, x));
    return matmul(h, transpose(param(t, "head")));
  }

private:
  LayerNorm* ln_;
  MLP* mlp_;
};
} // namespace

TEST_CASE("nn: the docs/NN.md example module traces and runs") {
  Classifier model(16, 3);
  Trace t("classify");
  t.output(model.forward(t.input("x", {8, 16})));
  auto g = t.finish();
  CHECK_EQ(param_inputs(*g),
           (std::vector<std::string>{"norm.weight", "norm.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                                     "mlp.c_proj.weight", "mlp.c_proj.bias", "head"}));
  CHECK_EQ(names_of(model.parameters()),
           (std::vector<std::string>{"head", "norm.weight", "norm.bias", "mlp.c_fc.weight",
                                     "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"}));
  auto out = run(*g, init_params(model, 0), {{"x", rand_array(DType::F32, {8, 16}, 1)}});
  CHECK_EQ(out[0].shape().to_vector(), std::vector<int64_t>{8, 3});
}
