"""Fused CuPy kernels for elementwise chains (GPU only).

On the GPU each NumPy-style elementwise step is a kernel launch and a pass over
memory; ``cupy.fuse`` turns a chain such as ``g * y * (1 - y)`` into one
kernel. ``kernel(xp, name)`` gives the fused form when ``xp`` is CuPy and None
otherwise (NumPy, or the Tensor namespace under create_graph), so the CPU path
never imports CuPy and keeps its formulas. Each body is the same math as the
op's plain formula beside it.

``elementwise(xp, name, *arrays)`` gives a ``cupy.ElementwiseKernel``: the optimizer steps
(the parameter and its state arrays are in-out arguments updated in place, as Chainer's
optimizers do: an Adam step is one launch per parameter instead of about eleven) and max
pooling's per-offset passes (one launch an offset instead of five, and of three backward).
The CUDA bodies mirror the NumPy code they replace step for step; the host computes every
scalar coefficient (as the NumPy path does) and passes it in.
"""
import numpy as np

_cache = {}   # (module, name) -> kernel; the module itself, not its id (a test's fake
#               CuPy may be freed and its id reused by the next one)
_SQRT_2_OVER_PI = 0.7978845608028654
_INV_SQRT_2PI = 0.3989422804014327


def kernel(xp, name):
    """The fused kernel ``name`` for CuPy ``xp``; None for any other namespace."""
    if getattr(xp, "__name__", "") != "cupy":
        return None
    key = (xp, name)
    k = _cache.get(key)
    if k is None:
        k = _cache[key] = xp.fuse(_bodies(xp)[name])
    return k


def _bodies(cp):
    def sigmoid(x):
        e = cp.exp(-cp.abs(x))
        return cp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def sigmoid_grad(g, y):
        return g * y * (1 - y)

    def tanh_grad(g, y):
        return g * (1 - y * y)

    def silu_grad(g, x, s):
        return g * s * (1 + x * (1 - s))

    def gelu_grad(g, x, erf_x):  # erf_x = erf(x / sqrt 2), one CuPy-X kernel before this one
        return g * ((1 + erf_x) * 0.5 + x * (cp.exp(x * x * -0.5) * _INV_SQRT_2PI))

    def gelu_tanh_grad(g, x):
        t = cp.tanh((x + x * x * x * 0.044715) * _SQRT_2_OVER_PI)
        d_inner = (1 + x * x * (3 * 0.044715)) * _SQRT_2_OVER_PI
        return g * (0.5 * (1 + t) + x * 0.5 * (1 - t * t) * d_inner)

    return {f.__name__: f for f in (sigmoid, sigmoid_grad, tanh_grad, silu_grad, gelu_grad,
                                    gelu_tanh_grad)}


# ---- ElementwiseKernels: optimizer updates (in-out), max pooling --------------------------
# Inputs are (gradient, scalars...); outputs (the parameter w, then its state) are updated in
# place. ``T`` is the parameter's dtype; CuPy casts the Python-float scalars to it, as NumPy
# casts them in the plain update. ``wd`` is the L2 penalty (0 for none), ``decay`` AdamW's
# ``1 - lr·wd`` (1 for none). Adam's first moment is a lerp in torch's two-sided form, so its
# kernel comes in two bodies (weight below 0.5 or not), as lerp_ in optim/optimizer.py.
_ADAM = ("T g, T wd, T decay, T w1, T beta2, T one_beta2, T step_size, T bias2_sqrt, T eps",
         "T w, T m, T v",
         "T gg = g + wd * w; w = w * decay; {lerp} v = v * beta2 + one_beta2 * (gg * gg); "
         "w = w - step_size * (m / (sqrt(v) / bias2_sqrt + eps));")
_SGD = ("T g, T wd, T mu, T one_damp, T lr", "T w, T b",
        "T gg = g + wd * w; b = b * mu + one_damp * gg; w = w - lr * {direction};")
_ELEMENTWISE = {
    "sgd": ("T g, T lr", "T w", "w = w - lr * g;"),
    "sgd_momentum": _SGD[:2] + (_SGD[2].format(direction="b"),),
    "sgd_nesterov": _SGD[:2] + (_SGD[2].format(direction="(gg + mu * b)"),),
    "adam": _ADAM[:2] + (_ADAM[2].format(lerp="m = m + w1 * (gg - m);"),),
    "adam_lerp_high": _ADAM[:2] + (_ADAM[2].format(lerp="m = gg - (gg - m) * (1 - w1);"),),
    "rmsprop": ("T g, T wd, T alpha, T one_alpha, T lr, T eps", "T w, T s",
                "T gg = g + wd * w; s = s * alpha + one_alpha * (gg * gg); "
                "w = w - lr * (gg / (sqrt(s) + eps));"),
    # max pooling's running max over the kernel offsets (I: the index dtype; not ``i``, which
    # is CuPy's loop index in a body): a later offset wins only when strictly greater, or NaN
    # (v != v), as the NumPy passes
    "maxpool_take": ("T v, I offset", "T best, I idx",
                     "bool take = (v > best) || (v != v); best = take ? v : best; "
                     "idx = take ? offset : idx;"),
    # and its backward: dy added where this offset was the max (``dx`` a strided view)
    "maxpool_route": ("T g, I idx, I offset", "T dx", "dx = idx == offset ? dx + g : dx;"),
}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def elementwise(xp, name, *floats):
    """The ElementwiseKernel ``name`` for CuPy ``xp`` when the arrays of its type ``T``
    (``floats``: for an update the gradient, the parameter and its state) are float32 or
    float64 of one dtype; None otherwise (NumPy, other dtypes, or a mix): the caller runs
    its NumPy-style code."""
    if getattr(xp, "__name__", "") != "cupy":
        return None
    dtype = floats[0].dtype
    if dtype not in _FLOATS or any(a.dtype != dtype for a in floats):
        return None
    key = (xp, name)
    k = _cache.get(key)
    if k is None:
        k = _cache[key] = xp.ElementwiseKernel(*_ELEMENTWISE[name], "gradviz_" + name)
    return k
