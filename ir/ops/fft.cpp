// fft.cpp: real-input discrete Fourier transforms along one axis (NumPy rfft / irfft), and
// dft_cs, the cosine and sine parts of the full-length DFT as two real tensors.
//
// dft_cs(x) = (c, s) with c_k = sum_j x_j cos(2 pi jk/n), s_k = sum_j x_j sin(2 pi jk/n),
// k < n: the products C x and S x with the DFT's cos / sin matrices (Re F = C, Im F = -S),
// which is how FNet and GFNet write a DFT without complex numbers. C and S are symmetric,
// so the VJP is dx = dft_cs(dc).c + dft_cs(ds).s; the backends run an FFT in O(n log n).
//
// The reference kernels are direct O(n^2) DFTs over a table of n twiddles whose angles
// are 2 pi m / n for integer m = (j k) mod n, so no large-angle cos/sin loses accuracy.
// Neither transform is scaled forwards; irfft divides by n (NumPy's "backward" norm).
//
// Gradients (cotangent of a complex z is dL/dRe z + i dL/dIm z). With w_k = 1 for bin 0 and,
// for even n, bin n/2 (the "edge" bins, their own mirror) and w_k = 2 for the others,
//   irfft(Z)_j = (1/n) sum_k w_k Re(Z_k e^{2 pi i jk/n}),
// which also holds at the edge bins, where e^{...} is real so Im Z_k drops out. Hence
//   rfft:  dx = Re sum_k g_k e^{2 pi i jk/n} = irfft(g * n / w)
//   irfft: dZ_k = (w_k / n) rfft(g)_k, with Im dZ_k = 0 at the edge bins exactly (irfft
//          ignores those parts; rfft(g) has them only up to rounding there).
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tevo::ir::ops {

namespace {

/// A tensor seen as [outer, n, inner] around `axis`.
struct Lanes {
  int64_t outer = 1, n = 1, inner = 1;
};
Lanes lanes(const Shape& s, int64_t axis) {
  Lanes l;
  for (int64_t i = 0; i < s.rank(); ++i) {
    if (i < axis)
      l.outer *= s.dim(i);
    else if (i > axis)
      l.inner *= s.dim(i);
  }
  l.n = s.dim(axis);
  return l;
}

/// cos and sin of 2 pi m / n for m in [0, n).
struct Twiddles {
  std::vector<double> c, s;
  explicit Twiddles(int64_t n) : c(static_cast<size_t>(n)), s(static_cast<size_t>(n)) {
    for (int64_t m = 0; m < n; ++m) {
      double a = 2.0 * std::numbers::pi * static_cast<double>(m) / static_cast<double>(n);
      c[static_cast<size_t>(m)] = std::cos(a);
      s[static_cast<size_t>(m)] = std::sin(a);
    }
  }
};

Expected<std::vector<TensorType>> infer_rfft(const InferCtx& c) {
  const TensorType& x = c.operands[0];
  if (x.dtype != DType::F32 && x.dtype != DType::F64)
    return make_diag("operand 0 must be f32 or f64, got {}", x.str());
  int64_t axis = c.attrs.i64("axis");
  auto a = attr_axis(c, x);
  if (!a)
    return a.error();
  int64_t n = x.shape.dim(*a);
  if (n < 1)
    return make_diag("transform length must be at least 1, got {} along axis {} of {}", n, axis,
                     x.str());
  std::vector<int64_t> dims = x.shape.to_vector();
  dims[static_cast<size_t>(*a)] = n / 2 + 1;
  return one(TensorType{x.dtype == DType::F32 ? DType::C64 : DType::C128, Shape(dims)});
}

std::vector<interp::Array> eval_rfft(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  interp::Array y(c.results[0]);
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  Lanes l = lanes(x.shape(), axis);
  int64_t n = l.n, m = n / 2 + 1;
  Twiddles tw(n);
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i)
      for (int64_t k = 0; k < m; ++k) {
        double re = 0, im = 0;
        int64_t jk = 0; // (j * k) mod n, advanced without overflow
        for (int64_t j = 0; j < n; ++j) {
          double v = x[(o * n + j) * l.inner + i];
          re += v * tw.c[static_cast<size_t>(jk)];
          im -= v * tw.s[static_cast<size_t>(jk)];
          jk += k;
          if (jk >= n)
            jk -= n;
        }
        size_t at = static_cast<size_t>((o * m + k) * l.inner + i);
        y.data[at] = re;
        y.imag[at] = im;
      }
  return {y};
}

Expected<std::vector<TensorType>> infer_irfft(const InferCtx& c) {
  const TensorType& x = c.operands[0];
  if (x.dtype != DType::C64 && x.dtype != DType::C128)
    return make_diag("operand 0 must be c64 or c128, got {}", x.str());
  int64_t axis = c.attrs.i64("axis");
  auto a = attr_axis(c, x);
  if (!a)
    return a.error();
  int64_t n = c.attrs.i64("n");
  if (n < 1)
    return make_diag("n must be at least 1, got {}", n);
  int64_t have = x.shape.dim(*a);
  if (n / 2 + 1 != have)
    return make_diag("n = {} needs {} frequencies along axis {}, but {} has {}", n, n / 2 + 1, axis,
                     x.str(), have);
  std::vector<int64_t> dims = x.shape.to_vector();
  dims[static_cast<size_t>(*a)] = n;
  return one(TensorType{x.dtype == DType::C64 ? DType::F32 : DType::F64, Shape(dims)});
}

std::vector<interp::Array> eval_irfft(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  interp::Array y(c.results[0]);
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  Lanes l = lanes(y.shape(), axis);
  int64_t n = l.n, m = n / 2 + 1;
  // Bins 1 .. (n-1)/2 stand for themselves and their conjugate mirror n - k; bin 0 and, for
  // even n, bin n/2 are their own mirror, so only their real parts count.
  int64_t paired_end = (n - 1) / 2;
  Twiddles tw(n);
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i) {
      auto at = [&](int64_t k) { return static_cast<size_t>((o * m + k) * l.inner + i); };
      for (int64_t j = 0; j < n; ++j) {
        double acc = x.data[at(0)];
        int64_t jk = 0;
        for (int64_t k = 1; k <= paired_end; ++k) {
          jk += j;
          if (jk >= n)
            jk -= n;
          acc += 2.0 * (x.data[at(k)] * tw.c[static_cast<size_t>(jk)] -
                        x.imag[at(k)] * tw.s[static_cast<size_t>(jk)]);
        }
        if (n % 2 == 0)
          acc += x.data[at(n / 2)] * (j % 2 == 0 ? 1.0 : -1.0);
        y[(o * n + j) * l.inner + i] = acc / static_cast<double>(n);
      }
    }
  return {y};
}

