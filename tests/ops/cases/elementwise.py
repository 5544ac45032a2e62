"""Golden cases for ir/ops/elementwise.cpp (unary and binary arithmetic)."""
import math

import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(1)
X = r.standard_normal((3, 4))            # f64 inputs: the interpreter is checked at 1e-10
P = r.uniform(0.1, 3.0, (3, 4))          # positive, for log/sqrt/pow
Y = r.standard_normal((4,))              # broadcasts against X
erf = np.vectorize(math.erf)
Z = r.standard_normal((3, 4)) + 1j * r.standard_normal((3, 4))   # c128
W = r.standard_normal((4,)) + 1j * r.standard_normal((4,))
T = np.array([[1.0, -2.0, 0.5], [3.0, 3.0, -1.0]])   # ties with U in places
U = np.array([1.0, 0.25, 0.5])


def unary(op, x, fn, attrs="", **kw):
    y = fn(x)
    body = "%%y = %s %%a0%s : %s\nreturn %%y" % (op, (" {%s}" % attrs) if attrs else "", tir_type(y))
    return Case("ew_" + op + ("_" + kw.pop("tag") if "tag" in kw else ""), body, [x], [y], **kw)


def binary(op, x, y, fn, **kw):
    z = fn(x, y)
    body = "%%z = %s %%a0, %%a1 : %s\nreturn %%z" % (op, tir_type(z))
    return Case("ew_" + op + ("_" + kw.pop("tag") if "tag" in kw else ""), body, [x, y], [z], **kw)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


CASES = [
    unary("neg", X, lambda x: -x),
    unary("abs", X, np.abs),
    unary("exp", X, np.exp),
    unary("expm1", X * 1e-9, np.expm1, rtol=1e-14),   # tiny x: exp(x)-1 would lose every digit
    unary("log", P, np.log),
    unary("log1p", P, np.log1p),
    unary("sqrt", P, np.sqrt),
    unary("rsqrt", P, lambda x: 1 / np.sqrt(x)),
    unary("reciprocal", P, lambda x: 1 / x),
    unary("square", X, lambda x: x * x),
    unary("tanh", X, np.tanh),
    unary("sigmoid", X, sigmoid),
    unary("relu", X, lambda x: np.maximum(x, 0)),
    unary("gelu", X, lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2)))),
    unary("gelu", X, lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
          attrs='approximate = "tanh"', tag="tanh"),
    unary("silu", X, lambda x: x * sigmoid(x)),
    unary("elu", X, lambda x: np.where(x > 0, x, 1.0 * np.expm1(x))),
    unary("elu", X, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), attrs="alpha = 0.5", tag="alpha"),
    unary("softplus", X * 30, lambda x: np.logaddexp(0, x)),   # large |x|: must stay finite
    unary("sin", X, np.sin),
    unary("cos", X, np.cos),
    unary("sign", np.array([-2.0, 0.0, 3.0]), np.sign, gradcheck=False),   # jump at 0
    unary("sign", X, np.sign, tag="smooth"),                                  # gradient 0
    unary("erf", X, erf),
    unary("stop_gradient", X, lambda x: x, gradcheck=False),   # gradient 0 by definition
    binary("add", X, Y, np.add),
    binary("sub", X, Y, np.subtract),
    binary("mul", X, Y, np.multiply),
    binary("div", X, Y, np.divide),
    binary("div", np.array([7, -7, 5], dtype=np.int64), np.array([2, 2, 0], dtype=np.int64),
           lambda a, b: np.array([3, -3, 0], dtype=np.int64), tag="int"),   # truncating; x/0 = 0
    binary("pow", P, Y, np.power),
    binary("maximum", X, Y, np.maximum),
    binary("minimum", X, Y, np.minimum),
    # complex operands: gradients follow the conj convention (dx = dz conj(y), ...)
    binary("mul", Z, W, np.multiply, tag="c128"),
    binary("div", Z, W, np.divide, tag="c128"),
    binary("add", Z, W, np.add, tag="c128"),
    binary("sub", Z, W, np.subtract, tag="c128"),
    unary("neg", Z, lambda x: -x, tag="c128"),
    # size-1 / rank-0 broadcasting of both operands, and the cotangent summed back
    binary("div", X[:, :1], Y, np.divide, tag="bcast"),
    binary("pow", P[:1], np.array(1.7), np.power, tag="scalar_exp"),
    binary("pow", np.array(2.5), Y, np.power, tag="scalar_base"),
    # ties split the cotangent evenly (what central differences see too)
    binary("maximum", T, U, np.maximum, tag="ties"),
    binary("minimum", T, U, np.minimum, tag="ties"),
    unary("relu", np.array([-1.0, 0.0, 2.0]), lambda x: np.maximum(x, 0), tag="kink",
          gradcheck=False),   # relu'(0) = 0, not the central difference 1/2
    unary("abs", np.array([-1.5, 0.0, 2.0]), np.abs, tag="kink"),   # abs'(0) = 0 = central difference
    unary("elu", np.array([-30.0, -1e-3, 1e-3, 40.0, 800.0]),
          lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0))), attrs="alpha = 1.5",
          tag="wide"),   # e^x must not overflow into the gradient
    unary("gelu", X * 4, lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))), tag="wide"),
    unary("gelu", X * 4, lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
          attrs='approximate = "tanh"', tag="tanh_wide"),
]
