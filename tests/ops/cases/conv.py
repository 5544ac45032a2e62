"""Golden cases for ir/ops/conv.cpp (conv1d, PyTorch layout and semantics)."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(31)


def conv1d_ref(x, w, stride=1, padding=(0, 0), dilation=1, groups=1):
    """torch.nn.functional.conv1d semantics, via explicit zero padding and windows."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    b, cin, _ = x.shape
    cout, cin_g, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), tuple(padding)))
    span = dilation * (k - 1) + 1
    lout = (xp.shape[2] - span) // stride + 1
    y = np.zeros((b, cout, lout))
    cout_g = cout // groups
    for g in range(groups):
        xs = xp[:, g * cin_g:(g + 1) * cin_g, :]
        ws = w[g * cout_g:(g + 1) * cout_g]
        for t in range(lout):
            win = xs[:, :, t * stride: t * stride + span: dilation]       # [b, cin_g, k]
            y[:, g * cout_g:(g + 1) * cout_g, t] = np.einsum("bck,ock->bo", win, ws)
    return y


def conv(name, xs, ws, dtype=np.float64, rtol=1e-10, atol=1e-12, **attrs):
    x = r.standard_normal(xs).astype(dtype)
    w = r.standard_normal(ws).astype(dtype)
    y = conv1d_ref(x, w, **attrs).astype(dtype)
    parts = []
    for k in ("stride", "padding", "dilation", "groups"):
        if k in attrs:
            v = attrs[k]
            parts.append("%s = %s" % (k, "[%d, %d]" % tuple(v) if k == "padding" else v))
    a = (" {%s}" % ", ".join(parts)) if parts else ""
    body = "%%y = conv1d %%a0, %%a1%s : %s\nreturn %%y" % (a, tir_type(y))
    return Case("conv_" + name, body, [x, w], [y], rtol=rtol, atol=atol)


CASES = [
    conv("basic", (2, 3, 10), (4, 3, 3)),
    conv("stride2_pad", (2, 3, 11), (4, 3, 3), stride=2, padding=(1, 1)),
    conv("stride3_asym_pad", (1, 2, 13), (3, 2, 4), stride=3, padding=(2, 1)),
    conv("dilation2", (1, 2, 13), (3, 2, 3), dilation=2),
    conv("groups2", (2, 4, 9), (6, 2, 3), groups=2),
    conv("depthwise", (1, 3, 7), (3, 1, 2), groups=3),
    conv("causal", (1, 3, 9), (2, 3, 4), dilation=2, padding=(6, 0)),
    conv("causal_stride2_groups2", (2, 4, 11), (4, 2, 3), stride=2, padding=(2, 0), groups=2),
    conv("all_attrs", (2, 6, 15), (9, 2, 3), stride=2, padding=(3, 2), dilation=3, groups=3),
    conv("kernel_eq_len", (1, 1, 5), (1, 1, 5)),                  # Lout = 1
    conv("pad_only", (1, 1, 1), (2, 1, 3), padding=(1, 1)),      # one real sample
    conv("pointwise", (3, 5, 4), (2, 5, 1)),
    conv("f32", (2, 4, 12), (3, 4, 5), dtype=np.float32, rtol=1e-5, atol=1e-5, stride=2,
         padding=(2, 2)),
]
