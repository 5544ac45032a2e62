"""Golden cases for ir/ops/fft.cpp (rfft, irfft, dft_cs), against numpy.fft."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(21)


def cplx(shape, dtype=np.complex128):
    return (r.standard_normal(shape) + 1j * r.standard_normal(shape)).astype(dtype)


def rfft(name, x, axis=None, **kw):
    attrs = "" if axis is None else " {axis = %d}" % axis
    y = np.fft.rfft(x.astype(np.float64), axis=-1 if axis is None else axis)
    y = y.astype(np.complex64 if x.dtype == np.float32 else np.complex128)
    body = "%%y = rfft %%a0%s : %s\nreturn %%y" % (attrs, tir_type(y))
    return Case("fft_rfft_" + name, body, [x], [y], **kw)


def irfft(name, x, n, axis=None, **kw):
    attrs = "n = %d" % n + ("" if axis is None else ", axis = %d" % axis)
    y = np.fft.irfft(x.astype(np.complex128), n=n, axis=-1 if axis is None else axis)
    y = y.astype(np.float32 if x.dtype == np.complex64 else np.float64)
    body = "%%y = irfft %%a0 {%s} : %s\nreturn %%y" % (attrs, tir_type(y))
    return Case("fft_irfft_" + name, body, [x], [y], **kw)


def dft_cs(name, x, axis=-1, **kw):
    # c = Re fft(x), s = -Im fft(x): the products with the cos / sin DFT matrices.
    f = np.fft.fft(x.astype(np.float64), axis=axis)
    c, s = f.real.astype(x.dtype), (-f.imag).astype(x.dtype)
    t = tir_type(c)
    body = "%%c, %%s = dft_cs %%a0 {axis = %d} : %s, %s\nreturn %%c, %%s" % (axis, t, t)
    return Case("fft_dft_cs_" + name, body, [x], [c, s], **kw)


def round_trip(name, x, axis):
    n = x.shape[axis]
    f = np.fft.rfft(x, axis=axis)
    body = ("%%f = rfft %%a0 {axis = %d} : %s\n%%y = irfft %%f {axis = %d, n = %d} : %s\n"
            "return %%y" % (axis, tir_type(f), axis, n, tir_type(x)))
    return Case("fft_round_trip_" + name, body, [x], [x.copy()], rtol=1e-10, atol=1e-12)


# Spectra whose DC (and, for even n, Nyquist) bins have imaginary parts: irfft ignores them.
S_EVEN = cplx((3, 5))      # n = 8 (or 9)
S_ODD = cplx((4,))         # n = 6 or 7
S_AX0 = cplx((4, 3))       # n = 6 or 7 along axis 0

CASES = [
    rfft("even", r.standard_normal((3, 8))),
    rfft("odd", r.standard_normal((7,))),
    rfft("axis0_even", r.standard_normal((6, 3)), axis=0),
    rfft("axis0_odd", r.standard_normal((5, 2)), axis=0),
    rfft("middle_axis", r.standard_normal((2, 5, 3)), axis=1),
    rfft("n1", r.standard_normal((4, 1))),
    rfft("n2", r.standard_normal((2,))),
    rfft("long", r.standard_normal((97,)), rtol=1e-9, atol=1e-11),
    rfft("f32", r.standard_normal((2, 16)).astype(np.float32), rtol=1e-5, atol=1e-5),
    irfft("even", S_EVEN, 8),
    irfft("odd_from_5", S_EVEN, 9),
    irfft("n6", S_ODD, 6),
    irfft("n7", S_ODD, 7),
    irfft("axis0_even", S_AX0, 6, axis=0),
    irfft("axis0_odd", S_AX0, 7, axis=0),
    irfft("n1", cplx((1,)), 1),
    irfft("n2", cplx((2, 2)), 2),
    irfft("c64", cplx((2, 9), np.complex64), 16, rtol=1e-5, atol=1e-5),
    dft_cs("even", r.standard_normal((3, 8))),
    dft_cs("odd_axis0", r.standard_normal((7, 2)), axis=0),
    dft_cs("middle_axis", r.standard_normal((2, 5, 3)), axis=1),
    dft_cs("n1", r.standard_normal((4, 1))),
    dft_cs("long", r.standard_normal((97,)), rtol=1e-9, atol=1e-11),
    dft_cs("f32", r.standard_normal((2, 12)).astype(np.float32), rtol=1e-5, atol=1e-5),
    round_trip("even_last", r.standard_normal((3, 10)), -1),
    round_trip("odd_axis0", r.standard_normal((9, 2)), 0),
]
