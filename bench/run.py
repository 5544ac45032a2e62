#!/usr/bin/env python3
"""run.py: tevo's benchmark suite, side by side with PyTorch, in one go (`make bench`).

For every case and thread count it runs, each in its own process (so that the peak RSS
is that case's alone): tevo JIT and tevo AOT (tevo-bench), PyTorch (torch_bench.py),
oneDNN alone (sgemm cases), and the f64 reference interpreter where it finishes in
reasonable time (one run, single-threaded, with a tevo-vs-interpreter check). The
machine's FMA peak and copy bandwidth are measured in the same run. Prints one table,
writes bench/results/<YYYY-MM-DD>.json (never over an existing file: -2, -3, ... are
appended) and, with --update-docs, docs/PERFORMANCE.md.

Two suites: "issue4" (the cases above) and "variants" (issue 5: linear attention, causal
softmax attention and long convolution over a sweep of N; run_variants.py), both by
default; --suite selects one (its JSON is then <date>-<suite>.json, with the families
appended when --variant-families picks some: <date>-variants-alibi.json; --update-docs
rewrites only that suite's part of docs/PERFORMANCE.md).
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import run_variants

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CASES = ["sgemm1024", "sgemm2048", "softmax4096", "layernorm4096", "block_s_fwd",
         "block_s_fwdbwd", "block_l_fwd", "block_l_fwdbwd", "train_gpt"]
# The interpreter (f64, simple loops, one thread) runs only these, once each.
INTERP_CASES = ["sgemm1024", "softmax4096", "layernorm4096", "block_s_fwd", "block_s_fwdbwd"]
COPY_BYTES = 4096 * 4096 * 4  # the row-wise cases' input size
DOC_BEGIN, DOC_END = "<!-- bench:begin -->", "<!-- bench:end -->"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Runner:
    def __init__(self, args):
        self.a = args
        self.bench = os.path.join(args.build, "bench", "tevo-bench")
        self.tevo = os.path.join(args.build, "tools", "tevo")
        self.timing = [f"--warmup={args.warmup}", f"--min-runs={args.min_runs}",
                       f"--max-runs={args.max_runs}", f"--budget={args.budget}"]
        self.results = []
        self.torch_env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
        # tevo runs under the same OpenMP wait policy as PyTorch (equal conditions; with
        # libgomp's default spin-then-sleep a 2-thread GPT block ran 2x slower here).
        self.tevo_env = dict(os.environ)
        if args.tevo_omp_wait:
            self.tevo_env["OMP_WAIT_POLICY"] = args.tevo_omp_wait
        # Debian's OpenBLAS takes this virtualised CPU for an old "Prescott" and runs its
        # SSE3 kernels (5x slower): name the core it really has unless the user did.
        flags = cpu_flags()
        if "OPENBLAS_CORETYPE" not in os.environ and flags:
            self.torch_env["OPENBLAS_CORETYPE"] = "SkylakeX" if "avx512f" in flags else "Haswell"
        self.tmp = tempfile.mkdtemp(prefix="tevo-bench-")
        self.cpu = cpu_model()

    def run_json(self, cmd, env=None, timeout=None):
        """Runs one measurement process; returns its JSON line (or an error record)."""
        t0 = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                               timeout=timeout or self.a.timeout)
        except subprocess.TimeoutExpired:
            return dict(ok=False, error=f"timed out after {timeout or self.a.timeout} s")
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        if not lines:
            err = (p.stderr.strip().splitlines() or ["no output"])[-1]
            return dict(ok=False, error=f"exit {p.returncode}: {err}")
        r = json.loads(lines[-1])
        r["process_s"] = time.time() - t0
        return r

    def record(self, r, **kw):
        r.update(kw)
        self.results.append(r)
        err = r.get("error", "")
        status = "ok" if r.get("ok") else (err if err.startswith("skipped") else "FAILED: " + err)
        t = r.get("median_s")
        log(f"  {r.get('case') or '-':15} {r.get('system'):14} {r.get('threads')}t  "
            f"{'%.4g s' % t if t else '':12} {status if not r.get('ok') else ''}")

    def measure(self, system, case, threads, extra=(), timeout=None):
        """One tevo-bench measurement process (not recorded)."""
        cmd = [self.bench, f"--system={system}", f"--case={case}", f"--threads={threads}"]
        return self.run_json(cmd + self.timing + list(extra), env=self.tevo_env, timeout=timeout)

    def tevo_bench(self, system, case, threads, extra=(), timeout=None):
        r = self.measure(system, case, threads, extra, timeout)
        self.record(r, case=case, system=system, threads=threads)
        return r

    def machine(self, threads):
        self.tevo_bench("peak", "", threads)
        self.tevo_bench("copy", "", threads, [f"--bytes={COPY_BYTES}"])

    def aot_library(self, case):
        """tevo compile --emit=shared of the case's graph; (path, name, seconds) or error."""
        tir = os.path.join(self.tmp, case + ".tir")
        w = self.run_json([self.bench, "--system=write-tir", f"--case={case}", f"--out={tir}"])
        if not w.get("ok"):
            return None, w.get("error")
        lib = os.path.join(self.tmp, f"lib{case}.so")
        cmd = [self.tevo, "compile", tir, "--target=cpu", "--emit=shared", "-o", lib,
               f"--name={case}"]
        t0 = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=self.a.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"tevo compile: {e}"
        secs = time.time() - t0
        if p.returncode != 0 or not os.path.exists(lib):
            err = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
            return None, f"tevo compile: {err}"
        return (lib, case, secs), None

    def systems(self, case, n, aot, aot_err):
        """(system, measure) for every system of a case at n threads; measure() runs one
        process and returns its record."""
        out = []
        if case.startswith("sgemm"):
            out += [(s, lambda s=s: self.measure(s, case, n))
                    for s in ("onednn-sgemm", "onednn-matmul")]
        out.append(("jit", lambda: self.measure("jit", case, n)))
        if aot:
            lib, name, secs = aot

            def run_aot():
                r = self.measure("aot", case, n, [f"--library={lib}", f"--aot-name={name}"])
                r["aot_compile_s"] = secs
                return r
            out.append(("aot", run_aot))
        else:
            out.append(("aot", lambda: dict(ok=False, error=f"unavailable: {aot_err}")))
        torch_cmd = [sys.executable if self.a.python is None else self.a.python,
                     os.path.join(HERE, "torch_bench.py"), f"--case={case}", f"--threads={n}"]
        out.append(("torch", lambda: self.run_json(torch_cmd + self.timing, env=self.torch_env)))
        return out

    def case(self, case):
        """Every system of the case back to back at each thread count, --rounds times; each
        system keeps its best round (run_variants.keep_best: on a shared host noise only
        ever slows a run down, and systems measured at different moments were not
        comparable)."""
        aot, aot_err = (None, "skipped (--no-aot)")
        if not self.a.no_aot:
            aot, aot_err = self.aot_library(case)
        for n in self.a.threads:
            best = {}
            for _ in range(self.a.rounds):
                for system, measure in self.systems(case, n, aot, aot_err):
                    if system in best and not best[system].get("ok"):
                        continue  # failed or unavailable: no second try
                    run_variants.keep_best(best, system, measure())
            for system, r in best.items():
                self.record(r, case=case, system=system, threads=n)
        if case in INTERP_CASES and not self.a.no_interp:
            self.tevo_bench("interp", case, 1, ["--warmup=0", "--min-runs=1", "--max-runs=1",
                                                "--check"], timeout=self.a.interp_timeout)


