"""run_variants.py: the "variants" suite of bench/run.py (issue 5): linear attention, causal
softmax attention, long convolution and the diagonal SSM, each as tevo naive / tevo with rewrites off / the
hand-written form, and PyTorch eager's forms, over a sweep of sequence lengths N.

Every measurement runs in its own process (tevo-bench or torch_bench.py) with the suite's
timing rule. A measurement is skipped ("skipped (limit)" / "skipped (memory)") when the
same system's measurements at smaller N predict that it would run past --variant-limit
seconds (warm-up + minimum runs) or need more than --variant-mem-gib of memory; the
prediction extrapolates the last two points (growth exponent clamped to [1, 2]; 2 with one
point), so a form the compiler makes linear is not skipped for the quadratic form's sake.
"""
import math
import os

# Passes of CompileOptions::pipeline without any rewrite: the "rewrites off" systems.
# The rewrites (reassociation, attention recognition, FFT lowering) are pipeline passes
# that this list leaves out.
NO_REWRITES_PIPELINE = "canonicalize,cse,dce"

# family -> (widths, N sweep); width = heads (attention) or channels (long conv).
FAMILIES = {
    "linattn": dict(width=[1], n=[1024, 2048, 4096, 8192, 16384, 32768], prefix="h",
                    title="Linear attention (non-causal, phi = elu+1, B=1, d=m=64)"),
    "causal": dict(width=[8], n=[1024, 2048, 4096, 8192, 16384], prefix="h",
                   title="Causal softmax attention (B=1, H=8, d=64)"),
    "longconv": dict(width=[64], n=[1024, 2048, 4096, 8192, 16384, 32768, 65536], prefix="d",
                     title="Long convolution (causal, depthwise, B=1, D=64, kernel length N)"),
    "ssm": dict(width=[16], n=[1024, 2048, 4096, 8192, 16384, 65536], prefix="d",
                title="Diagonal SSM / decay recurrence (S5-style masked decay matrix, B=1, P=16)"),
    "alibi": dict(width=[8], n=[1024, 2048, 4096, 8192, 16384], prefix="h",
                  title="Causal softmax attention with ALiBi (B=1, H=8, d=64)"),
}

# Fused attention without toeplitz-bias: the ALiBi bias stays an [H, N, N] operand.
FUSED_BIAS_PIPELINE = "canonicalize,cse,fuse-attention,canonicalize,cse,dce"

# family -> columns: (key, label, runner, form). Runners: jit (default pipeline), jit-off
# (NO_REWRITES_PIPELINE), torch (the --python), torch-sdpa (a torch >= 2 when one is found).
COLUMNS = {
    "linattn": [("naive", "tevo naive", "jit", "naive"),
                ("off", "tevo naive, rewrites off", "jit-off", "naive"),
                ("right", "tevo hand right", "jit", "right"),
                ("t_left", "torch left", "torch", "naive"),
                ("t_right", "torch right", "torch", "right")],
    "causal": [("naive", "tevo naive", "jit", "naive"),
               ("off", "tevo rewrites off", "jit-off", "naive"),
               ("t_naive", "torch naive", "torch", "naive"),
               ("t_sdpa", "torch sdpa", "torch-sdpa", "sdpa")],
    "longconv": [("naive", "tevo naive", "jit", "direct"),
                 ("off", "tevo direct, rewrites off", "jit-off", "direct"),
                 ("t_direct", "torch conv1d", "torch", "direct"),
                 ("t_fft", "torch.fft", "torch", "fft")],
    "ssm": [("naive", "tevo naive", "jit", "naive"),
            ("off", "tevo naive, rewrites off", "jit-off", "naive"),
            ("scan", "tevo hand scan", "jit", "scan"),
            ("t_naive", "torch naive", "torch", "naive")],
    "alibi": [("naive", "tevo naive", "jit", "naive"),
              ("off", "tevo rewrites off", "jit-off", "naive"),
              ("bias", "tevo fused, [H,N,N] bias", "jit-bias", "naive"),
              ("t_naive", "torch naive", "torch", "naive"),
              ("t_sdpa", "torch sdpa + mask", "torch-sdpa", "sdpa")],
}

