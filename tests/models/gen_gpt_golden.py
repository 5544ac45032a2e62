#!/usr/bin/env python3
# gen_gpt_golden.py: PyTorch reference data for a small tevo nn::GPT (forward, grads, AdamW).
#
# Run with Debian's Python (it has torch 1.13 and NumPy):
#   /usr/bin/python3 tests/models/gen_gpt_golden.py
# Writes tests/models/gpt_golden/{inputs,weights,outputs,grads,adamw}.safetensors, read by
# tests/models/gpt_golden_test.cpp. The model is written out functionally so that every
# detail follows tevo's documented maths (frontend/nn/transformer.h): pre-LN GPT-2 blocks,
# LayerNorm eps 1e-5, fused c_attn [3C, C] split q|k|v, causal softmax(q k^T / sqrt(hd)),
# gelu with the tanh approximation, ln_f, logits tied to wte; Linear weights are [out, in]
# (torch.nn.Linear's layout, so nothing is transposed).
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

VOCAB, BLOCK, N_LAYER, N_HEAD, N_EMBD = 11, 8, 2, 2, 16
B, T = 2, 8
LR, BETAS, EPS, WD = 1e-2, (0.9, 0.95), 1e-8, 0.1
SEED = 1234
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt_golden")


def param_shapes():
    """tevo's parameter names and shapes, in nn::GPT registration order."""
    c = N_EMBD
    s = [("wte.weight", (VOCAB, c)), ("wpe.weight", (BLOCK, c))]
    for i in range(N_LAYER):
        p = f"h.{i}."
        s += [(p + "ln_1.weight", (c,)), (p + "ln_1.bias", (c,)),
              (p + "attn.c_attn.weight", (3 * c, c)), (p + "attn.c_attn.bias", (3 * c,)),
              (p + "attn.c_proj.weight", (c, c)), (p + "attn.c_proj.bias", (c,)),
              (p + "ln_2.weight", (c,)), (p + "ln_2.bias", (c,)),
              (p + "mlp.c_fc.weight", (4 * c, c)), (p + "mlp.c_fc.bias", (4 * c,)),
              (p + "mlp.c_proj.weight", (c, 4 * c)), (p + "mlp.c_proj.bias", (c,))]
    s += [("ln_f.weight", (c,)), ("ln_f.bias", (c,))]
    return s


def make_weights(rng):
    """Fixed weights, larger than GPT-2's init so that logits and gradients are not tiny."""
    w = {}
    for name, shape in param_shapes():
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        elif ".ln_" in name or name.startswith("ln_f"):
            a = 0.1 * rng.standard_normal(shape)
        elif name.endswith(".bias"):
            a = 0.1 * rng.standard_normal(shape)
        elif name in ("wte.weight", "wpe.weight"):
            a = 0.5 * rng.standard_normal(shape)
        else:
            a = rng.standard_normal(shape) / math.sqrt(shape[1])
        w[name] = a.astype(np.float32)
    return w


def forward(p, tokens, targets):
    """Logits [B, T, V] and the mean cross-entropy, following tevo's nn::GPT."""
    c, hd = N_EMBD, N_EMBD // N_HEAD
    n, t = tokens.shape
    x = p["wte.weight"][tokens] + p["wpe.weight"][torch.arange(t)]
    keep = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for i in range(N_LAYER):
        q_ = f"h.{i}."
        h = F.layer_norm(x, (c,), p[q_ + "ln_1.weight"], p[q_ + "ln_1.bias"], 1e-5)
        qkv = h @ p[q_ + "attn.c_attn.weight"].T + p[q_ + "attn.c_attn.bias"]
        q, k, v = (z.reshape(n, t, N_HEAD, hd).permute(0, 2, 1, 3) for z in qkv.split(c, -1))
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        s = s.masked_fill(~keep, float("-inf"))
        y = (torch.softmax(s, -1) @ v).permute(0, 2, 1, 3).reshape(n, t, c)
        x = x + y @ p[q_ + "attn.c_proj.weight"].T + p[q_ + "attn.c_proj.bias"]
        h = F.layer_norm(x, (c,), p[q_ + "ln_2.weight"], p[q_ + "ln_2.bias"], 1e-5)
        h = F.gelu(h @ p[q_ + "mlp.c_fc.weight"].T + p[q_ + "mlp.c_fc.bias"], approximate="tanh")
        x = x + h @ p[q_ + "mlp.c_proj.weight"].T + p[q_ + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (c,), p["ln_f.weight"], p["ln_f.bias"], 1e-5)
    logits = x @ p["wte.weight"].T
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    return logits, loss