def find(results, case, system, threads):
    for r in results:
        if r.get("case", "") == case and r.get("system") == system and r.get("threads") == threads:
            return r
    return None


def find_limit(results, system, threads, key):
    """The best of the machine-limit measurements (peak: gflops, copy: gbps) of a thread
    count: they are taken before and after the cases, and a transient slowdown on a shared
    host can only make a limit look lower (a low peak once gave sgemm '123% of peak')."""
    best = None
    for r in results:
        if r.get("case", "") == "" and r.get("system") == system and r.get("threads") == threads \
                and ok(r) and (best is None or r.get(key, 0) > best.get(key, 0)):
            best = r
    return best


def ok(r):
    return r is not None and r.get("ok")


def fmt_time(r):
    if not ok(r):
        return "n/a"
    t = r["median_s"]
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def fmt_mb(b):
    return f"{b / 2**20:.0f}" if b is not None else "n/a"


def build_rows(results, threads):
    rows, targets = [], []
    for n in threads:
        peak = find_limit(results, "peak", n, "gflops")
        copy = find_limit(results, "copy", n, "gbps")
        for case in CASES:
            jit, aot = find(results, case, "jit", n), find(results, case, "aot", n)
            torch, interp = find(results, case, "torch", n), find(results, case, "interp", 1)
            if not any(ok(x) for x in (jit, aot, torch)):
                continue
            row = dict(case=case, threads=n, shape=(jit or torch or {}).get("shape", ""))
            for k, r in (("interp", interp), ("jit", jit), ("aot", aot), ("torch", torch)):
                row[k + "_s"] = r["median_s"] if ok(r) else None
                row[k + "_runs"] = r.get("runs") if ok(r) else None
            row["interp_skipped"] = interp is None
            if ok(interp) and interp.get("check_rel_err") is not None:
                row["check_rel_err"] = interp["check_rel_err"]
            if case.startswith("sgemm"):
                best = max((find(results, case, s, n) for s in ("onednn-sgemm", "onednn-matmul")),
                           key=lambda r: r["gflops"] if ok(r) else -1)
                row["onednn_s"] = best["median_s"] if ok(best) else None
                row["onednn_gflops"] = best["gflops"] if ok(best) else None
            tevo = jit if ok(jit) else None
            if tevo and ok(torch):
                row["speedup_vs_torch"] = torch["median_s"] / tevo["median_s"]
            if tevo and ok(interp):
                row["speedup_vs_interp"] = interp["median_s"] / tevo["median_s"]
            for k, r in (("jit", jit), ("torch", torch)):
                if ok(r) and "gflops" in r:
                    row[k + "_gflops"] = r["gflops"]
                    if ok(peak):
                        row[k + "_pct_peak"] = 100 * r["gflops"] / peak["gflops"]
                if ok(r) and "gbps" in r:
                    row[k + "_gbps"] = r["gbps"]
                    if ok(copy):
                        row[k + "_pct_copy"] = 100 * r["gbps"] / copy["gbps"]
            if ok(jit):
                row["tevo_mem_bytes"] = jit.get("arena_bytes", 0) + jit.get("io_bytes", 0)
                row["tevo_rss_bytes"] = jit.get("peak_rss_bytes")
                row["compile_s"] = jit.get("compile_s")
                row["kernels"] = jit.get("kernels")
                row["library_calls"] = jit.get("library_calls")
            if ok(torch):
                row["torch_mem_bytes"] = torch["peak_rss_bytes"] - torch["baseline_rss_bytes"]
                row["torch_rss_bytes"] = torch["peak_rss_bytes"]
            rows.append(row)
            targets.extend(check_targets(row, peak, copy))
    return rows, targets


