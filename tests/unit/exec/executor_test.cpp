// executor_test.cpp: rt::Executor on hand-built plans whose kernels are ordinary C++
// functions with the kernel ABI: a kernel -> matmul (transposed, batch-broadcast B) ->
// kernel chain against a naive reference, thread counts, kernel errors, input checks,
// stats, and that the pointer form of run() allocates nothing.
#include <atomic>
#include <cstdlib>
#include <new>

#include "exec_test_util.h"
#include "runtime/json.h"

// Every allocation of this test binary is counted (the pointer-form run must add none).
// libstdc++'s default operator delete frees with std::free, which matches.
namespace {
std::atomic<int64_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc();
}

namespace tevo::test {
namespace {

using rt::Step;

float* f32(void* const* args, int i) {
  return static_cast<float*>(args[i]);
}

/// t = 2x + 1 over a flat range.
int32_t affine(void* const* args, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    f32(args, 1)[i] = 2 * f32(args, 0)[i] + 1;
  return 0;
}

/// y = max(u, 0) - 0.5; code 1 when an element is above 1e6 (a stand-in data error).
int32_t relu_shift(void* const* args, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    float u = f32(args, 0)[i];
    if (u > 1e6f)
      return 1;
    f32(args, 1)[i] = (u > 0 ? u : 0) - 0.5f;
  }
  return 0;
}

constexpr int64_t B = 2, M = 3, K = 5, N = 4;

/// x f32[B,M,K], w f32[N,K] -> y f32[B,M,N] = relu((2x+1) @ w^T) - 0.5.
rt::Plan chain_plan(int64_t grain) {
  PlanBuilder b;
  int32_t x = b.input("x", DType::F32, {B, M, K});
  int32_t w = b.input("w", DType::F32, {N, K});
  int32_t y = b.output("y", DType::F32, {B, M, N});
  int32_t t = b.arena(B * M * K * 4), u = b.arena(B * M * N * 4);
  b.p.kernel_names = {"affine", "relu_shift"};
  b.p.kernel_errors = {{}, {"value too large in relu_shift"}};
  b.p.kernels.push_back(rt::KernelStep{0, {{x, 0}, {t, 0}}, B * M * K, grain});
  b.step(Step::Kind::Kernel, 0, "blocks.0.affine");
  rt::MatmulStep mm;
  mm.a = dense(t, DType::F32, {B, M, K});
  mm.b = view(w, DType::F32, {B, K, N}, {0, 1, K}); // w^T, shared by the whole batch
  mm.c = dense(u, DType::F32, {B, M, N});
  b.p.matmuls.push_back(mm);
  b.step(Step::Kind::Matmul, 0, "blocks.0.proj");
  b.p.kernels.push_back(rt::KernelStep{1, {{u, 0}, {y, 0}}, B * M * N, grain});
  b.step(Step::Kind::Kernel, 1, "blocks.0.act");
  return b.p;
}

std::vector<rt::KernelFn> chain_kernels() {
  return {affine, relu_shift};
}

std::vector<float> chain_reference(const std::vector<float>& x, const std::vector<float>& w) {
  std::vector<float> y(B * M * N);
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += (2.0 * x[static_cast<size_t>((bb * M + m) * K + k)] + 1) *
                 w[static_cast<size_t>(n * K + k)];
        y[static_cast<size_t>((bb * M + m) * N + n)] = static_cast<float>((acc > 0 ? acc : 0) - 0.5);
      }
  return y;
}

std::vector<float> floats(const HostTensor& h) {
  std::vector<float> v(static_cast<size_t>(h.numel()));
  std::memcpy(v.data(), h.data.data(), h.data.size());
  return v;
}