# Short column names for the memory cell.
SHORT = dict(naive="naive", off="off", right="right", t_left="t.left", t_right="t.right",
             t_naive="t.naive", t_sdpa="t.sdpa", direct="direct", fft="fft",
             t_direct="t.conv", t_fft="t.fft", scan="scan", bias="bias")

DOC_BEGIN, DOC_END = "<!-- bench-variants:begin -->", "<!-- bench-variants:end -->"
DOC_TITLE = """## Attention variants (issue 5)

Forward only, f32, B=1; times are medians after 1 warm-up (3 to 30 runs, as many as fit in
2 s), measured for every system of a row back to back, three rounds, each system keeping
its best round (this host is shared: noise only slows runs down); "skipped (limit)" / "skipped (memory)": smaller N predicted a measurement over the
time limit or the memory cap (bench/README.md). tevo naive = the naive graph through
`cpu::compile`'s default pipeline; rewrites off = the same graph with
`CompileOptions::pipeline = "%s"`; form = what the compiled plan computes (left: an N x N
matmul; materialised: an N x N score buffer; direct: a direct convolution, fft: FFTs). MiB: tevo =
arena + inputs + outputs; torch = peak RSS - RSS after import. Ratios are time ratios.

""" % NO_REWRITES_PIPELINE


def case_name(family, form, width, n):
    return f"{family}-{form}-{FAMILIES[family]['prefix']}{width}-n{n}"


