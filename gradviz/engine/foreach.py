"""``torch._foreach_*``: one op over a list of tensors, as EMA and optimizer code call them
(``torch._foreach_lerp_(ema_params, params, 1 - decay)``).

torch fuses each into one kernel; here each is a loop of the tensor method of the same name,
so values, gradients and in-place rules are that method's. The second argument may be a
number, a list of numbers, a list of tensors or (for the binary ops) a single tensor.
In-place forms return the list they changed; out-of-place forms a tuple of new tensors.
"""
from .tensor import Tensor

UNARY = ("abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 "
         "log1p log2 neg reciprocal round rsqrt sigmoid sign sin sinh sqrt tan tanh "
         "trunc").split()
BINARY = "add sub mul div maximum minimum clamp_min clamp_max pow".split()
TERNARY = "addcmul addcdiv lerp".split()
_NO_INPLACE_METHOD = {"maximum", "minimum"}   # no Tensor.maximum_: copy_ the result back


def _per_tensor(arg, n, name):
    """One argument per tensor: a list is taken as is, anything else repeated."""
    if isinstance(arg, (list, tuple)):
        if len(arg) != n:
            raise ValueError(f"_foreach_{name}: tensor lists must have the same number of "
                             f"tensors, got {n} and {len(arg)}")
        return list(arg)
    return [arg] * n


def _unary(name, inplace):
    if inplace:
        def f(self):
            for t in self:
                getattr(t, name + "_")()
            return self
    else:
        def f(self):
            return tuple(getattr(t, name)() for t in self)
    return f


def _binary(name, inplace):
    def f(self, other, **kwargs):
        if name == "pow" and not inplace and not isinstance(self, (list, tuple)):
            return tuple(self ** t for t in other)   # _foreach_pow(2.0, tensors)
        pairs = zip(self, _per_tensor(other, len(self), name))
        if not inplace:
            return tuple(getattr(t, name)(o, **kwargs) for t, o in pairs)
        for t, o in pairs:
            if name in _NO_INPLACE_METHOD:
                t.copy_(getattr(t, name)(o if isinstance(o, Tensor) else t.new_tensor(o)))
            else:
                getattr(t, name + "_")(o, **kwargs)
        return self
    return f


def _ternary(name, inplace):
    def f(self, tensors1, *rest, **kwargs):
        n = len(self)
        if name == "lerp":   # lerp(self, end, weight)
            args = zip(self, _per_tensor(tensors1, n, name), _per_tensor(rest[0], n, name))
            calls = [(t, (end, w), {}) for t, end, w in args]
        else:                # addcmul(self, tensor1, tensor2, value=1)
            value = rest[1] if len(rest) > 1 else kwargs.get("value", kwargs.get("scalars", 1))
            if isinstance(value, Tensor):   # a 1-D tensor of scalars, one per tensor
                value = value.tolist()
            args = zip(self, _per_tensor(tensors1, n, name), _per_tensor(rest[0], n, name),
                       _per_tensor(value, n, name))
            calls = [(t, (a, b), {"value": v}) for t, a, b, v in args]
        method = name + "_" if inplace else name
        out = tuple(getattr(t, method)(*a, **kw) for t, a, kw in calls)
        return self if inplace else out
    return f


def _foreach_copy_(self, src, non_blocking=False):
    """Copy each src tensor into the matching tensor of self."""
    for t, s in zip(self, _per_tensor(src, len(self), "copy_")):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_zero_(self):
    """Zero every tensor in place."""
    for t in self:
        t.zero_()
    return self


def _foreach_clone(self):
    """Copies of every tensor."""
    return tuple(t.clone() for t in self)


def _foreach_norm(self, ord=2, dtype=None):
    """The vector norm of each tensor (0-d tensors)."""
    return tuple(t.norm(p=ord, dtype=dtype) for t in self)


def _foreach_max(self):
    """The largest value of each tensor (0-d tensors)."""
    return tuple(t.max() for t in self)


def _build():
    funcs = {"_foreach_copy_": _foreach_copy_, "_foreach_zero_": _foreach_zero_,
             "_foreach_clone": _foreach_clone, "_foreach_norm": _foreach_norm,
             "_foreach_max": _foreach_max}
    for names, make in ((UNARY, _unary), (BINARY, _binary), (TERNARY, _ternary)):
        for name in names:
            for inplace in (False, True):
                f = make(name, inplace)
                f.__name__ = f"_foreach_{name}" + ("_" if inplace else "")
                f.__doc__ = (f"Tensor.{name}{'_' if inplace else ''} applied to each tensor "
                             "of a list (torch's foreach form).")
                funcs[f.__name__] = f
    return funcs


FUNCTIONS = _build()
