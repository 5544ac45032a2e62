// gpt_golden_test.cpp: a small nn::GPT against PyTorch (logits, loss, gradients, AdamW step).
//
// The reference data comes from tests/models/gen_gpt_golden.py (PyTorch 1.13, f32), which
// spells out tevo's GPT maths; nothing here needs PyTorch. Errors are max |a - b| over
// max |b| per tensor.
#include "frontend/nn/transformer.h"
#include "frontend/train/losses.h"
#include "frontend/train/train_step.h"
#include "ir/interp/interpreter.h"
#include "passes/autodiff/grad.h"
#include "runtime/safetensors.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace tevo;
using ir::interp::Array;

namespace {

// The generator's constants (keep in sync with gen_gpt_golden.py).
constexpr double kLr = 1e-2, kBeta1 = 0.9, kBeta2 = 0.95, kEps = 1e-8, kWeightDecay = 0.1;
constexpr double kWellConditioned = 1e-4;
constexpr double kTol = 1e-4;

nn::GPTConfig golden_config() {
  nn::GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.dropout = 0.0;
  c.bias = true;
  return c;
}

rt::TensorFile load(const std::string& file) {
  return rt::read_safetensors(std::string(TEVO_SOURCE_DIR) + "/tests/models/gpt_golden/" + file);
}

Array get(const rt::TensorFile& f, const std::string& name) {
  const rt::HostTensor* h = f.find(name);
  REQUIRE_MESSAGE(h != nullptr, "golden file lacks ", name);
  return Array::from_bytes(ir::TensorType{h->dtype, ir::Shape(h->shape)}, h->data.data());
}

double max_abs(const Array& a) {
  double m = 0;
  for (double v : a.data)
    m = std::max(m, std::fabs(v));
  return m;
}

/// max |a - ref| / max |ref| (shapes must agree).
double rel_error(const Array& a, const Array& ref) {
  REQUIRE_MESSAGE(a.type == ref.type, a.type.str(), " vs ", ref.type.str());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::fabs(a[i] - ref[i]));
  return m / std::max(max_abs(ref), 1e-30);
}

struct Golden {
  nn::GPT model{golden_config()};
  nn::ParamStore weights;
  std::map<std::string, Array> batch;
  rt::TensorFile outputs = load("outputs.safetensors");
  rt::TensorFile grads = load("grads.safetensors");
  rt::TensorFile adamw = load("adamw.safetensors");

  Golden() {
    rt::TensorFile w = load("weights.safetensors");
    for (const nn::ParamSpec& p : model.parameters())
      weights.emplace(p.name, get(w, p.name));
    REQUIRE_EQ(w.tensors.size(), weights.size()); // no stray tensors in the file
    rt::TensorFile in = load("inputs.safetensors");
    batch.emplace("tokens", get(in, "tokens"));
    batch.emplace("targets", get(in, "targets"));
  }
};

} // namespace

TEST_CASE("gpt golden: logits, loss and every gradient match PyTorch in f32") {
  Golden g;
  Trace t("gpt_golden");
  std::vector<Tensor> params;
  for (const nn::ParamSpec& p : g.model.parameters())
    params.push_back(t.param(p.name, p.shape, DType::F32));
  Tensor tokens = t.input("tokens", {2, 8}, DType::I64);
  Tensor targets = t.input("targets", {2, 8}, DType::I64);
  Tensor logits = g.model.forward(t, tokens);
  Tensor loss = train::cross_entropy(logits, targets);
  std::vector<ir::Value*> wrt;
  for (const Tensor& p : params)
    wrt.push_back(p.value());
  std::vector<ir::Value*> dparams = autodiff::grad(t.graph(), loss.value(), wrt);
  t.output(logits);
  t.output(loss);
  for (ir::Value* d : dparams)
    t.output(Tensor(&t, d));
  std::unique_ptr<ir::Graph> graph = t.finish();

  std::vector<Array> out = ir::interp::run(*graph, nn::bind_inputs(*graph, g.weights, g.batch));
  REQUIRE_EQ(out.size(), 2 + params.size());

  double e = rel_error(out[0], get(g.outputs, "logits"));
  MESSAGE("logits: max rel error ", e,
          " (PyTorch f32 vs f64: ", *g.outputs.meta("f32_noise_logits"), ")");
  CHECK(e <= kTol);
  e = rel_error(out[1], get(g.outputs, "loss"));
  MESSAGE("loss ", out[1][0], ": rel error ", e);
  CHECK(e <= kTol);

  std::vector<nn::ParamSpec> specs = g.model.parameters();
  double worst = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    e = rel_error(out[2 + i], get(g.grads, specs[i].name));
    worst = std::max(worst, e);
    MESSAGE("grad ", specs[i].name, ": max rel error ", e);
    CHECK_MESSAGE(e <= kTol, "gradient of ", specs[i].name);
  }
  MESSAGE("gradients: worst max rel error ", worst,
          " (PyTorch f32 vs f64: ", *g.outputs.meta("f32_noise_grads"), ")");
}

