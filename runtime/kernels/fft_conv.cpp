// fft_conv.cpp: long convolution by FFT (fft_conv) and its kernel gradient (fft_conv_grad),
// as ir/ops/fft_conv.cpp defines them.
//
// Transforms: complex radix-2 FFTs of length n (a power of two >= N + K - 1, so the
// circular product equals the linear one on the N outputs we keep) in double, on split
// real/imaginary arrays so the butterflies vectorise. The forward transform is decimation
// in frequency (natural order in, bit-reversed order out), the inverse is decimation in
// time (bit-reversed in, natural out): pointwise products do not care about the order, so
// no permutation pass runs. Long transforms recurse depth-first (a stage over the block,
// then each half) so most stages run in cache, and the transforms are compiled for AVX2 +
// FMA as well as the baseline (chosen at load time). In bit-reversed order the mirror bin
// -f of the bin at position p is at position 3 * 2^j - 1 - p for p in [2^j, 2^(j+1)) (0
// and 1 are their own mirrors), which is how two real signals sharing one complex
// transform are told apart.
//
// fft_conv: rows (leading dims x channels, channel-major) are taken two at a time as one
// complex signal x1 + i x2; with the kernels' spectra K1, K2 (scaled by 1/n),
//   W = Z (K1 + K2) / 2 + conj(Z[-f]) (K1 - K2) / 2 = X1 K1 + i X2 K2,
// whose inverse is y1 + i y2 (both real). Two rows of one channel need only W = Z K. Each
// thread keeps the spectra of the two channels it used last; rows are handed out in
// contiguous blocks, so a kernel is transformed about once per channel and reused across
// the batch. The anti-causal form (reverse) reads x and writes y back to front.
//
// fft_conv_grad: per channel, g = IFFT(sum over rows of A conj(B)) truncated to K lags; a
// row's A and B come from one transform of a + i b. Two channels share the final inverse.
#include "runtime/kernels/fft_conv.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <omp.h>

#include "runtime/json.h"
#include "runtime/kernels/ops.h"
#include "runtime/kernels/strided.h"