/// An FFT's usual operation count: 5 n log2 n per complex length-n transform; a real
/// transform is half of that.
Cost cost_fft(const CostCtx& c) {
  Cost k = default_cost(c);
  const TensorType& real = is_complex(c.operands[0].dtype) ? c.results[0] : c.operands[0];
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), real.shape.rank());
  double n = static_cast<double>(real.shape.dim(axis));
  double lanes = n > 0 ? static_cast<double>(real.numel()) / n : 0;
  k.flops = 2.5 * lanes * n * std::max(1.0, std::log2(n));
  return k;
}

Expected<std::vector<TensorType>> infer_dft_cs(const InferCtx& c) {
  const TensorType& x = c.operands[0];
  if (x.dtype != DType::F32 && x.dtype != DType::F64)
    return make_diag("operand 0 must be f32 or f64, got {}", x.str());
  auto a = attr_axis(c, x);
  if (!a)
    return a.error();
  if (x.shape.dim(*a) < 1)
    return make_diag("transform length must be at least 1, got {} along axis {} of {}",
                     x.shape.dim(*a), c.attrs.i64("axis"), x.str());
  return std::vector<TensorType>{x, x};
}

std::vector<interp::Array> eval_dft_cs(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  interp::Array yc(c.results[0]), ys(c.results[1]);
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape().rank());
  Lanes l = lanes(x.shape(), axis);
  int64_t n = l.n;
  Twiddles tw(n);
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i)
      for (int64_t k = 0; k < n; ++k) {
        double re = 0, im = 0;
        int64_t jk = 0; // (j * k) mod n
        for (int64_t j = 0; j < n; ++j) {
          double v = x[(o * n + j) * l.inner + i];
          re += v * tw.c[static_cast<size_t>(jk)];
          im += v * tw.s[static_cast<size_t>(jk)];
          jk += k;
          if (jk >= n)
            jk -= n;
        }
        yc[(o * n + k) * l.inner + i] = re;
        ys[(o * n + k) * l.inner + i] = im;
      }
  return {std::move(yc), std::move(ys)};
}

