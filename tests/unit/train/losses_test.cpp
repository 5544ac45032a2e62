// losses_test.cpp: cross_entropy and mse values (NumPy-computed), stability, gradients.
#include "frontend/train/losses.h"
#include "passes/autodiff/grad.h"
#include "tests/support/gradcheck.h"
#include "train_test_util.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace tevo;
using test::f64;

namespace {

/// A graph computing cross_entropy(logits: dtype[shape], targets: i64[shape[:-1]]).
std::unique_ptr<ir::Graph>
ce_graph(std::vector<int64_t> shape, DType dtype, std::optional<int64_t> ignore = {}) {
  Trace t("ce");
  Tensor logits = t.input("logits", shape, dtype);
  shape.pop_back();
  Tensor targets = t.input("targets", shape, DType::I64);
  t.output(train::cross_entropy(logits, targets, ignore));
  return t.finish();
}

} // namespace

// Expected values: NumPy, log_softmax via max-shifted logsumexp and take_along_axis.
TEST_CASE("cross_entropy: value matches NumPy") {
  auto g = ce_graph({2, 3}, DType::F64);
  auto out =
      test::run0(*g, {f64({2, 3}, {1, 2, 3, 1, -1, 0.5}), test::arr(DType::I64, {2}, {2, 0})});
  REQUIRE_EQ(out.size(), 1u);
  CHECK(test::near(out[0], 0.48128144204318557));

  auto g3 = ce_graph({2, 2, 4}, DType::F64);
  auto out3 = test::run0(
      *g3, {f64({2, 2, 4}, {0.5, -1.5, 2.0, 0.0, 1, 1, 1, 1, 3, -3, 0.25, 0.75, -2, 0, 2, 4}),
            test::arr(DType::I64, {2, 2}, {2, 1, 0, 3})});
  CHECK(test::near(out3[0], 0.5045648998136647));
}

TEST_CASE("cross_entropy: ignore_index drops positions from sum and count") {
  auto g = ce_graph({3, 3}, DType::F64, -100);
  auto out = test::run0(*g, {f64({3, 3}, {1, 2, 3, 1, -1, 0.5, 0.2, 0.1, -0.3}),
                             test::arr(DType::I64, {3}, {2, -100, 1})});
  CHECK(test::near(out[0], 0.7142168099988199));
  // Every position ignored: 0, not NaN.
  auto none = test::run0(*g, {f64({3, 3}, {1, 2, 3, 1, -1, 0.5, 0.2, 0.1, -0.3}),
                              test::arr(DType::I64, {3}, {-100, -100, -100})});
  CHECK_EQ(none[0], 0.0);
}

TEST_CASE("cross_entropy: logits of +-1e4 in f32 give a finite loss and gradient") {
  Trace t("ce");
  Tensor logits = t.input("logits", {2, 3}, DType::F32);
  Tensor targets = t.input("targets", {2}, DType::I64);
  Tensor loss = train::cross_entropy(logits, targets);
  t.output(loss);
  auto g = t.finish();
  auto dl = autodiff::grad(*g, loss.value(), {logits.value()});
  g->outputs.push_back(dl[0]);
  auto out = ir::interp::run(*g, {test::arr(DType::F32, {2, 3}, {1e4, -1e4, 0, -1e4, 1e4, 1e4}),
                                  test::arr(DType::I64, {2}, {1, 2})});
  // (2e4 + log 2) / 2; f32 spacing near 1e4 is ~1e-3.
  CHECK(std::isfinite(out[0][0]));
  CHECK(test::near(out[0][0], 10000.34657359028, 0, 2e-3));
  // d/dlogits = (softmax - onehot) / N.
  std::vector<double> want = {0.5, -0.5, 0, 0, 0.25, -0.25};
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(std::isfinite(out[1][static_cast<int64_t>(i)]));
    CHECK(test::near(out[1][static_cast<int64_t>(i)], want[i], 0, 1e-6));
  }
}

TEST_CASE("cross_entropy: f64 gradient check, with and without ignore_index") {
  ir::interp::Array logits = f64({3, 4}, {0.3, -1.2, 2.0, 0.7, 1.1, 0.0, -0.4, 0.9, -2, 1, 3, 0.5});
  for (std::optional<int64_t> ignore : {std::optional<int64_t>{}, std::optional<int64_t>{-1}}) {
    auto g = ce_graph({3, 4}, DType::F64, ignore);
    REQUIRE(testing::is_double_precision(*g));
    auto targets = test::arr(DType::I64, {3}, {2.0, ignore ? -1.0 : 0.0, 3.0});
    auto r = testing::gradcheck(*g, {logits, targets});
    INFO(r.report);
    CHECK(r.ok);
    CHECK_EQ(r.checked, 12);
  }
}

TEST_CASE("cross_entropy: bad operands give one-line errors") {
  Trace t("ce");
  Tensor logits = t.input("logits", {2, 3}, DType::F32);
  auto msg = [](auto f) -> std::string {
    try {
      f();
    } catch (const ir::Error& e) {
      return e.diag().message;
    }
    return "<no error>";
  };
  CHECK_EQ(msg([&] { train::cross_entropy(logits, t.input("t1", {3}, DType::I64)); }),
           "[cross_entropy] targets i64[3] must have the shape of logits f32[2,3] without the "
           "class axis");
  CHECK_EQ(msg([&] { train::cross_entropy(logits, t.input("t2", {2}, DType::F32)); }),
           "[cross_entropy] targets must be i32 or i64, got f32[2]");
}

TEST_CASE("mse: mean of squared differences, scoped, with gradient") {
  Trace t("mse");
  Tensor a = t.input("a", {4}, DType::F64);
  Tensor b = t.input("b", {4}, DType::F64);
  t.output(train::mse(a, b));
  auto g = t.finish();
  auto in = std::vector<ir::interp::Array>{f64({4}, {1, 2, 3, 4}), f64({4}, {0.5, 2.5, 3, 1})};
  CHECK(test::near(test::run0(*g, in)[0], 2.375));
  CHECK_EQ(g->nodes().back()->scoped_name(), "mse.mean");
  auto r = testing::gradcheck(*g, in);
  INFO(r.report);
  CHECK(r.ok);
}
