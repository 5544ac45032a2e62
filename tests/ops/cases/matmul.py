"""Golden cases for ir/ops/matmul.cpp (batched matrix product, broadcast batch dims)."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(11)


def mm(name, a, b, **kw):
    # Expected in f64 (exact for the small integers below), then cast to the operand dtype:
    # the interpreter accumulates in double and rounds once.
    want = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(a.dtype)
    body = "%%c = matmul %%a0, %%a1 : %s\nreturn %%c" % tir_type(want)
    return Case("matmul_" + name, body, [a, b], [want], **kw)


def f64(*shape):
    return r.standard_normal(shape)


CASES = [
    mm("f64", f64(3, 4), f64(4, 2)),
    mm("odd", f64(7, 5), f64(5, 3)),
    mm("batch", f64(3, 2, 5), f64(3, 5, 4)),
    mm("bcast_batch", f64(2, 1, 3, 4), f64(5, 4, 2)),       # -> [2,5,3,2]
    mm("bcast_rank", f64(4, 3), f64(2, 3, 2)),              # rank-2 a against rank-3 b
    mm("bcast_ones", f64(1, 3, 1, 2), f64(2, 1, 2, 3)),     # 1s broadcast on both sides
    mm("size1", f64(1, 1), f64(1, 1)),
    mm("vecs_outer", f64(3, 1), f64(1, 5)),                 # K = 1
    mm("vecs_inner", f64(1, 6), f64(6, 1)),                 # M = N = 1
    mm("k0", np.zeros((2, 0)), np.zeros((0, 3))),           # empty sum: zeros
    mm("f32", r.standard_normal((4, 6)).astype(np.float32),
       r.standard_normal((6, 3)).astype(np.float32), rtol=1e-6, atol=1e-6),
    mm("i64", r.integers(-9, 10, (2, 3, 4)).astype(np.int64),
       r.integers(-9, 10, (4, 5)).astype(np.int64)),
    mm("i32", r.integers(-9, 10, (5, 3)).astype(np.int32),
       r.integers(-9, 10, (2, 3, 2)).astype(np.int32)),
]