/// FLOPs of dft_cs as the runtime kernel runs it: one complex FFT per lane, of length n
/// when n is a power of two, else Bluestein's three of length m >= 2n - 1 (pow2) plus the
/// chirp products; weighted by kDftFlopWeight like fft_conv's (double-precision complex
/// butterflies run ~10x slower per FLOP than matmul multiply-adds on the CPU backend), so
/// that the rewrite to dft_cs compares it with the matmul it replaces on one scale.
constexpr double kDftFlopWeight = 10;

double dft_cs_lane_flops(int64_t n) {
  if (n <= 1)
    return 1;
  if ((n & (n - 1)) == 0)
    return 5.0 * static_cast<double>(n) * std::log2(static_cast<double>(n));
  int64_t m = 1;
  while (m < 2 * n - 1)
    m *= 2;
  double dm = static_cast<double>(m);
  return 3 * 5.0 * dm * std::log2(dm) + 6.0 * dm + 12.0 * static_cast<double>(n);
}

Cost cost_dft_cs(const CostCtx& c) {
  Cost k = default_cost(c);
  const TensorType& x = c.operands[0];
  int64_t axis = *normalize_axis(c.attrs.i64("axis"), x.shape.rank());
  int64_t n = x.shape.dim(axis);
  double lanes = n > 0 ? static_cast<double>(x.numel()) / static_cast<double>(n) : 0;
  k.flops = kDftFlopWeight * lanes * dft_cs_lane_flops(n);
  return k;
}

/// C and S are symmetric: dx = C dc + S ds.
std::vector<Value*> vjp_dft_cs(VjpCtx& c) {
  if (!c.needs(0))
    return {nullptr};
  AttrList a{{"axis", c.attrs().i64("axis")}};
  Value* dx = nullptr;
  for (int r = 0; r < 2; ++r) {
    if (!c.dy(r))
      continue;
    Node* t = c.b.create(OpKind::DftCs, {c.dy(r)}, a, c.node.loc, "");
    dx = dx ? c.op(OpKind::Add, {dx, t->result(r)}) : t->result(r);
  }
  return {dx};
}

/// A real tensor of `dt` holding, along `axis` of a rank-`rank` spectrum of a length-n
/// transform, `edge` at the edge bins and `inside` at the others; shaped [n/2+1, 1, ..., 1]
/// so that it broadcasts against the spectrum.
Value* bin_weights(
    VjpCtx& c, DType dt, int64_t n, int64_t rank, int64_t axis, double edge, double inside) {
  std::vector<int64_t> dims(static_cast<size_t>(rank - axis), 1);
  std::vector<int64_t> low(dims.size(), 0), high(dims.size(), 0);
  dims[0] = (n - 1) / 2; // bins 1 .. (n-1)/2
  low[0] = 1;
  high[0] = n % 2 == 0 ? 1 : 0;
  Value* in = c.op(OpKind::Full, {}, {{"shape", dims}, {"value", inside}, {"dtype", dt}});
  return c.op(OpKind::Pad, {in}, {{"low", low}, {"high", high}, {"value", edge}});
}

