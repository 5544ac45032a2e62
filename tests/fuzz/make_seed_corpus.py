#!/usr/bin/env python3
"""Writes the seed corpora and dictionaries of the fuzzers (standard library only).

  corpus/parser/seed-*.tir              golden functions split one per file, hand-written
                                        valid snippets and malformed ones
  corpus/safetensors/seed-*.safetensors valid files of every dtype plus truncated and
                                        corrupt variants
  tir.dict, safetensors.dict            libFuzzer dictionaries (keywords, op names, dtypes)

Only seed-* files are (re)written; reproducers added by hand (crash-*, oom-*, timeout-*,
named as libFuzzer names its artifacts) are left alone.
Deterministic, so rerunning it gives no diff:  python3 tests/fuzz/make_seed_corpus.py
"""
import glob
import json
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PARSER = os.path.join(HERE, "corpus", "parser")
SAFETENSORS = os.path.join(HERE, "corpus", "safetensors")

# Golden functions taken per family file (keeps the corpus small as families grow).
MAX_PER_FAMILY = 16

DTYPES = [  # (tir name, safetensors name, bytes, struct code or None)
    ("f32", "F32", 4, "f"), ("f64", "F64", 8, "d"), ("bf16", "BF16", 2, None),
    ("f16", "F16", 2, "e"), ("i32", "I32", 4, "i"), ("i64", "I64", 8, "q"),
    ("bool", "BOOL", 1, "?"), ("c64", "C64", 8, "f"), ("c128", "C128", 16, "d"),
]

VALID_TIR = {
    "multi-func": """// two functions, params and state
func @f(%x: f32[2,3], %w: f32[2,3] param, %s: f32[2,3] state) -> (f32[2,3], f32[2,3]) {
  %y = add %x, %w : f32[2,3]
  %z = mul %y, %s : f32[2,3]
  return %y, %z
}

func @g(%a: f64[]) -> f64[] {
  %0 = neg %a : f64[]
  return %0
}
""",
    "numbered": """func @n(%7: f32[4]) -> f32[4] {
  %3 = exp %7 : f32[4]
  %1 = tanh %3 : f32[4]
  return %1
}
""",
    "attrs": """func @a(%x: f32[2,2]) -> f32[2,2] {
  %0 = gelu %x {approximate = "tanh"} : f32[2,2]
  %1 = elu %0 {alpha = 0.5} : f32[2,2]
  %2 = elu %1 {alpha = -inf} : f32[2,2]
  %3 = elu %2 {alpha = 1e-300} : f32[2,2]
  return %3
}
""",
    "loc": """func @l(%x: f32[1]) -> f32[1] {
  %y = relu %x : f32[1] loc("model.py":12:3)
  %z = sigmoid %y : f32[1] loc("a\\x01\\"b":1)
  return %z
}
""",
    "names": """func @names(%x.y-z$0: i32[3], %b: i32[3]) -> i32[3] {
  %a.b = add %x.y-z$0, %b : i32[3]
  %a_1 = sub %a.b, %b : i32[3]
  return %a_1
}
""",
    "empty-shapes": """func @e(%x: f32[0,3], %y: f32[1,3]) -> f32[0,3] {
  %0 = add %x, %y : f32[0,3]
  return %0
}
""",
    "broadcast": """func @b(%x: f64[2,1,3], %y: f64[4,1]) -> f64[2,4,3] {
  %0 = maximum %x, %y : f64[2,4,3]
  return %0
}
""",
    "no-results": """func @nothing() -> () {
  return
}
""",
    "constant-list": """func @c() -> (f32[2,2], i64[3], bool[2], c64[1], c128[1]) {
  %0 = constant {value = dense<f32[2,2]: [1.0, -2.5, inf, nan]>} : f32[2,2]
  %1 = constant {value = dense<i64[3]: [1, -9223372036854775808, 9223372036854775807]>} : i64[3]
  %2 = constant {value = dense<bool[2]: [true, false]>} : bool[2]
  %3 = constant {value = dense<c64[1]: [(1.5, -2.0)]>} : c64[1]
  %4 = constant {value = dense<c128[1]: [(0.1, 1e300)]>} : c128[1]
  return %0, %1, %2, %3, %4
}
""",
    "constant-hex": """func @h() -> (f16[17], bf16[2]) {
  %0 = constant {value = dense<f16[17]: 0x0000003C00BC007C00FC007E0100FF7BFF0300040008001000200040008000C000C4>} : f16[17]
  %1 = constant {value = dense<bf16[2]: 0x803F80BF>} : bf16[2]
  return %0, %1
}
""",
    "reduce": """func @r(%x: f32[2,3,4]) -> (f32[2,4], f32[2,1,4], f32[2,3]) {
  %0 = sum %x {axes = [1]} : f32[2,4]
  %1 = max %x {axes = [-2], keepdims = true} : f32[2,1,4]
  %2 = softmax %x {axis = 2} : f32[2,3,4]
  %3 = mean %2 {axes = [2]} : f32[2,3]
  return %0, %1, %3
}
""",
    "shape-ops": """func @s(%x: f32[2,3], %i: i32[4]) -> f32[3,2] {
  %0 = transpose %x {perm = [1, 0]} : f32[3,2]
  %1 = reshape %0 {shape = [6]} : f32[6]
  %2 = slice %1 {starts = [1], ends = [5], steps = [2]} : f32[2]
  %3 = take %1, %i {axis = 0} : f32[4]
  %4 = cast %3 {dtype = f64} : f64[4]
  %5 = matmul %x, %0 : f32[2,2]
  return %0
}
""",
    "region": """func @reg(%x: f32[2]) -> f32[2] {
  %0 = relu %x {body = region(%a: f32[], %b: f32[]) -> f32[] {
    %c = add %a, %b : f32[]
    return %c
  }} : f32[2]
  return %0
}
""",
    "cast-compare": """func @cc(%x: f32[3], %y: f32[3]) -> (bool[3], i32[3]) {
  %0 = lt %x, %y : bool[3]
  %1 = cast %x {dtype = i32} : i32[3]
  %2 = select %0, %x, %y : f32[3]
  return %0, %1
}
""",
}

