"""Golden cases for ir/ops/attention.cpp (attention, attention_grad).

The reference materialises the scores with NumPy (float64): s = scale q k^T + bias, masked
to -inf where the mask or keep forbids, softmax over keys; a row without allowed keys
gives o = 0 and lse = -inf. Query head h reads key/value head h // (Hq // Hkv). Cases with
a -inf lse (as output or input) are not gradient-checked.
"""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(71)


def allowed_mask(n, m, mask, window):
    i = np.arange(n)[:, None] + (m - n)
    j = np.arange(m)[None, :]
    if mask == "causal":
        return j <= i
    if mask == "sliding":
        return (i - j >= 0) & (i - j < window)
    return np.ones((n, m), bool)


def scores(q, k, scale, mask, window, bias, keep):
    rep = q.shape[-3] // k.shape[-3]
    kk = np.repeat(k.astype(np.float64), rep, axis=-3)
    s = scale * (q.astype(np.float64) @ np.swapaxes(kk, -1, -2))
    if bias is not None:
        s = s + bias.astype(np.float64)
    ok = allowed_mask(q.shape[-2], k.shape[-2], mask, window)
    if keep is not None:
        ok = ok & keep
    ok = np.broadcast_to(ok, s.shape)
    return np.where(ok, s, -np.inf), ok


def attention_ref(q, k, v, scale, mask, window, bias, keep):
    s, ok = scores(q, k, scale, mask, window, bias, keep)
    rep = q.shape[-3] // k.shape[-3]
    vv = np.repeat(v.astype(np.float64), rep, axis=-3)
    mx = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.full(s.shape[:-1] + (1,), -np.inf)
    live = np.isfinite(mx)
    p = np.where(ok, np.exp(s - np.where(live, mx, 0.0)), 0.0)
    l = p.sum(axis=-1, keepdims=True)
    o = np.where(live, (p / np.where(live, l, 1.0)) @ vv, 0.0)
    lse = np.where(live, mx + np.log(np.where(live, l, 1.0)), -np.inf)[..., 0]
    return o, lse


