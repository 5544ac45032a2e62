// split_k.cpp: a matmul with a small result and a long reduction -> a batched matmul over
// slices of the reduction plus a sum of the partial products.
//
// Why: oneDNN parallelises a matmul over its result's blocks (and batch), not over K. The
// right product of linear attention builds phi(K)^T V: a 64 x 64 result reduced over the
// whole sequence (K = N = 16k), one block, so it runs on one thread however many there
// are. Split into c slices of K/c, the c partial products are a batch the library runs in
// parallel, and summing c small results costs nothing (measured for 64 x 64 x 16384, two
// threads: 0.94 -> 0.60 ms with c = 8).
//
// Pattern `split`, rooted at C = matmul(A [*, M, K], B [*, K, N]), f32 or f64, when the result
// is small (batch * M * N <= kMaxResult) and K >= kMinK:
//   A' = A as [*, c, M, K/c] (when A = X^T, the transpose of reshape(X) [*, c, K/c, M], so
//        a view of X stays a view), B' = reshape(B, [*, c, K/c, N]),
//   C  = sum(matmul(A', B'), axis of c)   (the partial product is named split_k_partial
//        and never split again).
// c is the largest of 16, 8, 4, 2 that divides K with K/c >= kMinSlice: fixed by the
// shapes, never by the thread count, so results do not depend on the number of threads.
// It belongs to the CPU backend's pipeline (before decompose,fuse), not to "default": how
// a library parallelises is a property of the target.
#include "ir/shape.h"
#include "passes/pass.h"
#include "passes/pattern_driver.h"

namespace tevo::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;
using Ints = std::vector<int64_t>;

constexpr std::string_view kPass = "split-k";
/// Results of at most this many elements (batch included) are split...
constexpr int64_t kMaxResult = 16384;
/// ...when their reduction is at least this long...
constexpr int64_t kMinK = 4096;
/// ...into slices at least this long.
constexpr int64_t kMinSlice = 512;
/// Name of the partial products (never split again).
constexpr std::string_view kPartial = "split_k_partial";

int64_t slices(int64_t k) {
  for (int64_t c : {16, 8, 4, 2})
    if (k % c == 0 && k / c >= kMinSlice)
      return c;
  return 1;
}

/// dims with `a` and `b` inserted before the last two: [*, a, b, y, z] style helpers.
Ints with_split(const ir::Shape& s, size_t at, Ints mid) {
  Ints out = s.to_vector();
  out.erase(out.begin() + static_cast<ptrdiff_t>(at));
  out.insert(out.begin() + static_cast<ptrdiff_t>(at), mid.begin(), mid.end());
  return out;
}

class SplitPattern final : public RewritePattern {
public:
  std::string_view name() const override {
    return "split";
  }
  std::optional<OpKind> root() const override {
    return OpKind::Matmul;
  }

  Outcome apply(RewriteCtx& ctx) const override {
    Node& mm = ctx.root();
    Value* a = mm.operand(0);
    Value* b = mm.operand(1);
    const ir::TensorType& ct = mm.result(0)->type;
    if (mm.result(0)->name.find(kPartial) != std::string::npos)
      return Outcome::no_match();
    const int64_t r = a->type.shape.rank();
    // f32/f64 only: the partial products are stored in the result's dtype, and f16/bf16
    // partials round (or overflow) where one product accumulates in f32.
    if ((ct.dtype != ir::DType::F32 && ct.dtype != ir::DType::F64) || r < 2 ||
        b->type.shape.rank() != r || ct.shape.rank() != r ||
        ct.numel() == 0 || ct.numel() > kMaxResult)
      return Outcome::no_match();
    const int64_t k = a->type.shape.dim(r - 1);
    const int64_t c = k >= kMinK ? slices(k) : 1;
    if (c == 1)
      return Outcome::no_match();
    const int64_t m = a->type.shape.dim(r - 2), n = b->type.shape.dim(r - 1), len = k / c;
    const size_t batch = static_cast<size_t>(r - 2);

    Tentative t(ctx.graph(), mm);
    Value* a2 = nullptr;
    const Node* pa = a->producer;
    if (pa && pa->op == OpKind::Transpose &&
        pa->attrs.i64_list("perm") == ir::swap_last_two_perm(r)) {
      // A = X^T with X [*, K, M]: slice X's rows, then transpose each slice.
      Value* x = t.reshape(pa->operand(0), with_split(pa->operand(0)->type.shape, batch,
                                                      {c, len}));
      a2 = t.op(OpKind::Transpose, {x}, {{"perm", ir::swap_last_two_perm(r + 1)}});
    } else {
      // [*, M, K] -> [*, M, c, K/c] -> [*, c, M, K/c]
      Value* x = t.reshape(a, with_split(a->type.shape, batch + 1, {c, len}));
      Ints perm;
      for (int64_t i = 0; i < r + 1; ++i)
        perm.push_back(i);
      std::swap(perm[batch], perm[batch + 1]);
      a2 = t.op(OpKind::Transpose, {x}, {{"perm", perm}});
    }
    Value* b2 = t.reshape(b, with_split(b->type.shape, batch, {c, len}));
    Value* p = t.op_before(mm, OpKind::Matmul, {a2, b2}, {}, std::string(kPartial));
    Value* y = t.op(OpKind::Sum, {p},
                    {{"axes", Ints{static_cast<int64_t>(batch)}}, {"keepdims", false}});
    if (t.failed() || !(y->type == ct)) {
      t.discard();
      return Outcome::no_match();
    }
    ctx.replace(mm.result(0), y);
    return Outcome::applied(fmt::format("K={} in {} slices of {} (result M={} N={})", k, c, len,
                                        m, n));
  }
};

} // namespace

std::unique_ptr<Pass> create_split_k() {
  PatternList patterns;
  patterns.push_back(std::make_unique<SplitPattern>());
  return make_pattern_pass(kPass, std::move(patterns));
}

} // namespace tevo::passes
