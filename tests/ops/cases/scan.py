"""Golden cases for ir/ops/scan.cpp (cumsum)."""
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
]
