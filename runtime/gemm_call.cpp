// gemm_call.cpp: a matmul step as one dnnl_sgemm call (see gemm_call.h).
#include "runtime/gemm_call.h"

#include <algorithm>
#include <vector>

namespace tevo::rt {

namespace {

/// A matrix view: rows x cols, element (r, c) at r * rs + c * cs.
struct Mat {
  int64_t rows, cols, rs, cs;
};

/// BLAS form of a row-major operand: 'N' with ld = row stride when columns are contiguous,
/// 'T' with ld = column stride when rows are; extent-1 dims take any stride. False when
/// neither holds or the ld would be smaller than BLAS allows (overlapping rows).
bool blas_form(const Mat& x, char& t, int64_t& ld) {
  const bool rows1 = x.rows == 1, cols1 = x.cols == 1;
  if ((!rows1 && x.rs <= 0) || (!cols1 && x.cs <= 0))
    return false;
  if (cols1 || x.cs == 1) {
    t = 'N';
    ld = rows1 ? std::max<int64_t>(x.cols, 1) : x.rs;
    return ld >= x.cols;
  }
  if (rows1 || x.rs == 1) {
    t = 'T';
    ld = cols1 ? std::max<int64_t>(x.rows, 1) : x.cs;
    return ld >= x.rows;
  }
  return false;
}

/// The rows of view `v` ([batch..., rows, cols]) with the dims `fold` (indices of extent
/// > 1) folded into one row index: they must chain (each stride = the next one's stride
/// times its extent). Row stride = the innermost folded dim's; rows = 1 when none.
bool fold_rows(const StridedDesc& v, const std::vector<size_t>& fold, Mat& out) {
  const size_t r = v.dims.size();
  out = Mat{1, v.dims[r - 1], 0, v.strides[r - 1]};
  for (size_t t = 0; t < fold.size(); ++t) {
    const size_t i = fold[t];
    if (v.strides[i] <= 0 ||
        (t + 1 < fold.size() && v.strides[i] != v.strides[fold[t + 1]] * v.dims[fold[t + 1]]))
      return false;
    out.rows *= v.dims[i];
  }
  if (!fold.empty())
    out.rs = v.strides[fold.back()];
  return true;
}

} // namespace

std::optional<GemmCall> gemm_call(const MatmulStep& s) {
  const size_t r = s.c.dims.size();
  if (r < 2 || s.a.dims.size() != r || s.b.dims.size() != r || s.a.strides.size() != r ||
      s.b.strides.size() != r || s.c.strides.size() != r)
    return std::nullopt;
  if (s.a.dtype != DType::F32 || s.b.dtype != DType::F32 || s.c.dtype != DType::F32)
    return std::nullopt;
  GemmCall g;
  if (s.post_ops.size() > 1 || (s.post_ops.size() == 1 && s.post_ops[0].kind != PostOp::Kind::Sum))
    return std::nullopt;
  g.beta = s.post_ops.empty() ? 0.0f : s.post_ops[0].scale;
  // Batch dims (and M) of extent > 1 fold into rows: A and C vary along them, B does not.
  std::vector<size_t> fold;
  for (size_t i = 0; i + 2 < r; ++i) {
    if (s.c.dims[i] == 1)
      continue;
    if (s.a.dims[i] != s.c.dims[i] || s.a.strides[i] == 0 ||
        (s.b.dims[i] != 1 && s.b.strides[i] != 0))
      return std::nullopt;
    fold.push_back(i);
  }
  if (s.c.dims[r - 2] > 1)
    fold.push_back(r - 2);
  Mat a, c;
  if (!fold_rows(s.a, fold, a) || !fold_rows(s.c, fold, c))
    return std::nullopt;
  const Mat b{s.b.dims[r - 2], s.b.dims[r - 1], s.b.strides[r - 2], s.b.strides[r - 1]};
  g.m = c.rows;
  g.n = c.cols;
  g.k = a.cols;
  if (g.m <= 0 || g.n <= 0 || g.k <= 0 || b.rows != g.k || b.cols != g.n || a.rows != g.m)
    return std::nullopt;
  char tc = 'N';
  if (!blas_form(a, g.ta, g.lda) || !blas_form(b, g.tb, g.ldb) || !blas_form(c, tc, g.ldc) ||
      tc != 'N')
    return std::nullopt;
  return g;
}

} // namespace tevo::rt
