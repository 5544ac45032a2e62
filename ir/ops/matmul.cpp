// matmul.cpp: batched matrix multiplication with NumPy-broadcast batch dimensions.
//
// a[..., M, K] x b[..., K, N] -> [..., M, N]. Both operands have rank >= 2 and the same
// float or integer dtype; the batch dims (all but the last two) broadcast NumPy-style.
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <utility>

namespace tevo::ir::ops {

namespace {

/// The batch part of a shape (all but the last two dims).
Shape batch_of(const Shape& s) {
  std::vector<int64_t> d = s.to_vector();
  d.resize(d.size() - 2);
  return Shape(d);
}

Expected<std::vector<TensorType>> infer_matmul(const InferCtx& c) {
  const auto& a = c.operands[0];
  const auto& b = c.operands[1];
  if (auto d = need(c, 0, Domain::Numeric))
    return *d;
  if (a.dtype != b.dtype)
    return make_diag("operand dtypes differ: {} vs {} (insert a cast)", a.str(), b.str());
  if (a.shape.rank() < 2 || b.shape.rank() < 2)
    return make_diag("operands must have rank >= 2, got {} x {}", a.str(), b.str());
  int64_t m = a.shape.dim(a.shape.rank() - 2), k = a.shape.dim(a.shape.rank() - 1);
  int64_t kb = b.shape.dim(b.shape.rank() - 2), n = b.shape.dim(b.shape.rank() - 1);
  if (k != kb) {
    // Say how to fix it when a transpose of one operand would make the product legal.
    const char* hint = k == n ? " (transpose the second operand?)"
                       : m == kb ? " (transpose the first operand?)"
                                 : "";
    return make_diag("inner dimensions differ: {} x {}{}", a.str(), b.str(), hint);
  }
  auto batch = broadcast_shapes(batch_of(a.shape), batch_of(b.shape));
  if (!batch)
    return make_diag("batch dimensions do not broadcast: {} x {}", a.str(), b.str());
  Shape out = *batch;
  out.push_back(m);
  out.push_back(n);
  return one(TensorType{a.dtype, out});
}

std::vector<interp::Array> eval_matmul(const EvalCtx& c) {
  const interp::Array& a = c.in(0);
  const interp::Array& b = c.in(1);
  interp::Array out(c.results[0]);
  if (out.numel() == 0) // the batch loop below could still be long (f32[2^40,0,1])
    return {std::move(out)};
  const Shape& os = out.shape();
  int64_t r = os.rank(), ra = a.shape().rank(), rb = b.shape().rank();
  int64_t m = os.dim(r - 2), n = os.dim(r - 1), k = a.shape().dim(ra - 1);
  // Element strides of each operand along the output's batch dims (0 where broadcast).
  std::vector<int64_t> bdims(static_cast<size_t>(r - 2)), sa(bdims.size(), 0),
      sb(bdims.size(), 0);
  std::vector<int64_t> astr = a.shape().strides(), bstr = b.shape().strides();
  for (int64_t i = 0; i < r - 2; ++i) {
    bdims[static_cast<size_t>(i)] = os.dim(i);
    int64_t ia = i - (r - ra), ib = i - (r - rb);
    if (ia >= 0 && a.shape().dim(ia) != 1)
      sa[static_cast<size_t>(i)] = astr[static_cast<size_t>(ia)];
    if (ib >= 0 && b.shape().dim(ib) != 1)
      sb[static_cast<size_t>(i)] = bstr[static_cast<size_t>(ib)];
  }
  int64_t batch = 1;
  for (int64_t d : bdims)
    batch *= d;
  for (int64_t bi = 0; bi < batch; ++bi) {
    std::vector<int64_t> idx = interp::unravel(bi, bdims);
    int64_t a0 = interp::ravel(idx, sa), b0 = interp::ravel(idx, sb);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += a[a0 + i * k + p] * b[b0 + p * n + j];
        out[(bi * m + i) * n + j] = s;
      }
  }
  return {std::move(out)};
}

Cost cost_matmul(const CostCtx& c) {
  Cost k = default_cost(c);
  const Shape& a = c.operands[0].shape;
  // numel(result) = batch * M * N; one multiply and one add per (result, K) pair.
  k.flops = 2.0 * static_cast<double>(c.results[0].numel()) *
            static_cast<double>(a.dim(a.rank() - 1));
  return k;
}

/// v with its last two axes swapped.
Value* transpose_last2(VjpCtx& c, Value* v) {
  return c.op(OpKind::Transpose, {v}, {{"perm", swap_last_two_perm(v->type.shape.rank())}});
}

/// db for b [1.., K, N] shared by every batch element of a [*, M, K] (a linear layer's
/// weight): sum over the batch of a^T dy is one product over the batch and rows together,
/// reshape(a, [B M, K])^T reshape(dy, [B M, N]), instead of B products and a sum over
/// [B, K, N]. nullptr when b has batch extents > 1 or a does not cover dy's batch.
Value* shared_rhs_grad(VjpCtx& c, Value* a, Value* b, Value* dy) {
  const Shape& as = a->type.shape;
  const Shape& bs = b->type.shape;
  const Shape& ys = dy->type.shape;
  int64_t ra = as.rank(), rb = bs.rank(), ry = ys.rank();
  if (ra < 3 || ry != ra)
    return nullptr;
  for (int64_t i = 0; i < rb - 2; ++i)
    if (bs.dim(i) != 1)
      return nullptr;
  int64_t rows = 1;
  for (int64_t i = 0; i < ra - 1; ++i) {
    if (i < ra - 2 && as.dim(i) != ys.dim(i))
      return nullptr;
    rows *= as.dim(i);
  }
  int64_t k = as.dim(ra - 1), n = ys.dim(ry - 1);
  Value* a2 = c.op(OpKind::Reshape, {a}, {{"shape", std::vector<int64_t>{rows, k}}});
  Value* y2 = c.op(OpKind::Reshape, {dy}, {{"shape", std::vector<int64_t>{rows, n}}});
  Value* g = c.op(OpKind::Matmul, {transpose_last2(c, a2), y2});
  if (!(g->type.shape == bs))
    g = c.op(OpKind::Reshape, {g}, {{"shape", bs.to_vector()}});
  return g;
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Matmul() {
  OpDef o;
  o.name = "matmul";
  o.summary = "batched matrix product a[..., M, K] x b[..., K, N] (batch dims broadcast)";
  o.signature = "(a, b) -> c";
  o.min_operands = o.max_operands = 2;
  o.infer = infer_matmul;
  o.eval = eval_matmul;
  o.cost = cost_matmul;
  // da = dy b^T and db = a^T dy per batch element; each is then summed over the batch
  // dims along which its operand was broadcast (db of a b shared by the whole batch as one
  // product over batch and rows: shared_rhs_grad).
  o.vjp = [](VjpCtx& c) -> std::vector<Value*> {
    Value* a = c.x(0);
    Value* b = c.x(1);
    Value* da = nullptr;
    Value* db = nullptr;
    if (c.needs(0))
      da = c.unbroadcast(c.op(OpKind::Matmul, {c.dy(), transpose_last2(c, b)}), a->type);
    if (c.needs(1)) {
      db = shared_rhs_grad(c, a, b, c.dy());
      if (!db)
        db = c.unbroadcast(c.op(OpKind::Matmul, {transpose_last2(c, a), c.dy()}), b->type);
    }
    return {da, db};
  };
  return o;
}

} // namespace tevo::ir
