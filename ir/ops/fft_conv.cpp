// fft_conv.cpp: causal depthwise long convolution along the last axis, and its kernel
// gradient (the LONG_CONV pattern of issue 5: FNet/H3/Hyena/simple long conv filters).
//
//   fft_conv(x [*, C, N], k [C, K]) -> y [*, C, N], K <= N, k broadcast over *:
//     causal (reverse = false):  y[..., c, t] = sum_{s < K, s <= t}     k[c, s] x[..., c, t - s]
//     reverse (anti-causal):     y[..., c, t] = sum_{s < K, t + s < N}  k[c, s] x[..., c, t + s]
//   The causal form is conv1d(x, flip(k) as [C, 1, K], padding [K-1, 0], groups = C).
//
//   fft_conv_grad(a [*, C, N], b [*, C, N]) {k = K} -> g [C, K]:
//     g[c, s] = sum over * and t of a[..., c, t] b[..., c, t - s]   (s < K, t - s >= 0)
//   the correlation of a with b truncated to K lags, summed over the leading dims.
//
// Both are named after how the CPU backend runs them (runtime/kernels/fft_conv.cpp: real
// FFTs of a power-of-two length n >= N + K - 1, so the circular product has no wrap); the
// reference kernels here are the direct sums in double. The family is closed under VJP:
//   fft_conv:          dx = fft_conv(dy, k, !reverse)
//                      dk = fft_conv_grad(dy, x)  (causal)  |  fft_conv_grad(x, dy)  (reverse)
//   fft_conv_grad:     da = fft_conv(b, g),  db = fft_conv(a, g, reverse)
#include "ir/ops/common.h"
#include "ir/vjp.h"

#include <algorithm>
#include <cmath>

