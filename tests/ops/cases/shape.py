"""Golden cases for ir/ops/shape.cpp (transpose, reshape, broadcast_to, slice, concat, pad,
tril, triu). Every f64/c128 case is also gradient-checked: all these ops are linear."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(12)


def case(name, op, inputs, want, attrs="", **kw):
    """One node `op` over all inputs with attribute text `attrs`."""
    args = ", ".join("%%a%d" % i for i in range(len(inputs)))
    a = " {%s}" % attrs if attrs else ""
    body = "%%y = %s %s%s : %s\nreturn %%y" % (op, args, a, tir_type(want))
    return Case("shape_" + name, body, inputs, [want], **kw)


def ilist(v):
    return "[%s]" % ", ".join(str(int(x)) for x in v)


X4 = r.standard_normal((2, 3, 4, 5))
X3 = r.standard_normal((2, 4, 5))          # rank 3, non-square last two dims
M = r.standard_normal((5, 7))
I = r.integers(-50, 50, (3, 4)).astype(np.int32)
C = (r.standard_normal((2, 3)) + 1j * r.standard_normal((2, 3))).astype(np.complex64)


def slice_case(name, x, starts, ends, steps=None):
    sl = tuple(slice(s, e, 1 if steps is None else st)
               for s, e, st in zip(starts, ends, steps or [1] * len(starts)))
    attrs = "starts = %s, ends = %s" % (ilist(starts), ilist(ends))
    if steps is not None:
        attrs += ", steps = %s" % ilist(steps)
    return case(name, "slice", [x], x[sl], attrs)


def pad_case(name, x, low, high, value=None):
    kw = {} if value is None else {"constant_values": value}
    want = np.pad(x, list(zip(low, high)), mode="constant", **kw).astype(x.dtype)
    attrs = "low = %s, high = %s" % (ilist(low), ilist(high))
    if value is not None:
        attrs += ", value = %r" % float(value)
    return case(name, "pad", [x], want, attrs)


def tri_case(op, x, k):
    fn = np.tril if op == "tril" else np.triu
    tag = "m%d" % -k if k < 0 else "%d" % k
    return case("%s_k%s" % (op, tag), op, [x], fn(x, k), "k = %d" % k if k else "")


CASES = [
    case("transpose_r4", "transpose", [X4], X4.transpose(2, 0, 3, 1), "perm = [2, 0, 3, 1]"),
    case("transpose_2d_i32", "transpose", [I], I.T, "perm = [1, 0]"),
    case("transpose_c64", "transpose", [C], C.T, "perm = [1, 0]"),
    case("transpose_identity", "transpose", [X3], X3, "perm = [0, 1, 2]"),
    case("reshape", "reshape", [X3], X3.reshape(8, 5), "shape = [8, 5]"),
    case("reshape_split", "reshape", [M], M.reshape(5, 1, 7, 1), "shape = [5, 1, 7, 1]"),
    # Rank 0 stays inside the graph: gen_golden's np.ascontiguousarray stores 0-d as [1].
    Case("shape_reshape_scalar", "%z = reshape %a0 {shape = []} : f64[]\n"
         "%y = reshape %z {shape = [1, 1, 1]} : f64[1,1,1]\nreturn %y",
         [np.array([[2.5]])], [np.full((1, 1, 1), 2.5)]),
]
B = r.standard_normal((3, 1))
CASES += [
    case("broadcast_to", "broadcast_to", [B], np.broadcast_to(B, (2, 3, 4)).copy(),
         "shape = [2, 3, 4]"),
    case("broadcast_to_same", "broadcast_to", [M], M.copy(), "shape = [5, 7]"),
    Case("shape_broadcast_to_scalar", "%z = reshape %a0 {shape = []} : f64[]\n"
         "%y = broadcast_to %z {shape = [2, 2]} : f64[2,2]\nreturn %y",
         [np.array([1.25])], [np.full((2, 2), 1.25)]),
    case("broadcast_to_bool", "broadcast_to", [np.array([True, False])],
         np.broadcast_to(np.array([True, False]), (3, 2)).copy(), "shape = [3, 2]"),
    slice_case("slice", M, [1, 2], [4, 6]),
    slice_case("slice_steps", M, [1, 0], [5, 7], [2, 3]),
    slice_case("slice_step_past_end", X3, [0, 1, 0], [2, 4, 5], [1, 2, 4]),
    slice_case("slice_empty", M, [2, 0], [2, 7]),
    slice_case("slice_full_i32", I, [0, 0], [3, 4], [1, 1]),
    # Steps larger than the axis where one element is taken (the VJP must not form n * step).
    slice_case("slice_huge_step", M, [1, 2], [2, 7], [2 ** 62, 2]),
    slice_case("slice_steps_exact", M, [0, 1], [5, 7], [5, 3]),
]
CC = r.standard_normal((3, 1)) + 1j * r.standard_normal((3, 1))
CASES += [  # c128: the gradient check perturbs real and imaginary parts
    case("broadcast_to_c128", "broadcast_to", [CC], np.broadcast_to(CC, (2, 3, 2)).copy(),
         "shape = [2, 3, 2]"),
    slice_case("slice_steps_c128", CC * np.arange(1, 5), [0, 1], [3, 4], [2, 2]),
]
A1, A2, A3 = (r.standard_normal((2, 3, w)) for w in (1, 4, 2))
J1, J2 = r.integers(0, 9, (1, 4)).astype(np.int64), r.integers(0, 9, (3, 4)).astype(np.int64)
CASES += [
    case("concat3_neg_axis", "concat", [A1, A2, A3], np.concatenate([A1, A2, A3], axis=-1),
         "axis = -1"),
    case("concat_axis0_i64", "concat", [J1, J2], np.concatenate([J1, J2], axis=0), "axis = 0"),
    case("concat_one", "concat", [M], M.copy(), "axis = 1"),
    case("concat_mid_neg", "concat", [X3, X3[:, :1]], np.concatenate([X3, X3[:, :1]], axis=-2),
         "axis = -2"),
    pad_case("pad", M, [1, 0], [2, 3]),
    pad_case("pad_value", X3, [0, 2, 1], [1, 0, 0], -1.5),
    pad_case("pad_i32", I, [1, 1], [0, 2], 7),
    pad_case("pad_none", M, [0, 0], [0, 0]),
]
for op in ("tril", "triu"):
    for k in (-1, 0, 2):
        CASES.append(tri_case(op, X3, k))
CASES += [
    case("tril_i32", "tril", [I], np.tril(I, 1), "k = 1"),
    case("triu_far", "triu", [X3], np.triu(X3, -9), "k = -9"),     # keeps everything
    case("tril_far", "tril", [X3], np.tril(X3, -9), "k = -9"),     # keeps nothing
]
