// fft.cpp: rfft / irfft / dft_cs runtime kernels (NumPy conventions, as ir/ops/fft.cpp
// defines them; dft_cs writes Re and -Im of the full length-n DFT as two real results).
//
// A length-n lane is transformed as a complex FFT in double: an iterative radix-2 FFT when
// n is a power of two, else Bluestein's algorithm, which writes the DFT as a convolution
// with the chirp exp(-i pi k^2 / n) and evaluates it with power-of-two FFTs of length
// m >= 2n - 1. Angles are reduced exactly in integers (k^2 mod 2n, j mod m) before any
// cos/sin, so long transforms keep their accuracy. irfft rebuilds the Hermitian spectrum
// (ignoring the imaginary parts of bin 0 and, for even n, bin n/2, like the reference)
// and uses y = Re(FFT(conj Z)) / n.
//
// Workspace: shared tables (twiddles of the length-m FFT; for Bluestein the chirp and the
// FFT of the conjugate chirp), written once per call, then one length-m buffer per thread.
#include <cmath>
#include <complex>
#include <numbers>

#include <omp.h>

#include "runtime/kernels/ops.h"
#include "runtime/kernels/strided.h"

namespace tevo::rt::kernels {

namespace {

using C = std::complex<double>;

bool pow2(int64_t n) {
  return (n & (n - 1)) == 0;
}

/// FFT length used for a transform of length n.
int64_t fft_len(int64_t n) {
  if (pow2(n))
    return n;
  int64_t m = 1;
  while (m < 2 * n - 1)
    m *= 2;
  return m;
}

/// The tables of one call, laid out in the workspace.
struct Tables {
  int64_t n = 0, m = 0;
  C* tw = nullptr;    ///< exp(-2 pi i k / m), k < m / 2
  C* chirp = nullptr; ///< Bluestein: exp(-i pi k^2 / n), k < n
  C* bhat = nullptr;  ///< Bluestein: FFT of the conjugate chirp, zero-padded and wrapped
  uint8_t* per_thread = nullptr;
  int64_t per_thread_bytes = 0;
};

/// In-place forward FFT of a[0, m), m a power of two, with twiddles tw.
void fft_pow2(C* a, int64_t m, const C* tw) {
  for (int64_t i = 1, j = 0; i < m; ++i) { // bit-reversal permutation
    int64_t bit = m >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j |= bit;
    if (i < j)
      std::swap(a[i], a[j]);
  }
  for (int64_t len = 2; len <= m; len <<= 1) {
    int64_t half = len / 2, step = m / len;
    for (int64_t s = 0; s < m; s += len)
      for (int64_t k = 0; k < half; ++k) {
        C u = a[s + k], v = a[s + k + half] * tw[k * step];
        a[s + k] = u + v;
        a[s + k + half] = u - v;
      }
  }
}

Tables make_tables(uint8_t* ws, int64_t n) {
  Tables t;
  t.n = n;
  t.m = fft_len(n);
  uint8_t* p = ws;
  auto take = [&](int64_t count) {
    C* r = reinterpret_cast<C*>(p);
    p += align64(count * static_cast<int64_t>(sizeof(C)));
    return r;
  };
  t.tw = take(std::max<int64_t>(t.m / 2, 1));
  for (int64_t k = 0; k < t.m / 2; ++k) {
    double ang = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(t.m);
    t.tw[k] = C(std::cos(ang), std::sin(ang));
  }
  if (t.m != n) {
    t.chirp = take(n);
    t.bhat = take(t.m);
    int64_t q = 0; // k^2 mod 2n, advanced by (k+1)^2 = k^2 + 2k + 1
    for (int64_t k = 0; k < n; ++k) {
      double ang = -std::numbers::pi * static_cast<double>(q) / static_cast<double>(n);
      t.chirp[k] = C(std::cos(ang), std::sin(ang));
      q += 2 * k + 1;
      while (q >= 2 * n)
        q -= 2 * n;
    }
    for (int64_t j = 0; j < t.m; ++j)
      t.bhat[j] = 0;
    for (int64_t k = 0; k < n; ++k) {
      t.bhat[k] = std::conj(t.chirp[k]);
      if (k > 0)
        t.bhat[t.m - k] = std::conj(t.chirp[k]);
    }
    fft_pow2(t.bhat, t.m, t.tw);
  }
  t.per_thread = p;
  t.per_thread_bytes = align64(t.m * static_cast<int64_t>(sizeof(C)));
  return t;
}

/// Forward DFT of a[0, n) in place; `buf` holds m elements (a may be buf itself).
void dft(const Tables& t, C* buf) {
  if (t.m == t.n) {
    fft_pow2(buf, t.m, t.tw);
    return;
  }
  for (int64_t k = 0; k < t.n; ++k)
    buf[k] *= t.chirp[k];
  for (int64_t k = t.n; k < t.m; ++k)
    buf[k] = 0;
  fft_pow2(buf, t.m, t.tw);
  for (int64_t k = 0; k < t.m; ++k) // inverse FFT via conjugation: conj(fft(conj(x))) / m
    buf[k] = std::conj(buf[k] * t.bhat[k]);
  fft_pow2(buf, t.m, t.tw);
  double inv = 1.0 / static_cast<double>(t.m);
  for (int64_t k = 0; k < t.n; ++k)
    buf[k] = std::conj(buf[k]) * inv * t.chirp[k];
}

int team(const OpArgs& a, int64_t lanes_n, int64_t n) {
  if (lanes_n < 2 || lanes_n * n < (1 << 14))
    return 1;
  return static_cast<int>(std::min<int64_t>(a.threads, lanes_n));
}

} // namespace

int64_t fft_workspace(int64_t n, int threads) {
  int64_t m = fft_len(n), c = static_cast<int64_t>(sizeof(C));
  int64_t shared = align64(std::max<int64_t>(m / 2, 1) * c);
  if (m != n)
    shared += align64(n * c) + align64(m * c);
  return shared + align64(m * c) * threads;
}

namespace {

/// The forward DFT of every lane of real operand 0 along `axis`: loads the lane into a
/// per-thread buffer, transforms it, and hands (outer index, inner index, spectrum) to
/// `write`. Results are dense: [outer, len, inner] around the axis.
template <class F> void real_lanes(const OpArgs& a, int64_t axis, F&& write) {
  const StridedDesc& x = a.step.operands[0];
  const Lanes l = lanes(x.dims, axis);
  const int64_t lanes_n = l.outer * l.inner, n = l.n;
  if (lanes_n == 0)
    return;
  const Tables t = make_tables(a.workspace, n);
  const int64_t xs = x.strides[static_cast<size_t>(axis)];
  const DType xt = x.dtype;
  const void* in = a.in[0];
#pragma omp parallel num_threads(team(a, lanes_n, n))
  {
    C* buf = reinterpret_cast<C*>(t.per_thread + t.per_thread_bytes * omp_get_thread_num());
#pragma omp for schedule(static)
    for (int64_t lane = 0; lane < lanes_n; ++lane) {
      int64_t o = lane / l.inner, i = lane % l.inner;
      int64_t xb = offset_of_flat(x, o * n * l.inner + i);
      for (int64_t j = 0; j < n; ++j)
        buf[j] = C(load(xt, in, xb + j * xs), 0);
      dft(t, buf);
      write(o, i, l.inner, buf);
    }
  }
}

} // namespace

void rfft(const OpArgs& a, int64_t axis) {
  const int64_t bins = a.step.operands[0].dims[static_cast<size_t>(axis)] / 2 + 1;
  const DType yt = a.step.results[0].dtype;
  void* out = a.out[0];
  real_lanes(a, axis, [&](int64_t o, int64_t i, int64_t inner, const C* z) {
    for (int64_t k = 0; k < bins; ++k) {
      int64_t yo = (o * bins + k) * inner + i;
      store(yt, out, yo, z[k].real(), 0);
      store(yt, out, yo, z[k].imag(), 1);
    }
  });
}

void dft_cs(const OpArgs& a, int64_t axis) {
  const int64_t n = a.step.operands[0].dims[static_cast<size_t>(axis)];
  const DType yt = a.step.results[0].dtype;
  void *oc = a.out[0], *os = a.out[1];
  real_lanes(a, axis, [&](int64_t o, int64_t i, int64_t inner, const C* z) {
    for (int64_t k = 0; k < n; ++k) { // X_k = c_k - i s_k
      int64_t yo = (o * n + k) * inner + i;
      store(yt, oc, yo, z[k].real());
      store(yt, os, yo, -z[k].imag());
    }
  });
}

void irfft(const OpArgs& a, int64_t axis) {
  const StridedDesc& x = a.step.operands[0];
  const int64_t n = a.step.iattrs[1], bins = n / 2 + 1;
  const Lanes l = lanes(a.step.results[0].dims, axis);
  const int64_t lanes_n = l.outer * l.inner;
  if (lanes_n == 0)
    return;
  const Tables t = make_tables(a.workspace, n);
  const int64_t xs = x.strides[static_cast<size_t>(axis)];
  const DType xt = x.dtype, yt = a.step.results[0].dtype;
  const void* in = a.in[0];
  void* out = a.out[0];
  const double inv = 1.0 / static_cast<double>(n);
#pragma omp parallel num_threads(team(a, lanes_n, n))
  {
    C* buf = reinterpret_cast<C*>(t.per_thread + t.per_thread_bytes * omp_get_thread_num());
#pragma omp for schedule(static)
    for (int64_t lane = 0; lane < lanes_n; ++lane) {
      int64_t o = lane / l.inner, i = lane % l.inner;
      int64_t xb = offset_of_flat(x, o * bins * l.inner + i);
      auto bin = [&](int64_t k) {
        return C(load(xt, in, xb + k * xs, 0), load(xt, in, xb + k * xs, 1));
      };
      // conj(Z): Z_k = x_k and Z_{n-k} = conj(x_k) for the paired bins.
      buf[0] = C(bin(0).real(), 0);
      for (int64_t k = 1; k <= (n - 1) / 2; ++k) {
        C z = bin(k);
        buf[k] = std::conj(z);
        buf[n - k] = z;
      }
      if (n % 2 == 0)
        buf[n / 2] = C(bin(n / 2).real(), 0);
      dft(t, buf);
      for (int64_t j = 0; j < n; ++j)
        store(yt, out, (o * n + j) * l.inner + i, buf[j].real() * inv);
    }
  }
}

} // namespace tevo::rt::kernels
