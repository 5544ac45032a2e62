#!/usr/bin/env python3
"""Golden data for the variant-zoo mixers (frontend/nn/variants), from the papers' equations.

Each mixer is computed here in NumPy (float64) the way its paper states it, deliberately
NOT in the form the C++ module uses, so a transcription error cannot hide in both:
recurrences are run step by step (S5, H3's diagonal SSM, RWKV's WKV), convolutions with
np.convolve, FNet with np.fft.fft2, attention with explicit per-head loops over masks.
Writes tests/variants/golden/<mixer>.safetensors holding the input "x" [B, N, D], every
parameter under the module's own name (e.g. "q_proj.weight", PyTorch layout [out, in]) and
the output "y". Run:  python3 tests/variants/gen_golden.py   (NumPy only).

The C++ side (tests/unit/variants/golden_test.cpp) builds the same mixer with make_mixer()
from the configuration in CONFIGS, loads the parameters by name, and compares y.
"""
import json
import math
import os
import struct

import numpy as np

B, N, D, H, L = 2, 6, 8, 2, 8  # batch, tokens, width, heads, longest sequence (kernels)
WINDOW, D_STATE, FEATURE_SEED = 3, 3, 5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def write_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer (F64)."""
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.asarray(a, dtype=np.float64)
        b = a.astype("<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---- helpers ----------------------------------------------------------------------------

def lin(x, w):
    return x @ w.T


def softplus(x):
    return np.log1p(np.exp(x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax_rows(s):
    """Softmax over the last axis, -inf entries excluded."""
    m = np.max(s, axis=-1, keepdims=True)
    e = np.exp(s - m)
    return e / e.sum(axis=-1, keepdims=True)


def causal_conv_channel(x, h):
    """y_t = sum_{s<=t} h[s] x[t-s] for 1-D x (length N) and kernel h."""
    return np.convolve(x, h)[: len(x)]


def gelu(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


# tevo's counter-based normal generator, from its documented definition (ir/random.h):
# mix = splitmix64 finaliser, bits(s, c) = mix(mix(s) ^ c), u01 = (bits >> 11) * 2^-53,
# normal element i = sqrt(-2 ln(1 - u01(s, 2i))) cos(2 pi u01(s, 2i + 1)).
M64 = (1 << 64) - 1


def _mix(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def _u01(seed, c):
    return (_mix(_mix(seed & M64) ^ c) >> 11) * 2.0 ** -53


def random_normal(shape, seed):
    n = int(np.prod(shape))
    v = [math.sqrt(-2.0 * math.log(1.0 - _u01(seed, 2 * i))) * math.cos(2.0 * math.pi * _u01(seed, 2 * i + 1))
         for i in range(n)]
    return np.array(v).reshape(shape)


# ---- softmax attention --------------------------------------------------------------------

def rope(x):
    """GPT-NeoX rotate_half RoPE on [..., N, d]."""
    n, d = x.shape[-2], x.shape[-1]
    inv = 10000.0 ** (-2.0 * np.arange(d // 2) / d)
    ang = np.arange(n)[:, None] * inv[None, :]
    ang = np.concatenate([ang, ang], axis=1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * np.cos(ang) + np.concatenate([-x2, x1], axis=-1) * np.sin(ang)


def attention(p, x, heads, kv_heads, pre="attn.", pos=None, bias_fn=None, allowed=None):
    """Per (batch, head) softmax attention with an allowed(i, j) predicate and bias(h, i, j)."""
    d = D // heads
    q = lin(x, p[pre + "q_proj.weight"]).reshape(B, N, heads, d)
    k = lin(x, p[pre + "k_proj.weight"]).reshape(B, N, kv_heads, d)
    v = lin(x, p[pre + "v_proj.weight"]).reshape(B, N, kv_heads, d)
    o = np.zeros((B, N, heads, d))
    for b in range(B):
        for h in range(heads):
            g = h // (heads // kv_heads)
            qh, kh, vh = q[b, :, h], k[b, :, g], v[b, :, g]
            if pos == "rope":
                qh, kh = rope(qh), rope(kh)
            s = np.full((N, N), -np.inf)
            for i in range(N):
                for j in range(N):
                    if allowed(i, j):
                        s[i, j] = qh[i] @ kh[j] / math.sqrt(d) + (bias_fn(h, i, j) if bias_fn else 0.0)
            o[b, :, h] = softmax_rows(s) @ vh
    return lin(o.reshape(B, N, D), p[pre + "o_proj.weight"])


def attn_params(rng, pre, heads, kv_heads):
    d = D // heads
    return {pre + "q_proj.weight": rng.uniform(-0.5, 0.5, (D, D)),
            pre + "k_proj.weight": rng.uniform(-0.5, 0.5, (kv_heads * d, D)),
            pre + "v_proj.weight": rng.uniform(-0.5, 0.5, (kv_heads * d, D)),
            pre + "o_proj.weight": rng.uniform(-0.5, 0.5, (D, D))}


def causal(i, j):
    return j <= i


def case_softmax_rope(rng, x):
    p = attn_params(rng, "attn.", H, H)
    return p, attention(p, x, H, H, pos="rope", allowed=causal)


def case_mqa(rng, x):
    p = attn_params(rng, "attn.", H, 1)
    return p, attention(p, x, H, 1, pos="rope", allowed=causal)


def case_gqa(rng, x):  # 4 query heads share 2 key/value heads
    p = attn_params(rng, "attn.", 4, 2)
    return p, attention(p, x, 4, 2, pos="rope", allowed=causal)


def case_alibi(rng, x):
    p = attn_params(rng, "attn.", H, H)
    slopes = [2.0 ** (-8.0 * (h + 1) / H) for h in range(H)]  # H is a power of two
    return p, attention(p, x, H, H, bias_fn=lambda h, i, j: -slopes[h] * (i - j), allowed=causal)


def case_kerple(rng, x):
    p = attn_params(rng, "", H, H)
    p["kerple_r1"] = rng.uniform(-1, 1, H)
    p["kerple_r2"] = rng.uniform(-1, 1, H)
    r1, r2 = softplus(p["kerple_r1"]), softplus(p["kerple_r2"])
    bias = lambda h, i, j: -r1[h] * math.log(1.0 + r2[h] * abs(i - j))
    return p, attention(p, x, H, H, pre="", bias_fn=bias, allowed=causal)


def case_sliding_window(rng, x):
    p = attn_params(rng, "", H, H)
    return p, attention(p, x, H, H, pre="", allowed=lambda i, j: 0 <= i - j < WINDOW)


# ---- linear attention ---------------------------------------------------------------------

def linear_attention(rng, x, phi, is_causal):
    p = attn_params(rng, "", H, H)
    d = D // H
    q = lin(x, p["q_proj.weight"]).reshape(B, N, H, d)
    k = lin(x, p["k_proj.weight"]).reshape(B, N, H, d)
    v = lin(x, p["v_proj.weight"]).reshape(B, N, H, d)
    o = np.zeros((B, N, H, d))
    for b in range(B):
        for h in range(H):
            fq, fk = phi(q[b, :, h]), phi(k[b, :, h])
            for i in range(N):  # o_i = sum_j phi(q_i).phi(k_j) v_j / (sum_j phi(q_i).phi(k_j) + eps)
                js = range(i + 1) if is_causal else range(N)
                w = np.array([fq[i] @ fk[j] for j in js])
                o[b, i, h] = (w[:, None] * v[b, list(js), h]).sum(0) / (w.sum() + 1e-6)
    return p, lin(o.reshape(B, N, D), p["o_proj.weight"])


def elu1(z):
    return np.where(z > 0, z, np.expm1(z)) + 1.0


def favor(z):
    d = z.shape[-1]
    m = 2 * d
    w = random_normal((m, d), FEATURE_SEED)
    zs = z / d ** 0.25
    return np.exp(zs @ w.T - 0.5 * (zs ** 2).sum(-1, keepdims=True)) / math.sqrt(m)


# ---- FNet ---------------------------------------------------------------------------------

def case_fnet(rng, x):
    return {}, np.fft.fft2(x, axes=(1, 2)).real


# ---- S5 (real diagonal), H3, Hyena, RWKV, long conv ----------------------------------------

def case_s5(rng, x):
    P = D_STATE
    p = {"log_neg_lambda": rng.uniform(-1, 1, P), "log_dt": rng.uniform(np.log(0.1), np.log(1.0), P),
         "B": rng.uniform(-0.5, 0.5, (P, D)), "C": rng.uniform(-0.5, 0.5, (D, P)), "D": rng.uniform(-1, 1, D)}
    lam = -np.exp(p["log_neg_lambda"])
    a_bar = np.exp(lam * np.exp(p["log_dt"]))
    b_bar = ((a_bar - 1.0) / lam)[:, None] * p["B"]
    y = np.zeros((B, N, D))
    for b in range(B):
        s = np.zeros(P)
        for t in range(N):  # x_t = A_bar x_{t-1} + B_bar u_t ; y_t = C x_t + D u_t
            s = a_bar * s + b_bar @ x[b, t]
            y[b, t] = p["C"] @ s + p["D"] * x[b, t]
    return p, y


def case_h3(rng, x):
    P, m = D_STATE, 4
    p = {k: rng.uniform(-0.5, 0.5, (D, D)) for k in ("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight")}
    p["shift_kernel"] = rng.uniform(-1, 1, (D, m))
    p["log_dt"] = rng.uniform(np.log(0.1), np.log(1.0), D)
    p["log_neg_lambda"] = rng.uniform(-1, 1, (D, P))
    p["B"] = rng.uniform(-1, 1, (D, P))
    p["C"] = rng.uniform(-1, 1, (D, P))
    p["D"] = rng.uniform(-1, 1, D)
    q, k, v = (lin(x, p[n + "_proj.weight"]) for n in "qkv")
    lam = -np.exp(p["log_neg_lambda"])
    a_bar = np.exp(lam * np.exp(p["log_dt"])[:, None])
    b_bar = (a_bar - 1.0) / lam * p["B"]
    o = np.zeros((B, N, D))
    for b in range(B):
        for c in range(D):
            kbar = causal_conv_channel(k[b, :, c], p["shift_kernel"][c])  # shift SSM
            z = kbar * v[b, :, c]
            s = np.zeros(P)
            for t in range(N):  # diagonal SSM as its recurrence
                s = a_bar[c] * s + b_bar[c] * z[t]
                o[b, t, c] = q[b, t, c] * (p["C"][c] @ s + p["D"][c] * z[t])
    return p, lin(o, p["o_proj.weight"])


def case_hyena(rng, x):
    order, F, K, ks = 2, 16, 4, 3
    E = 1 + 2 * K
    p = {"in_proj.weight": rng.uniform(-0.5, 0.5, (3 * D, D)), "in_proj.bias": rng.uniform(-0.5, 0.5, 3 * D),
         "short_filter": rng.uniform(-1, 1, (3 * D, ks)),
         "filter_in.weight": rng.uniform(-1, 1, (F, E)), "filter_in.bias": rng.uniform(-1, 1, F),
         "filter_mid.weight": rng.uniform(-0.5, 0.5, (F, F)), "filter_mid.bias": rng.uniform(-0.5, 0.5, F),
         "filter_out.weight": rng.uniform(-0.5, 0.5, (order * D, F)),
         "filter_bias": rng.uniform(-1, 1, (order, D)),
         "out_proj.weight": rng.uniform(-0.5, 0.5, (D, D)), "out_proj.bias": rng.uniform(-0.5, 0.5, D)}
    # implicit filters over positions t = 0..L-1
    t = np.arange(L)[:, None] / L
    f = np.arange(1, K + 1)[None, :]
    feats = np.concatenate([t, np.cos(2 * math.pi * f * t), -np.sin(2 * math.pi * f * t)], axis=1)
    hfil = np.sin(lin(feats, p["filter_in.weight"]) + p["filter_in.bias"])
    hfil = np.sin(lin(hfil, p["filter_mid.weight"]) + p["filter_mid.bias"])
    hfil = lin(hfil, p["filter_out.weight"])  # [L, order D]
    slow, fast = -math.log(1e-2) / 1.5, -math.log(1e-2) / 0.3
    alpha = slow + (fast - slow) * np.arange(order * D) / (order * D - 1)
    hfil = hfil * np.exp(-alpha[None, :] * t)
    u = lin(x, p["in_proj.weight"]) + p["in_proj.bias"]
    for b in range(B):
        for c in range(3 * D):
            u[b, :, c] = causal_conv_channel(u[b, :, c], p["short_filter"][c])
    y = np.zeros((B, N, D))
    for b in range(B):
        z = u[b, :, :D].copy()  # v
        for i in range(1, order + 1):
            xi = u[b, :, i * D:(i + 1) * D]
            conv = np.stack([causal_conv_channel(z[:, c], hfil[:, (i - 1) * D + c]) for c in range(D)], axis=1)
            z = xi * (conv + p["filter_bias"][i - 1] * z)
        y[b] = lin(z, p["out_proj.weight"]) + p["out_proj.bias"]
    return p, y


def case_rwkv(rng, x):
    p = {n + ".weight": rng.uniform(-0.5, 0.5, (D, D)) for n in ("key", "value", "receptance", "output")}
    for n in ("time_mix_k", "time_mix_v", "time_mix_r"):
        p[n] = rng.uniform(0, 1, D)
    p["time_decay"] = rng.uniform(-1, 1, D)
    p["time_first"] = rng.uniform(-1, 1, D)
    w, u = np.exp(p["time_decay"]), p["time_first"]
    y = np.zeros((B, N, D))
    for b in range(B):
        prev = np.zeros(D)
        a, s = np.zeros(D), np.zeros(D)  # recurrent numerator and denominator
        for t in range(N):
            xt = x[b, t]
            mix = lambda n: p[n] * xt + (1 - p[n]) * prev
            r = lin(mix("time_mix_r"), p["receptance.weight"])
            k = lin(mix("time_mix_k"), p["key.weight"])
            v = lin(mix("time_mix_v"), p["value.weight"])
            wkv = (a + np.exp(u + k) * v) / (s + np.exp(u + k))
            a = np.exp(-w) * a + np.exp(k) * v
            s = np.exp(-w) * s + np.exp(k)
            y[b, t] = lin(sigmoid(r) * wkv, p["output.weight"])
            prev = xt
    return p, y


SQUASH, SMOOTH = 0.05, 1


def case_long_conv(rng, x):
    p = {"kernel": rng.uniform(-0.5, 0.5, (D, L)), "skip": rng.uniform(-1, 1, D),
         "o_proj.weight": rng.uniform(-0.5, 0.5, (D, D))}
    kp = np.pad(p["kernel"], ((0, 0), (SMOOTH, SMOOTH)))
    k = sum(kp[:, j:j + L] for j in range(2 * SMOOTH + 1)) / (2 * SMOOTH + 1)  # moving average
    k = np.sign(k) * np.maximum(np.abs(k) - SQUASH, 0.0)  # squash (soft threshold)
    y = np.zeros((B, N, D))
    for b in range(B):
        for c in range(D):
            y[b, :, c] = causal_conv_channel(x[b, :, c], k[c]) + p["skip"][c] * x[b, :, c]
    return p, lin(y, p["o_proj.weight"])


CONFIGS = {
    "softmax_rope": case_softmax_rope, "mqa": case_mqa, "gqa": case_gqa, "alibi": case_alibi,
    "kerple": case_kerple, "sliding_window": case_sliding_window,
    "linear_elu": lambda r, x: linear_attention(r, x, elu1, False),
    "linear_elu_causal": lambda r, x: linear_attention(r, x, elu1, True),
    "linear_relu": lambda r, x: linear_attention(r, x, lambda z: np.maximum(z, 0), False),
    "linear_relu_causal": lambda r, x: linear_attention(r, x, lambda z: np.maximum(z, 0), True),
    "performer": lambda r, x: linear_attention(r, x, favor, False),
    "performer_causal": lambda r, x: linear_attention(r, x, favor, True),
    "fnet": case_fnet, "s5": case_s5, "h3": case_h3, "hyena": case_hyena, "rwkv": case_rwkv,
    "long_conv": case_long_conv,
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, (name, fn) in enumerate(CONFIGS.items()):
        rng = np.random.default_rng(1000 + i)
        x = rng.uniform(-1, 1, (B, N, D))
        params, y = fn(rng, x)
        tensors = {"x": x, "y": y}
        tensors.update({"param." + k: v for k, v in params.items()})
        meta = {"B": str(B), "N": str(N), "D": str(D), "L": str(L), "window": str(WINDOW),
                "d_state": str(D_STATE), "feature_seed": str(FEATURE_SEED),
                "squash": str(SQUASH), "smooth": str(SMOOTH)}
        write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors, meta)
        print(f"{name}: |y|max = {np.abs(y).max():.4f}")


if __name__ == "__main__":
    main()
