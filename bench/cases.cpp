// cases.cpp: the benchmark graphs (DSL, nn::Block, nn::GPT + make_train_step) and inputs.
#include "bench/cases.h"

#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <stdexcept>

#include "bench/variants.h"
#include "frontend/nn/nn.h"
#include "frontend/train/losses.h"
#include "frontend/train/train_step.h"
#include "passes/autodiff/grad.h"
#include "passes/pass_manager.h"

#ifndef TEVO_BENCH_GPT_DATA
#define TEVO_BENCH_GPT_DATA "examples/data/perldiag.txt"
#endif

namespace tevo::bench {

namespace {

using ir::DType;

struct BlockSize {
  int64_t B, T, C, H;
};
constexpr BlockSize kBlockS{8, 256, 256, 8};
constexpr BlockSize kBlockL{4, 512, 512, 8};

/// examples/gpt's "small" configuration (gpt.cpp config_by_name): keep in step with it.
struct GptSmall {
  int64_t block = 128, n_layer = 4, n_head = 4, n_embd = 128, batch = 32, steps = 3000,
          warmup = 100;
  double lr = 3e-3;
};

/// Vocabulary size of examples/gpt's default corpus: the distinct bytes of the file.
int64_t corpus_vocab() {
  std::ifstream f(TEVO_BENCH_GPT_DATA, std::ios::binary);
  if (!f)
    throw std::runtime_error(std::string(TEVO_BENCH_GPT_DATA) + ": cannot open");
  std::array<bool, 256> seen{};
  for (std::istreambuf_iterator<char> it(f), end; it != end; ++it)
    seen[static_cast<unsigned char>(*it)] = true;
  int64_t n = 0;
  for (bool s : seen)
    n += s ? 1 : 0;
  return n;
}

/// Fills one input: params from the store, state zero, data random (ids below `vocab`).
std::vector<uint8_t> input_bytes(const ir::Value& v, const nn::ParamStore& params, int64_t vocab,
                                 std::mt19937_64& gen) {
  const ir::TensorType& t = v.type;
  if (v.input_kind == ir::InputKind::Param) {
    auto it = params.find(v.name);
    if (it == params.end())
      throw std::runtime_error("bench: no initial value for parameter " + v.name);
    return it->second.to_bytes();
  }
  ir::interp::Array a(t);
  if (v.input_kind == ir::InputKind::Data) {
    for (int64_t i = 0; i < a.numel(); ++i) {
      double u = static_cast<double>(gen() >> 11) * 0x1.0p-53;
      if (ir::is_float(t.dtype))
        a[i] = 2 * u - 1;
      else if (ir::is_int(t.dtype))
        a[i] = static_cast<double>(static_cast<int64_t>(u * static_cast<double>(vocab)));
      else
        a[i] = u < 0.5 ? 0 : 1;
    }
    a.round_to_dtype();
  }
  return a.to_bytes();
}

void fill_inputs(Case& c, const nn::ParamStore& params, int64_t vocab = 2) {
  std::mt19937_64 gen(1);
  for (const ir::Value* v : c.graph->inputs())
    c.inputs.push_back(input_bytes(*v, params, vocab, gen));
}

Case sgemm(int64_t n) {
  Case c;
  c.name = "sgemm" + std::to_string(n);
  c.shape = "M=N=K=" + std::to_string(n);
  Trace t(c.name);
  t.output(matmul(t.input("a", {n, n}), t.input("b", {n, n})));
  c.graph = t.finish();
  c.flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  fill_inputs(c, {});
  return c;
}

Case rowwise(const std::string& op, int64_t rows, int64_t cols) {
  Case c;
  c.name = op + std::to_string(rows);
  c.shape = std::to_string(rows) + "x" + std::to_string(cols) + " f32, over rows";
  Trace t(c.name);
  Tensor x = t.input("x", {rows, cols});
  if (op == "softmax")
    t.output(softmax(x, -1));
  else
    t.output(layer_norm(x, t.input("weight", {cols}), t.input("bias", {cols})));
  c.graph = t.finish();
  c.bytes = 2.0 * 4.0 * static_cast<double>(rows) * static_cast<double>(cols);
  fill_inputs(c, {});
  return c;
}

std::string block_shape(const BlockSize& s) {
  return "B" + std::to_string(s.B) + " T" + std::to_string(s.T) + " C" + std::to_string(s.C) +
         " H" + std::to_string(s.H);
}

/// FLOPs of a pre-LN GPT block forward (matmuls only; attention counted unmasked).
double block_flops(const BlockSize& s) {
  double tokens = static_cast<double>(s.B * s.T), C = static_cast<double>(s.C);
  double linear = 2.0 * tokens * C * (3 * C + C + 8 * C);
  double attn = 2.0 * 2.0 * static_cast<double>(s.B * s.T * s.T) * C;
  return linear + attn;
}

/// A GPT-2 block (pre-LN, causal, GELU-tanh MLP 4x): forward, or forward + the VJP of
/// the output with respect to x and every parameter (cotangent `dy` an input). The
/// forward + VJP case is built the way train::make_train_step builds a training step: the
/// default pipeline runs on the forward before autodiff, so a rewritten form (the fused
/// causal attention) is differentiated by its own rule (attention_grad, recomputing from
/// the log-sum-exp) instead of keeping the probabilities for the backward.
Case block(const std::string& name, const BlockSize& s, bool backward) {
  Case c;
  c.name = name;
  c.shape = block_shape(s);
  nn::BlockConfig bc;
  bc.attn.d_model = s.C;
  bc.attn.n_heads = s.H;
  bc.attn.causal = true;
  bc.mlp_hidden = 4 * s.C;
  bc.activation = nn::Activation::GeluTanh;
  bc.residual = nn::Residual::PreLN;
  nn::Block blk(bc);
  blk.train(false);
  Trace t(name);
  Tensor x = t.input("x", {s.B, s.T, s.C});
  Tensor y = blk.forward(x);
  if (backward) {
    ir::Graph& fg = t.graph();
    fg.outputs = {y.value()};
    passes::PassManager::parse("default").take().run(fg);
    y = Tensor(&t, fg.outputs[0]);
    fg.outputs.clear();
  }
  t.output(y);
  c.flops = block_flops(s);
  if (backward) {
    Tensor dy = t.input("dy", {s.B, s.T, s.C});
    std::vector<ir::Value*> wrt = {x.value()};
    for (ir::Value* v : t.graph().inputs())
      if (v->input_kind == ir::InputKind::Param)
        wrt.push_back(v);
    for (ir::Value* g : autodiff::vjp(t.graph(), {y.value()}, {dy.value()}, wrt))
      t.output(Tensor(&t, g));
    c.flops *= 3;
  }
  c.graph = t.finish();
  fill_inputs(c, nn::init_params(blk, 1));
  return c;
}

/// One AdamW step (forward, backward, clipping, schedule, update) of examples/gpt's
/// "small" model on a random batch.
Case train_gpt() {
  GptSmall cfg;
  Case c;
  c.name = "train_gpt";
  nn::GPTConfig g;
  g.vocab_size = corpus_vocab();
  g.block_size = cfg.block;
  g.n_layer = cfg.n_layer;
  g.n_head = cfg.n_head;
  g.n_embd = cfg.n_embd;
  c.shape = "L" + std::to_string(g.n_layer) + " C" + std::to_string(g.n_embd) + " H" +
            std::to_string(g.n_head) + " B" + std::to_string(cfg.batch) + " T" +
            std::to_string(g.block_size) + " V" + std::to_string(g.vocab_size);
  nn::GPT model(g);
  auto loss_fn = [&](Trace& t, const std::vector<Tensor>& b) {
    return train::cross_entropy(model.forward(t, b[0]), b[1]);
  };
  train::Optimizer opt = train::Optimizer::adamw(cfg.lr, 0.9, 0.95, 1e-8, 0.01);
  opt.schedule = train::LrSchedule::warmup_cosine(cfg.warmup, cfg.steps, cfg.lr / 10);
  opt.max_grad_norm = 1.0;
  train::TrainStep step = train::make_train_step(
      loss_fn, model.parameters(), opt,
      {{"tokens", {cfg.batch, g.block_size}, DType::I64},
       {"targets", {cfg.batch, g.block_size}, DType::I64}});
  c.graph = std::move(step.graph);
  BlockSize per_layer{cfg.batch, g.block_size, g.n_embd, g.n_head};
  double head = 2.0 * static_cast<double>(cfg.batch * g.block_size * g.n_embd * g.vocab_size);
  c.flops = 3.0 * (static_cast<double>(g.n_layer) * block_flops(per_layer) + head);
  fill_inputs(c, nn::init_params(model, 1), g.vocab_size);
  return c;
}

} // namespace

std::vector<std::string> case_names() {
  return {"sgemm1024",     "sgemm2048",      "softmax4096",   "layernorm4096", "block_s_fwd",
          "block_s_fwdbwd", "block_l_fwd",   "block_l_fwdbwd", "train_gpt"};
}

void fill_random_inputs(Case& c) {
  fill_inputs(c, {});
}

Case make_case(const std::string& name) {
  if (std::optional<VariantSpec> v = parse_variant(name))
    return make_variant_case(*v, name);
  if (name == "sgemm1024")
    return sgemm(1024);
  if (name == "sgemm2048")
    return sgemm(2048);
  if (name == "softmax4096")
    return rowwise("softmax", 4096, 4096);
  if (name == "layernorm4096")
    return rowwise("layernorm", 4096, 4096);
  if (name == "block_s_fwd")
    return block(name, kBlockS, false);
  if (name == "block_s_fwdbwd")
    return block(name, kBlockS, true);
  if (name == "block_l_fwd")
    return block(name, kBlockL, false);
  if (name == "block_l_fwdbwd")
    return block(name, kBlockL, true);
  if (name == "train_gpt")
    return train_gpt();
  throw std::runtime_error("unknown case '" + name + "'");
}

int64_t io_bytes(const ir::Graph& g) {
  int64_t n = 0;
  for (const ir::Value* v : g.inputs())
    n += v->type.numel() * ir::dtype_size(v->type.dtype);
  for (const ir::Value* v : g.outputs)
    n += v->type.numel() * ir::dtype_size(v->type.dtype);
  return n;
}

} // namespace tevo::bench