def check_targets(row, peak, copy):
    """Issue 4's targets for this row: list of dicts (name, value, goal, pass)."""
    out, case, n = [], row["case"], row["threads"]

    def t(name, value, goal, passed):
        out.append(dict(case=case, threads=n, target=name, value=value, goal=goal,
                        status="n/a" if passed is None else ("PASS" if passed else "FAIL")))

    if case == "sgemm2048":
        g, o = row.get("jit_gflops"), row.get("onednn_gflops")
        t(">= 85% of oneDNN", f"{100 * g / o:.0f}%" if g and o else "n/a", "85%",
          g / o >= 0.85 if g and o else None)
        p = row.get("jit_pct_peak")
        t(">= 75% of FMA peak", f"{p:.0f}%" if p else "n/a", "75%", p >= 75 if p else None)
    if case in ("softmax4096", "layernorm4096"):
        p = row.get("jit_pct_copy")
        t(">= 70% of copy bandwidth", f"{p:.0f}%" if p else "n/a", "70%",
          p >= 70 if p else None)
    if case in ("block_s_fwdbwd", "block_l_fwdbwd", "train_gpt"):
        s = row.get("speedup_vs_torch")
        t(">= 1.3x faster than torch", f"{s:.2f}x" if s else "n/a", "1.30x",
          s >= 1.3 if s else None)
        m, tm = row.get("tevo_mem_bytes"), row.get("torch_mem_bytes")
        t("lower peak memory than torch", f"{fmt_mb(m)} vs {fmt_mb(tm)} MiB" if m and tm else "n/a",
          "<", m < tm if m and tm else None)
    if case == "train_gpt":
        c = row.get("compile_s")
        t("JIT compile < 2 s", f"{c:.2f} s" if c is not None else "n/a", "2 s",
          c < 2 if c is not None else None)
    return out


