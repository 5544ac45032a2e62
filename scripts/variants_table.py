#!/usr/bin/env python3
"""variants_table.py: regenerate docs/VARIANTS.md, the variant coverage table.

Reads the Transformer-variant catalog (../shared/VARIANTS.md; not part of this repository)
and writes one row per catalog entry (all 126, in seed order). The catalog gives id, title,
priority and pattern tags; the family column (R1..R7) is derived from the tags. The three
hand-maintained columns (status, rewrite that fires, notes) are read back from the existing
docs/VARIANTS.md, so they survive regeneration; an entry with no row yet is "planned" with
the note "not assessed yet". The output depends only on these two inputs.

  scripts/variants_table.py ../shared/VARIANTS.md            # rewrite docs/VARIANTS.md
  scripts/variants_table.py ../shared/VARIANTS.md --check    # exit 1 if it is stale
  scripts/variants_table.py CATALOG --set head.mqa works+rewritten "R1 fuse-attention"

Every error is one line on stderr and exit status 1.
"""

import argparse
import os
import re
import sys

EXPECTED_ENTRIES = 126
STATUSES = ("works+rewritten", "works unfused", "planned")
PRIORITIES = ("P0", "P1", "P2")
NONE_CELL = "—"

# Pattern tag -> rewrite family. This is the grouping that reproduces the catalog's §2.2
# cumulative coverage table exactly (37/51/60/85/104/113/126 entries, P0 3/5/7/13/...).
FAMILY_OF = {
    "SDPA": "R1", "SCORE_MOD": "R1", "MASK": "R1", "MEMORY": "R1", "QK_ROTATE": "R1",
    "PROJ_SHARE": "R1",
    "RIGHT_PRODUCT": "R2", "SCAN": "R2",
    "LONG_CONV": "R3", "FFT_MIX": "R3",
    "GLU": "R4", "LOCAL_MIX": "R4", "RESNORM": "R4",
    "SEQ_COMPRESS": "R5", "DENSE_MIX": "R5",
    "TOPK": "R6",
    "NORMALIZER": "R7",
    "NONE": None,
}

FAMILIES = (
    ("R1", "fused attention {score_mod, mask, multi-source KV, LSE}",
     "SDPA, SCORE_MOD, MASK, MEMORY, QK_ROTATE, PROJ_SHARE"),
    ("R2", "matmul-chain reassociation + prefix / chunked scan", "RIGHT_PRODUCT, SCAN"),
    ("R3", "long convolution / FFT lowering (direct vs FFT by cost)", "LONG_CONV, FFT_MIX"),
    ("R4", "GLU / elementwise / shift / norm fusion", "GLU, LOCAL_MIX, RESNORM"),
    ("R5", "sequence-axis reduction and dense token mixing", "SEQ_COMPRESS, DENSE_MIX"),
    ("R6", "top-k / gather / hashing", "TOPK"),
    ("R7", "normaliser substitutions", "NORMALIZER"),
)

ENTRIES_HEADING = "## Entries"
COLUMNS = ("id", "title (seed paper)", "priority", "patterns", "family", "status",
           "rewrite that fires", "notes")

ENTRY_RE = re.compile(r"^#### `([^`]+)` — (.+)$")
META_RE = re.compile(r"^`([^`]+)` · \*\*(P\d)\*\* · patterns: (.+)$")


class Fail(Exception):
    pass


