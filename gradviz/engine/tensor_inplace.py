"""In-place Tensor ops (``add_``, ``copy_``, ``t[key] = v`` ...): torch's rule that a tensor
which requires grad is never changed in place while grad mode is on, and the note that
lets backward refuse values changed after a graph saved them."""
import numpy as np

from ..errors import BackwardError, GradvizError, ShapeError
from . import grad_mode
from .function import note_inplace
from .tensor import Tensor
from .tensor_shape import _index_key


def _check_inplace(self):
    if grad_mode.enabled and self._requires_grad:
        if self.grad_fn is None:
            raise BackwardError("a leaf Variable that requires grad is being used in an "
                                "in-place operation.")
        raise BackwardError("in-place operations on tensors that are part of a graph are not "
                            "supported; use the out-of-place op")
    note_inplace(self)   # a graph that saved these values must not use them any more
    from ..trace.hooks import HOOKS
    if HOOKS.listening:
        HOOKS.tracer.protect([self._data])  # pending records keep the values they saw


def _other(self, other):
    if isinstance(other, Tensor):
        return other._data
    return other


def add_(self, other, alpha=1):
    """In-place add."""
    _check_inplace(self)
    o = _other(self, other)
    self._data += o * alpha if alpha != 1 else o
    return self


def sub_(self, other, alpha=1):
    """In-place subtract."""
    _check_inplace(self)
    o = _other(self, other)
    self._data -= o * alpha if alpha != 1 else o
    return self


def mul_(self, other):
    """In-place multiply."""
    _check_inplace(self)
    self._data *= _other(self, other)
    return self


def div_(self, other):
    """In-place divide."""
    _check_inplace(self)
    self._data /= _other(self, other)
    return self


def zero_(self):
    """Fill with zeros in place."""
    _check_inplace(self)
    self._data[...] = 0
    return self


def fill_(self, value):
    """Fill with a value in place."""
    _check_inplace(self)
    self._data[...] = _other(self, value)
    return self


def copy_(self, src):
    """Copy src's values into self in place (broadcasting)."""
    _check_inplace(self)
    from .backend import move
    arr = src._data if isinstance(src, Tensor) else np.asarray(src)
    self._data[...] = move(arr, self.device)
    return self


def clamp_(self, min=None, max=None):
    """Clamp in place."""
    _check_inplace(self)
    self._data[...] = self._data.clip(min, max)
    return self


def setitem(self, key, value):
    """In-place assignment ``t[key] = value`` (only on tensors that need no grad)."""
    if grad_mode.enabled and isinstance(value, Tensor) and value.requires_grad:
        # torch would make ``self`` part of the graph; copying only the values would
        # silently lose the gradient, so say so (before anything is noted as changed)
        raise BackwardError("assigning a tensor that requires grad into another tensor "
                            "(t[key] = value) is not supported: its gradient would be lost. "
                            "Build the result with gv.stack/gv.cat/gv.where instead, or "
                            "assign value.detach() if no gradient should flow.")
    _check_inplace(self)
    key = _index_key(key, self)
    value = value._data if isinstance(value, Tensor) else value
    try:
        self._data[key] = value
    except ValueError as exc:
        if getattr(value, "size", 0) != 1:
            raise ShapeError(f"cannot assign a value of shape {np.shape(value)} to "
                             f"t[{key}]: {exc}") from None
        self._data[key] = value.reshape(())  # torch: x[0, 0] = tensor([v]) sets one element


# ---- in-place random fills (gv's generator: ``gv.manual_seed`` repeats them) -------------
def _fill_random(self, draw):
    """Write ``draw(generator, shape)`` (host values) into self, keeping dtype and device."""
    from .backend import move
    from .random import generator
    _check_inplace(self)
    arr = np.asarray(draw(generator(), self._data.shape))
    self._data[...] = move(arr.astype(self._data.dtype, copy=False), self.device)
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with values drawn uniformly from [a, b)."""
    return _fill_random(self, lambda g, shape: g.uniform(a, b, shape))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with values drawn from N(mean, std²)."""
    return _fill_random(self, lambda g, shape: g.normal(mean, std, shape))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability ``p``, a number or a tensor of them) or 0."""
    prob = p.detach().cpu().numpy() if isinstance(p, Tensor) else p
    return _fill_random(self, lambda g, shape: g.random(shape) < prob)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with values drawn from the exponential distribution of rate ``lambd``."""
    return _fill_random(self, lambda g, shape: g.exponential(1.0 / lambd, shape))


def masked_fill_(self, mask, value):
    """Write ``value`` where ``mask`` is true, in place."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise ShapeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                         f"{m.dtype}")
    _check_inplace(self)
    self._data[...] = _where(self._data, m, _other(self, value))
    return self


def _where(data, mask, value):
    from .backend import xp_of
    return xp_of(data).where(mask, value, data)


def inplace_of(name, compute, doc):
    """An in-place op ``name(t, ...)``: ``compute(t, ...)``'s values written back into ``t``
    (no graph, as torch's in-place ops on tensors that need no grad)."""
    def inplace(self, *args, **kwargs):
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
