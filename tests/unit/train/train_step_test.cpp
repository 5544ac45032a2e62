// train_step_test.cpp: the train-step graph contract and a small model that learns.
#include "frontend/train/losses.h"
#include "frontend/train/trainer.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "train_test_util.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::train;

namespace {

/// y = x @ fc.weight + fc.bias, loss = mse(y, target).
Tensor linreg_loss(Trace& t, const std::vector<Tensor>& b) {
  Tensor y;
  {
    auto s = t.scope("fc");
    y = matmul(b[0], t.param("weight", {3, 1})) + t.param("bias", {1});
  }
  return mse(y, b[1]);
}

const std::vector<nn::ParamSpec> kLinregParams = {{"fc.weight", {3, 1}, {}}, {"fc.bias", {1}, {}}};
const std::vector<TensorSpec> kLinregBatch = {{"x", {8, 3}}, {"y", {8, 1}}};

/// A fixed regression problem: y = x @ [1, -2, 0.5] + 0.3.
std::vector<ir::interp::Array> linreg_batch() {
  std::vector<double> x, y;
  for (int i = 0; i < 8; ++i) {
    double a = std::sin(i + 1.0), b = std::cos(2.0 * i), c = 0.25 * i - 1;
    x.insert(x.end(), {a, b, c});
    y.push_back(a - 2 * b + 0.5 * c + 0.3);
  }
  return {test::arr(DType::F32, {8, 3}, x), test::arr(DType::F32, {8, 1}, y)};
}

nn::ParamStore zero_params() {
  return {{"fc.weight", test::arr(DType::F32, {3, 1}, {0, 0, 0})},
          {"fc.bias", test::arr(DType::F32, {1}, {0})}};
}

} // namespace

TEST_CASE("train step: signature, output names and one graph with forward, backward, update") {
  Optimizer opt = Optimizer::adamw(1e-2);
  opt.schedule = LrSchedule::warmup_cosine(5, 50);
  opt.max_grad_norm = 1.0;
  TrainStep s = make_train_step(linreg_loss, kLinregParams, opt, kLinregBatch);
  const ir::Graph& g = *s.graph;
  CHECK_FALSE(ir::verify(g).has_value());

  std::vector<std::pair<std::string, ir::InputKind>> want_in = {
      {"x", ir::InputKind::Data},
      {"y", ir::InputKind::Data},
      {"fc.weight", ir::InputKind::Param},
      {"fc.bias", ir::InputKind::Param},
      {"fc.weight.exp_avg", ir::InputKind::State},
      {"fc.weight.exp_avg_sq", ir::InputKind::State},
      {"fc.bias.exp_avg", ir::InputKind::State},
      {"fc.bias.exp_avg_sq", ir::InputKind::State},
      {"step", ir::InputKind::State}};
  REQUIRE_EQ(g.inputs().size(), want_in.size());
  for (size_t i = 0; i < want_in.size(); ++i) {
    CHECK_EQ(g.input(static_cast<int>(i))->name, want_in[i].first);
    CHECK(g.input(static_cast<int>(i))->input_kind == want_in[i].second);
  }
  CHECK_EQ(g.input(8)->type.str(), "f32[]");

  std::vector<std::string> want_out = {"loss",
                                       "adamw.fc.weight",
                                       "adamw.fc.bias",
                                       "adamw.fc.weight.exp_avg",
                                       "adamw.fc.weight.exp_avg_sq",
                                       "adamw.fc.bias.exp_avg",
                                       "adamw.fc.bias.exp_avg_sq",
                                       "adamw.step",
                                       "lr",
                                       "grad_norm"};
  REQUIRE_EQ(g.outputs.size(), want_out.size());
  for (size_t i = 0; i < want_out.size(); ++i)
    CHECK_EQ(g.outputs[i]->name, want_out[i]);
  // Outputs 1..P+S have the types of inputs nb..nb+P+S-1 (they are fed back).
  for (size_t i = 1; i < 8; ++i)
    CHECK(g.outputs[i]->type == g.input(static_cast<int>(i + 1))->type);
  CHECK_EQ(s.lr_output(), 8u);
  CHECK_EQ(s.grad_norm_output(), 9u);
  CHECK_EQ(s.state_index("step"), 4);

  // The printed graph shows the three parts by name.
  std::string text = ir::print_graph(g);
  for (const char* part :
       {"%fc.matmul = matmul", "%loss = mean", "%mse.square", "%fc.matmul.grad", "%loss.grad",
        "%clip_grad_norm.", "%lr_schedule.", "%adamw.fc.weight.", "%adamw.fc.bias = "})
    CHECK_MESSAGE(text.find(part) != std::string::npos, std::string(part));
}

