"""Golden cases for ir/ops/fft_conv.cpp (fft_conv, fft_conv_grad), by the direct formulas.

fft_conv:       y[..., c, t] = sum_{s < K, s <= t} k[c, s] x[..., c, t - s]   (reverse: x[t + s])
fft_conv_grad:  g[c, s] = sum over leading dims and t of a[..., c, t] b[..., c, t - s], s < k
"""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(53)


def direct_conv(x, k, reverse):
    x64, k64 = x.astype(np.float64), k.astype(np.float64)
    n, kl = x.shape[-1], k.shape[-1]
    rows = x64.reshape(-1, x.shape[-2], n)
    y = np.zeros_like(rows)
    for c in range(x.shape[-2]):
        for s in range(kl):
            if reverse:  # y[t] += k[s] x[t + s]
                y[:, c, :n - s] += k64[c, s] * rows[:, c, s:]
            else:  # y[t] += k[s] x[t - s]
                y[:, c, s:] += k64[c, s] * rows[:, c, :n - s]
    return y.reshape(x.shape).astype(x.dtype)


def direct_grad(a, b, kl):
    a64 = a.astype(np.float64).reshape(-1, a.shape[-2], a.shape[-1])
    b64 = b.astype(np.float64).reshape(a64.shape)
    n = a.shape[-1]
    g = np.zeros((a.shape[-2], kl))
    for s in range(kl):  # g[c, s] = sum a[t] b[t - s]
        g[:, s] = (a64[:, :, s:] * b64[:, :, :n - s]).sum(axis=(0, 2))
    return g.astype(a.dtype)


def conv(name, xs, kl, dtype=np.float64, reverse=False, **kw):
    x = r.standard_normal(xs).astype(dtype)
    k = r.standard_normal((xs[-2], kl)).astype(dtype)
    y = direct_conv(x, k, reverse)
    attrs = " {reverse = true}" if reverse else ""
    body = "%%y = fft_conv %%a0, %%a1%s : %s\nreturn %%y" % (attrs, tir_type(y))
    return Case("fft_conv_" + name, body, [x, k], [y], **kw)


def grad(name, xs, kl, dtype=np.float64, **kw):
    a = r.standard_normal(xs).astype(dtype)
    b = r.standard_normal(xs).astype(dtype)
    g = direct_grad(a, b, kl)
    body = "%%g = fft_conv_grad %%a0, %%a1 {k = %d} : %s\nreturn %%g" % (kl, tir_type(g))
    return Case("fft_conv_grad_" + name, body, [a, b], [g], **kw)


def conv_then_grad():
    """A causal convolution whose kernel gradient is formed explicitly: y, then g(y, x)."""
    x = r.standard_normal((2, 3, 7))
    k = r.standard_normal((3, 4))
    y = direct_conv(x, k, False)
    g = direct_grad(y, x, 4)
    body = ("%%y = fft_conv %%a0, %%a1 : %s\n%%g = fft_conv_grad %%y, %%a0 {k = 4} : %s\n"
            "return %%g" % (tir_type(y), tir_type(g)))
    return Case("fft_conv_chain", body, [x, k], [g], rtol=1e-9, atol=1e-10)


F32 = dict(rtol=1e-5, atol=1e-5)

CASES = [
    conv("basic", (2, 3, 8), 5),
    conv("k1", (2, 3, 6), 1),
    conv("k_eq_n", (1, 2, 9), 9),
    conv("odd", (3, 7), 5),
    conv("n1", (2, 1), 1),
    conv("batch_dims", (2, 2, 3, 6), 4),
    conv("reverse", (2, 3, 10), 6, reverse=True),
    conv("reverse_k_eq_n", (3, 5), 5, reverse=True),
    conv("long", (1, 2, 300), 257, rtol=1e-9, atol=1e-10),
    conv("f32", (2, 4, 33), 17, np.float32, **F32),
    conv("f32_reverse", (3, 2, 20), 20, np.float32, reverse=True, **F32),
    grad("basic", (2, 3, 9), 4),
    grad("rank2", (3, 7), 7),
    grad("k1", (2, 2, 5), 1),
    grad("batch_dims", (2, 3, 2, 6), 3),
    grad("f32", (4, 3, 31), 16, np.float32, **F32),
    conv_then_grad(),
]
