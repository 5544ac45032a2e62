// gemm_call_test.cpp: which matmul steps run as one dnnl_sgemm call and with which BLAS
// arguments (runtime/gemm_call.h), and that those steps compute what the views say:
// transposed operands, batch dims folded into rows, a Sum post-op as beta, at 1 and 2
// threads, against a double-precision loop over the same views.
#include <fmt/format.h>

#include <limits>

#include "exec_test_util.h"
#include "runtime/gemm_call.h"

namespace tevo::test {
namespace {

using rt::gemm_call;
using rt::GemmCall;
using rt::MatmulStep;
using rt::PostOp;
using rt::StridedDesc;

StridedDesc sd(std::vector<int64_t> dims, std::vector<int64_t> strides, DType t = DType::F32) {
  StridedDesc d;
  d.dtype = t;
  d.dims = std::move(dims);
  d.strides = std::move(strides);
  return d;
}

MatmulStep step(StridedDesc a, StridedDesc b, StridedDesc c) {
  MatmulStep s;
  s.a = std::move(a);
  s.b = std::move(b);
  s.c = std::move(c);
  return s;
}

GemmCall call(char ta, char tb, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb,
              int64_t ldc, float beta = 0) {
  return GemmCall{ta, tb, m, n, k, lda, ldb, ldc, beta};
}

} // namespace

TEST_CASE("gemm_call: BLAS arguments of the views it can express") {
  // Row-major A [5,7] x B [7,6] -> C [5,6].
  CHECK_EQ(gemm_call(step(sd({5, 7}, {7, 1}), sd({7, 6}, {6, 1}), sd({5, 6}, {6, 1}))),
           call('N', 'N', 5, 6, 7, 7, 6, 6));
  // B read transposed (a [6,7] weight as x W^T), A transposed, padded leading dims.
  CHECK_EQ(gemm_call(step(sd({5, 7}, {9, 1}), sd({7, 6}, {1, 7}), sd({5, 6}, {8, 1}))),
           call('N', 'T', 5, 6, 7, 9, 7, 8));
  CHECK_EQ(gemm_call(step(sd({5, 7}, {1, 5}), sd({7, 6}, {6, 1}), sd({5, 6}, {6, 1}))),
           call('T', 'N', 5, 6, 7, 5, 6, 6));
  // [2,3,5,7] x [7,6] broadcast over both batch dims: 30 rows.
  CHECK_EQ(gemm_call(step(sd({2, 3, 5, 7}, {105, 35, 7, 1}), sd({1, 1, 7, 6}, {0, 0, 6, 1}),
                          sd({2, 3, 5, 6}, {90, 30, 6, 1}))),
           call('N', 'N', 30, 6, 7, 7, 6, 6));
  // A batch dim of extent 1 between others is skipped; the weight's stride-0 form too.
  CHECK_EQ(gemm_call(step(sd({2, 1, 5, 7}, {35, 99, 7, 1}), sd({2, 1, 7, 6}, {0, 0, 6, 1}),
                          sd({2, 1, 5, 6}, {30, 77, 6, 1}))),
           call('N', 'N', 10, 6, 7, 7, 6, 6));
  // One row (M = 1) with any row stride; one column with any column stride.
  CHECK_EQ(gemm_call(step(sd({1, 7}, {123, 1}), sd({7, 6}, {6, 1}), sd({1, 6}, {55, 1}))),
           call('N', 'N', 1, 6, 7, 7, 6, 6));
  CHECK_EQ(gemm_call(step(sd({5, 7}, {7, 1}), sd({7, 1}, {1, 3}), sd({5, 1}, {4, 9}))),
           call('N', 'N', 5, 1, 7, 7, 1, 4));
  // A Sum post-op is beta.
  MatmulStep s = step(sd({5, 7}, {7, 1}), sd({7, 6}, {6, 1}), sd({5, 6}, {6, 1}));
  s.post_ops = {PostOp{PostOp::Kind::Sum, 0, 0, 0, 0.5f, {}}};
  CHECK_EQ(gemm_call(s), call('N', 'N', 5, 6, 7, 7, 6, 6, 0.5f));
}

TEST_CASE("gemm_call: what stays on the matmul primitive") {
  const StridedDesc a = sd({5, 7}, {7, 1}), b = sd({7, 6}, {6, 1}), c = sd({5, 6}, {6, 1});
  CHECK_FALSE(gemm_call(step(sd({5, 7}, {7, 1}, DType::F64), sd({7, 6}, {6, 1}, DType::F64),
                             sd({5, 6}, {6, 1}, DType::F64))));
  CHECK_FALSE(gemm_call(step(a, b, sd({5, 6}, {1, 5}))));       // C column-major
  CHECK_FALSE(gemm_call(step(sd({5, 7}, {14, 2}), b, c)));      // no unit stride in A
  CHECK_FALSE(gemm_call(step(sd({5, 7}, {0, 1}), b, c)));       // A's rows broadcast
  CHECK_FALSE(gemm_call(step(sd({5, 7}, {3, 1}), b, c)));       // rows overlap (lda < K)
  CHECK_FALSE(gemm_call(step(a, sd({7, 6}, {1, 5}), c)));       // ldb < K in 'T' form
  CHECK_FALSE(gemm_call(step(sd({5, 0}, {0, 1}), sd({0, 6}, {6, 1}), c))); // K = 0
  // Batch dims: B varying over them, A broadcast over them, A or C not contiguous
  // across them (a slice of rows), ranks that differ.
  CHECK_FALSE(gemm_call(step(sd({2, 5, 7}, {35, 7, 1}), sd({2, 7, 6}, {42, 6, 1}),
                             sd({2, 5, 6}, {30, 6, 1}))));
  CHECK_FALSE(gemm_call(step(sd({2, 5, 7}, {0, 7, 1}), sd({2, 7, 6}, {0, 6, 1}),
                             sd({2, 5, 6}, {30, 6, 1}))));
  CHECK_FALSE(gemm_call(step(sd({2, 5, 7}, {42, 7, 1}), sd({2, 7, 6}, {0, 6, 1}),
                             sd({2, 5, 6}, {30, 6, 1}))));
  CHECK_FALSE(gemm_call(step(sd({2, 5, 7}, {35, 7, 1}), sd({2, 7, 6}, {0, 6, 1}),
                             sd({2, 5, 6}, {36, 6, 1}))));
  CHECK_FALSE(gemm_call(step(sd({2, 5, 7}, {35, 7, 1}), b, sd({2, 5, 6}, {30, 6, 1}))));
  // Post-ops other than one Sum: a binary bias, an eltwise, two sums.
  MatmulStep s = step(a, b, c);
  s.post_ops = {PostOp{PostOp::Kind::Binary, 0, 0, 0, 1, sd({1, 6}, {0, 1})}};
  CHECK_FALSE(gemm_call(s));
  s.post_ops = {PostOp{PostOp::Kind::Eltwise, 0, 0, 0, 1, {}}};
  CHECK_FALSE(gemm_call(s));
  s.post_ops = {PostOp{PostOp::Kind::Sum, 0, 0, 0, 1, {}}, PostOp{PostOp::Kind::Sum, 0, 0, 0, 1, {}}};
  CHECK_FALSE(gemm_call(s));
}

TEST_CASE("gemm_call: sgemm steps compute their views (transposes, folded batch, Sum)") {
  // y[b, i, :] = x[b, i, :] W^T + 0.5 r, x a [2, 9, 13] slice of a [2, 9, 16] buffer (so
  // its rows are padded: lda 16), W [11, 13] read transposed, r elsewhere (copied into y
  // first). Then A transposed: z = x0^T y0 over one batch's rows.
  constexpr int64_t B = 2, T = 9, C = 13, P = 16, D = 11;
  PlanBuilder pb;
  const DType f = DType::F32;
  int32_t xb = pb.input("x", f, {B, T, P}), wb = pb.input("w", f, {D, C});
  int32_t rb = pb.input("r", f, {B, T, D});
  int32_t yb = pb.output("y", f, {B, T, D}), zb = pb.output("z", f, {C, D});
  MatmulStep m1;
  m1.a = view(xb, f, {B, T, C}, {T * P, P, 1});
  m1.b = view(wb, f, {1, C, D}, {0, 1, C});
  m1.c = dense(yb, f, {B, T, D});
  m1.post_ops = {PostOp{PostOp::Kind::Sum, 0, 0, 0, 0.5f, dense(rb, f, {B, T, D})}};
  MatmulStep m2;
  m2.a = view(xb, f, {C, T}, {1, P});
  m2.b = dense(yb, f, {T, D});
  m2.c = dense(zb, f, {C, D});
  REQUIRE(gemm_call(m1));
  REQUIRE(gemm_call(m2));
  CHECK_EQ(gemm_call(m1)->ta, 'N');
  CHECK_EQ(gemm_call(m2)->ta, 'T');
  pb.p.matmuls = {m1, m2};
  pb.step(rt::Step::Kind::Matmul, 0, "proj");
  pb.step(rt::Step::Kind::Matmul, 1, "grad");
  std::mt19937_64 rng(5);
  HostTensor x = random_tensor(f, {B, T, P}, rng), w = random_tensor(f, {D, C}, rng);
  HostTensor r = random_tensor(f, {B, T, D}, rng);
  std::vector<double> y(B * T * D), z(C * D, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t o = 0; o < D; ++o) {
        double acc = 0.5 * at(r, (b * T + i) * D + o);
        for (int64_t k = 0; k < C; ++k)
          acc += at(x, (b * T + i) * P + k) * at(w, o * C + k);
        y[static_cast<size_t>((b * T + i) * D + o)] = acc;
      }
  for (int64_t k = 0; k < C; ++k)
    for (int64_t o = 0; o < D; ++o)
      for (int64_t i = 0; i < T; ++i)
        z[static_cast<size_t>(k * D + o)] += at(x, i * P + k) * y[static_cast<size_t>(i * D + o)];
  for (int threads : {1, 2}) {
    rt::Executor ex(pb.p, {}, rt::ExecOptions{threads});
    CHECK_EQ(ex.stats().gemm_library_steps, 2);
    CHECK_EQ(ex.stats().primitives, 0);
    auto out = ex.run({x, w, r});
    for (int64_t i = 0; i < B * T * D; ++i)
      CHECK(std::fabs(at(out[0], i) - y[static_cast<size_t>(i)]) <=
            1e-5 * (1 + std::fabs(y[static_cast<size_t>(i)])));
    for (int64_t i = 0; i < C * D; ++i)
      CHECK(std::fabs(at(out[1], i) - z[static_cast<size_t>(i)]) <=
            1e-4 * (1 + std::fabs(z[static_cast<size_t>(i)])));
  }
}

TEST_CASE("gemm_call: beta 0 never reads C (NaN left in the output buffer)") {
  constexpr int64_t M = 37, K = 19, N = 23;
  PlanBuilder pb;
  const DType f = DType::F32;
  int32_t ab = pb.input("a", f, {M, K}), bb = pb.input("b", f, {K, N});
  int32_t cb = pb.output("c", f, {M, N});
  MatmulStep m;
  m.a = dense(ab, f, {M, K});
  m.b = dense(bb, f, {K, N});
  m.c = dense(cb, f, {M, N});
  REQUIRE(gemm_call(m));
  CHECK_EQ(gemm_call(m)->beta, 0.0f);
  pb.p.matmuls = {m};
  pb.step(rt::Step::Kind::Matmul, 0, "mm");
  std::vector<float> a(M * K, 0.5f), b(K * N, 0.25f);
  std::vector<float> c(M * N, std::numeric_limits<float>::quiet_NaN());
  rt::Executor ex(pb.p, {}, rt::ExecOptions{2});
  const void* ins[] = {a.data(), b.data()};
  void* outs[] = {c.data()};
  ex.run(ins, outs);
  for (float v : c)
    CHECK(v == 0.125f * K);
}

} // namespace tevo::test