BAD_TIR = {
    "empty": "",
    "only-comment": "// nothing here\n",
    "no-return": "func @f(%x: f32[2]) -> f32[2] {\n  %y = neg %x : f32[2]\n}\n",
    "unknown-op": "func @f(%x: f32[2]) -> f32[2] {\n  %y = frobnicate %x : f32[2]\n  return %y\n}\n",
    "unknown-dtype": "func @f(%x: f31[2]) -> f31[2] {\n  return %x\n}\n",
    "negative-dim": "func @f(%x: f32[-2]) -> f32[-2] {\n  return %x\n}\n",
    "huge-dim": "func @f(%x: f32[1099511627777]) -> f32[1] {\n  return %x\n}\n",
    "too-many-elements": "func @f(%x: f32[1048576,1048576,1048576]) -> f32[1] {\n  return %x\n}\n",
    "rank-17": "func @f(%x: f32[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]) -> f32[1] {\n  return %x\n}\n",
    "int-overflow": "func @f(%x: f32[99999999999999999999]) -> f32[1] {\n  return %x\n}\n",
    "undefined-value": "func @f(%x: f32[2]) -> f32[2] {\n  %y = neg %q : f32[2]\n  return %y\n}\n",
    "redefinition": "func @f(%x: f32[2]) -> f32[2] {\n  %x = neg %x : f32[2]\n  return %x\n}\n",
    "dup-func": "func @f() -> () {\n  return\n}\nfunc @f() -> () {\n  return\n}\n",
    "wrong-type": "func @f(%x: f32[2]) -> f32[3] {\n  %y = neg %x : f32[3]\n  return %y\n}\n",
    "wrong-return": "func @f(%x: f32[2]) -> f64[2] {\n  return %x\n}\n",
    "return-count": "func @f(%x: f32[2]) -> (f32[2], f32[2]) {\n  return %x\n}\n",
    "dup-attr": "func @f(%x: f32[2]) -> f32[2] {\n  %y = elu %x {alpha = 1.0, alpha = 2.0} : f32[2]\n  return %y\n}\n",
    "attr-kind": "func @f(%x: f32[2]) -> f32[2] {\n  %y = elu %x {alpha = \"big\"} : f32[2]\n  return %y\n}\n",
    "unknown-attr": "func @f(%x: f32[2]) -> f32[2] {\n  %y = neg %x {axis = 0} : f32[2]\n  return %y\n}\n",
    "unterminated-string": "func @f(%x: f32[2]) -> f32[2] {\n  %y = gelu %x {approximate = \"tanh} : f32[2]\n  return %y\n}\n",
    "bad-escape": "func @f(%x: f32[2]) -> f32[2] {\n  %y = gelu %x {approximate = \"\\q\"} : f32[2]\n  return %y\n}\n",
    "bad-number": "func @f(%x: f32[2]) -> f32[2] {\n  %y = elu %x {alpha = 1e} : f32[2]\n  return %y\n}\n",
    "number-ident": "func @f(%x: f32[2x]) -> f32[2] {\n  return %x\n}\n",
    "bad-byte": "func @f(%x: f32[2]) -> f32[2] {\n  \x01return %x\n}\n",
    "high-byte": "func @f(\xff: f32[2]) -> f32[2] {\n  return %x\n}\n",
    "dense-short": "func @f() -> f32[3] {\n  %0 = constant {value = dense<f32[3]: [1.0, 2.0]>} : f32[3]\n  return %0\n}\n",
    "dense-long": "func @f() -> f32[1] {\n  %0 = constant {value = dense<f32[1]: [1.0, 2.0]>} : f32[1]\n  return %0\n}\n",
    "dense-hex-size": "func @f() -> f32[2] {\n  %0 = constant {value = dense<f32[2]: 0x0000803F>} : f32[2]\n  return %0\n}\n",
    "dense-int-float": "func @f() -> i32[1] {\n  %0 = constant {value = dense<i32[1]: [1.5]>} : i32[1]\n  return %0\n}\n",
    "deep-regions": "func @f(%x: f32[]) -> f32[] {\n  %0 = neg %x {r = " +
                    "region() -> () {\n %1 = neg %x {r = " * 20 + "} : f32[]\n  return %0\n}\n",
    "unclosed": "func @f(%x: f32[2]) -> f32[2] {\n  %y = neg %x : f32[2]\n  return %y\n",
    "operand-count": "func @f(%x: f32[2]) -> f32[2] {\n  %y = add %x : f32[2]\n  return %y\n}\n",
    "result-names": "func @f(%x: f32[2]) -> f32[2] {\n  %y, %z = neg %x : f32[2]\n  return %y\n}\n",
    "dtype-mismatch": "func @f(%x: f32[2], %y: f64[2]) -> f32[2] {\n  %z = add %x, %y : f32[2]\n  return %z\n}\n",
    "broadcast-mismatch": "func @f(%x: f32[2], %y: f32[3]) -> f32[3] {\n  %z = add %x, %y : f32[3]\n  return %z\n}\n",
    "loc-huge": "func @f(%x: f32[2]) -> f32[2] {\n  %y = neg %x : f32[2] loc(\"f\":99999999999:-5)\n  return %y\n}\n",
    "missing-arrow": "func @f(%x: f32[2]) f32[2] {\n  return %x\n}\n",
    "bare-sign": "func @f(%x: f32[-]) -> f32[2] {\n  return %x\n}\n",
    "list-mixed": "func @f(%x: f32[2]) -> f32[2] {\n  %y = sum %x {axes = [0, 1.5, nan, -inf]} : f32[2]\n  return %y\n}\n",
}