def unbroadcast(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, e in enumerate(shape) if e == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def attention_grad_ref(q, k, v, scale, mask, window, bias, keep, o, lse, do, dlse):
    s, ok = scores(q, k, scale, mask, window, bias, keep)
    hkv, rep = k.shape[-3], q.shape[-3] // k.shape[-3]
    kk = np.repeat(k.astype(np.float64), rep, axis=-3)
    vv = np.repeat(v.astype(np.float64), rep, axis=-3)
    live = np.isfinite(lse)[..., None]
    p = np.where(ok & live, np.exp(s - np.where(live, lse[..., None], 0.0)), 0.0)
    dd = (do * o).sum(axis=-1, keepdims=True)
    extra = 0.0 if dlse is None else dlse[..., None]
    ds = p * (do @ np.swapaxes(vv, -1, -2) - dd + extra)
    dq = scale * ds @ kk
    dkk = scale * np.swapaxes(ds, -1, -2) @ q
    dvv = np.swapaxes(p, -1, -2) @ do

    def group_sum(x):  # [*B, Hq, M, c] -> [*B, Hkv, M, c]
        return x.reshape(x.shape[:-3] + (hkv, rep) + x.shape[-2:]).sum(axis=-3)

    out = [dq, group_sum(dkk), group_sum(dvv)]
    if bias is not None:
        out.append(unbroadcast(ds, bias.shape))
    return out


def attrs_text(scale, mask, window, bias, keep, dlse=None):
    a = ["scale = %r" % scale]
    if mask != "none":
        a.append('mask = "%s"' % mask)
    if window:
        a.append("window = %d" % window)
    if bias is not None:
        a.append("has_bias = true")
    if keep is not None:
        a.append("has_keep = true")
    if dlse is not None:
        a.append("has_dlse = true")
    return "{%s}" % ", ".join(a)


def make_inputs(batch, hq, hkv, n, m, d, dv, dtype, bias_shape, keep_fn):
    q = r.standard_normal(batch + (hq, n, d)).astype(dtype)
    k = r.standard_normal(batch + (hkv, m, d)).astype(dtype)
    v = r.standard_normal(batch + (hkv, m, dv)).astype(dtype)
    bias = None if bias_shape is None else r.standard_normal(bias_shape).astype(dtype)
    keep = None if keep_fn is None else keep_fn(n, m)
    return q, k, v, bias, keep


def fwd(name, batch=(2,), hq=2, hkv=2, n=5, m=7, d=4, dv=3, mask="none", window=0,
        bias_shape=None, keep_fn=None, dtype=np.float64, scale=0.5, **kw):
    q, k, v, bias, keep = make_inputs(batch, hq, hkv, n, m, d, dv, dtype, bias_shape, keep_fn)
    o, lse = attention_ref(q, k, v, scale, mask, window, bias, keep)
    o, lse = o.astype(dtype), lse.astype(dtype)
    ins = [x for x in (q, k, v, bias, keep) if x is not None]
    args = ", ".join("%%a%d" % i for i in range(len(ins)))
    body = "%%o, %%lse = attention %s %s : %s, %s\nreturn %%o, %%lse" % (
        args, attrs_text(scale, mask, window, bias, keep), tir_type(o), tir_type(lse))
    if dtype == np.float32:
        kw.setdefault("rtol", 1e-5)
        kw.setdefault("atol", 1e-6)
    kw.setdefault("gradcheck", bool(np.isfinite(lse).all()))
    return Case("attention_" + name, body, ins, [o, lse], **kw)


def bwd(name, batch=(2,), hq=2, hkv=2, n=5, m=7, d=4, dv=3, mask="none", window=0,
        bias_shape=None, keep_fn=None, dtype=np.float64, scale=0.5, with_dlse=False, **kw):
    q, k, v, bias, keep = make_inputs(batch, hq, hkv, n, m, d, dv, dtype, bias_shape, keep_fn)
    o, lse = attention_ref(q, k, v, scale, mask, window, bias, keep)
    o, lse = o.astype(dtype), lse.astype(dtype)
    do = r.standard_normal(o.shape).astype(dtype)
    dlse = r.standard_normal(lse.shape).astype(dtype) if with_dlse else None
    grads = [g.astype(dtype) for g in
             attention_grad_ref(q, k, v, scale, mask, window, bias, keep, o.astype(np.float64),
                                lse.astype(np.float64), do.astype(np.float64),
                                None if dlse is None else dlse.astype(np.float64))]
    ins = [x for x in (q, k, v, bias, keep, o, lse, do, dlse) if x is not None]
    args = ", ".join("%%a%d" % i for i in range(len(ins)))
    res = ", ".join("%%g%d" % i for i in range(len(grads)))
    body = "%s = attention_grad %s %s : %s\nreturn %s" % (
        res, args, attrs_text(scale, mask, window, bias, keep, dlse),
        ", ".join(tir_type(g) for g in grads), res)
    if dtype == np.float32:
        kw.setdefault("rtol", 1e-5)
        kw.setdefault("atol", 1e-5)
    kw.setdefault("gradcheck", bool(np.isfinite(lse).all()))
    return Case("attention_grad_" + name, body, ins, grads, **kw)


def keep_random(n, m):
    return r.random((n, m)) < 0.7


def keep_one_row_masked(n, m):
    keep = r.random((n, m)) < 0.7
    keep[:, 0] = True
    keep[1, :] = False  # query row 1 sees no key
    return keep


def keep_no_row_masked(n, m):
    keep = r.random((n, m)) < 0.6
    keep[:, -1] = True
    return keep


CASES = [
    fwd("none"),
    fwd("causal_square", n=7, m=7, mask="causal"),
    fwd("causal_m_gt_n", n=5, m=9, mask="causal"),
    fwd("causal_n_gt_m", n=9, m=5, mask="causal"),      # first 4 rows see no key
    fwd("sliding", n=8, m=8, mask="sliding", window=3),
    fwd("sliding_m_gt_n", n=6, m=10, mask="sliding", window=4),
    fwd("gqa", hq=4, hkv=2, mask="causal", n=6, m=6),
    fwd("mqa", hq=3, hkv=1, n=4, m=6),
    fwd("bias_full", bias_shape=(2, 2, 5, 7)),
    fwd("bias_heads", hq=4, hkv=2, bias_shape=(4, 7, 7), mask="causal", n=7, m=7),
    fwd("bias_keys", bias_shape=(1, 1, 1, 7)),
    fwd("keep", keep_fn=keep_no_row_masked, bias_shape=(7,)),
    fwd("keep_row_masked", keep_fn=keep_one_row_masked, mask="sliding", window=5, m=9),
    fwd("no_batch", batch=(), hq=2, n=4, m=4, mask="causal"),
    fwd("two_batch_dims", batch=(2, 1), hq=2, hkv=1, n=3, m=5, d=2, dv=5),
    fwd("n1", batch=(), hq=1, hkv=1, n=1, m=6, mask="causal"),
    fwd("odd_f32", batch=(1,), hq=2, hkv=1, n=33, m=65, d=16, dv=8, mask="causal",
        dtype=np.float32, gradcheck=False),
    fwd("n7_f32", batch=(), hq=2, hkv=2, n=7, m=65, d=8, dv=8, mask="sliding", window=20,
        dtype=np.float32, keep_fn=keep_random),
    fwd("bias_f32", batch=(2,), hq=4, hkv=1, n=5, m=9, d=8, dv=4, bias_shape=(4, 5, 9),
        dtype=np.float32),
    bwd("none_dlse", with_dlse=True),
    bwd("causal_gqa", hq=4, hkv=2, n=7, m=9, mask="causal"),
    bwd("bias_keep_dlse", bias_shape=(1, 1, 1, 7), keep_fn=keep_one_row_masked, with_dlse=True),
    bwd("sliding_bias_heads", hq=2, hkv=1, n=8, m=8, mask="sliding", window=3,
        bias_shape=(2, 8, 8)),
    bwd("n_gt_m_f32", batch=(), hq=2, hkv=1, n=9, m=5, d=8, dv=8, mask="causal",
        dtype=np.float32, bias_shape=(9, 5)),
    bwd("odd_f32", batch=(1,), hq=2, hkv=2, n=33, m=65, d=16, dv=8, mask="causal",
        dtype=np.float32, with_dlse=True),
]