TEST_CASE("gpt golden: one AdamW train step matches torch.optim.AdamW") {
  Golden g;
  auto loss_fn = [&](Trace& t, const std::vector<Tensor>& b) {
    return train::cross_entropy(g.model.forward(t, b[0]), b[1]);
  };
  // Constant schedule (no warmup) and no clipping, as torch.optim.AdamW alone.
  train::Optimizer opt = train::Optimizer::adamw(kLr, kBeta1, kBeta2, kEps, kWeightDecay);
  opt.schedule = train::LrSchedule::constant();
  opt.max_grad_norm = 0;
  train::TrainStep step =
      train::make_train_step(loss_fn, g.model.parameters(), opt,
                             {{"tokens", {2, 8}, DType::I64}, {"targets", {2, 8}, DType::I64}});
  std::map<std::string, Array> data = g.batch;
  for (const train::TensorSpec& s : step.state)
    data.emplace(s.name, Array(s.type())); // zero moments, step 0
  std::vector<Array> out =
      ir::interp::run(*step.graph, nn::bind_inputs(*step.graph, g.weights, data));

  double e = rel_error(out[step.loss_output()], get(g.outputs, "loss"));
  MESSAGE("train-step loss: rel error ", e);
  CHECK(e <= kTol);
  CHECK_EQ(out[step.lr_output()][0], doctest::Approx(kLr));

  // The first update is about lr * g / (|g| + eps): where the reference gradient is at the
  // f32 noise level (c_attn's key bias, whose exact gradient is 0; units with a far
  // negative gelu input) the direction is noise, so there only the decoupled decay and the
  // bound |update| <= lr are checked.
  double worst = 0;
  int64_t noisy = 0;
  for (size_t i = 0; i < step.params.size(); ++i) {
    const std::string& name = step.params[i].name;
    const Array& got = out[step.param_output(i)];
    Array ref = get(g.adamw, name), grad = get(g.grads, name);
    const Array& p0 = g.weights.at(name);
    REQUIRE(got.type == ref.type);
    double scale = std::max(max_abs(ref), 1e-30), gmax = max_abs(grad), err = 0;
    for (int64_t k = 0; k < got.numel(); ++k) {
      if (std::fabs(grad[k]) >= kWellConditioned * gmax) {
        err = std::max(err, std::fabs(got[k] - ref[k]) / scale);
      } else {
        ++noisy;
        double decayed = p0[k] * (1.0 - kLr * kWeightDecay);
        CHECK_MESSAGE(std::fabs(got[k] - decayed) <= kLr * (1.0 + 1e-4), name, "[", k, "]");
      }
    }
    worst = std::max(worst, err);
    MESSAGE("adamw ", name, ": max rel error ", err);
    CHECK_MESSAGE(err <= kTol, "updated ", name);
  }
  MESSAGE("adamw: worst max rel error ", worst, " over well-conditioned elements (", noisy,
          " noise-level gradients checked loosely; PyTorch f32 vs f64: ",
          *g.outputs.meta("f32_noise_adamw"), ")");
}