TEST_CASE("executor: kernel -> matmul (transposed, batch-broadcast B) -> kernel matches a naive reference") {
  std::mt19937_64 rng(7);
  HostTensor x = random_tensor(DType::F32, {B, M, K}, rng), w = random_tensor(DType::F32, {N, K}, rng);
  std::vector<float> want = chain_reference(floats(x), floats(w));
  std::vector<HostTensor> results;
  for (int threads : {1, 2})
    for (int64_t grain : {1, 4, 1000}) {
      rt::Executor ex(chain_plan(grain), chain_kernels(), rt::ExecOptions{threads});
      CHECK_EQ(ex.threads(), threads);
      auto out = ex.run({x, w});
      REQUIRE_EQ(out.size(), 1);
      CHECK_EQ(out[0].type_str(), "f32[2,3,4]");
      std::vector<float> got = floats(out[0]);
      for (size_t i = 0; i < got.size(); ++i)
        CHECK(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
      results.push_back(out[0]);
    }
  for (const HostTensor& r : results) // every thread count and grain: the same bytes
    CHECK(r.data == results[0].data);
}

TEST_CASE("executor: stats count steps and the arena") {
  rt::Executor ex(chain_plan(4), chain_kernels(), rt::ExecOptions{1});
  rt::ExecutorStats s = ex.stats();
  CHECK_EQ(s.kernels, 2);
  CHECK_EQ(s.library_calls, 1);
  CHECK_EQ(s.runtime_ops, 0);
  CHECK_EQ(s.arena_bytes, ex.plan().arena_bytes);
  CHECK_EQ(s.primitives, 0); // x W^T with x's batch folded into rows: one dnnl_sgemm call
  CHECK_EQ(s.gemm_library_steps, 1);
  CHECK_EQ(s.reference_library_steps, 0);
}

TEST_CASE("executor: a kernel's error code becomes an rt::Error naming the step") {
  std::mt19937_64 rng(8);
  HostTensor x = random_tensor(DType::F32, {B, M, K}, rng), w = random_tensor(DType::F32, {N, K}, rng);
  ir::store_element(x.data.data(), DType::F32, 7, 1e9);
  for (int threads : {1, 2}) {
    rt::Executor ex(chain_plan(1), chain_kernels(), rt::ExecOptions{threads});
    CHECK_THROWS_WITH_AS(ex.run({x, w}),
                         "value too large in relu_shift (in blocks.0.act at model.py:blocks.0.act:1)",
                         rt::Error);
  }
}

TEST_CASE("executor: inputs are checked by count, name, dtype, shape and size") {
  rt::Executor ex(chain_plan(4), chain_kernels(), rt::ExecOptions{1});
  HostTensor x{DType::F32, {B, M, K}, std::vector<uint8_t>(B * M * K * 4)};
  HostTensor w{DType::F32, {N, K}, std::vector<uint8_t>(N * K * 4)};
  CHECK_THROWS_WITH_AS(ex.run({x}), "missing input 'w'", rt::Error);
  CHECK_THROWS_WITH_AS(ex.run({x, w, w}), "expected 2 inputs, got 3", rt::Error);
  HostTensor wt{DType::F32, {K, N}, w.data};
  CHECK_THROWS_WITH_AS(ex.run({x, wt}), "input 'w': expected f32[4,5], got f32[5,4]", rt::Error);
  HostTensor w64{DType::F64, {N, K}, std::vector<uint8_t>(N * K * 8)};
  CHECK_THROWS_WITH_AS(ex.run({x, w64}), "input 'w': expected f32[4,5], got f64[4,5]", rt::Error);
  HostTensor short_w{DType::F32, {N, K}, std::vector<uint8_t>(12)};
  CHECK_THROWS_WITH_AS(ex.run({x, short_w}), "input 'w': f32[4,5] needs 80 bytes, got 12",
                       rt::Error);
  using Named = std::vector<std::pair<std::string, HostTensor>>;
  CHECK_THROWS_WITH_AS(ex.run(Named{{"x", x}}), "missing input 'w'", rt::Error);
  CHECK_THROWS_WITH_AS(ex.run(Named{{"x", x}, {"v", w}}), "unknown input 'v'", rt::Error);
  CHECK_THROWS_WITH_AS(ex.run(Named{{"x", x}, {"x", x}}), "input 'x' given twice", rt::Error);
  CHECK_EQ(ex.run(Named{{"w", w}, {"x", x}})[0].numel(), B * M * N);
}

TEST_CASE("executor: bad plans and kernel tables are rt::Errors") {
  rt::Plan p = chain_plan(4);
  CHECK_THROWS_WITH_AS(rt::Executor(p, {affine}), "executor: 1 kernel functions for 2 kernels",
                       rt::Error);
  CHECK_THROWS_WITH_AS(rt::Executor(p, {affine, nullptr}),
                       "executor: no function for kernel 'relu_shift'", rt::Error);
  p.buffers[3].offset = 32;
  CHECK_THROWS_WITH_AS(rt::Executor(p, chain_kernels()),
                       "plan: buffer 3: arena offset 32 is not 64-byte aligned", rt::Error);
}

TEST_CASE("executor: the pointer form of run() allocates nothing in steady state") {
  // Kernels, copies and runtime kernels: no allocation at all.
  PlanBuilder b;
  int32_t x = b.input("x", DType::F32, {64});
  int32_t y = b.output("y", DType::F32, {64});
  int32_t z = b.output("z", DType::F32, {64});
  int32_t s = b.output("s", DType::F32, {64});
  int32_t t = b.arena(256);
  b.p.kernel_names = {"affine"};
  b.p.kernels.push_back(rt::KernelStep{0, {{x, 0}, {t, 0}}, 64, 8});
  b.step(Step::Kind::Kernel, 0, "k");
  b.p.copies.push_back(rt::CopyStep{{t, 0}, {y, 0}, 256});
  b.step(Step::Kind::Copy, 0, "copy");
  b.p.runtime_ops.push_back(rt::RuntimeOpStep{"cumsum", {dense(t, DType::F32, {64})},
                                              {dense(z, DType::F32, {64})}, {0, 0, 0}, {}});
  b.step(Step::Kind::RuntimeOp, 0, "scan");
  b.p.runtime_ops.push_back(rt::RuntimeOpStep{"random_normal", {}, {dense(s, DType::F32, {64})},
                                              {3}, {0.0, 1.0}});
  b.step(Step::Kind::RuntimeOp, 1, "noise");
  for (int threads : {1, 2}) {
    rt::Executor ex(b.p, {affine}, rt::ExecOptions{threads});
    std::vector<float> in(64, 1.5f), o1(64), o2(64), o3(64);
    const void* ins[] = {in.data()};
    void* outs[] = {o1.data(), o2.data(), o3.data()};
    ex.run(ins, outs); // warm-up: OpenMP creates its team
    int64_t before = g_allocations.load();
    for (int i = 0; i < 5; ++i)
      ex.run(ins, outs);
    CHECK_EQ(g_allocations.load() - before, 0);
    CHECK_EQ(o1[63], 4.0f);
    CHECK_EQ(o2[63], 4.0f * 64);
  }
  // Library steps: tevo's side allocates nothing; oneDNN 2.6's execute builds a small
  // argument map per call, which is reported here rather than hidden.
  rt::Executor ex(chain_plan(4), chain_kernels(), rt::ExecOptions{1});
  std::vector<float> xs(B * M * K, 0.25f), ws(N * K, 0.5f), ys(B * M * N);
  const void* ins[] = {xs.data(), ws.data()};
  void* outs[] = {ys.data()};
  ex.run(ins, outs);
  int64_t before = g_allocations.load();
  ex.run(ins, outs);
  MESSAGE("allocations in one run with a oneDNN matmul: " << g_allocations.load() - before);
}

} // namespace
} // namespace tevo::test