def find_sdpa_python(default):
    """A Python whose torch has scaled_dot_product_attention: bench/.venv, then
    $TEVO_TORCH_PYTHON, then `default`; the first that has it, else `default`."""
    import subprocess
    here = os.path.dirname(os.path.abspath(__file__))
    cands = [os.path.join(here, ".venv", "bin", "python"), os.environ.get("TEVO_TORCH_PYTHON")]
    for py in [c for c in cands if c and os.path.exists(c)] + [default]:
        try:
            p = subprocess.run([py, "-c", "import torch.nn.functional as F; "
                                "print(hasattr(F, 'scaled_dot_product_attention'))"],
                               capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if p.stdout.strip() == "True":
            return py
    return default


def keep_best(best, key, r):
    """Keeps in best[key] the round of `key` with the lowest median (the first record when
    none succeeded); every successful round's median is listed in its round_medians."""
    if key not in best or (r.get("ok") and (not best[key].get("ok") or
                                            r["median_s"] < best[key]["median_s"])):
        r["round_medians"] = best.get(key, {}).get("round_medians", [])
        best[key] = r
    if r.get("ok"):
        best[key]["round_medians"].append(r["median_s"])


def mem_bytes(r):
    """The case's own memory: tevo = arena + inputs + outputs; torch = VmHWM - baseline."""
    if not r or not r.get("ok"):
        return None
    if r.get("system", "").startswith("torch"):
        return r["peak_rss_bytes"] - r["baseline_rss_bytes"]
    return r.get("arena_bytes", 0) + r.get("io_bytes", 0)


def extrapolate(points, n, default_exp=2.0):
    """Value at n from the last two (n, value) points, growth exponent in [1, 2]."""
    (n1, v1) = points[-1]
    e = default_exp
    if len(points) >= 2:
        n0, v0 = points[-2]
        if v0 > 0 and v1 > 0 and n1 > n0:
            e = min(2.0, max(1.0, math.log(v1 / v0) / math.log(n1 / n0)))
    return v1 * (n / n1) ** e


def form_label(family, r):
    """What the compiled plan computes, from tevo-bench's plan statistics."""
    if not r or not r.get("ok") or "nxn_buffers" not in r:
        return ""
    if family == "linattn":
        return "left" if r["nxn_matmuls"] > 0 or r["nxn_buffers"] > 0 else "right"
    if family == "causal":
        return "materialised" if r["nxn_buffers"] > 0 else "fused"
    if family == "alibi":
        if "attention" not in r.get("runtime_op_names", ""):
            return "materialised"
        return "fused, N x N bias" if r["nxn_buffers"] > 0 else "fused, table"
    if family == "ssm":
        return "matrix" if r["nxn_matmuls"] > 0 or r["nxn_buffers"] > 0 else "scan"
    ops = r.get("runtime_op_names", "")
    if r["conv_steps"] > 0 or "depthwise_conv1d" in ops:
        return "direct"
    return "fft" if "rfft" in ops or "fft_conv" in ops else "other"


class VariantRunner:
    """Runs the variant sweep on a bench/run.py Runner (its processes and records)."""

    def __init__(self, run, args, log):
        self.run, self.a, self.log = run, args, log
        self.timing = [f"--warmup={args.variant_warmup}", f"--min-runs={args.variant_min_runs}",
                       f"--max-runs={args.max_runs}", f"--budget={args.budget}"]
        self.sdpa_python = None if args.no_torch else find_sdpa_python(args.python)
        self.results = []

    def measure(self, runner, case, threads):
        timeout = self.a.variant_limit + 120  # compile, process start, torch import
        if runner in ("jit", "jit-off", "jit-bias"):
            extra = {"jit": [], "jit-off": [f"--pipeline={NO_REWRITES_PIPELINE}"],
                     "jit-bias": [f"--pipeline={FUSED_BIAS_PIPELINE}"]}[runner]
            cmd = [self.run.bench, "--system=jit", f"--case={case}", f"--threads={threads}"]
            r = self.run.run_json(cmd + self.timing + extra, env=self.run.tevo_env,
                                  timeout=timeout)
        else:
            py = self.sdpa_python if runner == "torch-sdpa" else self.a.python
            cmd = [py, os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_bench.py"),
                   f"--case={case}", f"--threads={threads}"]
            r = self.run.run_json(cmd + self.timing, env=self.run.torch_env, timeout=timeout)
        if not r.get("ok") and r.get("error", "").startswith("timed out"):
            r["error"] = f"skipped (limit): {r['error']}"
        return r

    def sweep(self, family, widths, ns, threads):
        """Every column at one N back to back (then the next N), so the systems compared
        in a row meet the same machine; each N is measured --variant-rounds times over all
        columns, interleaved, and a column keeps its best round (lowest median): on a shared
        host, noise only ever slows a run down."""
        a = self.a
        for width in widths:
            state = {key: dict(times=[], mems=[], stop=None) for key, *_ in COLUMNS[family]}
            for n in ns:
                best = {}
                for _ in range(a.variant_rounds):
                    for key, label, runner, form in COLUMNS[family]:
                        if key in best and not best[key].get("ok"):
                            continue  # skipped or failed: no second try
                        keep_best(best, key, self.one(runner, case_name(family, form, width, n),
                                                      threads, n, state[key]))
                for key, label, runner, form in COLUMNS[family]:
                    r, st = best[key], state[key]
                    if r.get("ok"):
                        st["times"].append((n, r["median_s"]))
                        st["mems"].append((n, max(1, mem_bytes(r) or 1)))
                    elif r.get("error", "").startswith("skipped"):
                        st["stop"] = r["error"].split(":")[0]  # larger N would not fit either
                    r.update(case=case_name(family, form, width, n), family=family, column=key,
                             label=label, width=width, n=n, threads=threads,
                             system=runner.replace("torch-sdpa", "torch"))
                    self.run.record(r)
                    self.results.append(r)

    def one(self, runner, case, threads, n, st):
        """One measurement, or the reason it is skipped (predicted from smaller N)."""
        a = self.a
        if runner.startswith("torch") and a.no_torch:
            return dict(ok=False, error="skipped (--no-torch)")
        if st["stop"]:
            return dict(ok=False, error=st["stop"])
        if st["times"]:
            runs = a.variant_warmup + a.variant_min_runs
            t = extrapolate(st["times"], n) * runs
            m = extrapolate(st["mems"], n) if st["mems"] else 0
            r = None
            if m > a.variant_mem_gib * 2**30:
                r = dict(ok=False, error="skipped (memory)")
            elif t > a.variant_limit:
                r = dict(ok=False, error="skipped (limit)")
            if r:
                r.update(predicted_s=t, predicted_bytes=m)
                return r
        return self.measure(runner, case, threads)

    def run_all(self):
        for family in self.a.variant_families:
            spec = FAMILIES[family]
            ns = self.a.variant_n or spec["n"]
            widths = self.a.linattn_heads if family == "linattn" else spec["width"]
            for threads in self.a.threads:
                self.log(f"[variants: {family}, {threads} thread{'s' if threads > 1 else ''}]")
                self.sweep(family, widths, ns, threads)
        return self.results


def lookup(results, family, key, width, n, threads):
    for r in results:
        if (r.get("family"), r.get("column"), r.get("width"), r.get("n"), r.get("threads")) == \
                (family, key, width, n, threads):
            return r
    return None


def fmt_t(r):
    if r is None:
        return ""
    if not r.get("ok"):
        e = r.get("error", "failed")
        if e.startswith("skipped"):
            return e.split(":")[0]
        return "unavailable" if "unavailable" in e or "not supported" in e else "failed"
    t = r["median_s"]
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def fmt_mib(r):
    m = mem_bytes(r)
    return "-" if m is None else (f"{m / 2**20:.0f}" if m >= 10 * 2**20 else f"{m / 2**20:.1f}")


def ratio(a, b):
    if a and b and a.get("ok") and b.get("ok"):
        return a["median_s"] / b["median_s"]
    return None


def fmt_x(x):
    return "" if x is None else (f"{x:.0f}x" if x >= 100 else f"{x:.2f}x")


def build_rows(results, args):
    """One row per (family, width, N, threads) with every column's record."""
    rows = []
    for family in args.variant_families:
        spec = FAMILIES[family]
        widths = args.linattn_heads if family == "linattn" else spec["width"]
        for threads in args.threads:
            for width in widths:
                for n in args.variant_n or spec["n"]:
                    cols = {k: lookup(results, family, k, width, n, threads)
                            for k, _, _, _ in COLUMNS[family]}
                    if not any(cols.values()):
                        continue
                    row = dict(family=family, width=width, n=n, threads=threads)
                    for k, r in cols.items():
                        row[k + "_s"] = r["median_s"] if r and r.get("ok") else None
                        row[k + "_mem_bytes"] = mem_bytes(r)
                        row[k + "_status"] = "ok" if r and r.get("ok") else (r or {}).get("error")
                        if r and "nxn_buffers" in r:
                            row[k + "_form"] = form_label(family, r)
                    rows.append((row, cols))
    return rows


def predicted_mem(results, r):
    """Memory of a skipped measurement `r`, extrapolated from its column's measured N."""
    pts = sorted((x["n"], mem_bytes(x)) for x in results
                 if x.get("ok") and x["n"] < r["n"] and (x["family"], x["column"], x["width"],
                     x["threads"]) == (r["family"], r["column"], r["width"], r["threads"]))
    return extrapolate(pts, r["n"]) if pts else None


def targets(rows, results):
    """Issue 5's acceptance figures in this run (N = 16384)."""
    out = []

    def t(row, name, value, passed):
        out.append(dict(family=row["family"], width=row["width"], n=row["n"],
                        threads=row["threads"], target=name,
                        value=value, status="n/a" if passed is None else
                        ("PASS" if passed else "FAIL")))
    for row, c in rows:
        if row["n"] != 16384:
            continue
        if row["family"] == "linattn":
            for other, name in (("right", "tevo hand right"), ("t_right", "torch right")):
                x = ratio(c["naive"], c[other])
                t(row, f"tevo naive within 1.2x of {name}", fmt_x(x) or "n/a",
                  None if x is None else x <= 1.2)
            for other, name in (("off", "tevo left (rewrites off)"), ("t_left", "torch left")):
                x = ratio(c[other], c["naive"])
                t(row, f"tevo naive >= 200x faster than {name}",
                  fmt_x(x) or fmt_t(c[other]) or "n/a", None if x is None else x >= 200)
        if row["family"] == "causal":
            m, off, note = mem_bytes(c["naive"]), mem_bytes(c["off"]), ""
            if off is None and c["off"] and c["off"].get("error", "").startswith("skipped"):
                off, note = predicted_mem(results, c["off"]), " (predicted: skipped)"
            t(row, "tevo naive peak memory < 1/10 of rewrites off",
              f"{m / 2**20:.0f} vs {off / 2**20:.0f} MiB{note}" if m and off else
              f"naive: {fmt_t(c['naive']) or 'n/a'}, off: {fmt_t(c['off']) or 'n/a'}",
              None if not (m and off) else m * 10 < off)
            x = ratio(c["naive"], c["t_sdpa"])
            t(row, "tevo naive time <= torch sdpa", fmt_x(x) or fmt_t(c["t_sdpa"]) or "n/a",
              None if x is None else x <= 1.0)
    return out


def table(rows, tgts, results, args):
    md = []
    for family in args.variant_families:
        fr = [(r, c) for r, c in rows if r["family"] == family]
        if not fr:
            continue
        cols = COLUMNS[family]
        head = ["H" if family in ("linattn", "causal", "alibi") else "W", "N", "thr"] + \
            [lab for _, lab, _, _ in cols]
        if family == "linattn":
            head += ["form (naive / off)", "naive / right", "left / naive", "torch left / right"]
        elif family == "causal":
            head += ["form (naive / off)", "off / naive", "naive / torch sdpa"]
        elif family == "ssm":
            head += ["form (naive / off)", "off / naive", "naive / scan", "torch naive / naive"]
        elif family == "alibi":
            head += ["form (naive / off)", "off / naive", "bias / naive", "naive / torch sdpa"]
        else:
            head += ["form (naive / off)", "off / naive", "naive / torch.fft"]
        head += ["MiB: " + " / ".join(SHORT[k] for k, _, _, _ in cols)]
        lines = [head]
        for r, c in fr:
            line = [str(r["width"]), f"{r['n'] // 1024}k" if r["n"] % 1024 == 0 else str(r["n"]),
                    str(r["threads"])] + [fmt_t(c[k]) for k, _, _, _ in cols]
            k0, k1 = cols[0][0], cols[1][0]
            forms = f"{r.get(k0 + '_form', '') or '-'} / {r.get(k1 + '_form', '') or '-'}"
            if family == "linattn":
                line += [forms, fmt_x(ratio(c["naive"], c["right"])),
                         fmt_x(ratio(c["off"], c["naive"])), fmt_x(ratio(c["t_left"], c["t_right"]))]
            elif family == "causal":
                line += [forms, fmt_x(ratio(c["off"], c["naive"])),
                         fmt_x(ratio(c["naive"], c["t_sdpa"]))]
            elif family == "ssm":
                line += [forms, fmt_x(ratio(c["off"], c["naive"])),
                         fmt_x(ratio(c["naive"], c["scan"])),
                         fmt_x(ratio(c["t_naive"], c["naive"]))]
            elif family == "alibi":
                line += [forms, fmt_x(ratio(c["off"], c["naive"])),
                         fmt_x(ratio(c["bias"], c["naive"])),
                         fmt_x(ratio(c["naive"], c["t_sdpa"]))]
            else:
                line += [forms, fmt_x(ratio(c["off"], c["naive"])),
                         fmt_x(ratio(c["naive"], c["t_fft"]))]
            line.append(" / ".join(fmt_mib(c[k]) for k, _, _, _ in cols))
            lines.append(line)
        w = [max(len(l[i]) for l in lines) for i in range(len(head))]
        text = ["| " + " | ".join(x.ljust(w[i]) for i, x in enumerate(l)) + " |" for l in lines]
        text.insert(1, "|" + "|".join("-" * (x + 2) for x in w) + "|")
        md += [f"**{FAMILIES[family]['title']}**", ""] + text + [""]
    if tgts:
        md += ["| target (N=16k) | H | thr | measured | status |", "|---|---|---|---|---|"]
        md += [f"| {x['target']} | {x['width']} | {x['threads']} | {x['value']} | {x['status']} |"
               for x in tgts]
        md.append("")
    errs = sorted({(r.get("label"), r.get("error")) for r in results if not r.get("ok")
                   and not r.get("error", "").startswith("skipped")})
    if errs:
        md.append("Not measured: " + "; ".join(f"{l}: {e}" for l, e in errs) + ".")
    return "\n".join(md).rstrip()
