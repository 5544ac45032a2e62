// library_ref.cpp: reference loop nests for matmul (+ post-ops) and conv1d, used for
// what oneDNN cannot run (f64, views with stride-0 or negative matrix strides).
#include "runtime/kernels/library_ref.h"

#include <cmath>
#include <numbers>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "runtime/kernels/strided.h"

namespace tevo::rt::kernels {

namespace {

using dnnl::algorithm;

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

/// oneDNN's eltwise forward definitions (dnnl 2.6 documentation, "Eltwise").
bool eltwise(algorithm alg, double a, double b, double x, double& y) {
  switch (alg) {
  case algorithm::eltwise_relu: y = x > 0 ? x : a * x; return true;
  case algorithm::eltwise_tanh: y = std::tanh(x); return true;
  case algorithm::eltwise_logistic: y = sigmoid(x); return true;
  case algorithm::eltwise_exp: y = std::exp(x); return true;
  case algorithm::eltwise_linear: y = a * x + b; return true;
  case algorithm::eltwise_swish: y = x * sigmoid(a * x); return true;
  case algorithm::eltwise_gelu_erf: y = 0.5 * x * (1 + std::erf(x * std::numbers::sqrt2 / 2)); return true;
  case algorithm::eltwise_gelu_tanh: {
    double k = std::sqrt(2 / std::numbers::pi);
    y = 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * x * x * x)));
    return true;
  }
  default: return false;
  }
}

bool binary(algorithm alg, double x, double s, double& y) {
  switch (alg) {
  case algorithm::binary_add: y = x + s; return true;
  case algorithm::binary_mul: y = x * s; return true;
  case algorithm::binary_sub: y = x - s; return true;
  case algorithm::binary_div: y = x / s; return true;
  case algorithm::binary_max: y = std::fmax(x, s); return true;
  case algorithm::binary_min: y = std::fmin(x, s); return true;
  default: return false;
  }
}

/// Element offset of src1 for result index idx (src1 broadcasts where its extent is 1).
int64_t src1_offset(const StridedDesc& s, const int64_t* idx) {
  int64_t o = 0;
  for (size_t i = 0; i < s.dims.size(); ++i)
    o += (s.dims[i] == 1 ? 0 : idx[i]) * s.strides[i];
  return o;
}

} // namespace

bool ref_post_op_supported(const PostOp& p) {
  double y = 0;
  switch (p.kind) {
  case PostOp::Kind::Eltwise: return eltwise(static_cast<algorithm>(p.alg), 0, 0, 0, y);
  case PostOp::Kind::Binary: return binary(static_cast<algorithm>(p.alg), 0, 1, y);
  case PostOp::Kind::Sum: return true;
  }
  return false;
}

void matmul_ref(const MatmulStep& m, const LibraryArgs& args, int threads) {
  const size_t r = m.c.dims.size();
  const int64_t M = m.c.dims[r - 2], N = m.c.dims[r - 1], K = m.a.dims[r - 1];
  int64_t batch = 1;
  for (size_t i = 0; i + 2 < r; ++i)
    batch *= m.c.dims[i];
  const int64_t rows = batch * M;
  const DType t = m.c.dtype;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && rows > 1)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t idx[16] = {};
    // Unravel (batch..., m) of this row; n is filled in below.
    int64_t f = row;
    for (size_t i = r - 1; i-- > 0;) {
      idx[i] = f % m.c.dims[i];
      f /= m.c.dims[i];
    }
    int64_t a0 = 0, b0 = 0;
    for (size_t i = 0; i + 2 < r; ++i) {
      a0 += (m.a.dims[i] == 1 ? 0 : idx[i]) * m.a.strides[i];
      b0 += (m.b.dims[i] == 1 ? 0 : idx[i]) * m.b.strides[i];
    }
    a0 += idx[r - 2] * m.a.strides[r - 2];
    for (int64_t n = 0; n < N; ++n) {
      idx[r - 1] = n;
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += load(t, args.a, a0 + k * m.a.strides[r - 1]) *
               load(t, args.b, b0 + k * m.b.strides[r - 2] + n * m.b.strides[r - 1]);
      int64_t co = offset_of(m.c, idx);
      double old = load(t, args.c, co);
      for (size_t p = 0; p < m.post_ops.size(); ++p) {
        const PostOp& po = m.post_ops[p];
        auto alg = static_cast<algorithm>(po.alg);
        double y = acc;
        if (po.kind == PostOp::Kind::Eltwise) {
          eltwise(alg, po.alpha, po.beta, acc, y);
          y *= static_cast<double>(po.scale);
        } else if (po.kind == PostOp::Kind::Binary) {
          binary(alg, acc, load(po.src1.dtype, args.post_ops[p], src1_offset(po.src1, idx)), y);
        } else {
          y = acc + static_cast<double>(po.scale) * old;
        }
        acc = y;
      }
      store(t, args.c, co, acc);
    }
  }
}

void conv1d_ref(const Conv1dStep& c, const LibraryArgs& args, int threads) {
  const int64_t B = c.x.dims[0], Cin = c.x.dims[1], L = c.x.dims[2];
  const int64_t Cout = c.w.dims[0], Cg = c.w.dims[1], K = c.w.dims[2], Lout = c.y.dims[2];
  const int64_t per_group = Cout / c.groups;
  const DType t = c.y.dtype;
  (void)Cin;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && B * Cout > 1)
  for (int64_t bo = 0; bo < B * Cout; ++bo) {
    int64_t b = bo / Cout, o = bo % Cout, g = o / per_group;
    for (int64_t tt = 0; tt < Lout; ++tt) {
      double acc = 0;
      for (int64_t ci = 0; ci < Cg; ++ci)
        for (int64_t k = 0; k < K; ++k) {
          int64_t pos = tt * c.stride + k * c.dilation - c.padding_l;
          if (pos < 0 || pos >= L)
            continue;
          int64_t xi[3] = {b, g * Cg + ci, pos}, wi[3] = {o, ci, k};
          acc += load(t, args.a, offset_of(c.x, xi)) * load(t, args.b, offset_of(c.w, wi));
        }
      int64_t yi[3] = {b, o, tt};
      store(t, args.c, offset_of(c.y, yi), acc);
    }
  }
}

} // namespace tevo::rt::kernels
