"""Golden cases for ir/ops/source.cpp (constant, full, iota, arange, random_uniform/normal).

The random ops are checked against an independent pure-Python implementation of the
generator documented in ir/random.h (splitmix64 on (seed, element index), Box-Muller).
"""
import math

import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(11)


def src(name, body_line, out, **kw):
    """A case with no inputs: one source node %y whose type is out's type."""
    body = "%%y = %s : %s\nreturn %%y" % (body_line, tir_type(out))
    return Case("src_" + name, body, [], [out], **kw)


def plus_scalar(name, body_line, value):
    """A rank-0 source added to an f64[3] input (gen_golden stores rank-0 arrays as [1])."""
    x = r.standard_normal(3)
    body = "%%s = %s : f64[]\n%%y = add %%a0, %%s : f64[3]\nreturn %%y" % body_line
    return Case("src_" + name, body, [x], [x + value])


def dense_list(a):
    """dense<T[..]: [v, ...]> with values spelled exactly (repr of floats)."""
    vals = ", ".join(repr(float(v)) if a.dtype.kind == "f" else str(int(v)) for v in a.ravel())
    return "dense<%s: [%s]>" % (tir_type(a), vals)


def dense_hex(a):
    """dense<T[..]: 0x...> from the little-endian bytes of a."""
    b = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
    return "dense<%s: 0x%s>" % (tir_type(a), b.hex().upper())


def iota(shape, axis, dtype):
    ax = axis % len(shape)
    idx = np.indices(shape)[ax]
    return idx.astype(dtype)


def arange(start, limit, step, dtype):
    """Element i = start + i*step (in double), length ceil((limit - start)/step)."""
    n = max(0, math.ceil((limit - start) / step))
    assert n == len(np.arange(start, limit, step))   # NumPy agrees on the length
    return np.array([start + i * step for i in range(n)], dtype=np.float64).astype(dtype)


# --- the generator of ir/random.h, re-implemented independently with Python integers ---
M64 = (1 << 64) - 1


def mix(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


assert mix(0) == 0xE220A8397B1DCDAF   # splitmix64's published first output for seed 0


def u01(seed, c):
    return float(mix(mix(seed & M64) ^ c) >> 11) * 2.0 ** -53


def uniform(shape, seed, low, high, dtype):
    n = int(np.prod(shape))
    v = [low + (high - low) * u01(seed, i) for i in range(n)]
    return np.array(v, dtype=np.float64).reshape(shape).astype(dtype)


def normal(shape, seed, mean, std, dtype):
    n = int(np.prod(shape))
    v = []
    for i in range(n):
        u1, u2 = u01(seed, 2 * i), u01(seed, 2 * i + 1)
        v.append(mean + std * math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2))
    return np.array(v, dtype=np.float64).reshape(shape).astype(dtype)


C_F32 = np.array([[1.5, -2.0, 0.0], [3.25, 1e-3, -7.0]], dtype=np.float32)
C_I64 = np.array([-5, 0, 7, 123456789012], dtype=np.int64)
C_BIG64 = r.standard_normal((4, 5))                       # 20 elements: hex literal
C_BIG32 = r.standard_normal((3, 7)).astype(np.float32)    # 21 elements: hex literal

CASES = [
    src("constant_f32", "constant {value = %s}" % dense_list(C_F32), C_F32),
    src("constant_i64", "constant {value = %s}" % dense_list(C_I64), C_I64),
    src("constant_hex_f64", "constant {value = %s}" % dense_hex(C_BIG64), C_BIG64),
    src("constant_hex_f32", "constant {value = %s}" % dense_hex(C_BIG32), C_BIG32),
    plus_scalar("constant_scalar", "constant {value = dense<f64[]: [2.5]>}", 2.5),
    src("full_f32", "full {shape = [2, 3], value = 2.5}", np.full((2, 3), 2.5, np.float32)),
    plus_scalar("full_default", "full {shape = [], dtype = f64}", 0.0),
    src("full_i64", "full {shape = [4], value = -3, dtype = i64}", np.full(4, -3, np.int64)),
    src("full_trunc_i32", "full {shape = [2], value = -2.75, dtype = i32}",
        np.full(2, -2, np.int32)),                          # converted like cast: toward zero
    src("full_bool", "full {shape = [3], value = 1, dtype = bool}", np.ones(3, np.bool_)),
    src("full_c128", "full {shape = [2], value = 1.5, dtype = c128}",
        np.full(2, 1.5 + 0j, np.complex128)),
    src("full_empty", "full {shape = [2, 0], value = 1, dtype = f64}", np.zeros((2, 0))),
    src("iota_axis0", "iota {shape = [2, 3, 4], axis = 0}", iota((2, 3, 4), 0, np.int64)),
    src("iota_axis1", "iota {shape = [2, 3, 4], axis = 1, dtype = i32}",
        iota((2, 3, 4), 1, np.int32)),
    src("iota_axis2", "iota {shape = [2, 3, 4], axis = 2, dtype = f64}",
        iota((2, 3, 4), 2, np.float64)),
    src("iota_neg_axis", "iota {shape = [3, 5], axis = -2, dtype = f32}",
        iota((3, 5), -2, np.float32)),
    src("iota_1d", "iota {shape = [6], axis = 0}", iota((6,), 0, np.int64)),
    src("arange_int", "arange {limit = 5}", arange(0, 5, 1, np.int64)),
    src("arange_neg_step", "arange {start = 5, limit = -2, step = -2}",
        arange(5, -2, -2, np.int64)),
    src("arange_frac", "arange {start = 0.5, limit = 3.0, step = 0.25, dtype = f64}",
        arange(0.5, 3.0, 0.25, np.float64)),
    src("arange_frac_inexact", "arange {start = 1.0, limit = 2.0, step = 0.3, dtype = f64}",
        arange(1.0, 2.0, 0.3, np.float64)),
    src("arange_tenths_f32", "arange {limit = 1.0, step = 0.1, dtype = f32}",
        arange(0.0, 1.0, 0.1, np.float32)),
    src("arange_empty", "arange {start = 3, limit = 3, dtype = f64}", arange(3, 3, 1, np.float64)),
    src("uniform_seed0", "random_uniform {shape = [3, 5], seed = 0, low = -2.0, high = 3.0, "
        "dtype = f64}", uniform((3, 5), 0, -2.0, 3.0, np.float64), rtol=1e-15, atol=0),
    src("uniform_seed42_f32", "random_uniform {shape = [4, 4], seed = 42}",
        uniform((4, 4), 42, 0.0, 1.0, np.float32), rtol=0, atol=0),
    src("normal_seed7", "random_normal {shape = [2, 3, 4], seed = 7, mean = 1.0, std = 2.0, "
        "dtype = f64}", normal((2, 3, 4), 7, 1.0, 2.0, np.float64), rtol=1e-13, atol=1e-14),
    src("normal_neg_seed_f32", "random_normal {shape = [64], seed = -1}",
        normal((64,), -1, 0.0, 1.0, np.float32), rtol=1e-6, atol=1e-6),
]