def parse_catalog(path):
    """[(id, title, seed path, priority, [tags])] in seed order, from §3 of the catalog."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise Fail(f"{path}: cannot read the catalog: {e.strerror}")
    entries, seen = [], {}
    for i, line in enumerate(lines):
        m = ENTRY_RE.match(line)
        if not m:
            continue
        where = f"{path}:{i + 1}"
        meta = META_RE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if not meta:
            raise Fail(f"{where}: entry `{m.group(1)}` is not followed by "
                       "'`PATH` · **Pn** · patterns: ...'")
        eid, title = m.group(1), m.group(2).strip()
        if eid in seen:
            raise Fail(f"{where}: entry id `{eid}` repeats (first at line {seen[eid]})")
        seen[eid] = i + 1
        prio = meta.group(2)
        if prio not in PRIORITIES:
            raise Fail(f"{where}: entry `{eid}` has priority {prio}, not one of P0, P1, P2")
        tags = [t.strip() for t in meta.group(3).split(",")]
        for t in tags:
            if t not in FAMILY_OF:
                raise Fail(f"{where}: entry `{eid}` has unknown pattern tag '{t}'")
        entries.append((eid, title, meta.group(1), prio, tags))
    if len(entries) != EXPECTED_ENTRIES:
        raise Fail(f"{path}: the catalog has {len(entries)} entries, expected "
                   f"{EXPECTED_ENTRIES}")
    return entries


def split_row(line):
    """Cells of a markdown table row; '\\|' inside a cell is not a separator."""
    cells = re.split(r"(?<!\\)\|", line.strip())
    return [c.strip() for c in cells[1:-1]]


def read_hand_columns(path, ids):
    """{id: (status, rewrite, notes)} from the rows of an existing docs/VARIANTS.md."""
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    known, out, in_table = set(ids), {}, False
    for n, line in enumerate(lines, 1):
        if line.startswith("## "):
            in_table = line.startswith(ENTRIES_HEADING)
            continue
        if not in_table or not line.startswith("| `"):
            continue
        cells = split_row(line)
        where = f"{path}:{n}"
        if len(cells) != len(COLUMNS):
            raise Fail(f"{where}: table row has {len(cells)} cells, expected {len(COLUMNS)}")
        eid = cells[0].strip("`")
        if eid not in known:
            raise Fail(f"{where}: row for `{eid}`, which is not a catalog entry")
        if eid in out:
            raise Fail(f"{where}: second row for `{eid}`")
        status, rewrite, notes = cells[5], cells[6], cells[7]
        check_hand_columns(where, eid, status, rewrite, notes)
        out[eid] = (status, rewrite, notes)
    return out


def check_hand_columns(where, eid, status, rewrite, notes):
    if status not in STATUSES:
        raise Fail(f"{where}: `{eid}` has status '{status}', not one of {', '.join(STATUSES)}")
    if status == "works+rewritten" and rewrite in ("", NONE_CELL):
        raise Fail(f"{where}: `{eid}` is works+rewritten but names no rewrite that fires")
    if status == "planned" and notes in ("", NONE_CELL):
        raise Fail(f"{where}: `{eid}` is planned but its notes name no missing piece")


def families(tags):
    fams = []
    for t in tags:
        f = FAMILY_OF[t]
        if f and f not in fams:
            fams.append(f)
    return ", ".join(fams) if fams else NONE_CELL


def cell(text):
    return text.replace("|", "\\|")


HEADER = """\
# Variant coverage

One row per entry of the Transformer-variant catalog (`../shared/VARIANTS.md`, outside this
repository: {n} entries, one per paper of the seed table of contents): what tevo can run
today, and which rewrite family makes it fast. Generated by `scripts/variants_table.py`;
edit only the status, rewrite and notes cells by hand (see "Regenerating").

## Status

| status | meaning |
|---|---|
| `works+rewritten` | works unfused, and the rewrite named in "rewrite that fires" recognises the naive form (an IR test shows it firing and a numeric test shows the rewritten graph computes the same) |
| `works unfused` | the entry's computation can be written today with the DSL (`frontend/ops.h`, `frontend/nn/`) from ops that the reference interpreter and the CPU backend both run (and that have VJPs where training needs them), in a naive form: masks and decay matrices materialised as N×N, long convolutions as direct `conv1d`, FFTs as real DFT matmuls. Not a claim of a dedicated test: the notes say what it uses, and P0 rows point at the zoo |
| `planned` | something is missing; the notes name it |

What the notes rely on (checked in the code when the rows were written):

- The CPU backend has no code generation for complex elementwise ops, `real`, `imag` or
  `complex` (docs/BACKEND.md, "What is not done yet"): an `rfft` result can only feed
  `irfft` or a graph output there. Spectral mixing and FFT convolution are therefore
  spelled as real DFT matmuls (cos/sin tables from `iota`) or direct `conv1d`; complex
  state (S5, S4D kernels) as (re, im) pairs of real tensors.
