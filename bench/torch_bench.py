#!/usr/bin/env python3
"""torch_bench.py: the PyTorch side of tevo's benchmark suite, one case per process.

Same case names, shapes and timing rule as tevo-bench (bench/cases.cpp, bench/variants.cpp,
bench/timing.cpp):
warm-up runs, then the median of N wall-clock runs (N between --min-runs and --max-runs,
as many as fit in --budget seconds). Prints one JSON line. Peak memory is the process's
VmHWM; baseline_rss_bytes is VmRSS after `import torch` and set_num_threads, before the
case allocates anything. Run with OMP_WAIT_POLICY=PASSIVE (bench/run.py sets it).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
GPT_DATA = os.path.join(HERE, "..", "examples", "data", "perldiag.txt")

BLOCK_SIZES = {"block_s": (8, 256, 256, 8), "block_l": (4, 512, 512, 8)}
# examples/gpt "small" (gpt.cpp config_by_name), as bench/cases.cpp GptSmall.
GPT_SMALL = dict(block=128, n_layer=4, n_head=4, n_embd=128, batch=32, steps=3000,
                 warmup=100, lr=3e-3)


def status_bytes(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def uniform(*shape, gen):
    return torch.rand(*shape, generator=gen) * 2 - 1


class Block(nn.Module):
    """GPT-2 block: pre-LN, causal self-attention (fused qkv), GELU-tanh MLP 4x."""

    def __init__(self, C, H, T):
        super().__init__()
        self.n_head = H
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)
        self.register_buffer("keep", torch.tril(torch.ones(T, T, dtype=torch.bool)))

    def attn(self, x):
        B, T, C = x.shape
        H = self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))
        s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
        s = s.masked_fill(~self.keep[:T, :T], float("-inf"))
        y = torch.softmax(s, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    """GPT-2 as nn::GPT: token + learned position embeddings, blocks, ln_f, tied head."""

    def __init__(self, V, T, L, H, C):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList(Block(C, H, T) for _ in range(L))
        self.ln_f = nn.LayerNorm(C, eps=1e-5)

    def forward(self, tokens):
        T = tokens.shape[1]
        x = self.wte(tokens) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.t()


def corpus_vocab():
    with open(GPT_DATA, "rb") as f:
        return len(set(f.read()))


def block_flops(B, T, C):
    return 2.0 * B * T * C * 12 * C + 4.0 * B * T * T * C


def parse_variant(name):
    """(family, form, width, n) of a variant case name (bench/variants.h), else None."""
    parts = name.split("-")
    if len(parts) != 4 or parts[0] not in ("linattn", "causal", "longconv", "ssm", "alibi"):
        return None
    family, form, w, n = parts
    forms = dict(linattn=("naive", "right"), causal=("naive", "sdpa"), alibi=("naive", "sdpa"),
                 longconv=("direct", "fft"), ssm=("naive",))[family]
    prefix = "d" if family in ("longconv", "ssm") else "h"
    if form not in forms or not w.startswith(prefix) or not n.startswith("n") \
            or not w[1:].isdigit() or not n[1:].isdigit() or int(w[1:]) < 1 or int(n[1:]) < 1:
        raise SystemExit(f"torch_bench.py: bad variant case '{name}'")
    return family, form, int(w[1:]), int(n[1:])


def make_variant(family, form, w, n, gen):
    """The variant cases as bench/variants.cpp writes them, in PyTorch eager (no autograd)."""
    if family == "linattn":
        d = m = 64
        q, k, v = uniform(1, w, n, d, gen=gen), uniform(1, w, n, d, gen=gen), uniform(1, w, n, m, gen=gen)
        info = dict(shape=f"B1 H{w} N{n} d=m=64")

        def phi(x):
            return F.elu(x) + 1

        def naive():
            a = phi(q) @ phi(k).transpose(-2, -1)
            return (a / a.sum(-1, keepdim=True)) @ v

        def right():
            pq, pk = phi(q), phi(k)
            z = pk.sum(-2, keepdim=True).transpose(-2, -1)
            return (pq @ (pk.transpose(-2, -1) @ v)) / (pq @ z)
        return (naive if form == "naive" else right), info
    if family == "causal":
        q, k, v = (uniform(1, w, n, 64, gen=gen) for _ in range(3))
        info = dict(shape=f"B1 H{w} N{n} d=64")
        if form == "sdpa":
            if not hasattr(F, "scaled_dot_product_attention"):
                raise RuntimeError(f"unavailable: torch {torch.__version__} has no "
                                   "scaled_dot_product_attention (torch >= 2 needed)")
            return (lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)), info
        keep = torch.tril(torch.ones(n, n, dtype=torch.bool))
        scale = 1.0 / math.sqrt(64)

        def naive():
            s = (q @ k.transpose(-2, -1)) * scale
            s = s.masked_fill(~keep, float("-inf"))
            return torch.softmax(s, dim=-1) @ v
        return naive, info
    if family == "alibi":  # ALiBi: bias -slope_h (i - j), causal (nn's slopes 2^(-8 (h+1) / H))
        q, k, v = (uniform(1, w, n, 64, gen=gen) for _ in range(3))
        info = dict(shape=f"B1 H{w} N{n} d=64 ALiBi")
        slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / w) for h in range(w)]).reshape(w, 1, 1)
        i = torch.arange(n, dtype=torch.float32).reshape(n, 1)
        j = torch.arange(n, dtype=torch.float32).reshape(1, n)
        keep = j <= i
        scale = 1.0 / math.sqrt(64)
        if form == "sdpa":
            if not hasattr(F, "scaled_dot_product_attention"):
                raise RuntimeError(f"unavailable: torch {torch.__version__} has no "
                                   "scaled_dot_product_attention (torch >= 2 needed)")
            # The strongest baseline: the [H, N, N] float mask built once, outside the timing.
            mask = (-slopes * (i - j)).masked_fill(~keep, float("-inf"))
            return (lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)), info

        def naive():
            s = (q @ k.transpose(-2, -1)) * scale - slopes * (i - j)
            s = s.masked_fill(~keep, float("-inf"))
            return torch.softmax(s, dim=-1) @ v
        return naive, info
    if family == "ssm":  # the masked decay-power matrix, as bench/variants.cpp's naive form
        g, u = uniform(w, gen=gen), uniform(1, w, n, 1, gen=gen)
        info = dict(shape=f"B1 P{w} N{n} diagonal, causal")
        log_a = (torch.exp(g) * -0.01).reshape(w, 1, 1)
        i = torch.arange(n, dtype=torch.float32).reshape(n, 1)
        j = torch.arange(n, dtype=torch.float32).reshape(1, n)

        def naive():
            m = torch.where(j <= i, torch.exp(log_a * torch.relu(i - j)), 0.0)
            return m @ u
        return naive, info
    x, h = uniform(1, w, n, gen=gen), uniform(w, n, gen=gen)
    info = dict(shape=f"B1 D{w} N{n} kernel N, causal")
    if form == "direct":  # conv1d is a correlation: the taps are h reversed
        return (lambda: F.conv1d(F.pad(x, (n - 1, 0)), h.flip(-1).unsqueeze(1), groups=w)), info

    def fft():
        y = torch.fft.irfft(torch.fft.rfft(x, n=2 * n) * torch.fft.rfft(h, n=2 * n), n=2 * n)
        return y[..., :n]
    return fft, info


def make_case(name):
    """Returns (fn, info): fn runs the case once; info has shape/flops/bytes."""
    gen = torch.Generator().manual_seed(1)
    variant = parse_variant(name)
    if variant:
        fn, info = make_variant(*variant, gen)

        def no_grad():
            with torch.no_grad():
                return fn()
        return no_grad, info
    if name.startswith("sgemm"):
        n = int(name[5:])
        a, b = uniform(n, n, gen=gen), uniform(n, n, gen=gen)
        c = torch.empty(n, n)
        return (lambda: torch.matmul(a, b, out=c)), dict(shape=f"M=N=K={n}", flops=2.0 * n**3)
    if name.startswith("softmax") or name.startswith("layernorm"):
        rows = int(name.lstrip("softmaxlayernorm"))
        x = uniform(rows, rows, gen=gen)
        info = dict(shape=f"{rows}x{rows} f32, over rows", bytes=8.0 * rows * rows)
        if name.startswith("softmax"):
            return (lambda: torch.softmax(x, dim=-1)), info
        w, b = uniform(rows, gen=gen), uniform(rows, gen=gen)
        return (lambda: F.layer_norm(x, (rows,), w, b, 1e-5)), info
    if name.startswith("block_"):
        key, mode = name.rsplit("_", 1)
        B, T, C, H = BLOCK_SIZES[key]
        blk = Block(C, H, T)
        x = uniform(B, T, C, gen=gen)
        info = dict(shape=f"B{B} T{T} C{C} H{H}", flops=block_flops(B, T, C))
        if mode == "fwd":
            def fwd():
                with torch.no_grad():
                    return blk(x)
            return fwd, info
        dy = uniform(B, T, C, gen=gen)
        x.requires_grad_(True)

        def fwdbwd():
            blk.zero_grad(set_to_none=True)
            x.grad = None
            blk(x).backward(dy)
        info["flops"] *= 3
        return fwdbwd, info
    if name == "train_gpt":
        g = GPT_SMALL
        V = corpus_vocab()
        model = GPT(V, g["block"], g["n_layer"], g["n_head"], g["n_embd"])
        opt = torch.optim.AdamW(model.parameters(), lr=g["lr"], betas=(0.9, 0.95), eps=1e-8,
                                weight_decay=0.01)
        tokens = torch.randint(0, V, (g["batch"], g["block"]), generator=gen)
        targets = torch.randint(0, V, (g["batch"], g["block"]), generator=gen)
        state = {"step": 0}

        def lr_at(step):  # warmup + cosine to lr/10, as train::LrSchedule::warmup_cosine
            lr, w, total = g["lr"], g["warmup"], g["steps"]
            if step < w:
                return lr * (step + 1) / w
            p = min(1.0, (step - w) / max(1, total - w))
            return lr / 10 + 0.5 * (lr - lr / 10) * (1 + math.cos(math.pi * p))

        def train_step():
            for pg in opt.param_groups:
                pg["lr"] = lr_at(state["step"])
            opt.zero_grad(set_to_none=True)
            logits = model(tokens)
            loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            return loss
        C, T, B, L = g["n_embd"], g["block"], g["batch"], g["n_layer"]
        flops = 3.0 * (L * block_flops(B, T, C) + 2.0 * B * T * C * V)
        shape = f"L{L} C{C} H{g['n_head']} B{B} T{T} V{V}"
        return train_step, dict(shape=shape, flops=flops)
    raise SystemExit(f"torch_bench.py: unknown case '{name}'")


def measure(fn, warmup, min_runs, max_runs, budget):
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < max_runs:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        if len(samples) >= min_runs and time.perf_counter() - start >= budget:
            break
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-runs", type=int, default=5)
    ap.add_argument("--max-runs", type=int, default=50)
    ap.add_argument("--budget", type=float, default=2.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = dict(case=a.case, system="torch", threads=a.threads, torch_version=torch.__version__)
    out["baseline_rss_bytes"] = status_bytes("VmRSS")
    try:
        fn, info = make_case(a.case)
        s = measure(fn, a.warmup, a.min_runs, a.max_runs, a.budget)
        med = statistics.median(s)
        out.update(shape=info["shape"], median_s=med, min_s=min(s), runs=len(s),
                   warmup=a.warmup, samples_s=[round(v, 6) for v in s])
        if "flops" in info:
            out["gflops"] = info["flops"] / med * 1e-9
        if "bytes" in info:
            out["gbps"] = info["bytes"] / med * 1e-9
        out["ok"] = True
    except Exception as e:  # reported in the table, never a traceback in the middle of it
        msg = str(e)
        out.update(ok=False, error=msg if msg.startswith("unavailable:") else f"{type(e).__name__}: {msg}")
    out["peak_rss_bytes"] = status_bytes("VmHWM")
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
