// runtime_kernels_test.cpp: every runtime kernel (cumsum, topk, argmax, scatter_add, rfft,
// irfft, random_*) run through a one-step Plan on the Executor, against the interpreter,
// on random inputs with odd sizes, a transposed (strided) operand, and 1 and 2 threads.
#include <fmt/format.h>

#include "exec_test_util.h"
#include "runtime/json.h"

namespace tevo::test {
namespace {

using rt::Step;

std::string ty(DType t, const std::vector<int64_t>& s) {
  return fmt::format("{}[{}]", ir::dtype_name(t), fmt::join(s, ","));
}

/// Runs `op` as a one-step plan: inputs x0.. (dense; x0 read transposed through strides
/// when `transposed`: it then holds x^T), outputs y0.. of the given types.
std::vector<HostTensor> run_op(rt::RuntimeOpStep op,
                               const std::vector<HostTensor>& in,
                               const std::vector<std::pair<DType, std::vector<int64_t>>>& outs,
                               bool transposed,
                               int threads) {
  PlanBuilder b;
  op.operands.clear();
  op.results.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    std::vector<int64_t> s = in[i].shape;
    if (i == 0 && transposed) { // the input holds x^T; the op reads x through strides
      int32_t buf = b.input("x0", in[i].dtype, s);
      op.operands.push_back(view(buf, in[i].dtype, {s[1], s[0]}, {1, s[1]}));
    } else {
      op.operands.push_back(dense(b.input(fmt::format("x{}", i), in[i].dtype, s), in[i].dtype, s));
    }
  }
  for (size_t i = 0; i < outs.size(); ++i)
    op.results.push_back(
        dense(b.output(fmt::format("y{}", i), outs[i].first, outs[i].second), outs[i].first,
              outs[i].second));
  b.p.runtime_ops.push_back(op);
  b.step(Step::Kind::RuntimeOp, 0, op.op);
  rt::Executor ex(b.p, {}, rt::ExecOptions{threads});
  return ex.run(in);
}

/// Transposes a 2-D tensor's bytes.
HostTensor transpose2(const HostTensor& h) {
  HostTensor t{h.dtype, {h.shape[1], h.shape[0]}, h.data};
  int64_t es = ir::dtype_size(h.dtype), r = h.shape[0], c = h.shape[1];
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      std::memcpy(&t.data[static_cast<size_t>((j * r + i) * es)],
                  &h.data[static_cast<size_t>((i * c + j) * es)], static_cast<size_t>(es));
  return t;
}

TEST_CASE("runtime kernels: cumsum matches the interpreter (axes, flags, dtypes, strides)") {
  std::mt19937_64 rng(1);
  for (DType t : {DType::F32, DType::F64, DType::I32, DType::I64})
    for (int64_t axis : {0, 1, -1})
      for (int flags = 0; flags < 4; ++flags)
        for (bool tr : {false, true}) {
          std::vector<int64_t> s = {7, 13};
          HostTensor x = random_tensor(t, s, rng, -5, 5);
          bool excl = flags & 1, rev = flags & 2;
          auto want = interpret(
              fmt::format("func @f(%x: {0}) -> {0} {{\n  %y = cumsum %x {{axis = {1}, exclusive "
                          "= {2}, reverse = {3}}} : {0}\n  return %y\n}}\n",
                          ty(t, s), axis, excl, rev),
              {x});
          rt::RuntimeOpStep op{"cumsum", {}, {}, {axis, excl, rev}, {}};
          HostTensor in = tr ? transpose2(x) : x;
          auto got = run_op(op, {in}, {{t, s}}, tr, 2);
          check_close(got[0], want[0], 0, 0, fmt::format("cumsum {} axis {} flags {}", ty(t, s), axis, flags));
        }
}

TEST_CASE("runtime kernels: topk matches the interpreter, ties and NaN included") {
  std::mt19937_64 rng(2);
  for (DType t : {DType::F32, DType::F64, DType::I64})
    for (bool largest : {true, false})
      for (int64_t axis : {0, 1}) {
        std::vector<int64_t> s = {9, 11};
        HostTensor x = random_tensor(t, s, rng, -3, 3); // few distinct ints: many ties
        if (t == DType::F32) {
          ir::store_element(x.data.data(), t, 5, std::nan(""));
          ir::store_element(x.data.data(), t, 40, std::nan(""));
        }
        int64_t k = 4;
        std::vector<int64_t> r = s;
        r[static_cast<size_t>(axis)] = k;
        auto want = interpret(fmt::format("func @f(%x: {0}) -> ({1}, {2}) {{\n  %v, %i = topk %x "
                                          "{{k = {3}, axis = {4}, largest = {5}}} : {1}, {2}\n  "
                                          "return %v, %i\n}}\n",
                                          ty(t, s), ty(t, r), ty(DType::I64, r), k, axis, largest),
                              {x});
        rt::RuntimeOpStep op{"topk", {}, {}, {k, axis, largest}, {}};
        for (int threads : {1, 2}) {
          auto got = run_op(op, {x}, {{t, r}, {DType::I64, r}}, false, threads);
          check_close(got[0], want[0], 0, 0, "topk values");
          check_close(got[1], want[1], 0, 0, "topk indices");
        }
      }
}

TEST_CASE("runtime kernels: argmax matches the interpreter (first NaN, first maximum)") {
  std::mt19937_64 rng(3);
  for (DType t : {DType::F32, DType::I32})
    for (int64_t axis : {0, 1}) {
      std::vector<int64_t> s = {6, 17};
      HostTensor x = random_tensor(t, s, rng, -2, 2);
      if (t == DType::F32)
        ir::store_element(x.data.data(), t, 20, std::nan(""));
      std::vector<int64_t> r = {s[1 - static_cast<size_t>(axis)]};
      auto want = interpret(fmt::format("func @f(%x: {0}) -> {1} {{\n  %y = argmax %x {{axis = "
                                        "{2}}} : {1}\n  return %y\n}}\n",
                                        ty(t, s), ty(DType::I64, r), axis),
                            {x});
      auto got = run_op(rt::RuntimeOpStep{"argmax", {}, {}, {axis}, {}}, {transpose2(x)},
                        {{DType::I64, r}}, true, 2);
      check_close(got[0], want[0], 0, 0, "argmax");
    }
}

TEST_CASE("runtime kernels: scatter_add matches the interpreter and reports a bad index") {
  std::mt19937_64 rng(4);
  for (DType t : {DType::F32, DType::F64, DType::I64})
    for (int64_t axis : {0, 1}) {
      std::vector<int64_t> bs = {5, 7}, is = bs;
      is[static_cast<size_t>(axis)] = 9;
      HostTensor base = random_tensor(t, bs, rng), upd = random_tensor(t, is, rng);
      HostTensor idx = random_tensor(DType::I32, is, rng, 0, static_cast<double>(bs[static_cast<size_t>(axis)]) - 0.01);
      auto want = interpret(fmt::format("func @f(%b: {0}, %i: {1}, %u: {2}) -> {0} {{\n  %y = "
                                        "scatter_add %b, %i, %u {{axis = {3}}} : {0}\n  return "
                                        "%y\n}}\n",
                                        ty(t, bs), ty(DType::I32, is), ty(t, is), axis),
                            {base, idx, upd});
      rt::RuntimeOpStep op{"scatter_add", {}, {}, {axis}, {}};
      auto got = run_op(op, {base, idx, upd}, {{t, bs}}, false, 2);
      check_close(got[0], want[0], 1e-6, 1e-6, "scatter_add");
      ir::store_element(idx.data.data(), DType::I32, 3, 99);
      CHECK_THROWS_WITH_AS(run_op(op, {base, idx, upd}, {{t, bs}}, false, 2),
                           doctest::Contains("index 99 out of range"), rt::Error);
    }
}

TEST_CASE("runtime kernels: rfft and irfft match the interpreter for powers of two and not") {
  std::mt19937_64 rng(5);
  for (DType t : {DType::F32, DType::F64})
    for (int64_t n : {1, 2, 5, 8, 12, 17, 64, 100}) {
      std::vector<int64_t> s = {3, n};
      std::vector<int64_t> f = {3, n / 2 + 1};
      DType ct = t == DType::F32 ? DType::C64 : DType::C128;
      double tol = t == DType::F32 ? 2e-5 : 1e-10;
      HostTensor x = random_tensor(t, s, rng);
      auto want = interpret(fmt::format("func @f(%x: {0}) -> {1} {{\n  %y = rfft %x : {1}\n  "
                                        "return %y\n}}\n",
                                        ty(t, s), ty(ct, f)),
                            {x});
      auto got = run_op(rt::RuntimeOpStep{"rfft", {}, {}, {-1}, {}}, {x}, {{ct, f}}, false, 2);
      check_close(got[0], want[0], tol, tol * static_cast<double>(n), fmt::format("rfft n={}", n));
      HostTensor z = random_tensor(ct, f, rng);
      auto want_i = interpret(fmt::format("func @f(%x: {0}) -> {1} {{\n  %y = irfft %x {{n = {2}}} "
                                          ": {1}\n  return %y\n}}\n",
                                          ty(ct, f), ty(t, s), n),
                              {z});
      auto got_i = run_op(rt::RuntimeOpStep{"irfft", {}, {}, {1, n}, {}}, {z}, {{t, s}}, false, 1);
      check_close(got_i[0], want_i[0], tol, tol, fmt::format("irfft n={}", n));
    }
}

TEST_CASE("runtime kernels: random_uniform and random_normal are bit-identical to the interpreter") {
  for (DType t : {DType::F32, DType::F64, DType::BF16})
    for (bool normal : {false, true}) {
      std::vector<int64_t> s = {3, 40000}; // large enough to split over threads
      const char* name = normal ? "random_normal" : "random_uniform";
      auto want = interpret(fmt::format("func @f() -> {0} {{\n  %y = {1} {{shape = [3, 40000], "
                                        "seed = -7, {2}, dtype = {3}}} : {0}\n  return %y\n}}\n",
                                        ty(t, s), name,
                                        normal ? "mean = 0.5, std = 2.0" : "low = -1.0, high = 3.0",
                                        ir::dtype_name(t)),
                            {});
      rt::RuntimeOpStep op{name, {}, {}, {-7}, {normal ? 0.5 : -1.0, normal ? 2.0 : 3.0}};
      for (int threads : {1, 2}) {
        auto got = run_op(op, {}, {{t, s}}, false, threads);
        CHECK(got[0].data == want[0].data);
      }
    }
}

TEST_CASE("runtime kernels: malformed steps are rt::Errors naming the op") {
  PlanBuilder b;
  int32_t x = b.input("x", DType::F32, {4});
  int32_t y = b.output("y", DType::F32, {4});
  b.p.runtime_ops.push_back(
      rt::RuntimeOpStep{"cumsum", {dense(x, DType::F32, {4})}, {dense(y, DType::F32, {4})}, {3, 0, 0}, {}});
  b.step(Step::Kind::RuntimeOp, 0, "scan");
  CHECK_THROWS_WITH_AS(rt::Executor(b.p, {}), "runtime op 'cumsum': axis 3 out of range for f32[4]",
                       rt::Error);
  b.p.runtime_ops[0].op = "sort";
  CHECK_THROWS_WITH_AS(rt::Executor(b.p, {}), "unknown runtime op 'sort'", rt::Error);
}

} // namespace
} // namespace tevo::test