/// complex(real(z) * re, imag(z) * im), the weights broadcasting against z.
Value* scale_parts(VjpCtx& c, Value* z, Value* re, Value* im) {
  Value* r = c.op(OpKind::Mul, {c.op(OpKind::Real, {z}), re});
  Value* i = c.op(OpKind::Mul, {c.op(OpKind::Imag, {z}), im});
  return c.op(OpKind::Complex, {r, i});
}

std::vector<Value*> vjp_rfft(VjpCtx& c) {
  if (!c.needs(0))
    return {nullptr};
  const TensorType& x = c.x(0)->type;
  int64_t axis = *normalize_axis(c.attrs().i64("axis"), x.shape.rank());
  int64_t n = x.shape.dim(axis);
  double dn = static_cast<double>(n);
  // irfft counts the inside bins twice and divides by n: undo both.
  Value* w = bin_weights(c, x.dtype, n, x.shape.rank(), axis, dn, dn / 2);
  Value* g = scale_parts(c, c.dy(), w, w);
  return {c.op(OpKind::Irfft, {g}, {{"axis", axis}, {"n", n}})};
}

std::vector<Value*> vjp_irfft(VjpCtx& c) {
  if (!c.needs(0))
    return {nullptr};
  const TensorType& y = c.y()->type;
  int64_t axis = *normalize_axis(c.attrs().i64("axis"), y.shape.rank());
  int64_t n = y.shape.dim(axis);
  double dn = static_cast<double>(n);
  Value* r = c.op(OpKind::Rfft, {c.dy()}, {{"axis", axis}});
  Value* wr = bin_weights(c, y.dtype, n, y.shape.rank(), axis, 1 / dn, 2 / dn);
  Value* wi = bin_weights(c, y.dtype, n, y.shape.rank(), axis, 0, 2 / dn);
  return {scale_parts(c, r, wr, wi)};
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_Rfft() {
  OpDef o;
  o.name = "rfft";
  o.summary = "unnormalised DFT of real input along axis, n/2+1 bins (numpy.fft.rfft)";
  o.signature = "(x) -> y";
  o.min_operands = o.max_operands = 1;
  o.attrs = {attr("axis", AttrKind::I64, Attr(-1), "transformed axis (may be negative)")};
  o.infer = infer_rfft;
  o.eval = eval_rfft;
  o.cost = cost_fft;
  o.vjp = vjp_rfft;
  return o;
}
OpDef def_DftCs() {
  OpDef o;
  o.name = "dft_cs";
  o.summary = "cosine and sine parts of the length-n DFT along axis: c = C x, s = S x with "
              "C_kj = cos(2 pi jk/n), S_kj = sin(2 pi jk/n) (FFT on the backends)";
  o.signature = "(x) -> (c, s)";
  o.min_operands = o.max_operands = 1;
  o.attrs = {attr("axis", AttrKind::I64, Attr(-1), "transformed axis (may be negative)")};
  o.infer = infer_dft_cs;
  o.eval = eval_dft_cs;
  o.cost = cost_dft_cs;
  o.vjp = vjp_dft_cs;
  return o;
}
OpDef def_Irfft() {
  OpDef o;
  o.name = "irfft";
  o.summary = "inverse of rfft to n real samples, scaled by 1/n (numpy.fft.irfft)";
  o.signature = "(x) -> y";
  o.min_operands = o.max_operands = 1;
  o.attrs = {attr("axis", AttrKind::I64, Attr(-1), "transformed axis (may be negative)"),
             required("n", AttrKind::I64, "output length; x has n/2+1 bins along axis")};
  o.infer = infer_irfft;
  o.eval = eval_irfft;
  o.cost = cost_fft;
  o.vjp = vjp_irfft;
  return o;
}

} // namespace tevo::ir