def table(rows, targets, machine):
    head = ["case", "thr", "interp", "rel err", "tevo JIT", "tevo AOT", "torch", "oneDNN", "vs torch",
            "vs interp", "%peak", "GB/s (%copy)", "tevo MiB (RSS)", "torch MiB (RSS)", "compile"]
    lines = [head]
    for r in rows:
        def tm(k):
            v = r.get(k + "_s")
            return "n/a" if v is None else (f"{v * 1e3:.3g} ms" if v < 1 else f"{v:.3g} s")
        pct = r.get("jit_pct_peak")
        gb = r.get("jit_gbps")
        lines.append([
            r["case"], str(r["threads"]),
            ("skipped" if r["interp_skipped"] else tm("interp")) if r["threads"] == 1 else "",
            f"{r['check_rel_err']:.0e}" if "check_rel_err" in r and r["threads"] == 1 else "",
            tm("jit"), tm("aot"), tm("torch"), tm("onednn") if "onednn_s" in r else "",
            f"{r['speedup_vs_torch']:.2f}x" if "speedup_vs_torch" in r else "n/a",
            f"{r['speedup_vs_interp']:.0f}x" if "speedup_vs_interp" in r and r["threads"] == 1 else "",
            f"{pct:.0f}%" if pct else "",
            f"{gb:.1f} ({r.get('jit_pct_copy', 0):.0f}%)" if gb else "",
            f"{fmt_mb(r.get('tevo_mem_bytes'))} ({fmt_mb(r.get('tevo_rss_bytes'))})"
            if "tevo_mem_bytes" in r else "n/a",
            f"{fmt_mb(r.get('torch_mem_bytes'))} ({fmt_mb(r.get('torch_rss_bytes'))})"
            if "torch_mem_bytes" in r else "n/a",
            f"{r['compile_s']:.2f} s" if r.get("compile_s") is not None else "n/a",
        ])
    w = [max(len(l[i]) for l in lines) for i in range(len(head))]
    md = ["| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(l)) + " |" for l in lines]
    md.insert(1, "|" + "|".join("-" * (x + 2) for x in w) + "|")
    md.append("")
    md.append("| target | case | thr | measured | status |")
    md.append("|---|---|---|---|---|")
    for t in targets:
        md.append(f"| {t['target']} | {t['case']} | {t['threads']} | {t['value']} | {t['status']} |")
    md.append("")
    md.append("Machine, same run: " + "; ".join(
        f"{n} thread{'s' if n > 1 else ''}: FMA peak {m['peak']}, copy {m['copy']}"
        for n, m in machine.items()))
    return "\n".join(md)


def machine_summary(results, threads):
    out = {}
    for n in threads:
        p, c = find_limit(results, "peak", n, "gflops"), find_limit(results, "copy", n, "gbps")
        out[n] = dict(peak=f"{p['gflops']:.0f} GFLOP/s ({p.get('isa')})" if ok(p) else "n/a",
                      copy=f"{c['gbps']:.1f} GB/s (memcpy {c['memcpy_gbps']:.1f})" if ok(c) else "n/a")
    return out


def profile_failures(run, targets):
    """For each case with a failed target, where its time goes (at the largest thread count
    that failed): `tevo-bench --system=profile`, summarised as text lines."""
    seen, lines = set(), []
    for t in targets:
        if t["status"] != "FAIL" or t["case"] in seen or "compile" in t["target"]:
            continue
        seen.add(t["case"])
        n = max(x["threads"] for x in targets if x["case"] == t["case"] and x["status"] == "FAIL")
        r = run.run_json([run.bench, "--system=profile", f"--case={t['case']}", f"--threads={n}",
                          "--warmup=2", "--min-runs=5", "--max-runs=5", "--budget=0"],
                         env=run.tevo_env)
        run.record(r, case=t["case"], system="profile", threads=n)
        if not ok(r):
            lines.append(f"- {t['case']} ({n}t): profile failed: {r.get('error')}")
            continue
        kinds = ", ".join(f"{k[:-2]} {1e3 * r[k]:.1f} ms" for k in
                          ("kernel_s", "matmul_s", "conv1d_s", "runtime_s", "copy_s") if k in r)
        top = "; ".join(f"{s['kind']} {s['name'] or '?'} {1e3 * s['s']:.1f} ms"
                        for s in r.get("top_steps", [])[:5])
        lines.append(f"- {t['case']} ({n} thread{'s' if n > 1 else ''}, {r['steps']} "
                     f"step{'s' if r['steps'] != 1 else ''}, "
                     f"{1e3 * r['median_s']:.1f} ms per run). Per step kind: {kinds}. "
                     f"Largest steps: {top}.")
    return lines


def update_docs(path, text, command, date, begin=DOC_BEGIN, end=DOC_END, title=""):
    """Replaces the text between `begin` and `end` (appends the block when absent)."""
    doc = open(path).read() if os.path.exists(path) else ""
    block = f"{begin}\n{title}Latest run ({date}), produced by `{command}`:\n\n{text}\n{end}"
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"),
                    help="build directory holding bench/tevo-bench and tools/tevo")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-runs", type=int, default=5)
    ap.add_argument("--max-runs", type=int, default=30)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds of timed runs per measurement")
    ap.add_argument("--rounds", type=int, default=3,
                    help="issue-4 cases: times every system of a case is measured, back to "
                         "back; each system keeps its best round")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--interp-timeout", type=float, default=180)
    ap.add_argument("--no-interp", action="store_true")
    ap.add_argument("--no-aot", action="store_true")
    ap.add_argument("--tevo-omp-wait", default="PASSIVE",
                    help="OMP_WAIT_POLICY for tevo's processes ('' = inherit)")
    ap.add_argument("--python", default="/usr/bin/python3", help="python with torch")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--profile", action="store_true",
                    help="time each plan step of the cases that miss a target")
    ap.add_argument("--update-docs", action="store_true",
                    help="rewrite the generated table in docs/PERFORMANCE.md")
    ap.add_argument("--suite", choices=["all", "issue4", "variants"], default="all",
                    help="which tables to measure: the issue-4 cases, the variants, or both")
    v = ap.add_argument_group("variants suite")
    v.add_argument("--variant-families", default=",".join(run_variants.FAMILIES),
                   help="families to run (linattn, causal, longconv, ssm)")
    v.add_argument("--variant-n", default="", help="N values for every family (default: each "
                   "family's sweep)")
    v.add_argument("--linattn-heads", default="1", help="linear attention heads, e.g. 1,4")
    v.add_argument("--variant-limit", type=float, default=60,
                   help="seconds one measurement may take (warm-up + minimum runs), predicted "
                        "from smaller N; past it: skipped (limit)")
    v.add_argument("--variant-mem-gib", type=float, default=8,
                   help="predicted memory above which a measurement is skipped (memory)")
    v.add_argument("--variant-warmup", type=int, default=1)
    v.add_argument("--variant-min-runs", type=int, default=3)
    v.add_argument("--variant-rounds", type=int, default=3,
                   help="times each N is measured over all its systems, interleaved; each "
                        "system keeps its best round")
    v.add_argument("--no-torch", action="store_true", help="variants: tevo systems only")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    a.threads = [int(x) for x in a.threads.split(",")]
    cases = a.cases.split(",") if a.suite in ("all", "issue4") else []
    for c in cases:
        if c not in CASES:
            ap.error(f"unknown case '{c}' ({', '.join(CASES)})")
    a.variant_families = a.variant_families.split(",") if a.suite != "issue4" else []
    for f in a.variant_families:
        if f not in run_variants.FAMILIES:
            ap.error(f"unknown variant family '{f}' ({', '.join(run_variants.FAMILIES)})")
    a.variant_n = [int(x) for x in a.variant_n.split(",")] if a.variant_n else []
    a.linattn_heads = [int(x) for x in a.linattn_heads.split(",")]
    if not os.path.exists(os.path.join(a.build, "bench", "tevo-bench")):
        ap.error(f"{a.build}/bench/tevo-bench not found (build the tevo-bench target)")
    started = time.time()
    load_before = os.getloadavg()
    run = Runner(a)
    log(f"tevo bench: {cpu_model()}, {os.cpu_count()} cpus, threads {a.threads}, "
        f"load average {load_before[0]:.1f}")
    for n in a.threads if cases else []:
        run.machine(n)
    for c in cases:
        log(f"[{c}]")
        run.case(c)
    for n in a.threads if cases else []:
        run.machine(n)  # again: find_limit keeps the better of the two
    issue4_results = list(run.results)
    rows, targets = build_rows(issue4_results, a.threads)
    machine = machine_summary(issue4_results, a.threads)
    vr = run_variants.VariantRunner(run, a, log) if a.variant_families else None
    vres = vr.run_all() if vr else []
    load_after = os.getloadavg()
    footer = (f"{run.cpu} ({os.cpu_count()} cpus); load average {load_before[0]:.1f} before, "
              f"{load_after[0]:.1f} after; git {git_rev()}.")
    text = ""
    if cases:
        text = table(rows, targets, machine) + "; " + footer
        failed = sorted({(r.get("system"), r.get("error", "")) for r in issue4_results if not ok(r)})
        if failed:
            text += "\n\nNot measured: " + "; ".join(f"{s}: {e}" for s, e in failed) + "."
        if a.profile:
            prof = profile_failures(run, targets)
            if prof:
                text += "\n\nWhere the time goes in the cases that miss a target (executor step " \
                        "times, `tevo-bench --system=profile`):\n" + "\n".join(prof)
        print(text)
    vrows = run_variants.build_rows(vres, a)
    vtargets = run_variants.targets(vrows, vres)
    vtext = ""
    if a.variant_families:
        vtext = run_variants.table(vrows, vtargets, vres, a) + "\n\n" + footer
        print(("\n" if text else "") + vtext)
    date = datetime.date.today().isoformat()
    command = "make bench" if os.environ.get("TEVO_BENCH_FROM_MAKE") else \
        "python3 bench/run.py " + " ".join(sys.argv[1:])
    doc = dict(date=date, command=command, git=git_rev(), cpu=cpu_model(), cpus=os.cpu_count(),
               timing=dict(warmup=a.warmup, min_runs=a.min_runs, max_runs=a.max_runs,
                           budget_s=a.budget, rounds=a.rounds,
                           statistic="median of wall-clock runs, best of the rounds"),
               torch_env={k: v for k, v in run.torch_env.items()
                          if k.startswith("OMP_") or k.startswith("OPENBLAS_")},
               tevo_env={k: v for k, v in run.tevo_env.items() if k.startswith("OMP_")},
               loadavg=dict(before=load_before, after=load_after),
               machine=machine, rows=rows, targets=targets, measurements=run.results,
               elapsed_s=time.time() - started, table=text, suite=a.suite,
               variants=dict(rows=[r for r, _ in vrows], targets=vtargets, table=vtext,
                             sdpa_python=vr.sdpa_python if vr else None,
                             limit_s=a.variant_limit, mem_cap_gib=a.variant_mem_gib,
                             no_rewrites_pipeline=run_variants.NO_REWRITES_PIPELINE,
                             timing=dict(warmup=a.variant_warmup, min_runs=a.variant_min_runs,
                                         max_runs=a.max_runs, budget_s=a.budget,
                                         rounds=a.variant_rounds)))
    os.makedirs(a.results, exist_ok=True)
    # <date>[-<suite>][-<families>].json, never over an earlier run's file (-2, -3, ...).
    stem = date if a.suite == "all" else f"{date}-{a.suite}"
    if a.suite == "variants" and set(a.variant_families) != set(run_variants.FAMILIES):
        stem += "-" + "-".join(a.variant_families)
    out, k = os.path.join(a.results, stem + ".json"), 2
    while os.path.exists(out):
        out, k = os.path.join(a.results, f"{stem}-{k}.json"), k + 1
    with open(out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(out + ".tmp", out)
    log(f"wrote {out} ({time.time() - started:.0f} s)")
    if a.update_docs:
        path = os.path.join(ROOT, "docs", "PERFORMANCE.md")
        if cases:
            update_docs(path, text, command, date)
        if a.variant_families:
            update_docs(path, vtext, command, date, run_variants.DOC_BEGIN, run_variants.DOC_END,
                        run_variants.DOC_TITLE)
        log("updated docs/PERFORMANCE.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
