// dsl_tour.cpp: the program docs/DSL.md walks through: DSL, IR dumps, passes, training.
//
// The blocks between "// [tour:NAME]" and "// [end]" appear verbatim in docs/DSL.md (the
// test example_dsl_tour_doc checks it); keep them short and self-explanatory.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "frontend/nn/nn.h"
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"
#include "ir/interp/interpreter.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"

using namespace tevo;
using ir::interp::Array;

namespace {

// [tour:function]
// A function traced with the plain DSL: inputs, ops, a scope, outputs.
std::unique_ptr<ir::Graph> trace_norm() {
  Trace t("norm");
  Tensor x = t.input("x", {4, 8});                 // data input, f32 by default
  Tensor w = t.param("w", {8});                    // a trained parameter
  auto scope = t.scope("rms");                     // nodes below are named "rms.*"
  Tensor ms = mean(x * x, {-1}, /*keepdims=*/true);
  Tensor y = x * rsqrt(ms + 1e-6) * w;
  Tensor dup = x * x;                              // same as above: CSE will merge it
  t.output(y.named("y"));                          // value "rms.y"
  t.output(sum(dup));
  return t.finish();
}
// [end]

// [tour:module]
// A module: parameters and children in the constructor, the computation in forward().
class TinyNet : public nn::Module {
public:
  TinyNet(int64_t d, int64_t classes) {
    fc_ = &register_module("fc", std::make_unique<nn::Linear>(d, 4 * d));
    proj_ = &register_module("proj", std::make_unique<nn::Linear>(4 * d, d));
    ln_ = &register_module("ln", std::make_unique<nn::LayerNorm>(d));
    register_parameter("head", {classes, d}, nn::Init::normal(0.0, 0.02));
  }
  Tensor forward(Tensor x) { // x [B, d] -> logits [B, classes]
    Trace& t = x.trace();
    Tensor h = x + nn::call(t, *proj_, gelu(nn::call(t, *fc_, x))); // residual MLP
    h = nn::call(t, *ln_, h);
    return matmul(h, transpose(param(t, "head")));
  }

private:
  nn::Linear* fc_;
  nn::Linear* proj_;
  nn::LayerNorm* ln_;
};
// [end]

/// Toy data: the class is the index of the largest of the first `classes` features.
std::vector<Array> make_batch(int64_t B, int64_t d, int64_t classes, std::mt19937_64& rng) {
  Array x(ir::TensorType{ir::DType::F32, ir::Shape{B, d}});
  Array y(ir::TensorType{ir::DType::I64, ir::Shape{B}});
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int64_t b = 0; b < B; ++b) {
    int64_t best = 0;
    for (int64_t i = 0; i < d; ++i) {
      x[b * d + i] = normal(rng);
      if (i < classes && x[b * d + i] > x[b * d + best])
        best = i;
    }
    y[b] = static_cast<double>(best);
  }
  x.round_to_dtype();
  return {x, y};
}

} // namespace

int main() try {
  // [tour:dump]
  std::unique_ptr<ir::Graph> g = trace_norm();
  std::cout << "== traced (with source locations) ==\n"
            << ir::print_graph(*g, ir::PrintOptions{/*print_loc=*/true});

  passes::PipelineOptions popts;
  popts.print_after_all = true; // "// ----- IR after cse -----" and the IR, per pass
  popts.log = &std::cout;
  passes::PassManager pm = passes::PassManager::parse("default", popts).take();
  pm.run(*g);
  // [end]

  // [tour:train]
  const int64_t B = 16, d = 8, classes = 3;
  TinyNet model(d, classes);
  auto loss_fn = [&](Trace&, const std::vector<Tensor>& batch) {
    return train::cross_entropy(model.forward(batch[0]), batch[1]);
  };
  train::Optimizer opt = train::Optimizer::adamw(/*lr=*/1e-2);
  opt.schedule = train::LrSchedule::warmup_cosine(/*warmup=*/5, /*total=*/60, 1e-3);
  opt.max_grad_norm = 1.0;
  train::TrainStep step = train::make_train_step(
      loss_fn, model.parameters(), opt,
      {{"x", {B, d}, DType::F32}, {"labels", {B}, DType::I64}});
  std::cout << "== training step: " << step.graph->nodes().size() << " nodes ==\n";

  train::Trainer trainer(std::move(step), nn::init_params(model, /*seed=*/0),
                         {"default", train::interpreter_backend()});
  std::mt19937_64 rng(7);
  for (int i = 0; i < 60; ++i) {
    train::StepStats s = trainer.step(make_batch(B, d, classes, rng));
    if (s.step % 10 == 0 || s.step == 1)
      std::printf("step %2lld  loss %.4f  lr %.5f  grad_norm %.3f\n",
                  static_cast<long long>(s.step), s.loss, s.lr, s.grad_norm);
  }
  // [end]

  // [tour:checkpoint]
  std::string path = (std::filesystem::temp_directory_path() / "dsl_tour.safetensors").string();
  trainer.save_checkpoint(path);              // atomic: temp file + fsync + rename
  train::Trainer resumed(train::make_train_step(loss_fn, model.parameters(), opt,
                                                {{"x", {B, d}, DType::F32},
                                                 {"labels", {B}, DType::I64}}),
                         nn::init_params(model, /*seed=*/123));
  resumed.load_checkpoint(path);              // parameters and AdamW state
  std::printf("resumed at step %lld\n", static_cast<long long>(resumed.steps_done()));
  // [end]
  std::filesystem::remove(path);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "dsl_tour: error: %s\n", e.what());
  return 1;
}