def split_functions(text):
    """Splits a .tir file into its top-level functions (each starts at column 0)."""
    funcs, cur = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith("func @") and cur:
            funcs.append("".join(cur))
            cur = []
        if line.startswith("//") and not cur:
            continue
        cur.append(line)
    if cur:
        funcs.append("".join(cur))
    return [f.strip() + "\n" for f in funcs if f.strip()]


def write(path, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"newline": "\n", "encoding": "latin-1"})) as f:
        f.write(data)


def parser_corpus():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "ops", "golden", "*.tir"))):
        family = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            funcs = split_functions(f.read())
        for text in funcs[:MAX_PER_FAMILY]:
            name = re.match(r"func @([A-Za-z0-9_.$-]+)", text).group(1)
            write(os.path.join(PARSER, "seed-golden-%s-%s.tir" % (family, name)), text)
    for name, text in VALID_TIR.items():
        write(os.path.join(PARSER, "seed-valid-%s.tir" % name), text)
    for name, text in BAD_TIR.items():
        write(os.path.join(PARSER, "seed-bad-%s.tir" % name), text)


def safetensors_bytes(tensors, metadata=None, pad=True):
    """tensors: list of (name, st dtype, shape, raw bytes). Returns the file bytes."""
    header, off, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def raw_values(dt, n):
    tir, st, size, code = dt
    if code is None:  # bf16: the top half of an f32
        return b"".join(struct.pack("<f", float(i) - 1.5)[2:] for i in range(n))
    if st in ("C64", "C128"):
        return b"".join(struct.pack("<" + code * 2, i * 0.5, -i * 0.25) for i in range(n))
    if code == "?":
        return bytes(i % 2 for i in range(n))
    if code in "iq":
        return b"".join(struct.pack("<" + code, (i * 7919) % 97 - 40) for i in range(n))
    return b"".join(struct.pack("<" + code, i * 0.75 - 1.0) for i in range(n))


def header_file(header_json, data=b""):
    h = header_json.encode()
    return struct.pack("<Q", len(h)) + h + data


