"""Golden cases for ir/ops/compare_select.cpp (comparisons, logic, select, cast, complex)."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(2)
# Small integers held as f64, so that equal elements actually occur after broadcasting.
A = r.integers(-2, 3, (3, 4)).astype(np.float64)
B = r.integers(-2, 3, (4,)).astype(np.float64)
C = r.integers(-2, 3, (3, 1)).astype(np.float64)
NAN = np.array([np.nan, 1.0, np.nan, 2.0])
NAN2 = np.array([np.nan, 1.0, 0.0, 2.0])
AI = r.integers(-3, 4, (2, 5)).astype(np.int64)
BI = r.integers(-3, 4, (5,)).astype(np.int64)
AF = A.astype(np.float32)
BF = B.astype(np.float32)
P = np.array([[True, False, True, False], [True, True, False, False]])
Q = np.array([True, False, False, True])
Z128 = np.array([1 + 2j, 3 - 1j, 0 + 0j, -2 + 5j])
W128 = np.array([1 + 2j, 3 + 1j, 0 + 0j, -2 + 0j])


def node(name, op, ins, attrs="", out=None, tag=""):
    """A one-node case: `op` applied to `ins`, expected `out`."""
    args = ", ".join("%%a%d" % i for i in range(len(ins)))
    body = "%%y = %s %s%s : %s\nreturn %%y" % (op, args, (" {%s}" % attrs) if attrs else "",
                                              tir_type(out))
    return Case("cs_" + name + ("_" + tag if tag else ""), body, ins, [out])


def cmp(op, x, y, fn, tag=""):
    return node(op, op, [x, y], out=fn(x, y), tag=tag)


def cast(x, to, want, tag):
    return node("cast", "cast", [x], "dtype = %s" % tir_type(want).split("[")[0], want, tag)


def trunc_sat(x, dt):
    """NumPy reference for float -> int: truncate toward zero, saturate, NaN -> 0."""
    info = np.iinfo(dt)
    y = np.trunc(np.nan_to_num(x, nan=0.0, posinf=np.inf, neginf=-np.inf))
    return np.clip(y, info.min, info.max).astype(dt)


CASES = [
    # comparisons, broadcasting [3,4] x [4] and [3,1] x [4]
    cmp("eq", A, B, np.equal, tag="bcast"),
    cmp("ne", A, B, np.not_equal, tag="bcast"),
    cmp("lt", C, B, np.less, tag="bcast"),
    cmp("le", C, B, np.less_equal, tag="bcast"),
    cmp("gt", A, C, np.greater, tag="bcast"),
    cmp("ge", A, C, np.greater_equal, tag="bcast"),
    # NaN: unordered, so only ne holds
    cmp("eq", NAN, NAN2, np.equal, tag="nan"),
    cmp("ne", NAN, NAN2, np.not_equal, tag="nan"),
    cmp("lt", NAN, NAN2, np.less, tag="nan"),
    cmp("ge", NAN, NAN2, np.greater_equal, tag="nan"),
    # other dtypes
    cmp("eq", AI, BI, np.equal, tag="i64"),
    cmp("lt", AI, BI, np.less, tag="i64"),
    cmp("ge", AI.astype(np.int32), BI.astype(np.int32), np.greater_equal, tag="i32"),
    cmp("gt", AF, BF, np.greater, tag="f32"),
    cmp("le", AF, np.float32(0.5) * BF, np.less_equal, tag="f32"),
    cmp("eq", P, Q, np.equal, tag="bool"),
    cmp("ne", P, Q, np.not_equal, tag="bool"),
    cmp("eq", Z128, W128, np.equal, tag="c128"),
    cmp("ne", Z128.astype(np.complex64), W128.astype(np.complex64), np.not_equal, tag="c64"),
    cmp("eq", np.array(2.0), B, np.equal, tag="scalar"),
    # logic
    node("logical_and", "logical_and", [P, Q], out=np.logical_and(P, Q)),
    node("logical_or", "logical_or", [P, Q], out=np.logical_or(P, Q)),
    node("logical_or", "logical_or", [Q.reshape(4, 1), Q], out=np.logical_or(Q.reshape(4, 1), Q),
         tag="bcast"),
    node("logical_not", "logical_not", [P], out=np.logical_not(P)),
]

# select: all three operands broadcast ([2,1,4] cond, [3,1] a, [1] b -> [2,3,4])
SC = r.standard_normal((2, 1, 4)) > 0
SA = r.standard_normal((3, 1))
SB = r.standard_normal((1,))
CASES += [
    node("select", "select", [SC, SA, SB], out=np.where(SC, SA, SB), tag="bcast3"),
    node("select", "select", [P, A[:2], B], out=np.where(P, A[:2], B), tag="f64"),
    node("select", "select", [Q, AI[0, :4], BI[:4]], out=np.where(Q, AI[0, :4], BI[:4]),
         tag="i64"),
    node("select", "select", [Q, AF[0], BF], out=np.where(Q, AF[0], BF), tag="f32"),
    node("select", "select", [Q, P, np.array(True)], out=np.where(Q, P, True), tag="bool"),
    node("select", "select", [np.array(False), A, B], out=np.where(False, A, B),
         tag="scalar_cond"),
    node("select", "select", [Q, Z128, W128], out=np.where(Q, Z128, W128), tag="c128"),

]

# cast
FR = np.array([-2.7, -1.5, -0.5, -0.0, 0.4, 1.5, 2.9, -3.0])
SAT = np.array([1e10, -1e10, np.inf, -np.inf, np.nan, 2147483647.9, -2147483648.9])
CASES += [
    cast(FR, "i32", np.trunc(FR).astype(np.int32), "f64_i32"),      # toward zero: -2.7 -> -2
    cast(FR, "i64", np.trunc(FR).astype(np.int64), "f64_i64"),
    cast(FR.astype(np.float32), "i32", np.trunc(FR).astype(np.int32), "f32_i32"),
    cast(SAT, "i32", trunc_sat(SAT, np.int32), "f64_i32_saturate"),
    # (not +inf -> i64: the f64 interpreter's largest i64 is 2^63 - 1024, not 2^63 - 1)
    cast(SAT[[0, 1, 3, 4]], "i64", trunc_sat(SAT[[0, 1, 3, 4]], np.int64), "f64_i64_saturate"),
    cast(np.append(FR, np.nan), "bool", np.append(FR, np.nan) != 0, "f64_bool"),   # NaN -> true
    cast(AI, "f64", AI.astype(np.float64), "i64_f64"),
    cast(AI, "i32", AI.astype(np.int32), "i64_i32"),
    cast(AI, "bool", AI != 0, "i64_bool"),
    cast(P, "f32", P.astype(np.float32), "bool_f32"),
    cast(P, "i64", P.astype(np.int64), "bool_i64"),
    cast(SA * 1e-3, "f32", (SA * 1e-3).astype(np.float32), "f64_f32"),   # rounds to f32
    cast(AF, "f64", AF.astype(np.float64), "f32_f64"),
    cast(SA, "c128", SA.astype(np.complex128), "f64_c128"),
    cast(AI, "c64", AI.astype(np.complex64), "i64_c64"),
    cast(Z128.astype(np.complex64), "c128", Z128.astype(np.complex64).astype(np.complex128),
         "c64_c128"),
    cast(Z128 / 3, "c64", (Z128 / 3).astype(np.complex64), "c128_c64"),
    cast(A, "f64", A, "identity"),
    cast(Z128, "c128", Z128, "identity_c128"),
]

# complex parts
ZR = r.standard_normal((2, 3))
ZI = r.standard_normal((2, 3))
Z = ZR + 1j * ZI
ZR32, ZI32 = ZR.astype(np.float32), ZI.astype(np.float32)
CASES += [
    node("real", "real", [Z], out=np.real(Z), tag="c128"),
    node("imag", "imag", [Z], out=np.imag(Z), tag="c128"),
    node("real", "real", [Z.astype(np.complex64)], out=np.real(Z.astype(np.complex64)), tag="c64"),
    node("imag", "imag", [Z.astype(np.complex64)], out=np.imag(Z.astype(np.complex64)), tag="c64"),
    node("complex", "complex", [ZR, ZI], out=ZR + 1j * ZI, tag="f64"),
    node("complex", "complex", [ZR32, ZI32], out=ZR32 + np.complex64(1j) * ZI32, tag="f32"),
    node("complex", "complex", [ZR[:, :1], ZI[0]], out=ZR[:, :1] + 1j * ZI[0], tag="bcast"),
]

# chains whose gradient passes through cast / complex parts / select (f64, gradient-checked)
CZ = r.standard_normal((4,)) + 1j * r.standard_normal((4,))
CM = r.standard_normal((3, 4)) + 1j * r.standard_normal((3, 4))
CASES += [
    Case("cs_cast_chain", """
        %c = cast %a0 {dtype = c128} : c128[3,1]
        %m = mul %c, %a1 : c128[3,4]
        %y = imag %m : f64[3,4]
        return %y""", [SA, CM], [np.imag(SA.astype(np.complex128) * CM)]),
    Case("cs_parts_chain", """
        %re = real %a0 : f64[4]
        %im = imag %a0 : f64[4]
        %w = complex %im, %re : c128[4]
        %p = mul %w, %a0 : c128[4]
        %y = select %a1, %p, %a0 : c128[4]
        return %y""", [CZ, Q], [np.where(Q, (CZ.imag + 1j * CZ.real) * CZ, CZ)]),
]
