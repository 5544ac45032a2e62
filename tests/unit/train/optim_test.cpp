// optim_test.cpp: SGD/Adam/AdamW updates vs PyTorch's documented formulas, schedule, clipping.
#include "frontend/train/trainer.h"
#include "train_test_util.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace tevo;
using namespace tevo::train;
using test::f64;

namespace {

// loss = sum(w * c + 0.5 w^2), so dloss/dw = c + w: the gradient depends on the weights,
// which checks that each step sees the previous step's parameters.
const std::vector<double> kC = {0.5, -1.0, 2.0};
const std::vector<double> kW0 = {1.0, -0.5, 0.25};

Trainer quadratic_trainer(const Optimizer& opt) {
  auto loss = [](Trace& t, const std::vector<Tensor>& b) {
    Tensor w = t.param("w", {3}, DType::F64);
    return sum(w * b[0] + 0.5 * (w * w));
  };
  TrainStep s = make_train_step(loss, {{"w", {3}, {}, DType::F64}}, opt, {{"c", {3}, DType::F64}});
  return Trainer(std::move(s), {{"w", f64({3}, kW0)}});
}

/// Reference: the update rules exactly as torch.optim's documentation writes them, in
/// plain doubles, one element at a time (t counts from 1).
struct Reference {
  Optimizer opt;
  std::vector<double> w = kW0, buf = {0, 0, 0}, m = {0, 0, 0}, v = {0, 0, 0};
  int t = 0;
  void step(double lr) {
    ++t;
    for (size_t i = 0; i < w.size(); ++i) {
      double g = kC[i] + w[i];
      if (opt.kind == Optimizer::Kind::Sgd) {
        if (opt.weight_decay != 0)
          g += opt.weight_decay * w[i];
        if (opt.momentum != 0) {
          buf[i] = t > 1 ? opt.momentum * buf[i] + (1 - opt.dampening) * g : g;
          g = opt.nesterov ? g + opt.momentum * buf[i] : buf[i];
        }
        w[i] -= lr * g;
        continue;
      }
      if (opt.kind == Optimizer::Kind::AdamW)
        w[i] -= lr * opt.weight_decay * w[i];
      else if (opt.weight_decay != 0)
        g += opt.weight_decay * w[i];
      m[i] = opt.beta1 * m[i] + (1 - opt.beta1) * g;
      v[i] = opt.beta2 * v[i] + (1 - opt.beta2) * g * g;
      double mhat = m[i] / (1 - std::pow(opt.beta1, t));
      double vhat = v[i] / (1 - std::pow(opt.beta2, t));
      w[i] -= lr * mhat / (std::sqrt(vhat) + opt.eps);
    }
  }
};

void check_three_steps(const Optimizer& opt) {
  Trainer tr = quadratic_trainer(opt);
  Reference ref{opt};
  for (int k = 0; k < 3; ++k) {
    double lr = scheduled_lr(opt.schedule, opt.lr, k);
    StepStats st = tr.step({f64({3}, kC)});
    ref.step(lr);
    CHECK_EQ(st.step, k + 1);
    CHECK(test::near(st.lr, lr));
    const auto& w = tr.params().at("w");
    for (size_t i = 0; i < 3; ++i) {
      INFO("step ", k + 1, " element ", i);
      CHECK(test::near(w[static_cast<int64_t>(i)], ref.w[i], 1e-12, 1e-15));
      if (opt.kind != Optimizer::Kind::Sgd) {
        CHECK(test::near(tr.optimizer_state().at("w.exp_avg")[static_cast<int64_t>(i)], ref.m[i]));
        CHECK(
            test::near(tr.optimizer_state().at("w.exp_avg_sq")[static_cast<int64_t>(i)], ref.v[i]));
      } else if (opt.momentum != 0) {
        CHECK(test::near(tr.optimizer_state().at("w.momentum_buffer")[static_cast<int64_t>(i)],
                         ref.buf[i]));
      }
    }
  }
  CHECK_EQ(tr.optimizer_state().at("step")[0], 3.0);
}

} // namespace

TEST_CASE("optim: SGD matches torch.optim.SGD over 3 steps") {
  check_three_steps(Optimizer::sgd(0.1));
  check_three_steps(Optimizer::sgd(0.1, 0.9, 0.01));
  Optimizer damp = Optimizer::sgd(0.05, 0.8, 0.1);
  damp.dampening = 0.3; // the first step uses the undamped gradient
  check_three_steps(damp);
  check_three_steps(Optimizer::sgd(0.1, 0.9, 0.0, true));
}

TEST_CASE("optim: Adam matches torch.optim.Adam over 3 steps") {
  check_three_steps(Optimizer::adam(0.1));
  check_three_steps(Optimizer::adam(0.01, 0.8, 0.95, 1e-6, 0.1));
}