def run(weights, tokens, targets, dtype):
    """Forward, backward and one AdamW step in `dtype`."""
    p = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in weights.items()}
    logits, loss = forward(p, torch.tensor(tokens), torch.tensor(targets))
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in p.items()}
    opt = torch.optim.AdamW(list(p.values()), lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    opt.step()
    return (logits.detach().numpy(), loss.detach().numpy(),
            {k: v.numpy() for k, v in grads.items()},
            {k: v.detach().numpy() for k, v in p.items()})


def write_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer (F32 and I64 only)."""
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.asarray(a)  # not ascontiguousarray: it turns rank 0 into [1]
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# AdamW's first step moves each weight by about lr * g / (|g| + eps): where |g| is at the
# f32 noise level of the gradient (the key bias of c_attn, whose exact gradient is 0 since
# softmax ignores a per-row shift of the scores, and units whose gelu input is far
# negative), the update is noise. Only elements with |g| >= WELL_CONDITIONED * max|g| of
# their tensor are compared tightly (the test applies the same rule).
WELL_CONDITIONED = 1e-4


def rel_adamw(u, ref, g):
    keep = np.abs(g) >= WELL_CONDITIONED * np.max(np.abs(g))
    return float(np.max(np.abs(u.astype(np.float64) - ref)[keep]) / np.max(np.abs(ref)))


def rel(a, ref):
    """max |a - ref| / max |ref|."""
    return float(np.max(np.abs(a.astype(np.float64) - ref)) / max(np.max(np.abs(ref)), 1e-30))


def main():
    rng = np.random.default_rng(SEED)
    weights = make_weights(rng)
    tokens = rng.integers(0, VOCAB, size=(B, T)).astype(np.int64)
    targets = rng.integers(0, VOCAB, size=(B, T)).astype(np.int64)
    l32, s32, g32, u32 = run(weights, tokens, targets, torch.float32)
    l64, s64, g64, u64 = run(weights, tokens, targets, torch.float64)
    # The f32 noise floor: PyTorch f32 against PyTorch f64, per category.
    floor = {"logits": rel(l32, l64), "loss": rel(s32, s64),
             "grads": max(rel(g32[k], g64[k]) for k in g32),
             "adamw": max(rel_adamw(u32[k], u64[k], g32[k]) for k in u32)}
    meta = {f"f32_noise_{k}": f"{v:.3e}" for k, v in floor.items()}
    os.makedirs(OUT_DIR, exist_ok=True)
    write_safetensors(os.path.join(OUT_DIR, "inputs.safetensors"),
                      {"tokens": tokens, "targets": targets})
    write_safetensors(os.path.join(OUT_DIR, "weights.safetensors"), weights)
    write_safetensors(os.path.join(OUT_DIR, "outputs.safetensors"),
                      {"logits": l32, "loss": np.asarray(s32, np.float32)}, meta)
    write_safetensors(os.path.join(OUT_DIR, "grads.safetensors"), g32)
    write_safetensors(os.path.join(OUT_DIR, "adamw.safetensors"), u32)
    print("loss", float(s32), "f32 noise floor", floor)
    for k in g32:
        print(f"  {k:24s} f32-vs-f64 grad {rel(g32[k], g64[k]):.2e} "
              f"adamw {rel_adamw(u32[k], u64[k], g32[k]):.2e}")


if __name__ == "__main__":
    main()
