"""Golden cases for ir/ops/norm.cpp (layer_norm, rms_norm over the last axis)."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(41)


def layer_norm_ref(x, g, b, eps):
    x = x.astype(np.float64)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)   # biased, as PyTorch
    return (x - mu) / np.sqrt(var + eps) * g + b


def rms_norm_ref(x, g, eps):
    x = x.astype(np.float64)
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * g


def layer_norm(name, shape, eps=None, dtype=np.float64, offset=0.0, **kw):
    c = shape[-1]
    x = (r.standard_normal(shape) * 3 + offset).astype(dtype)
    g = r.uniform(0.5, 1.5, c).astype(dtype)
    b = r.standard_normal(c).astype(dtype)
    y = layer_norm_ref(x, g, b, 1e-5 if eps is None else eps).astype(dtype)
    a = "" if eps is None else " {eps = %r}" % eps
    body = "%%y = layer_norm %%a0, %%a1, %%a2%s : %s\nreturn %%y" % (a, tir_type(y))
    return Case("norm_layer_norm_" + name, body, [x, g, b], [y], **kw)


def rms_norm(name, shape, eps=None, dtype=np.float64, **kw):
    c = shape[-1]
    x = (r.standard_normal(shape) * 2).astype(dtype)
    g = r.uniform(0.5, 1.5, c).astype(dtype)
    y = rms_norm_ref(x, g, 1e-6 if eps is None else eps).astype(dtype)
    a = "" if eps is None else " {eps = %r}" % eps
    body = "%%y = rms_norm %%a0, %%a1%s : %s\nreturn %%y" % (a, tir_type(y))
    return Case("norm_rms_norm_" + name, body, [x, g], [y], **kw)


CASES = [
    layer_norm("2d", (3, 7)),
    layer_norm("3d_eps", (2, 3, 5), eps=1e-3),
    layer_norm("1d", (8,)),
    layer_norm("c1", (4, 1)),                                # normalised value 0: y = beta
    # Two-pass variance stays accurate. Not gradient-checked: the checker's step scales with
    # |x| ~ 1e4 (h = 0.01 against a spread of 3), so its own truncation error is ~1e-5.
    layer_norm("large_offset", (3, 6), offset=1e4, gradcheck=False),
    layer_norm("f32", (4, 16), dtype=np.float32, rtol=1e-5, atol=1e-5),
    rms_norm("2d", (3, 7)),
    rms_norm("3d_eps", (2, 3, 5), eps=1e-2),
    rms_norm("c1", (5, 1)),
    rms_norm("f32", (4, 16), dtype=np.float32, rtol=1e-5, atol=1e-5),
]
