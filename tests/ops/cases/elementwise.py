"""Golden cases for ir/ops/elementwise.cpp (unary and binary arithmetic)."""
import math

import numpy as np

from gen_golden import Case, rng

r = rng(1)
X = r.standard_normal((3, 4))            # f64 inputs: the interpreter is checked at 1e-10
P = r.uniform(0.1, 3.0, (3, 4))          # positive, for log/sqrt/pow
Y = r.standard_normal((4,))              # broadcasts against X
erf = np.vectorize(math.erf)


def unary(op, x, fn, attrs="", **kw):
    t = "f64[%s]" % ",".join(map(str, x.shape))
    body = "%%y = %s %%a0%s : %s\nreturn %%y" % (op, (" {%s}" % attrs) if attrs else "", t)
    return Case("ew_" + op + ("_" + kw.pop("tag") if "tag" in kw else ""), body, [x], [fn(x)], **kw)


def binary(op, x, y, fn, **kw):
    z = fn(x, y)
    t = "%s[%s]" % ({np.float64: "f64", np.int64: "i64"}[z.dtype.type], ",".join(map(str, z.shape)))
    body = "%%z = %s %%a0, %%a1 : %s\nreturn %%z" % (op, t)
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
    unary("sign", np.array([-2.0, 0.0, 3.0]), np.sign),
    unary("erf", X, erf),
    unary("stop_gradient", X, lambda x: x),
    binary("add", X, Y, np.add),
    binary("sub", X, Y, np.subtract),
    binary("mul", X, Y, np.multiply),
    binary("div", X, Y, np.divide),
    binary("div", np.array([7, -7, 5], dtype=np.int64), np.array([2, 2, 0], dtype=np.int64),
           lambda a, b: np.array([3, -3, 0], dtype=np.int64), tag="int"),   # truncating; x/0 = 0
    binary("pow", P, Y, np.power),
    binary("maximum", X, Y, np.maximum),
    binary("minimum", X, Y, np.minimum),
]