namespace tevo::rt::kernels {

namespace {

/// Longest signal accepted (keeps n and the workspace within reason).
constexpr int64_t kMaxLen = int64_t{1} << 30;

int64_t pow2_at_least(int64_t v) {
  int64_t n = 1;
  while (n < v)
    n *= 2;
  return n;
}

/// The geometry of a checked step: rows = lead * c rows of length len, kernels of `taps`.
struct Geo {
  int64_t lead = 1, c = 0, len = 0, taps = 0, n = 1;
};

Geo geo_of(const RuntimeOpStep& s, bool grad) {
  const std::vector<int64_t>& d = s.operands[0].dims;
  Geo g;
  for (size_t i = 0; i + 2 < d.size(); ++i)
    g.lead *= d[i];
  g.c = d[d.size() - 2];
  g.len = d.back();
  g.taps = grad ? s.results[0].dims[1] : s.operands[1].dims[1];
  g.n = pow2_at_least(g.len + g.taps - 1);
  return g;
}

/// Twiddles of every stage: w[h + k] = exp(-i pi k / h) for h = 1, 2, 4, ..., n/2, k < h.
struct Twiddles {
  const double* re;
  const double* im;
};

Twiddles make_twiddles(double* re, double* im, int64_t n, int threads) {
  int64_t h = n / 2;
  if (h >= 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t k = 0; k < h; ++k) {
      double ang = std::numbers::pi * static_cast<double>(k) / static_cast<double>(h);
      re[h + k] = std::cos(ang);
      im[h + k] = -std::sin(ang);
    }
    for (int64_t s = h / 2; s >= 1; s /= 2) // exp(-i pi k / s) = exp(-i pi 2k / 2s)
      for (int64_t k = 0; k < s; ++k) {
        re[s + k] = re[2 * s + 2 * k];
        im[s + k] = im[2 * s + 2 * k];
      }
  }
  return {re, im};
}

/// Transforms this long are split depth-first (one stage over the whole block, then each
/// half on its own), so the stages below run on data resident in L1/L2.
constexpr int64_t kInCache = 2048;

/// One decimation-in-frequency stage over the block [0, 2h): butterflies (k, k + h).
inline void dif_stage(double* re, double* im, int64_t h, const Twiddles& w) {
  const double* wr = w.re + h;
  const double* wi = w.im + h;
  double *ar = re, *ai = im, *br = re + h, *bi = im + h;
#pragma omp simd
  for (int64_t k = 0; k < h; ++k) {
    double xr = ar[k], xi = ai[k], yr = br[k], yi = bi[k];
    ar[k] = xr + yr;
    ai[k] = xi + yi;
    double dr = xr - yr, di = xi - yi;
    br[k] = dr * wr[k] - di * wi[k];
    bi[k] = dr * wi[k] + di * wr[k];
  }
}

/// One decimation-in-time stage (conjugate twiddles) over the block [0, 2h).
inline void dit_stage(double* re, double* im, int64_t h, const Twiddles& w) {
  const double* wr = w.re + h;
  const double* wi = w.im + h;
  double *ar = re, *ai = im, *br = re + h, *bi = im + h;
#pragma omp simd
  for (int64_t k = 0; k < h; ++k) {
    double yr = br[k] * wr[k] + bi[k] * wi[k]; // b * conj(w)
    double yi = bi[k] * wr[k] - br[k] * wi[k];
    double xr = ar[k], xi = ai[k];
    ar[k] = xr + yr;
    ai[k] = xi + yi;
    br[k] = xr - yr;
    bi[k] = xi - yi;
  }
}

/// The h = 1 stage of both directions (twiddle 1).
inline void unit_stage(double* re, double* im, int64_t n) {
  for (int64_t s = 0; s + 1 < n; s += 2) {
    double xr = re[s], xi = im[s];
    re[s] = xr + re[s + 1];
    im[s] = xi + im[s + 1];
    re[s + 1] = xr - re[s + 1];
    im[s + 1] = xi - im[s + 1];
  }
}

/// The transforms are compiled twice, for AVX2 + FMA (x86-64-v3) and for the baseline,
/// and the loader picks one by CPU (an ifunc): the runtime itself targets the baseline.
#define TEVO_FFT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))

/// Forward DFT of (re, im)[0, n), decimation in frequency: the bins end up bit-reversed.
TEVO_FFT_CLONES void fft_dif(double* re, double* im, int64_t n, const Twiddles& w) {
  if (n > kInCache) {
    dif_stage(re, im, n / 2, w);
    fft_dif(re, im, n / 2, w);
    fft_dif(re + n / 2, im + n / 2, n / 2, w);
    return;
  }
  for (int64_t h = n / 2; h >= 2; h /= 2)
    for (int64_t s = 0; s < n; s += 2 * h)
      dif_stage(re + s, im + s, h, w);
  unit_stage(re, im, n);
}

/// Inverse DFT (without the 1/n) of bit-reversed bins, decimation in time: natural order out.
TEVO_FFT_CLONES void ifft_dit(double* re, double* im, int64_t n, const Twiddles& w) {
  if (n > kInCache) {
    ifft_dit(re, im, n / 2, w);
    ifft_dit(re + n / 2, im + n / 2, n / 2, w);
    dit_stage(re, im, n / 2, w);
    return;
  }
  unit_stage(re, im, n);
  for (int64_t h = 2; h < n; h *= 2)
    for (int64_t s = 0; s < n; s += 2 * h)
      dit_stage(re + s, im + s, h, w);
}

/// Calls f(p, q) for every pair of mirror positions p <= q of a bit-reversed spectrum
/// (q = p for the self-mirrored bins).
template <class F>
void for_mirror_pairs(int64_t n, F&& f) {
  f(0, 0);
  if (n >= 2)
    f(1, 1);
  for (int64_t lo = 2; lo < n; lo *= 2) {
    int64_t top = 3 * lo - 1;
#pragma omp simd
    for (int64_t p = lo; p < lo + lo / 2; ++p)
      f(p, top - p);
  }
}

/// Real operand view: element j of row r (row-major over the leading dims and channels).
template <class T>
struct RowView {
  const T* base;
  const StridedDesc* d;
  int64_t step; ///< stride of the last axis
  int64_t len;
  const T* row(int64_t r) const {
    return base + offset_of_flat(*d, r * len);
  }
};

/// Per-thread buffers: the work signal and two cached kernel spectra.
struct Scratch {
  double *zr, *zi;
  double *kr[2], *ki[2];
  int64_t ch[2] = {-1, -1};
};

Scratch carve(uint8_t* p, int64_t n) {
  auto* d = reinterpret_cast<double*>(p);
  Scratch s{};
  s.zr = d;
  s.zi = d + n;
  s.kr[0] = d + 2 * n;
  s.ki[0] = d + 3 * n;
  s.kr[1] = d + 4 * n;
  s.ki[1] = d + 5 * n;
  return s;
}

int64_t per_thread_bytes(int64_t n) {
  return align64(6 * n * static_cast<int64_t>(sizeof(double)));
}

int team(int threads, int64_t units, int64_t work) {
  if (units < 2 || work < (int64_t{1} << 15))
    return 1;
  return static_cast<int>(std::min<int64_t>(threads, units));
}

/// Loads row `r` of `v` (or zeros when r < 0) into z[0, n), reversed when `rev`.
template <class T>
void load_row(double* z, const RowView<T>& v, int64_t r, int64_t n, bool rev) {
  int64_t len = v.len;
  if (r < 0) {
    std::fill(z, z + n, 0.0);
    return;
  }
  const T* x = v.row(r);
  if (rev)
    for (int64_t j = 0; j < len; ++j)
      z[j] = static_cast<double>(x[(len - 1 - j) * v.step]);
  else
    for (int64_t j = 0; j < len; ++j)
      z[j] = static_cast<double>(x[j * v.step]);
  std::fill(z + len, z + n, 0.0);
}

/// Makes the spectra (scaled by 1/n) of kernels c1 and c2 (c2 may be -1) resident in the
/// scratch slots, transforming both missing ones with one FFT.
template <class T>
void ensure_kernels(Scratch& s, const RowView<T>& k, int64_t c1, int64_t c2, int64_t n,
                    const Twiddles& w) {
  auto have = [&](int64_t c) { return c < 0 || s.ch[0] == c || s.ch[1] == c; };
  if (have(c1) && have(c2))
    return;
  int64_t missing[2] = {-1, -1};
  int nm = 0;
  for (int64_t c : {c1, c2})
    if (!have(c) && (nm == 0 || missing[0] != c))
      missing[nm++] = c;
  // Slots to fill: those not holding the other channel this pair needs.
  int slot[2] = {0, 1};
  if (nm == 1) {
    int64_t keep = missing[0] == c1 ? c2 : c1;
    slot[0] = s.ch[0] == keep && keep >= 0 ? 1 : 0;
  }
  load_row(s.zr, k, missing[0], n, false);
  load_row(s.zi, k, nm == 2 ? missing[1] : -1, n, false);
  fft_dif(s.zr, s.zi, n, w);
  const double inv = 1.0 / static_cast<double>(n);
  if (nm == 1) {
    int t = slot[0];
    for (int64_t p = 0; p < n; ++p) {
      s.kr[t][p] = s.zr[p] * inv;
      s.ki[t][p] = s.zi[p] * inv;
    }
    s.ch[t] = missing[0];
    return;
  }
  // Z = K1 + i K2 with K1, K2 Hermitian: K1 = (Z + conj Zm) / 2, K2 = (Z - conj Zm) / 2i.
  double *ar = s.kr[0], *ai = s.ki[0], *br = s.kr[1], *bi = s.ki[1];
  const double *zr = s.zr, *zi = s.zi, h = 0.5 * inv;
  for_mirror_pairs(n, [&](int64_t p, int64_t q) {
    double pr = zr[p], pi = zi[p], qr = zr[q], qi = zi[q];
    ar[p] = (pr + qr) * h;
    ai[p] = (pi - qi) * h;
    br[p] = (pi + qi) * h;
    bi[p] = (qr - pr) * h;
    ar[q] = (qr + pr) * h;
    ai[q] = (qi - pi) * h;
    br[q] = (qi + pi) * h;
    bi[q] = (pr - qr) * h;
  });
  s.ch[0] = missing[0];
  s.ch[1] = missing[1];
}

template <class T>
void conv_rows(const OpArgs& a, const Geo& g, const Twiddles& w, uint8_t* scratch_base) {
  const bool rev = a.step.iattrs[0] != 0;
  const StridedDesc &xd = a.step.operands[0], &kd = a.step.operands[1];
  RowView<T> x{static_cast<const T*>(a.in[0]), &xd, xd.strides.back(), g.len};
  RowView<T> k{static_cast<const T*>(a.in[1]), &kd, kd.strides.back(), g.taps};
  T* y = static_cast<T*>(a.out[0]);
  const int64_t rows = g.lead * g.c, pairs = (rows + 1) / 2, n = g.n, len = g.len;
  // Row r in channel-major order is channel r / lead, leading index r % lead; its flat
  // row index in x and y is lead_index * c + channel.
  auto flat = [&](int64_t r) { return (r % g.lead) * g.c + r / g.lead; };
  const int nt = team(a.threads, pairs, rows * n);
#pragma omp parallel num_threads(nt)
  {
    Scratch s = carve(scratch_base + per_thread_bytes(n) * omp_get_thread_num(), n);
#pragma omp for schedule(static)
    for (int64_t p = 0; p < pairs; ++p) {
      int64_t r1 = 2 * p, r2 = 2 * p + 1 < rows ? 2 * p + 1 : -1;
      int64_t c1 = r1 / g.lead, c2 = r2 < 0 ? -1 : r2 / g.lead;
      ensure_kernels(s, k, c1, c2 == c1 ? -1 : c2, n, w);
      int t1 = s.ch[0] == c1 ? 0 : 1;
      load_row(s.zr, x, flat(r1), n, rev);
      load_row(s.zi, x, r2 < 0 ? -1 : flat(r2), n, rev);
      fft_dif(s.zr, s.zi, n, w);
      double *zr = s.zr, *zi = s.zi;
      const double *k1r = s.kr[t1], *k1i = s.ki[t1];
      if (c2 < 0 || c2 == c1) {
#pragma omp simd
        for (int64_t q = 0; q < n; ++q) {
          double xr = zr[q], xi = zi[q];
          zr[q] = xr * k1r[q] - xi * k1i[q];
          zi[q] = xr * k1i[q] + xi * k1r[q];
        }
      } else {
        const double *k2r = s.kr[1 - t1], *k2i = s.ki[1 - t1];
        // W[p] = Z[p] A[p] + conj(Z[m]) B[p], A = (K1 + K2)/2, B = (K1 - K2)/2, m = mirror.
        for_mirror_pairs(n, [&](int64_t i, int64_t m) {
          double ir = zr[i], ii = zi[i], mr = zr[m], mi = zi[m];
          double sir = 0.5 * (k1r[i] + k2r[i]), sii = 0.5 * (k1i[i] + k2i[i]);
          double dir = 0.5 * (k1r[i] - k2r[i]), dii = 0.5 * (k1i[i] - k2i[i]);
          double smr = 0.5 * (k1r[m] + k2r[m]), smi = 0.5 * (k1i[m] + k2i[m]);
          double dmr = 0.5 * (k1r[m] - k2r[m]), dmi = 0.5 * (k1i[m] - k2i[m]);
          zr[i] = ir * sir - ii * sii + mr * dir + mi * dii;
          zi[i] = ir * sii + ii * sir + mr * dii - mi * dir;
          zr[m] = mr * smr - mi * smi + ir * dmr + ii * dmi;
          zi[m] = mr * smi + mi * smr + ir * dmi - ii * dmr;
        });
      }
      ifft_dit(zr, zi, n, w);
      for (int64_t j = 0; j < 2; ++j) {
        int64_t r = j == 0 ? r1 : r2;
        if (r < 0)
          continue;
        const double* z = j == 0 ? zr : zi;
        T* out = y + flat(r) * len;
        if (rev)
          for (int64_t t = 0; t < len; ++t)
            out[t] = static_cast<T>(z[len - 1 - t]);
        else
          for (int64_t t = 0; t < len; ++t)
            out[t] = static_cast<T>(z[t]);
      }
    }
  }
}

template <class T>
void grad_channels(const OpArgs& a, const Geo& g, const Twiddles& w, uint8_t* scratch_base) {
  const StridedDesc &ad = a.step.operands[0], &bd = a.step.operands[1];
  RowView<T> av{static_cast<const T*>(a.in[0]), &ad, ad.strides.back(), g.len};
  RowView<T> bv{static_cast<const T*>(a.in[1]), &bd, bd.strides.back(), g.len};
  T* out = static_cast<T*>(a.out[0]);
  const int64_t n = g.n, pairs = (g.c + 1) / 2;
  const int nt = team(a.threads, pairs, g.lead * g.c * n);
#pragma omp parallel num_threads(nt)
  {
    Scratch s = carve(scratch_base + per_thread_bytes(n) * omp_get_thread_num(), n);
#pragma omp for schedule(static)
    for (int64_t p = 0; p < pairs; ++p) {
      int64_t chans[2] = {2 * p, 2 * p + 1 < g.c ? 2 * p + 1 : -1};
      for (int j = 0; j < 2; ++j) {
        std::fill(s.kr[j], s.kr[j] + n, 0.0);
        std::fill(s.ki[j], s.ki[j] + n, 0.0);
      }
      for (int j = 0; j < 2; ++j) {
        if (chans[j] < 0)
          continue;
        double *sr = s.kr[j], *si = s.ki[j];
        for (int64_t l = 0; l < g.lead; ++l) {
          int64_t r = l * g.c + chans[j];
          load_row(s.zr, av, r, n, false);
          load_row(s.zi, bv, r, n, false);
          fft_dif(s.zr, s.zi, n, w);
          const double *zr = s.zr, *zi = s.zi;
          // A = (Z + conj Zm)/2, B = (Z - conj Zm)/2i; accumulate A conj(B) at both bins.
          for_mirror_pairs(n, [&](int64_t i, int64_t m) {
            double ar = 0.5 * (zr[i] + zr[m]), ai = 0.5 * (zi[i] - zi[m]);
            double br = 0.5 * (zi[i] + zi[m]), bi = 0.5 * (zr[m] - zr[i]);
            double cr = ar * br + ai * bi, ci = ai * br - ar * bi;
            sr[i] += cr;
            si[i] += ci;
            if (m != i) { // the mirror bin holds the conjugate product
              sr[m] += cr;
              si[m] -= ci;
            }
          });
        }
      }
      // IFFT(S1 + i S2) = g1 + i g2 (both real).
      for (int64_t q = 0; q < n; ++q) {
        s.zr[q] = s.kr[0][q] - s.ki[1][q];
        s.zi[q] = s.ki[0][q] + s.kr[1][q];
      }
      ifft_dit(s.zr, s.zi, n, w);
      const double inv = 1.0 / static_cast<double>(n);
      for (int j = 0; j < 2; ++j) {
        if (chans[j] < 0)
          continue;
        const double* z = j == 0 ? s.zr : s.zi;
        for (int64_t t = 0; t < g.taps; ++t)
          out[chans[j] * g.taps + t] = static_cast<T>(z[t] * inv);
      }
    }
  }
}

void check_signal(const RuntimeOpStep& s, const StridedDesc& x, const char* what) {
  if (x.dtype != DType::F32 && x.dtype != DType::F64)
    bad(s, fmt::format("{} must be f32 or f64, got {}", what, type_str(x)));
  if (x.dims.size() < 2 || x.strides.size() != x.dims.size())
    bad(s, fmt::format("{} must be [*, channels, length], got {}", what, type_str(x)));
  if (x.dims.back() > kMaxLen)
    bad(s, fmt::format("{} of length {} is too long (at most 2^30)", what, x.dims.back()));
}

} // namespace

