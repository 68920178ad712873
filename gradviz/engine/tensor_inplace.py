"""In-place Tensor ops (``add_``, ``copy_``, ``t[key] = v`` ...), with torch's rules.

With no graph involved (grad mode off, or neither the tensor nor an operand requires grad)
they write into the tensor's array, and note the change so that a graph which saved the old
values refuses its backward. When a graph is involved they join it, as torch's do: the op
runs out of place on a stand-in for the tensor's previous version, its result is written
into the tensor, and the tensor becomes the op's output (``function.rebase``). Refused, as
torch: a leaf that requires grad; and here also a view of another tensor (its base would
not learn of the change)."""
import numpy as np

from ..errors import BackwardError, GradvizError, ShapeError
from . import grad_mode
from .function import note_inplace, rebase
from .tensor import Tensor
from .tensor_shape import _index_key


def _check_inplace(self):
    """About to write into ``self``'s array outside any graph."""
    note_inplace(self)   # a graph that saved these values must not use them any more
    _protect(self)


def _protect(self):
    from ..trace.hooks import HOOKS
    if HOOKS.listening:
        HOOKS.tracer.protect([self._data])  # pending records keep the values they saw


def _joins_graph(self, operands=()):
    """Whether an in-place op on ``self`` with these operands is part of the graph."""
    if not grad_mode.enabled:
        return False
    return self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad
                                      for o in operands)


def _in_graph(self, name, compute):
    """``self`` ← ``compute(previous self)``, a graph op, written in place (torch's in-place
    op on a tensor in a graph). Bad arguments raise before anything changes."""
    if self.grad_fn is None and self._requires_grad:
        raise BackwardError("a leaf Variable that requires grad is being used in an "
                            "in-place operation.")
    _refuse_view(self, name)
    prev = Tensor._wrap(self._data.copy(), self._requires_grad)
    prev.grad_fn, prev._node, prev._name = self.grad_fn, self._node, self._name
    new = compute(prev)
    if tuple(new.shape) != tuple(self.shape):
        raise ShapeError(f"{name}: output with shape {list(self.shape)} doesn't match the "
                         f"broadcast shape {list(new.shape)}")
    if new._data.dtype != self._data.dtype:
        if not np.can_cast(new._data.dtype, self._data.dtype, "same_kind"):
            raise GradvizError(f"result type {new.dtype} can't be cast to the desired output "
                               f"type {self.dtype} ({name} on a {self.dtype} tensor)")
        new = new.to(self.dtype)
    _protect(self)
    rebase(self, prev, new)
    return self


def _refuse_view(self, name):
    """A view's base would keep its old place in the graph while its values change: refuse
    (torch rebases the base; here write through the base: ``base[key] = value``)."""
    d = self._data
    if getattr(d, "base", None) is None:
        return
    fn = self.grad_fn
    if fn is not None:
        from .backend import xp_of
        share = xp_of(d).may_share_memory
        if not any(isinstance(a, Tensor) and share(d, a._data) for a in fn.inputs):
            return   # its array is a view of one of the op's own intermediates
    raise BackwardError(f"{name}: an in-place op that joins the graph on a view of another "
                        "tensor (t[i], .view, .T ...) is not supported: the tensor it views "
                        "would not learn of the change. Assign through that tensor "
                        "(base[key] = value) or use the out-of-place op.")


def _swap(operand, self, prev):
    """An operand that is ``self`` reads the previous version (``y.mul_(y)``)."""
    return prev if operand is self else operand


def _overwrite(prev, value):
    """``value`` (a number or tensor, broadcast) in every place of ``prev``: no gradient to
    prev, value's to value."""
    from .tensor_methods import where
    xp = _xp(prev)
    return where(Tensor._wrap(xp.ones(prev._data.shape, dtype=bool)), value, prev)


def _xp(t):
    from .backend import xp_of
    return xp_of(t._data)


def _other(self, other):
    if isinstance(other, Tensor):
        return other._data
    return other


def add_(self, other, alpha=1):
    """In-place add."""
    if _joins_graph(self, (other,)):
        return _in_graph(self, "add_", lambda p: p.add(_swap(other, self, p), alpha=alpha))
    _check_inplace(self)
    o = _other(self, other)
    self._data += o * alpha if alpha != 1 else o
    return self


def sub_(self, other, alpha=1):
    """In-place subtract."""
    if _joins_graph(self, (other,)):
        return _in_graph(self, "sub_", lambda p: p.sub(_swap(other, self, p), alpha=alpha))
    _check_inplace(self)
    o = _other(self, other)
    self._data -= o * alpha if alpha != 1 else o
    return self


def mul_(self, other):
    """In-place multiply."""
    if _joins_graph(self, (other,)):
        return _in_graph(self, "mul_", lambda p: p.mul(_swap(other, self, p)))
    _check_inplace(self)
    self._data *= _other(self, other)
    return self


def div_(self, other, rounding_mode=None):
    """In-place divide (``rounding_mode`` as ``div``)."""
    if rounding_mode is None and self._data.dtype.kind == "f" \
            and not _joins_graph(self, (other,)):
        _check_inplace(self)
        self._data /= _other(self, other)
        return self
    return _div_(self, other, rounding_mode=rounding_mode)


def zero_(self):
    """Fill with zeros in place."""
    if _joins_graph(self):
        return _in_graph(self, "zero_", lambda p: _overwrite(p, 0))
    _check_inplace(self)
    self._data[...] = 0
    return self