- There is no loop op: a fixed, small trip count (Sinkhorn, Newton–Schulz, slot and
  clustering iterations, Hyena's order, a few segments) is unrolled at trace time; a
  nonlinear recurrence over every token is not written that way and stays `planned`.
- There is no `conv2d`, pooling, sort, `acos`/`atan`, integer modulo or bitwise op, and no
  user-defined VJP. 2-D convolutions, shifts and pools are written with `pad` + (strided)
  `slice` + elementwise ops, index-only masks with `iota`/compares or trace-time
  `constant`s, random permutations through the order of `random_uniform` values.
- State carried between calls (memories, caches, datastores) is an explicit graph input and
  output; the caller keeps it.

## Rewrite families

Pattern tags map to families as below; the family column lists the entry's families in tag
order (— for NONE). This grouping reproduces the catalog's §2.2 coverage counts.

{families}

## Regenerating

```
python3 scripts/variants_table.py ../shared/VARIANTS.md            # rewrites docs/VARIANTS.md
python3 scripts/variants_table.py ../shared/VARIANTS.md --check    # exit 1 if it is stale
python3 scripts/variants_table.py ../shared/VARIANTS.md --set head.mqa works+rewritten "R1 fuse-attention"
```

The script checks the catalog (exactly {n} entries, unique ids, known tags), takes status,
rewrite and notes from the rows of this file, recomputes every other column and the counts,
and refuses an unknown status, a `works+rewritten` row without a rewrite, and a `planned`
row without a note. To change a status, edit the cell (or use `--set`) and regenerate.
"""

ADD_VARIANT = """\
## How to add a variant

A variant is a *naive* module plus tests; the compiler's rewrites, not the module, make it
fast.

1. **Catalog first.** Every row here is a catalog entry; a paper that is not in the catalog
   gets an entry there (id, patterns, math) before it gets a row.
2. **The module.** Write it in `frontend/nn/variants/<family>.{h,cpp}` (list the sources in
   `frontend/CMakeLists.txt`) as an `nn::Module` mapping `[B, N, D] -> [B, N, D]`, the way
   the paper's equations read: `matmul`, `softmax`, `iota`/compare/`where` masks, `cumsum`,
   `conv1d`, elementwise ops. Never pre-fuse or reassociate by hand, or the rewrite has
   nothing to recognise. A header comment cites the paper and the equations followed;
   parameter names and inits follow docs/NN.md; constants take the input's dtype so an f64
   trace is all f64. If an op is missing, add it first (docs/IR.md, "How to add an op").
   To make it selectable in the variant language model, add its name to the registry in
   `frontend/nn/variants/lm.{h,cpp}` (being written with the P0 zoo, issue 5).
3. **Tests** (`tests/unit/variants/*.cmake` + sources, `tevo_unit_test`; golden data from
   the zoo's `tests/variants/gen_golden.py` (in progress), written from the paper with
   NumPy/PyTorch, never by transcribing the C++; tests themselves must not need PyTorch):
   - forward against the independent golden output;
   - an f64 finite-difference gradient check (`tests/support/gradcheck.h`) on tiny shapes;
   - for causal variants, changing token t leaves the outputs before t unchanged;
   - the rewrite fires: an IR check on the traced graph after the pipeline (a lit test in
     `tests/lit/passes/` with FileCheck lines for the rewritten op, or a unit test that
     runs the passes and looks for it), with a must-not-rewrite case next to it;
   - numeric equivalence: rewritten vs naive graph on random inputs, f64 within 1e-9
     relative and f32 within 1e-4, on the interpreter and through `cpu::compile`.
4. **This table.** Set the row's status (`works unfused` once the module runs on the
   interpreter and the CPU backend; `works+rewritten` once the rewrite test passes, with
   the rewrite's name in "rewrite that fires"), update the notes, then run
   `scripts/variants_table.py ../shared/VARIANTS.md` and commit the regenerated file.
"""


def render(entries, hand):
    lines = []
    fam_lines = "\n".join(f"- **{r}** {what} — {tags}" for r, what, tags in FAMILIES)
    lines.append(HEADER.format(n=len(entries), families=fam_lines))
    # Summary.
    rows = []
    for e in entries:
        status = hand.get(e[0], ("planned",))[0]
        rows.append((e[3], status))
    lines.append("## Summary\n")
    lines.append("| status | P0 | P1 | P2 | all |")
    lines.append("|---|---:|---:|---:|---:|")
    for s in STATUSES:
        counts = [sum(1 for p, st in rows if p == pr and st == s) for pr in PRIORITIES]
        lines.append(f"| {s} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    totals = [sum(1 for p, _ in rows if p == pr) for pr in PRIORITIES]
    lines.append("| **all** | " + " | ".join(map(str, totals)) + f" | {len(rows)} |")
    lines.append("")
    # Table.
    lines.append(ENTRIES_HEADING + " (seed order)\n")
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "---|" * len(COLUMNS))
    for eid, title, _path, prio, tags in entries:
        status, rewrite, notes = hand.get(eid, ("planned", NONE_CELL, "not assessed yet"))
        cells = [f"`{eid}`", cell(title), prio, ", ".join(tags), families(tags), status,
                 rewrite or NONE_CELL, notes or NONE_CELL]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(ADD_VARIANT)
    return "\n".join(lines)


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Regenerate docs/VARIANTS.md from the catalog.")
    ap.add_argument("catalog", help="path of the variant catalog (../shared/VARIANTS.md)")
    ap.add_argument("-o", "--output", default=os.path.join(root, "docs", "VARIANTS.md"),
                    help="the table to read statuses from and write (default docs/VARIANTS.md)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if the output is not up to date")
    ap.add_argument("--set", nargs=3, action="append", default=[],
                    metavar=("ID", "STATUS", "REWRITE"),
                    help="set one row's status and rewrite (- keeps the rewrite cell)")
    args = ap.parse_args(argv)
    try:
        entries = parse_catalog(args.catalog)
        ids = [e[0] for e in entries]
        hand = read_hand_columns(args.output, ids)
        for eid, status, rewrite in args.set:
            if eid not in ids:
                raise Fail(f"--set: `{eid}` is not a catalog entry")
            _, old_rewrite, notes = hand.get(eid, ("planned", NONE_CELL, "not assessed yet"))
            rewrite = old_rewrite if rewrite == "-" else cell(rewrite)
            check_hand_columns("--set", eid, status, rewrite, notes)
            hand[eid] = (status, rewrite, notes)
        text = render(entries, hand)
        if args.check:
            try:
                with open(args.output, encoding="utf-8") as f:
                    current = f.read()
            except OSError:
                current = None
            if current != text:
                raise Fail(f"{args.output} is out of date: run scripts/variants_table.py "
                           f"{args.catalog}")
            return 0
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    except Fail as e:
        print(f"variants_table.py: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({len(entries)} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