void check_fft_conv(const RuntimeOpStep& s, bool grad) {
  if (s.operands.size() != 2 || s.results.size() != 1 || s.iattrs.size() != (grad ? 0u : 1u) ||
      !s.fattrs.empty())
    bad(s, fmt::format("expected 2 operands, 1 result, {} iattrs, 0 fattrs; got {}, {}, {}, {}",
                       grad ? 0 : 1, s.operands.size(), s.results.size(), s.iattrs.size(),
                       s.fattrs.size()));
  const StridedDesc &x = s.operands[0], &k = s.operands[1], &y = s.results[0];
  check_signal(s, x, grad ? "a" : "x");
  int64_t c = x.dims[x.dims.size() - 2], len = x.dims.back();
  if (grad) {
    if (k.dtype != x.dtype || k.dims != x.dims || k.strides.size() != k.dims.size())
      bad(s, fmt::format("b is {}, expected a's type {}", type_str(k), type_str(x)));
    if (y.dtype != x.dtype || y.dims.size() != 2 || y.dims[0] != c || y.dims[1] < 1 ||
        y.dims[1] > len)
      bad(s, fmt::format("result is {}, expected {}[{},K] with 1 <= K <= {}", type_str(y),
                         ir::dtype_name(x.dtype), c, len));
    return;
  }
  if (s.iattrs[0] != 0 && s.iattrs[0] != 1)
    bad(s, fmt::format("iattr 0 (reverse) must be 0 or 1, got {}", s.iattrs[0]));
  if (k.dtype != x.dtype || k.dims.size() != 2 || k.strides.size() != 2 || k.dims[0] != c ||
      k.dims[1] < 1 || k.dims[1] > len)
    bad(s, fmt::format("k is {}, expected {}[{},K] with 1 <= K <= {}", type_str(k),
                       ir::dtype_name(x.dtype), c, len));
  if (y.dtype != x.dtype || y.dims != x.dims)
    bad(s, fmt::format("result is {}, expected {}", type_str(y), type_str(x)));
}