namespace tevo::ir::ops {

namespace {

/// x [*, C, N] seen as rows (lead * C of them) of length N.
struct Rows {
  int64_t lead = 1, c = 0, n = 0;
};

Rows rows_of(const Shape& s) {
  Rows r;
  int64_t rank = s.rank();
  for (int64_t i = 0; i + 2 < rank; ++i)
    r.lead *= s.dim(i);
  r.c = s.dim(rank - 2);
  r.n = s.dim(rank - 1);
  return r;
}

/// Checks a [*, C, N] signal operand; `what` names it in messages.
std::optional<Diag> check_signal(const TensorType& x, const char* what) {
  if (x.dtype != DType::F32 && x.dtype != DType::F64)
    return make_diag("{} must be f32 or f64, got {}", what, x.str());
  if (x.shape.rank() < 2)
    return make_diag("{} must be [*, channels, length], got {}", what, x.str());
  return std::nullopt;
}

Expected<std::vector<TensorType>> infer_fft_conv(const InferCtx& c) {
  const TensorType& x = c.operands[0];
  const TensorType& k = c.operands[1];
  if (auto d = check_signal(x, "x"))
    return *d;
  if (k.dtype != x.dtype)
    return make_diag("operand dtypes differ: {} vs {} (insert a cast)", x.str(), k.str());
  Rows r = rows_of(x.shape);
  if (k.shape.rank() != 2 || k.shape.dim(0) != r.c)
    return make_diag("k must be [channels = {}, K], got {} for x {}", r.c, k.str(), x.str());
  int64_t kl = k.shape.dim(1);
  if (kl < 1 || kl > r.n)
    return make_diag("kernel length K = {} must be in [1, N = {}]: {} * {}", kl, r.n, x.str(),
                     k.str());
  return one(x);
}

std::vector<interp::Array> eval_fft_conv(const EvalCtx& c) {
  const interp::Array& x = c.in(0);
  const interp::Array& k = c.in(1);
  interp::Array y(c.results[0]);
  Rows r = rows_of(x.shape());
  int64_t kl = k.shape().dim(1);
  bool reverse = c.attrs.boolean("reverse");
  for (int64_t l = 0; l < r.lead; ++l)
    for (int64_t ch = 0; ch < r.c; ++ch) {
      int64_t row = (l * r.c + ch) * r.n;
      for (int64_t t = 0; t < r.n; ++t) {
        double acc = 0;
        int64_t taps = std::min(kl, reverse ? r.n - t : t + 1);
        for (int64_t s = 0; s < taps; ++s)
          acc += k[ch * kl + s] * x[row + (reverse ? t + s : t - s)];
        y[row + t] = acc;
      }
    }
  return {std::move(y)};
}

/// FLOPs of the FFT form, as the runtime kernel runs it (weighted, see below): complex FFTs of length n (a power
/// of two >= N + K - 1; 5 n log2 n each) on pairs of rows, so one per row forward and back
/// together; one real transform (half a complex one) per channel for the kernel; and the
/// pointwise products (8 per bin of a pair, counted per row).
/// The FFT's FLOPs are weighted by kFftFlopWeight: the roofline prices every FLOP at one
/// rate, but the transforms (double precision, complex butterflies, strided stages) run
/// ~10x slower per FLOP than the direct depthwise kernel's multiply-adds — measured on the
/// CPU backend at K = N, D = 64: N = 1024 direct 3.2 ms vs FFT 2.9 ms (weight 10.9 makes the
/// estimates agree), N = 8192 236 ms vs 27 ms (8.6). Unweighted, the rewrite switched to
/// the FFT at K ~ 130 for N = 1024, where the direct kernel is still ~6x faster.
constexpr double kFftFlopWeight = 10;

double fft_conv_flops(int64_t rows, int64_t channels, int64_t len, int64_t taps) {
  int64_t n = 1;
  while (n < len + taps - 1)
    n *= 2;
  double dn = static_cast<double>(n), lg = std::max(1.0, std::log2(dn));
  double fft = 5.0 * dn * lg;
  return kFftFlopWeight *
         (static_cast<double>(rows) * (fft + 4.0 * dn) + static_cast<double>(channels) * fft / 2);
}

Cost cost_fft_conv(const CostCtx& c) {
  Cost k = default_cost(c);
  Rows r = rows_of(c.operands[0].shape);
  k.flops = r.n == 0 ? 0 : fft_conv_flops(r.lead * r.c, r.c, r.n, c.operands[1].shape.dim(1));
  return k;
}

std::vector<Value*> vjp_fft_conv(VjpCtx& c) {
  bool reverse = c.attrs().boolean("reverse");
  Value* x = c.x(0);
  Value* k = c.x(1);
  Value* dy = c.dy();
  int64_t kl = k->type.shape.dim(1);
  Value* dx = nullptr;
  Value* dk = nullptr;
  if (c.needs(0))
    dx = c.op(OpKind::FftConv, {dy, k}, {{"reverse", !reverse}});
  if (c.needs(1))
    dk = reverse ? c.op(OpKind::FftConvGrad, {x, dy}, {{"k", kl}})
                 : c.op(OpKind::FftConvGrad, {dy, x}, {{"k", kl}});
  return {dx, dk};
}

Expected<std::vector<TensorType>> infer_fft_conv_grad(const InferCtx& c) {
  const TensorType& a = c.operands[0];
  const TensorType& b = c.operands[1];
  if (auto d = check_signal(a, "a"))
    return *d;
  if (!(a == b))
    return make_diag("operands must have the same type: {} vs {}", a.str(), b.str());
  Rows r = rows_of(a.shape);
  int64_t kl = c.attrs.i64("k");
  if (kl < 1 || kl > r.n)
    return make_diag("k = {} must be in [1, N = {}] for {}", kl, r.n, a.str());
  return one(TensorType{a.dtype, Shape{r.c, kl}});
}

std::vector<interp::Array> eval_fft_conv_grad(const EvalCtx& c) {
  const interp::Array& a = c.in(0);
  const interp::Array& b = c.in(1);
  interp::Array g(c.results[0]);
  Rows r = rows_of(a.shape());
  int64_t kl = c.attrs.i64("k");
  for (int64_t ch = 0; ch < r.c; ++ch)
    for (int64_t s = 0; s < kl; ++s) {
      double acc = 0;
      for (int64_t l = 0; l < r.lead; ++l) {
        int64_t row = (l * r.c + ch) * r.n;
        for (int64_t t = s; t < r.n; ++t)
          acc += a[row + t] * b[row + t - s];
      }
      g[ch * kl + s] = acc;
    }
  return {std::move(g)};
}

/// The runtime kernel transforms both operands of each row (one complex FFT of a + i b),
/// accumulates the products per channel and transforms back once per channel.
Cost cost_fft_conv_grad(const CostCtx& c) {
  Cost k = default_cost(c);
  Rows r = rows_of(c.operands[0].shape);
  int64_t kl = c.results[0].shape.dim(1);
  k.flops = r.n == 0 ? 0 : fft_conv_flops(r.lead * r.c, r.c, r.n, kl);
  return k;
}

std::vector<Value*> vjp_fft_conv_grad(VjpCtx& c) {
  Value* a = c.x(0);
  Value* b = c.x(1);
  Value* g = c.dy();
  Value* da = c.needs(0) ? c.op(OpKind::FftConv, {b, g}, {{"reverse", false}}) : nullptr;
  Value* db = c.needs(1) ? c.op(OpKind::FftConv, {a, g}, {{"reverse", true}}) : nullptr;
  return {da, db};
}

} // namespace
} // namespace tevo::ir::ops

namespace tevo::ir {
using namespace ops; // NOLINT: definitions below read like a table

OpDef def_FftConv() {
  OpDef o;
  o.name = "fft_conv";
  o.summary = "causal depthwise long convolution along the last axis: x[*,C,N] * k[C,K], K <= N";
  o.signature = "(x, k) -> y";
  o.min_operands = o.max_operands = 2;
  o.attrs = {attr("reverse", AttrKind::Bool, Attr(false),
                  "anti-causal: y[t] = sum_s k[s] x[t+s] (the input gradient of the causal form)")};
  o.infer = infer_fft_conv;
  o.eval = eval_fft_conv;
  o.cost = cost_fft_conv;
  o.vjp = vjp_fft_conv;
  return o;
}

OpDef def_FftConvGrad() {
  OpDef o;
  o.name = "fft_conv_grad";
  o.summary = "kernel gradient of fft_conv: g[c,s] = sum over *, t of a[*,c,t] b[*,c,t-s], s < k";
  o.signature = "(a, b) -> g";
  o.min_operands = o.max_operands = 2;
  o.attrs = {required("k", AttrKind::I64, "number of lags (the kernel length K), 1 <= k <= N")};
  o.infer = infer_fft_conv_grad;
  o.eval = eval_fft_conv_grad;
  o.cost = cost_fft_conv_grad;
  o.vjp = vjp_fft_conv_grad;
  return o;
}

} // namespace tevo::ir
