"""Golden cases for ir/ops/reduce.cpp (reductions, argmax, softmax, log_softmax)."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(3)
X = r.standard_normal((3, 4, 5))
X2 = r.standard_normal((4, 6))
XF = r.standard_normal((4, 6)).astype(np.float32)
XI = r.integers(-50, 50, (3, 4)).astype(np.int64)
POS = r.uniform(0.5, 1.5, (3, 4))
NANS = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0], [np.nan, -np.inf, np.inf]])
INFS = np.array([[-np.inf, -np.inf, -np.inf, -np.inf],   # fully masked row
                 [1e4, -1e4, 1e4 - 1, 3.0],                # huge logits
                 [-1e4, -1e4 + 0.5, -1e4 - 2, -np.inf],     # huge negative, one masked
                 [0.5, -np.inf, np.inf, 1.0]])               # +inf
ZEROS = np.array([[0.7, -1.3, 0.9, 1.1],      # no zero
                  [0.0, 1.4, -0.8, 1.2],      # one zero
                  [0.0, 0.6, 0.0, -1.5]])     # two zeros
TIED = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 0.5, -2.0, 0.25]])
F32_RTOL = dict(rtol=1e-6, atol=1e-7)


def attrs_str(axes=None, keepdims=False, axis=None):
    parts = []
    if axes is not None:
        parts.append("axes = [%s]" % ", ".join(map(str, axes)))
    if axis is not None:
        parts.append("axis = %d" % axis)
    if keepdims:
        parts.append("keepdims = true")
    return (" {%s}" % ", ".join(parts)) if parts else ""


def node(name, op, x, out, tag, **kw):
    body = "%%y = %s %%a0%s : %s\nreturn %%y" % (op, kw.pop("attrs"), tir_type(out))
    return Case("red_" + name + "_" + tag, body, [x], [out], **kw)


def np_axes(axes, rank):
    return tuple(range(rank)) if axes == [] else tuple(axes)


def red(op, x, fn, axes, keepdims, tag, **kw):
    """Reduction over axes (None: attribute omitted, the default [] = all)."""
    want = fn(x, axis=np_axes(axes or [], x.ndim), keepdims=keepdims)
    want = np.asarray(want, dtype=x.dtype)
    return node(op, op, x, want, tag, attrs=attrs_str(axes, keepdims), **kw)


def logsumexp(x, axis, keepdims):
    """Independent reference: logaddexp folded along each reduced axis in turn."""
    axis = tuple(a % x.ndim for a in axis)
    y = x
    for a in sorted(axis, reverse=True):
        y = np.logaddexp.reduce(y, axis=a, keepdims=True) if y.shape[a] else \
            np.full(y.shape[:a] + (1,) + y.shape[a + 1:], -np.inf)
    return y if keepdims else y.reshape([d for i, d in enumerate(x.shape) if i not in axis])


@np.errstate(invalid="ignore", divide="ignore")   # masked rows are fixed up by np.where
def softmax(x, axis):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    masked = m == -np.inf
    e = np.exp(x - np.where(masked, 0.0, m))
    return np.where(masked, 0.0, e / np.sum(e, axis=axis, keepdims=True))


@np.errstate(invalid="ignore", divide="ignore")
def log_softmax(x, axis):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    masked = m == -np.inf
    sh = x - np.where(masked, 0.0, m)
    return np.where(masked, -np.inf, sh - np.log(np.sum(np.exp(sh), axis=axis, keepdims=True)))


def f32(fn, x, *a):
    """f32 reference: computed in f64 from the f32 input, rounded once."""
    return fn(x.astype(np.float64), *a).astype(np.float32)


CASES = [
    # sum: axis variants on a rank-3 operand
    red("sum", X, np.sum, [1], False, "axis1"),
    red("sum", X, np.sum, [1], True, "axis1_keepdims"),
    red("sum", X, np.sum, [-1], False, "neg_axis"),
    red("sum", X, np.sum, [0, 2], False, "two_axes"),
    red("sum", X, np.sum, [-3, -1], True, "two_neg_axes_keepdims"),
    red("sum", X, np.sum, [2, 0], False, "unsorted_axes"),
    red("sum", X, np.sum, [], False, "all"),
    red("sum", X, np.sum, None, False, "default_all"),
    red("sum", X, np.sum, [], True, "all_keepdims"),
    red("sum", X[:, :1, :], np.sum, [1], False, "size1_axis"),
    red("sum", np.array(2.5), np.sum, [], False, "rank0"),
    red("sum", np.zeros((0, 3)), np.sum, [0], False, "empty_axis"),
    red("sum", np.zeros((3, 0)), np.sum, [0], False, "empty_result"),
    red("sum", XI, np.sum, [1], False, "i64"),
    red("sum", XI.astype(np.int32), np.sum, [], False, "i32_all"),
    Case("red_sum_f32", "%y = sum %a0 {axes = [1]} : f32[4]\nreturn %y", [XF],
         [f32(lambda v: np.sum(v, axis=1), XF)], **F32_RTOL),
    # mean
    red("mean", X, np.mean, [0], False, "axis0"),
    red("mean", X, np.mean, [-2, -1], True, "neg_axes_keepdims"),
    red("mean", X, np.mean, [], False, "all"),
    red("mean", np.zeros((2, 0)), lambda x, axis, keepdims: np.full((2,), np.nan), [1], False,
        "empty_axis_nan"),
    Case("red_mean_f32", "%y = mean %a0 {axes = [-1], keepdims = true} : f32[4,1]\nreturn %y",
         [XF], [f32(lambda v: np.mean(v, axis=-1, keepdims=True), XF)], **F32_RTOL),
    # max / min (NaN propagates)
    red("max", X, np.max, [1], False, "axis1"),
    red("max", X, np.max, [], True, "all_keepdims"),
    red("max", NANS, np.max, [1], False, "nan", gradcheck=False),
    red("max", NANS, np.max, [0], False, "nan_axis0", gradcheck=False),
    red("max", XI, np.max, [0], False, "i64"),
    red("min", X, np.min, [-1, 0], False, "two_axes"),
    red("min", NANS, np.min, [1], True, "nan_keepdims", gradcheck=False),
    red("min", XI.astype(np.int32), np.min, [1], False, "i32"),
    red("min", XF, np.min, [0], False, "f32"),
    # ties: the reference splits the gradient evenly (not smooth there: no gradient check)
    red("max", TIED, np.max, [1], False, "ties", gradcheck=False),
    red("min", TIED, np.min, [], False, "ties_all", gradcheck=False),
    # prod
    red("prod", POS, np.prod, [1], False, "axis1"),
    red("prod", POS, np.prod, [], False, "all"),
    red("prod", np.zeros((0, 2)), np.prod, [0], True, "empty_axis_one"),
    red("prod", np.array([[1, -2, 3], [4, 5, -6]], dtype=np.int64), np.prod, [1], False, "i64"),
    # prod is a polynomial, smooth at zeros too: these groups hold no, one and two zeros
    red("prod", ZEROS, np.prod, [1], False, "zeros"),
    red("prod", ZEROS, np.prod, [0], True, "zeros_axis0_keepdims"),
    red("prod", X[:2, :3, :2], np.prod, [0, 2], False, "two_axes"),
    # logsumexp
    red("logsumexp", X, logsumexp, [2], False, "axis2"),
    red("logsumexp", X, logsumexp, [0, -1], True, "two_axes_keepdims"),
    red("logsumexp", X, logsumexp, [], False, "all"),
    red("logsumexp", X2 * 1e4, logsumexp, [1], False, "huge_logits"),
    red("logsumexp", INFS, logsumexp, [-1], False, "inf_rows",      # -inf row: -inf, +inf: +inf
        gradcheck=False),
    red("logsumexp", np.zeros((2, 0)), logsumexp, [1], False, "empty_axis"),
    Case("red_logsumexp_f32", "%y = logsumexp %a0 {axes = [1]} : f32[4]\nreturn %y", [XF * 1e4],
         [f32(lambda v: logsumexp(v, (1,), False), XF * 1e4)], **F32_RTOL),
]

# argmax: first index on ties; NaN counts as the maximum (first NaN wins)
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [np.nan, 5.0, np.nan, 9.0],
                 [-np.inf, -np.inf, -1.0, -1.0]])
TI = np.array([[4, 7, 7, 1], [0, 0, -1, 0]], dtype=np.int64)


def argmax(x, axis, keepdims, tag):
    want = np.argmax(x, axis=axis, keepdims=keepdims).astype(np.int64)
    return node("argmax", "argmax", x, want, tag,
                attrs=attrs_str(axis=axis if axis != -1 else None, keepdims=keepdims))


CASES += [
    argmax(TIES, -1, False, "ties_default_axis"),
    argmax(TIES, 0, False, "ties_axis0"),
    argmax(TIES, 1, True, "keepdims"),
    argmax(X, -2, False, "rank3_neg_axis"),
    argmax(X, 0, True, "rank3_axis0_keepdims"),
    argmax(TI, -1, False, "i64_ties"),
    argmax(TI.astype(np.int32), 0, False, "i32_ties"),
    argmax(XF, 1, False, "f32"),
    argmax(X[:, :1, :], 1, False, "size1_axis"),
]


def smax(op, fn, x, axis, tag, **kw):
    want = fn(x, axis).astype(x.dtype)
    return node(op, op, x, want, tag, attrs=attrs_str(axis=axis if axis != -1 else None), **kw)


CASES += [
    smax("softmax", softmax, X, -1, "default_axis"),
    smax("softmax", softmax, X, 0, "axis0"),
    smax("softmax", softmax, X, -2, "neg_axis"),
    smax("softmax", softmax, X2 * 1e4, -1, "huge_logits"),
    smax("softmax", softmax, INFS[:3], -1, "masked_rows", gradcheck=False),  # all -inf row: 0
    smax("softmax", softmax, INFS[:3].T.copy(), 0, "masked_cols", gradcheck=False),
    smax("softmax", softmax, X[:, :, :1], -1, "size1_axis"),
    smax("softmax", softmax, np.zeros((0, 3)), -1, "empty"),
    smax("softmax", lambda v, a: f32(softmax, v, a), XF * 1e4, 1, "f32_huge", **F32_RTOL),
    smax("softmax", lambda v, a: f32(softmax, v, a), XF, 1, "f32", **F32_RTOL),
    smax("log_softmax", log_softmax, X, -1, "default_axis"),
    smax("log_softmax", log_softmax, X, 1, "axis1"),
    smax("log_softmax", log_softmax, X2 * 1e4, -1, "huge_logits"),
    smax("log_softmax", log_softmax, INFS[:3], -1, "masked_rows",  # all -inf row: -inf
         gradcheck=False),
    smax("log_softmax", lambda v, a: f32(log_softmax, v, a), XF * 1e4, -1, "f32_huge",
         **F32_RTOL),
    smax("log_softmax", lambda v, a: f32(log_softmax, v, a), XF, 0, "f32", **F32_RTOL),
]
