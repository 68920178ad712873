"""Fused CuPy kernels for elementwise chains (GPU only).

On the GPU each NumPy-style elementwise step is a kernel launch and a pass over
memory; ``cupy.fuse`` turns a chain such as ``g * y * (1 - y)`` into one
kernel. ``kernel(xp, name)`` gives the fused form when ``xp`` is CuPy and None
otherwise (NumPy, or the Tensor namespace under create_graph), so the CPU path
never imports CuPy and keeps its formulas. Each body is the same math as the
op's plain formula beside it.
"""
_cache = {}
_SQRT_2_OVER_PI = 0.7978845608028654
_INV_SQRT_2PI = 0.3989422804014327


def kernel(xp, name):
    """The fused kernel ``name`` for CuPy ``xp``; None for any other namespace."""
    if getattr(xp, "__name__", "") != "cupy":
        return None
    key = (id(xp), name)
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
