"""Golden cases for ir/ops/scan.cpp (cumsum, linear_scan)."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(14)


def cumsum_ref(x, axis, reverse, exclusive):
    y = np.flip(x, axis) if reverse else x
    s = np.cumsum(y, axis=axis)
    if exclusive:
        # Shift by one along axis, zero first: the prefix before each element.
        z = np.zeros_like(s)
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        src[axis] = slice(0, -1)
        dst[axis] = slice(1, None)
        z[tuple(dst)] = s[tuple(src)]
        s = z
    return (np.flip(s, axis) if reverse else s).astype(x.dtype)


def case(tag, x, axis, reverse=False, exclusive=False):
    attrs = "axis = %d" % axis
    if reverse:
        attrs += ", reverse = true"
    if exclusive:
        attrs += ", exclusive = true"
    want = cumsum_ref(x, axis, reverse, exclusive)
    body = "%%y = cumsum %%a0 {%s} : %s\nreturn %%y" % (attrs, tir_type(want))
    return Case("cumsum_" + tag, body, [x], [want])


def linear_scan_ref(a, b, axis, reverse):
    """h_t = a_t h_{t-1} + b_t along axis, sequentially, a broadcast to b."""
    a64 = np.broadcast_to(a.astype(np.float64), b.shape)
    am, bm = np.moveaxis(a64, axis, 0), np.moveaxis(b.astype(np.float64), axis, 0)
    h = np.zeros_like(bm)
    s = np.zeros(bm.shape[1:])
    order = range(bm.shape[0] - 1, -1, -1) if reverse else range(bm.shape[0])
    for t in order:
        s = am[t] * s + bm[t]
        h[t] = s
    return np.moveaxis(h, 0, axis).astype(b.dtype)


def scan_case(tag, a, b, axis, reverse=False, **kw):
    attrs = "axis = %d" % axis + (", reverse = true" if reverse else "")
    want = linear_scan_ref(a, b, axis, reverse)
    body = "%%h = linear_scan %%a0, %%a1 {%s} : %s\nreturn %%h" % (attrs, tir_type(want))
    return Case("linear_scan_" + tag, body, [a, b], [want], **kw)


X = r.standard_normal((3, 4, 5))
I = r.integers(-20, 20, (4, 6)).astype(np.int64)

CASES = [
    case("ax0", X, 0),
    case("ax1", X, 1),
    case("neg_axis", X, -1),
    case("reverse", X, 1, reverse=True),
    case("exclusive", X, 2, exclusive=True),
    case("reverse_exclusive", X, 0, reverse=True, exclusive=True),
    case("i64", I, 1),
    case("i64_reverse_exclusive", I, 0, reverse=True, exclusive=True),
    case("i32", r.integers(-20, 20, (7,)).astype(np.int32), 0, exclusive=True),
    case("len1", r.standard_normal((2, 1)), 1, exclusive=True),
    # a with b's shape (time-varying decay), a per-channel decay broadcast along the axis,
    # a scalar, a lower-rank a, reverse, f32, a decay of 1 (a running sum), and a long axis.
    scan_case("full", r.uniform(-1, 1, (2, 6, 3)), r.standard_normal((2, 6, 3)), 1),
    scan_case("channel", r.uniform(0, 1, (2, 1, 3)), r.standard_normal((2, 7, 3)), 1),
    scan_case("scalar", np.array(0.9), r.standard_normal((4, 5)), 0),
    scan_case("low_rank_a", r.uniform(0, 1, (3, 1)), r.standard_normal((2, 3, 6)), -1),
    scan_case("reverse", r.uniform(-1, 1, (3, 5)), r.standard_normal((3, 5)), 1, reverse=True),
    scan_case("reverse_channel", r.uniform(0, 1, (4, 1)), r.standard_normal((4, 9)), 1,
              reverse=True),
    scan_case("f32", r.uniform(0, 1, (5, 1)).astype(np.float32),
              r.standard_normal((5, 40)).astype(np.float32), 1, rtol=1e-5, atol=1e-5),
    scan_case("ones", np.ones((1,)), r.standard_normal((8, 2)), 0),
    scan_case("long", r.uniform(0.9, 1.0, (2, 1, 1)), r.standard_normal((2, 300, 1)), 1),
    scan_case("len1", r.uniform(0, 1, (2, 1)), r.standard_normal((2, 1)), 1),
]