TEST_CASE("train step: a linear regression's loss falls over 50 steps") {
  for (const Optimizer& opt : {Optimizer::sgd(0.1, 0.9), Optimizer::adamw(0.05)}) {
    INFO(opt.name());
    Trainer tr(make_train_step(linreg_loss, kLinregParams, opt, kLinregBatch), zero_params());
    auto batch = linreg_batch();
    StepStats first = tr.step(batch), last;
    for (int k = 1; k < 50; ++k) {
      last = tr.step(batch);
      CHECK(std::isfinite(last.loss));
    }
    CHECK_EQ(tr.steps_done(), 50);
    CHECK(last.loss < 0.05 * first.loss);
  }
}

TEST_CASE("train step: the default pipeline changes nothing numerically") {
  Optimizer opt = Optimizer::adam(0.05);
  opt.schedule = LrSchedule::warmup_cosine(3, 20, 0.005);
  Trainer plain(make_train_step(linreg_loss, kLinregParams, opt, kLinregBatch), zero_params());
  Trainer opt_tr(make_train_step(linreg_loss, kLinregParams, opt, kLinregBatch), zero_params(),
                 {"default", nullptr});
  CHECK(opt_tr.graph().nodes().size() <= plain.graph().nodes().size());
  auto batch = linreg_batch();
  for (int k = 0; k < 5; ++k) {
    StepStats a = plain.step(batch), b = opt_tr.step(batch);
    CHECK(test::near(a.loss, b.loss, 1e-5, 1e-7));
    CHECK(test::near(a.lr, b.lr, 1e-6, 0));
  }
  for (const auto& [name, w] : plain.params())
    for (int64_t i = 0; i < w.numel(); ++i)
      CHECK(test::near(opt_tr.params().at(name)[i], w[i], 1e-5, 1e-6));
}

TEST_CASE("train step: contract violations are reported in one line") {
  auto msg = [](auto f) -> std::string {
    try {
      f();
    } catch (const ir::Error& e) {
      return e.diag().message;
    }
    return "<no error>";
  };
  Optimizer sgd = Optimizer::sgd(0.1);
  CHECK_EQ(msg([&] {
             make_train_step(
                 [](Trace& t, const std::vector<Tensor>& b) {
                   return sum(b[0] * t.param("extra", {3}));
                 },
                 {}, sgd, {{"x", {3}}});
           }),
           "train step: the loss function declared param input 'extra' (f32[3]) that is not in "
           "the batch or parameter specs");
  CHECK_EQ(msg([&] {
             make_train_step([](Trace&, const std::vector<Tensor>& b) { return b[0] * 2.0; }, {},
                             sgd, {{"x", {3}}});
           }),
           "train step: the loss must be a float scalar, got f32[3]");
  CHECK_EQ(msg([&] {
             make_train_step(linreg_loss, kLinregParams, Optimizer::adam(), {{"step", {8, 3}}});
           }),
           "train step: name 'step' (optimizer state) is used twice in the signature");
  auto step = make_train_step(linreg_loss, kLinregParams, sgd, kLinregBatch);
  nn::ParamStore wrong = zero_params();
  wrong["fc.bias"] = test::arr(DType::F32, {2}, {0, 0});
  CHECK_EQ(msg([&] { Trainer(std::move(step), wrong); }),
           "trainer: parameter 'fc.bias' is f32[2], the train step expects f32[1]");
}