def safetensors_corpus():
    files = {}
    for dt in DTYPES:
        files["dtype-" + dt[0]] = safetensors_bytes([("t", dt[1], [2, 3], raw_values(dt, 6))])
    every = [("w.%s" % dt[0], dt[1], [3], raw_values(dt, 3)) for dt in DTYPES]
    files["all-dtypes"] = safetensors_bytes(every, {"format": "pt", "note": "all \u00e9 \\ \""})
    files["scalar-and-empty"] = safetensors_bytes(
        [("s", "F64", [], raw_values(DTYPES[1], 1)), ("e", "F32", [0, 4], b""),
         ("z", "I32", [2, 0, 3], b"")])
    files["empty"] = safetensors_bytes([])
    files["metadata-only"] = safetensors_bytes([], {"a": "b", "": "\u0001"})
    files["unpadded"] = safetensors_bytes([("x", "F32", [1], raw_values(DTYPES[0], 1))], pad=False)
    files["rank4"] = safetensors_bytes([("x", "BF16", [1, 2, 1, 2], raw_values(DTYPES[2], 4))])
    base = files["all-dtypes"]
    # Truncations and corruptions of a valid file.
    files["bad-truncated-length"] = base[:5]
    files["bad-truncated-header"] = base[:40]
    files["bad-truncated-data"] = base[:-3]
    files["bad-length-past-eof"] = struct.pack("<Q", 1000) + b"{}"
    files["bad-length-huge"] = struct.pack("<Q", 2 ** 63 + 5) + b"{}"
    files["bad-length-200mb"] = struct.pack("<Q", 200 << 20) + b"{}"
    flipped = bytearray(base)
    flipped[20] ^= 0x55
    files["bad-flipped-header-byte"] = bytes(flipped)
    files["bad-json"] = header_file('{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]')
    files["bad-not-object"] = header_file("[1, 2, 3]")
    files["bad-dtype"] = header_file('{"x":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}', b"\0")
    files["bad-negative-dim"] = header_file(
        '{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', b"\0" * 4)
    files["bad-float-dim"] = header_file(
        '{"x":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', b"\0" * 4)
    files["bad-size-mismatch"] = header_file(
        '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"\0" * 8)
    files["bad-offsets-reversed"] = header_file(
        '{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', b"\0" * 8)
    files["bad-offsets-past-end"] = header_file(
        '{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', b"\0" * 8)
    files["bad-overlap"] = header_file(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', b"\0" * 8)
    files["bad-duplicate"] = header_file(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8)
    files["bad-huge-shape"] = header_file(
        '{"a":{"dtype":"C128","shape":[1152921504606846976],"data_offsets":[0,0]}}')
    files["bad-overflow-shape"] = header_file(
        '{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],'
        '"data_offsets":[0,0]}}')
    files["bad-metadata"] = header_file('{"__metadata__":{"k":1}}')
    files["bad-deep"] = header_file("[" * 40 + "]" * 40)
    files["bad-escapes"] = header_file('{"\\ud800\\u00e9\\n":{"dtype":"F32","shape":[],'
                                       '"data_offsets":[0,4]}}', b"\0" * 4)
    files["bad-number"] = header_file('{"a":{"dtype":"F32","shape":[1e400],'
                                      '"data_offsets":[0,-0]}}')
    for name, data in files.items():
        write(os.path.join(SAFETENSORS, "seed-%s.safetensors" % name), data)


def dictionaries():
    ops = []
    with open(os.path.join(ROOT, "ir", "ops.def")) as f:
        for line in f:
            m = re.match(r'TEVO_OP\(\w+, "([a-z0-9_]+)"', line)
            if m:
                ops.append(m.group(1))
    words = ["func", "return", "param", "state", "loc", "dense", "region", "true", "false",
             "inf", "nan", "-inf", "->", "//", "0x", "%", "@", "{", "}", "[", "]", "<", ">",
             "axis", "axes", "keepdims", "value", "dtype", "perm", "shape", "alpha"]
    words += [d[0] for d in DTYPES] + ops
    with open(os.path.join(HERE, "tir.dict"), "w") as f:
        f.write("# libFuzzer dictionary for fuzz_parser (generated by make_seed_corpus.py)\n")
        for w in words:
            f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))
    words = ['"dtype"', '"shape"', '"data_offsets"', '"__metadata__"', "true", "null", "[]",
             "{}", "\\u0000", "-1", "1e9"] + ['"%s"' % d[1] for d in DTYPES]
    with open(os.path.join(HERE, "safetensors.dict"), "w") as f:
        f.write("# libFuzzer dictionary for fuzz_safetensors (generated by make_seed_corpus.py)\n")
        for w in words:
            f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))


def main():
    os.makedirs(PARSER, exist_ok=True)
    os.makedirs(SAFETENSORS, exist_ok=True)
    for d in (PARSER, SAFETENSORS):
        for p in glob.glob(os.path.join(d, "seed-*")):
            os.remove(p)
    parser_corpus()
    safetensors_corpus()
    dictionaries()


if __name__ == "__main__":
    main()
