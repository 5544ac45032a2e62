"""Golden cases for ir/ops/index.cpp (gather, scatter_add, take, embedding, one_hot, topk).

f64 cases are gradient-checked unless marked: topk is not smooth where values tie."""
import math

import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(13)


def case(name, op, inputs, wants, attrs="", **kw):
    args = ", ".join("%%a%d" % i for i in range(len(inputs)))
    a = " {%s}" % attrs if attrs else ""
    res = ", ".join("%%r%d" % i for i in range(len(wants)))
    types = ", ".join(tir_type(w) for w in wants)
    body = "%s = %s %s%s : %s\nreturn %s" % (res, op, args, a, types, res)
    return Case("index_" + name, body, inputs, wants, **kw)


X = r.standard_normal((3, 4, 5))


def gather_case(axis, itype, n=2):
    """Indices with n entries along axis (any size there), the other dims as X."""
    shape = list(X.shape)
    shape[axis] = n
    idx = r.integers(0, X.shape[axis], shape).astype(itype)
    tag = "gather_ax%d_%s%s" % (axis, np.dtype(itype).name, "" if n == 2 else "_n%d" % n)
    return case(tag, "gather", [X, idx], [np.take_along_axis(X, idx, axis)], "axis = %d" % axis)


def take_case(axis, idx, tag, x=X):
    a = axis if axis >= 0 else axis + x.ndim
    return case("take_" + tag, "take", [x, idx], [np.take(x, idx, axis=a)], "axis = %d" % axis)


def scatter_add_ref(base, idx, upd, axis):
    """torch.Tensor.scatter_add: out[..., idx[p], ...] += upd[p] along axis, duplicates add."""
    out = base.copy()
    pos = list(np.indices(idx.shape))
    pos[axis] = idx
    np.add.at(out, tuple(pos), upd)
    return out


def scatter_case(tag, base, idx, upd, axis, **kw):
    a = axis if axis >= 0 else axis + base.ndim
    return case("scatter_add_" + tag, "scatter_add", [base, idx, upd],
                [scatter_add_ref(base, idx, upd, a)], "axis = %d" % axis, **kw)


def scatter_idx(base, axis, n, itype):
    shape = list(base.shape)
    shape[axis] = n
    return r.integers(0, base.shape[axis], shape).astype(itype)


def topk_ref(x, k, axis, largest):
    """Sorted top-k along axis; ties by lower index; NaN larger than every number."""
    xm = np.moveaxis(x, axis, -1)
    vals = np.zeros(xm.shape[:-1] + (k,), x.dtype)
    idxs = np.zeros(xm.shape[:-1] + (k,), np.int64)
    for pos in np.ndindex(*xm.shape[:-1]):
        row = xm[pos]

        def key(j):
            v = float(row[j])
            nan = math.isnan(v)
            if largest:
                return (0 if nan else 1, 0.0 if nan else -v, j)
            return (1 if nan else 0, 0.0 if nan else v, j)

        order = sorted(range(len(row)), key=key)[:k]
        vals[pos] = row[order]
        idxs[pos] = order
    return [np.moveaxis(vals, -1, axis), np.moveaxis(idxs, -1, axis)]


def topk_case(tag, x, k, axis=-1, largest=True, **kw):
    attrs = "k = %d" % k
    if axis != -1:
        attrs += ", axis = %d" % axis
    if not largest:
        attrs += ", largest = false"
    return case("topk_" + tag, "topk", [x], topk_ref(x, k, axis, largest), attrs, **kw)


TIES = np.array([[3.0, 1.0, 3.0, 2.0, 1.0, 3.0],
                 [0.5, 0.5, 0.5, -1.0, 7.0, -1.0]])
TABLE = r.standard_normal((6, 4))
IDS = r.integers(0, 6, (2, 3))

CASES = [gather_case(a, t) for a in range(3) for t in (np.int32, np.int64)]
CASES += [
    gather_case(1, np.int64, n=7),                                   # more entries than dim
    case("gather_neg_axis", "gather", [X, np.zeros((3, 4, 1), np.int32)],
         [np.take_along_axis(X, np.zeros((3, 4, 1), np.int32), -1)], "axis = -1"),
]
for a in range(3):
    CASES.append(take_case(a, r.integers(0, X.shape[a], (2, 3)).astype(np.int32), "ax%d_i32" % a))
    CASES.append(take_case(a, r.integers(0, X.shape[a], (4,)).astype(np.int64), "ax%d_i64" % a))