def fill_(self, value):
    """Fill with a value (a number or a 0-d tensor) in place."""
    if isinstance(value, Tensor) and value.ndim:
        raise GradvizError(f"fill_ only supports 0-dimension value tensor but got tensor "
                           f"with {value.ndim} dimensions.")
    if _joins_graph(self, (value,)):
        return _in_graph(self, "fill_", lambda p: _overwrite(p, value))
    _check_inplace(self)
    self._data[...] = _other(self, value)
    return self


def copy_(self, src, non_blocking=False):
    """Copy src's values into self in place (broadcasting, casting, across devices)."""
    from .backend import move
    if _joins_graph(self, (src,)):
        return _in_graph(self, "copy_", lambda p: _overwrite(
            p, src.to(device=self.device, dtype=self.dtype) if isinstance(src, Tensor)
            else src))
    arr = src._data if isinstance(src, Tensor) else np.asarray(src)
    _check_inplace(self)
    self._data[...] = move(arr, self.device)
    return self


def clamp_(self, min=None, max=None):
    """Clamp in place."""
    if _joins_graph(self, (min, max)):
        return _in_graph(self, "clamp_", lambda p: p.clamp(min, max))
    _check_inplace(self)
    self._data[...] = self._data.clip(min, max)
    return self


def setitem(self, key, value):
    """``t[key] = value``: in place; part of the graph when t or value requires grad."""
    key = _index_key(key, self)
    if _joins_graph(self, (value,)):
        return _setitem_in_graph(self, key, value)
    _check_inplace(self)
    value = value._data if isinstance(value, Tensor) else value
    try:
        self._data[key] = value
    except ValueError as exc:
        if getattr(value, "size", 0) != 1:
            raise ShapeError(f"cannot assign a value of shape {np.shape(value)} to "
                             f"t[{key}]: {exc}") from None
        self._data[key] = value.reshape(())  # torch: x[0, 0] = tensor([v]) sets one element


def _setitem_in_graph(self, key, value):
    from . import ops as O
    from .tensor_methods import _as_tensor
    try:
        target = self._data[key].shape
    except IndexError as exc:
        raise IndexError(str(exc)) from None
    v = value if isinstance(value, Tensor) else _as_tensor(value, self)
    if v.dtype != self.dtype:
        v = v.to(self.dtype)
    while v.ndim > len(target) and v.shape[0] == 1:   # as NumPy: leading 1s drop
        v = v.squeeze(0)
    try:
        ok = np.broadcast_shapes(tuple(v.shape), target) == target
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be "
                         f"broadcast to indexing result of shape {list(target)}")
    _in_graph(self, "setitem", lambda p: O.IndexPut.apply(p, v, key=key, accumulate=False))


# ---- in-place random fills (gv's generator: ``gv.manual_seed`` repeats them) -------------
def _fill_random(self, draw, name):
    """Write ``draw(generator, shape)`` (host values) into self, keeping dtype and device."""
    from .backend import move
    from .random import generator
    arr = np.asarray(draw(generator(), self._data.shape))
    arr = move(arr.astype(self._data.dtype, copy=False), self.device)
    if _joins_graph(self):   # new values: no gradient to the old ones
        return _in_graph(self, name, lambda p: _overwrite(p, Tensor._wrap(arr)))
    _check_inplace(self)
    self._data[...] = arr
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with values drawn uniformly from [a, b)."""
    return _fill_random(self, lambda g, shape: g.uniform(a, b, shape), "uniform_")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with values drawn from N(mean, std²)."""
    return _fill_random(self, lambda g, shape: g.normal(mean, std, shape), "normal_")


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability ``p``, a number or a tensor of them) or 0."""
    prob = p.detach().cpu().numpy() if isinstance(p, Tensor) else p
    return _fill_random(self, lambda g, shape: g.random(shape) < prob, "bernoulli_")


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with values drawn from the exponential distribution of rate ``lambd``."""
    return _fill_random(self, lambda g, shape: g.exponential(1.0 / lambd, shape),
                        "exponential_")


def masked_fill_(self, mask, value):
    """Write ``value`` where ``mask`` is true, in place."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise ShapeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                         f"{m.dtype}")
    if _joins_graph(self, (value,)):
        from .tensor_methods import where
        return _in_graph(self, "masked_fill_", lambda p: where(
            Tensor._wrap(m), value, p) if isinstance(value, Tensor) else p.masked_fill(m, value))
    _check_inplace(self)
    self._data[...] = _where(self._data, m, _other(self, value))
    return self


def _where(data, mask, value):
    from .backend import xp_of
    return xp_of(data).where(mask, value, data)


def inplace_of(name, compute, doc):
    """An in-place op ``name(t, ...)``: ``compute(t, ...)``'s values written back into ``t``
    (part of the graph when t or an argument requires grad, as torch's)."""
    def inplace(self, *args, **kwargs):
        if _joins_graph(self, args + tuple(kwargs.values())):
            return _in_graph(self, name, lambda p: compute(
                p, *(_swap(a, self, p) for a in args), **kwargs))
        with grad_mode.no_grad():
            out = compute(self, *args, **kwargs)._data
        if out.dtype != self._data.dtype:
            raise GradvizError(f"result type {out.dtype} can't be cast to the desired output "
                               f"type {self._data.dtype} ({name} on a {self.dtype} tensor)")
        _check_inplace(self)
        self._data[...] = out
        return self
    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = doc
    return inplace


def _unary_(name, method):
    """``t.<name>_()``: the Tensor method ``method`` in place (looked up when called: the
    methods are set on Tensor after this module loads)."""
    return inplace_of(name, lambda t, *a, **k: getattr(Tensor, method)(t, *a, **k),
                      f"In-place ``{method}``.")


_div_ = inplace_of("div_", lambda t, other, rounding_mode=None: t.div(
    other, rounding_mode=rounding_mode), "In-place ``div``.")