TEST_CASE("optim: AdamW matches torch.optim.AdamW over 3 steps, with a schedule") {
  check_three_steps(Optimizer::adamw(0.1));
  Optimizer o = Optimizer::adamw(0.02, 0.9, 0.99, 1e-8, 0.5);
  o.schedule = LrSchedule::warmup_cosine(2, 5, 0.001);
  check_three_steps(o);
}

TEST_CASE("optim: warmup + cosine schedule values, host and graph") {
  LrSchedule s = LrSchedule::warmup_cosine(4, 12, 0.1);
  // Hand-computed: (s+1)/4 during warmup, then 0.1 + 0.45 (1 + cos(pi p)), p = (s-4)/8.
  std::vector<std::pair<int64_t, double>> want = {{0, 0.25},
                                                  {1, 0.5},
                                                  {3, 1.0},
                                                  {4, 1.0},
                                                  {6, 0.1 + 0.45 * (1 + std::sqrt(0.5))},
                                                  {8, 0.55},
                                                  {10, 0.1 + 0.45 * (1 - std::sqrt(0.5))},
                                                  {12, 0.1},
                                                  {40, 0.1}};
  Trace t("lr");
  Tensor step = t.state("step", {}, DType::F32);
  t.output(scheduled_lr(s, 1.0, step, DType::F64));
  auto g = t.finish();
  for (auto [k, lr] : want) {
    INFO("step ", k);
    CHECK(test::near(scheduled_lr(s, 1.0, k), lr, 1e-14, 1e-15));
    CHECK(test::near(test::run0(*g, {test::arr(DType::F32, {}, {static_cast<double>(k)})})[0], lr,
                     1e-14, 1e-15));
  }
  // No warmup: starts at the base rate.
  CHECK(test::near(scheduled_lr(LrSchedule::warmup_cosine(0, 10), 2.0, 0), 2.0));
  CHECK(test::near(scheduled_lr(LrSchedule::constant(), 2.0, 1000), 2.0));
}

TEST_CASE("optim: global-norm clipping as torch.nn.utils.clip_grad_norm_") {
  for (double max_norm : {6.5, 100.0, 0.0}) {
    Trace t("clip");
    Tensor a = t.input("a", {2}, DType::F64);
    Tensor b = t.input("b", {1}, DType::F64);
    ClippedGrads c = clip_grad_norm({a, b}, max_norm);
    t.output(c.grads[0]);
    t.output(c.grads[1]);
    t.output(c.norm);
    auto g = t.finish();
    auto out = ir::interp::run(*g, {f64({2}, {3, 4}), f64({1}, {12})});
    double coef = max_norm > 0 ? std::min(1.0, max_norm / (13 + 1e-6)) : 1.0;
    INFO("max_norm ", max_norm);
    CHECK(test::near(out[2][0], 13.0));
    CHECK(test::near(out[0][0], 3 * coef));
    CHECK(test::near(out[0][1], 4 * coef));
    CHECK(test::near(out[1][0], 12 * coef));
  }
}

TEST_CASE("optim: clipping inside the train step scales the update") {
  // SGD without momentum: w' = w - lr * g * min(1, max / |g|).
  Optimizer o = Optimizer::sgd(1.0);
  o.max_grad_norm = 0.5;
  Trainer tr = quadratic_trainer(o);
  StepStats st = tr.step({f64({3}, kC)});
  std::vector<double> g = {kC[0] + kW0[0], kC[1] + kW0[1], kC[2] + kW0[2]};
  double norm = std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
  CHECK(test::near(st.grad_norm, norm));
  double coef = 0.5 / (norm + 1e-6);
  for (size_t i = 0; i < 3; ++i)
    CHECK(test::near(tr.params().at("w")[static_cast<int64_t>(i)], kW0[i] - g[i] * coef));
}

TEST_CASE("optim: invalid settings are rejected with one line") {
  auto msg = [](const Optimizer& o) -> std::string {
    try {
      o.validate();
    } catch (const ir::Error& e) {
      return e.diag().message;
    }
    return "<no error>";
  };
  CHECK_EQ(msg(Optimizer::adam(0.1, 1.0)), "adam: betas (1, 0.999) must lie in [0, 1)");
  CHECK_EQ(msg(Optimizer::sgd(-1)), "sgd: learning rate -1 must be finite and >= 0");
  CHECK_EQ(msg(Optimizer::sgd(0.1, 0, 0, true)),
           "sgd: nesterov momentum requires momentum > 0 and dampening 0");
  Optimizer o = Optimizer::adamw();
  o.schedule = LrSchedule::warmup_cosine(10, 10);
  CHECK_EQ(msg(o), "adamw: warmup_cosine schedule needs 0 <= warmup_steps < total_steps, got "
                   "warmup 10 and total 10");
  CHECK_EQ(msg(Optimizer::adamw()), "<no error>");
}
