// library_test.cpp: matmul post-ops (bias add, relu, gelu, sum) through oneDNN against a
// naive reference, the f64 reference path, primitive caching, and conv1d (groups, stride,
// dilation, padding) against the interpreter.
#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "exec_test_util.h"
#include "runtime/json.h"

namespace tevo::test {
namespace {

using rt::PostOp;
using rt::Step;

constexpr int64_t M = 5, K = 7, N = 6;

int32_t alg(dnnl::algorithm a) {
  return static_cast<int32_t>(a);
}

/// y = post-ops(a @ b) with bias[N] (binary add) and an addend r[M,N] (sum), in double.
std::vector<double> reference(const HostTensor& a, const HostTensor& b, const HostTensor& bias,
                              const HostTensor& r, const std::string& act) {
  std::vector<double> y(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += at(a, m * K + k) * at(b, k * N + n);
      acc += at(bias, n);
      if (act == "relu")
        acc = acc > 0 ? acc : 0;
      else
        acc = 0.5 * acc * (1 + std::erf(acc / std::sqrt(2.0)));
      y[static_cast<size_t>(m * N + n)] = acc + 0.5 * at(r, m * N + n);
    }
  return y;
}

rt::Plan post_op_plan(DType t, dnnl::algorithm act) {
  PlanBuilder b;
  int32_t a = b.input("a", t, {M, K}), w = b.input("b", t, {K, N});
  int32_t bias = b.input("bias", t, {N}), r = b.input("r", t, {M, N});
  int32_t y = b.output("y", t, {M, N});
  rt::MatmulStep mm;
  mm.a = dense(a, t, {M, K});
  mm.b = dense(w, t, {K, N});
  mm.c = dense(y, t, {M, N});
  PostOp add{PostOp::Kind::Binary, alg(dnnl::algorithm::binary_add), 0, 0, 1,
             view(bias, t, {1, N}, {0, 1})};
  PostOp elt{PostOp::Kind::Eltwise, alg(act), 0, 0, 1, {}};
  PostOp sum{PostOp::Kind::Sum, 0, 0, 0, 0.5f, dense(r, t, {M, N})};
  mm.post_ops = {add, elt, sum};
  b.p.matmuls.push_back(mm);
  b.step(Step::Kind::Matmul, 0, "mlp.fc");
  return b.p;
}

TEST_CASE("library: matmul with bias add, relu/gelu and sum post-ops matches a naive reference") {
  std::mt19937_64 rng(11);
  for (DType t : {DType::F32, DType::F64})
    for (auto act : {dnnl::algorithm::eltwise_relu, dnnl::algorithm::eltwise_gelu_erf}) {
      HostTensor a = random_tensor(t, {M, K}, rng), w = random_tensor(t, {K, N}, rng);
      HostTensor bias = random_tensor(t, {N}, rng), r = random_tensor(t, {M, N}, rng);
      rt::Executor ex(post_op_plan(t, act), {}, rt::ExecOptions{2});
      CHECK_EQ(ex.stats().reference_library_steps, t == DType::F64 ? 1 : 0);
      auto y = ex.run({a, w, bias, r});
      auto want = reference(a, w, bias, r, act == dnnl::algorithm::eltwise_relu ? "relu" : "gelu");
      double tol = t == DType::F32 ? 1e-4 : 1e-12;
      for (int64_t i = 0; i < M * N; ++i)
        CHECK(std::fabs(at(y[0], i) - want[static_cast<size_t>(i)]) <=
              tol * (1 + std::fabs(want[static_cast<size_t>(i)])));
    }
}

TEST_CASE("library: equal matmuls share one cached primitive") {
  rt::Plan p = post_op_plan(DType::F32, dnnl::algorithm::eltwise_relu);
  p.matmuls.push_back(p.matmuls[0]);
  p.steps.push_back(rt::Step{Step::Kind::Matmul, 1, "mlp.fc2", "?"});
  rt::Executor ex(p, {});
  CHECK_EQ(ex.stats().library_calls, 2);
  CHECK_EQ(ex.stats().primitives, 1);
}

TEST_CASE("library: an unknown post-op algorithm is an rt::Error") {
  rt::Plan p = post_op_plan(DType::F32, dnnl::algorithm::eltwise_relu);
  p.matmuls[0].post_ops[1].alg = 12345;
  CHECK_THROWS_WITH_AS(rt::Executor(p, {}), "matmul: unsupported post-op algorithm 12345",
                       rt::Error);
}

TEST_CASE("library: conv1d matches the interpreter (groups, stride, dilation, padding)") {
  std::mt19937_64 rng(12);
  struct Case {
    int64_t b, cin, len, cout, k, stride, pl, pr, dil, groups;
  };
  for (DType t : {DType::F32, DType::F64})
    for (Case c : {Case{2, 3, 11, 4, 3, 1, 0, 0, 1, 1}, Case{1, 4, 16, 6, 3, 2, 2, 0, 2, 2},
                   Case{3, 2, 9, 2, 4, 1, 3, 0, 1, 2}}) {
      int64_t lout = (c.len + c.pl + c.pr - c.dil * (c.k - 1) - 1) / c.stride + 1;
      std::vector<int64_t> xs = {c.b, c.cin, c.len}, ws = {c.cout, c.cin / c.groups, c.k},
                           ys = {c.b, c.cout, lout};
      HostTensor x = random_tensor(t, xs, rng), w = random_tensor(t, ws, rng);
      auto ty = [&](const std::vector<int64_t>& s) {
        return fmt::format("{}[{}]", ir::dtype_name(t), fmt::join(s, ","));
      };
      auto want = interpret(fmt::format("func @f(%x: {0}, %w: {1}) -> {2} {{\n  %y = conv1d %x, "
                                        "%w {{stride = {3}, padding = [{4}, {5}], dilation = {6}, "
                                        "groups = {7}}} : {2}\n  return %y\n}}\n",
                                        ty(xs), ty(ws), ty(ys), c.stride, c.pl, c.pr, c.dil,
                                        c.groups),
                            {x, w});
      PlanBuilder b;
      int32_t xb = b.input("x", t, xs), wb = b.input("w", t, ws), yb = b.output("y", t, ys);
      b.p.convs.push_back(rt::Conv1dStep{dense(xb, t, xs), dense(wb, t, ws), dense(yb, t, ys),
                                         c.stride, c.pl, c.pr, c.dil, c.groups});
      b.step(Step::Kind::Conv1d, 0, "conv");
      rt::Executor ex(b.p, {}, rt::ExecOptions{2});
      auto got = ex.run({x, w});
      check_close(got[0], want[0], t == DType::F32 ? 1e-5 : 1e-12, 1e-5,
                  fmt::format("conv1d {}", ty(xs)));
    }
}

} // namespace
} // namespace tevo::test