CASES += [
    # A rank-0 index drops the axis. Rank 0 stays inside the graph (gen_golden stores
    # 0-d arrays as [1]), so the index arrives as [1] and is reshaped.
    Case("index_take_scalar_idx_neg_axis",
         "%i = reshape %a1 {shape = []} : i64[]\n"
         "%y = take %a0, %i {axis = -2} : f64[3,5]\nreturn %y",
         [X, np.array([3], np.int64)], [np.take(X, 3, axis=1)]),
    take_case(0, np.array([[1, 1], [0, 2]], np.int32), "i32_data",
              x=r.integers(-5, 5, (3, 2)).astype(np.int32)),
    case("embedding_i32", "embedding", [TABLE, IDS.astype(np.int32)], [TABLE[IDS]]),
    case("embedding_i64", "embedding", [TABLE, IDS.astype(np.int64)], [TABLE[IDS]]),
    Case("index_embedding_scalar_id",
         "%i = reshape %a1 {shape = []} : i64[]\n"
         "%y = embedding %a0, %i : f64[4]\nreturn %y",
         [TABLE, np.array([5], np.int64)], [TABLE[5]]),
    case("embedding_f32", "embedding",
         [TABLE.astype(np.float32), np.array([0, 5, 5, 2], np.int32)],
         [TABLE.astype(np.float32)[[0, 5, 5, 2]]]),
    case("one_hot", "one_hot", [np.array([[0, 4, 2], [1, 1, 3]], np.int64)],
         [np.eye(5, dtype=np.float32)[np.array([[0, 4, 2], [1, 1, 3]])]], "depth = 5"),
    case("one_hot_f64_i32", "one_hot", [np.array([2, 0, 1], np.int32)],
         [np.eye(3)[[2, 0, 1]]], "depth = 3, dtype = f64"),
    case("one_hot_i64_depth1", "one_hot", [np.array([0, 0], np.int64)],
         [np.ones((2, 1), np.int64)], "depth = 1, dtype = i64"),
    topk_case("largest_ties", TIES, 4, gradcheck=False),
    topk_case("smallest_ties", TIES, 4, largest=False, gradcheck=False),
    topk_case("axis0", X, 2, axis=0),
    topk_case("axis1_smallest", X, 3, axis=1, largest=False),
    topk_case("full", TIES, 6, gradcheck=False),
    topk_case("k0", TIES, 0),
    topk_case("i64", r.integers(-3, 3, (3, 5)).astype(np.int64), 3),
    topk_case("i32_smallest", r.integers(-3, 3, (3, 5)).astype(np.int32), 2, largest=False),
    topk_case("nan", np.array([[1.0, np.nan, 5.0, np.nan, -2.0]]), 3, gradcheck=False),
    topk_case("nan_smallest", np.array([[1.0, np.nan, 5.0, np.nan, -2.0]]), 5, largest=False,
              gradcheck=False),
    topk_case("f32", r.standard_normal((2, 6)).astype(np.float32), 2),
    topk_case("smallest_distinct", r.standard_normal((2, 5)), 5, largest=False),
]
B = r.standard_normal((3, 4, 5))
CASES += [
    scatter_case("ax0_i64", B, scatter_idx(B, 0, 2, np.int64), r.standard_normal((2, 4, 5)), 0),
    # 7 updates into an axis of 4: indices repeat, repeated targets accumulate.
    scatter_case("ax1_i32_dups", B, scatter_idx(B, 1, 7, np.int32),
                 r.standard_normal((3, 7, 5)), 1),
    scatter_case("neg_axis", B, scatter_idx(B, 2, 1, np.int64), r.standard_normal((3, 4, 1)), -1),
    scatter_case("all_same", B[:1, :2], np.zeros((1, 2, 6), np.int64),
                 r.standard_normal((1, 2, 6)), 2),
    scatter_case("empty", B, np.zeros((3, 0, 5), np.int64), np.zeros((3, 0, 5)), 1),
    scatter_case("f32", B.astype(np.float32), scatter_idx(B, 1, 3, np.int32),
                 r.standard_normal((3, 3, 5)).astype(np.float32), 1, rtol=1e-6, atol=1e-6),
    scatter_case("i64", np.arange(6, dtype=np.int64).reshape(2, 3),
                 np.array([[0, 0, 2, 1], [2, 2, 2, 2]], np.int64),
                 np.array([[5, -1, 7, 100], [1, 2, 3, -4]], np.int64), 1),
    scatter_case("c128", B[:2, :3, 0] + 1j * B[:2, :3, 1], np.array([[1, 1], [0, 2]], np.int32),
                 np.array([[1 + 2j, -3j], [0.5, 4 - 1j]]), 1),
]