int64_t fft_conv_workspace(const RuntimeOpStep& s, int threads) {
  Geo g = geo_of(s, s.op == "fft_conv_grad");
  return align64(2 * g.n * static_cast<int64_t>(sizeof(double))) +
         per_thread_bytes(g.n) * std::max(threads, 1);
}

namespace {

template <class T>
void run_typed(const OpArgs& a, bool grad) {
  Geo g = geo_of(a.step, grad);
  if (g.lead * g.c == 0) {
    if (grad) // no rows: the kernel gradient is zero
      std::fill(static_cast<T*>(a.out[0]), static_cast<T*>(a.out[0]) + g.c * g.taps, T(0));
    return;
  }
  auto* tw = reinterpret_cast<double*>(a.workspace);
  Twiddles w = make_twiddles(tw, tw + g.n, g.n, team(a.threads, g.n, g.n));
  uint8_t* scratch = a.workspace + align64(2 * g.n * static_cast<int64_t>(sizeof(double)));
  if (grad)
    grad_channels<T>(a, g, w, scratch);
  else
    conv_rows<T>(a, g, w, scratch);
}

} // namespace

void fft_conv_forward(const OpArgs& a) {
  if (a.step.operands[0].dtype == DType::F32)
    run_typed<float>(a, false);
  else
    run_typed<double>(a, false);
}

void fft_conv_kernel_grad(const OpArgs& a) {
  if (a.step.operands[0].dtype == DType::F32)
    run_typed<float>(a, true);
  else
    run_typed<double>(a, true);
}

} // namespace tevo::rt::kernels
