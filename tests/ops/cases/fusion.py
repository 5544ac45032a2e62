"""Golden cases for ir/ops/fusion.cpp (`fused`: a kernel group runs its body region)."""
import numpy as np

from gen_golden import Case, rng, tir_type

r = rng(71)


def softmax_rows():
    x = r.standard_normal((3, 5))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True)
    t = tir_type(x)
    body = """
    %%y, %%m = fused %%a0 {body = region(%%x: %(t)s) -> (%(t)s, f64[3,1]) {
      %%m = max %%x {axes = [-1], keepdims = true} : f64[3,1]
      %%d = sub %%x, %%m : %(t)s
      %%e = exp %%d : %(t)s
      %%s = sum %%e {axes = [-1], keepdims = true} : f64[3,1]
      %%y = div %%e, %%s : %(t)s
      return %%y, %%m
    }} : %(t)s, f64[3,1]
    return %%y, %%m
    """ % {"t": t}
    return Case("fusion_fused_softmax_rows", body, [x], [y, x.max(axis=-1, keepdims=True)],
                gradcheck=False)


def epilogue():
    x = r.standard_normal((2, 4)).astype(np.float32)
    b = r.standard_normal(4).astype(np.float32)
    y = np.maximum(x + b, 0).astype(np.float32)
    body = """
    %%y = fused %%a0, %%a1 {kind = "loop", body = region(%%x: f32[2,4], %%b: f32[4]) -> f32[2,4] {
      %%s = add %%x, %%b : f32[2,4]
      %%y = relu %%s : f32[2,4]
      return %%y
    }} : f32[2,4]
    return %%y
    """ % {}
    return Case("fusion_fused_bias_relu_f32", body, [x, b], [y], rtol=1e-6, atol=1e-6,
                gradcheck=False)


CASES = [softmax_rows(), epilogue()]
