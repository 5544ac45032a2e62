// fuse_gpt_test.cpp: decompose + fuse over a whole GPT training step (forward, backward,
// AdamW) built with the DSL: the fused graph verifies, keeps the loop-group contract and
// computes exactly what the decomposed graph computes, and the groups are the expected
// ones (every layer norm and softmax row in a single reduce group, matmul epilogues in
// library groups).
#include "frontend/nn/transformer.h"
#include "frontend/train/losses.h"
#include "frontend/train/train_step.h"
#include "tests/unit/fuse/fuse_check.h"

#include <doctest/doctest.h>

using namespace tevo;

namespace {

/// A tiny GPT's training step with the given forward pipeline, and its inputs.
struct GptStep {
  nn::GPTConfig c;
  std::unique_ptr<nn::GPT> model;
  train::TrainStep step;
  std::vector<ir::interp::Array> ins;
};

GptStep gpt_step(const std::string& forward_pipeline) {
  GptStep s;
  nn::GPTConfig& c = s.c;
  c.vocab_size = 11;
  c.block_size = 6;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  s.model = std::make_unique<nn::GPT>(c);
  nn::GPT& model = *s.model;
  auto loss = [&](Trace& t, const std::vector<Tensor>& b) {
    return train::cross_entropy(model.forward(t, b[0]), b[1]);
  };
  train::TrainStepOptions so;
  so.forward_pipeline = forward_pipeline;
  train::Optimizer opt = train::Optimizer::adamw(1e-2, 0.9, 0.95, 1e-8, 0.1);
  opt.max_grad_norm = 1.0;
  s.step = train::make_train_step(
      loss, model.parameters(), opt,
      {{"tokens", {2, 5}, DType::I64}, {"targets", {2, 5}, DType::I64}}, so);
  const ir::Graph& g = *s.step.graph;

  std::map<std::string, ir::interp::Array> data;
  ir::interp::Array tokens(ir::TensorType{DType::I64, ir::Shape{2, 5}});
  ir::interp::Array targets(tokens.type);
  for (int64_t i = 0; i < 10; ++i) {
    tokens[i] = static_cast<double>((3 * i + 1) % c.vocab_size);
    targets[i] = static_cast<double>((5 * i + 2) % c.vocab_size);
  }
  data["tokens"] = tokens;
  data["targets"] = targets;
  for (const ir::Value* in : g.inputs())
    if (in->input_kind == ir::InputKind::State) // Adam moments and step: a mid-run state
      data[in->name] = ir::interp::Array(in->type);
  s.ins = nn::bind_inputs(g, nn::init_params(model, 7), data);
  return s;
}

} // namespace

TEST_CASE("fuse: a GPT training step computes the same after decompose and fuse") {
  // The naive forward (no rewrites before autodiff): softmax and its backward are
  // ordinary ops, which fusion must group.
  GptStep s = gpt_step("canonicalize,cse,dce");
  const nn::GPTConfig& c = s.c;
  const ir::Graph& g = *s.step.graph;
  const std::vector<ir::interp::Array>& ins = s.ins;
  passes::PassContext ctx;
  auto fused = test::check_pipeline(g, ins, ctx);
  test::FuseCounts n = test::check_groups(*fused);
  MESSAGE(g.nodes().size() << " nodes -> " << fused->nodes().size() << " units: " << n.loop
                           << " loop groups (" << n.reduce << " reduce), " << n.library
                           << " library groups, " << n.bare << " bare nodes");
  // Each of the 2 * n_layer + 1 layer norms and n_layer softmaxes is one reduce group in
  // the forward pass, so there are at least that many; fusion must shrink the graph a lot.
  CHECK(n.reduce >= 2 * c.n_layer + 1 + c.n_layer);
  CHECK(n.library >= 1);
  // The forward layer norms and softmaxes: each value comes out of one loop group that
  // holds all of its reductions (two sums; a max and a sum).
  auto reductions_of = [&](const std::string& name) {
    for (const auto& node : fused->nodes())
      for (int r = 0; r < node->num_results(); ++r)
        if (node->result(r)->name == name && node->op == ir::OpKind::Fused) {
          std::string ops;
          for (const auto& b : node->attrs.get("body").region()->nodes())
            if (b->op == ir::OpKind::Sum || b->op == ir::OpKind::Max)
              ops += std::string(b->def().name) + " ";
          return ops;
        }
    return std::string("(not a fused result)");
  };
  for (int64_t l = 0; l < c.n_layer; ++l) {
    std::string h = "h." + std::to_string(l) + ".";
    CHECK_EQ(reductions_of(h + "ln_1.layer_norm"), "sum sum ");
    CHECK_EQ(reductions_of(h + "ln_2.layer_norm"), "sum sum ");
    CHECK_EQ(reductions_of(h + "attn.softmax"), "max sum ");
  }
  CHECK_EQ(reductions_of("ln_f.layer_norm"), "sum sum ");
  CHECK(fused->nodes().size() * 3 < g.nodes().size());
}

TEST_CASE("fuse: with the default forward pipeline, attention is fused before autodiff") {
  GptStep s = gpt_step("default");
  const ir::Graph& g = *s.step.graph;
  int attention = 0, grads = 0, softmax = 0;
  for (const auto& n : g.nodes()) {
    attention += n->op == ir::OpKind::Attention;
    grads += n->op == ir::OpKind::AttentionGrad;
    softmax += n->op == ir::OpKind::Softmax;
  }
  CHECK(attention == s.c.n_layer);
  CHECK(grads == s.c.n_layer);
  CHECK(softmax == 0);
  passes::PassContext ctx;
  auto fused = test::check_pipeline(g, s.ins, ctx);
  CHECK(fused->nodes().size() * 3 < g.nodes().size());
}
