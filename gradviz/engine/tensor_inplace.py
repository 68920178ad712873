"""In-place Tensor ops (``add_``, ``copy_``, ``t[key] = v`` ...), with torch's rules.

With no graph involved (grad mode off, or neither the tensor nor an operand requires grad)
they write into the tensor's array, and note the change so that a graph which saved the old
values refuses its backward. When a graph is involved they join it, as torch's do: the op
runs out of place on a stand-in for the tensor's previous version, its result is written
into the tensor, and the tensor becomes the op's output (``function.rebase``); on a view,
the tensor it views is rewritten in the graph too. Refused, as torch: a leaf that requires
grad or a view of one, a view whose elements overlap; and here also a view of a tensor
outside the graph (that tensor could not learn of the change)."""
import sys

import numpy as np

from ..errors import BackwardError, GradvizError, ShapeError
from ..trace.hooks import HOOKS
from . import grad_mode
from .function import note_inplace, rebase
from .tensor import Tensor
from .tensor_shape import _index_key, _ints_and_arrays, torch_placed_key


def _check_inplace(self):
    """About to write into ``self``'s array outside any graph."""
    note_inplace(self)   # a graph that saved these values must not use them any more
    _protect(self)


def _protect(self):
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
    base = _view_base(self, name)
    if base is not None:
        return _view_in_graph(self, base, name, compute)
    prev, new = _new_version(self, name, compute)
    _protect(self)
    rebase(self, prev, new)
    return self


def _stand_in(t):
    """A tensor for t's current version: a copy of its values, its grad_fn and trace node."""
    prev = Tensor._wrap(t._data.copy(), t._requires_grad)
    prev.grad_fn, prev._node, prev._name = t.grad_fn, t._node, t._name
    return prev


def _new_version(self, name, compute):
    """(stand-in for self's current version, ``compute(stand-in)`` checked to fit self)."""
    prev = _stand_in(self)
    new = compute(prev)
    if new.grad_fn is not None:
        new.grad_fn.inplace = name
    if HOOKS.listening and new._node is not None:
        HOOKS.tracer.mark_inplace(new._node, name)
    if tuple(new.shape) != tuple(self.shape):
        raise ShapeError(f"{name}: output with shape {list(self.shape)} doesn't match the "
                         f"broadcast shape {list(new.shape)}")
    if new._data.dtype != self._data.dtype:
        if not np.can_cast(new._data.dtype, self._data.dtype, "same_kind"):
            raise GradvizError(f"result type {new.dtype} can't be cast to the desired output "
                               f"type {self.dtype} ({name} on a {self.dtype} tensor)")
        new = new.to(self.dtype)
    return prev, new


def _view_base(self, name):
    """The tensor whose array ``self``'s array views (up a chain of view ops: ``y.T[0]``),
    or None when self owns its values. A view of a tensor that is not in the graph (a leaf,
    ``buf[0]``) is refused: that tensor could not learn of the change."""
    d = self._data
    if getattr(d, "base", None) is None:
        return None
    from .backend import xp_of
    share = xp_of(d).may_share_memory
    node = self
    while node.grad_fn is not None:
        up = [a for a in node.grad_fn.inputs if isinstance(a, Tensor) and share(d, a._data)]
        if not up:
            break
        node = up[0]
    if node is not self:
        return node
    if self.grad_fn is None and sys.getrefcount(d.base) > 2:
        # something else holds the memory it views (a tensor, another view): refuse; when
        # only this view does (``gv.arange(6.).reshape(2, 3)``) nothing else can see it
        _refuse_view(name, "the tensor it views is not part of the graph, so it would not "
                     "learn of the change")
    return None   # its array views a temporary or one of its op's own intermediates


def _refuse_view(name, why):
    raise BackwardError(f"{name}: an in-place op that joins the graph on a view of another "
                        f"tensor (t[i], .view, .T ...) is not supported here: {why}. Assign "
                        "through that tensor (base[key] = value) or use the out-of-place op.")


def _view_in_graph(self, base, name, compute):
    """In-place on a view of a tensor in the graph, as torch: the base becomes its previous
    version with the view's places rewritten (an IndexPut, torch's CopySlices) and the view
    becomes those places of the new base."""
    if base.grad_fn is None:
        raise BackwardError("a view of a leaf Variable that requires grad is being used in "
                            "an in-place operation.")
    key = _places(self, base, name)
    prev, new = _new_version(self, name, compute)
    from . import ops as O
    prev_base = _stand_in(base)
    new_base = O.IndexPut.apply(prev_base, new, key=key, accumulate=False)
    _protect(base)
    rebase(base, prev_base, new_base)
    _protect(self)
    rebase(self, prev, O.Getitem.apply(base, key=key))
    return self


def _places(view, base, name):
    """The index (a tuple of integer arrays) of ``base``'s elements that ``view``'s elements
    are, from where they lie in memory."""
    from .backend import address, xp_of
    d, b = view._data, base._data
    if not b.flags.c_contiguous:
        _refuse_view(name, "the tensor it views is not contiguous")
    xp = xp_of(d)
    at = xp.full(d.shape, address(d) - address(b), dtype=np.int64)
    for k, (n, stride) in enumerate(zip(d.shape, d.strides)):
        at = at + (xp.arange(n, dtype=np.int64) * stride).reshape(
            (n,) + (1,) * (d.ndim - 1 - k))
    flat = at // b.itemsize
    if bool((at % b.itemsize).any()) or int(xp.unique(flat).size) != flat.size:
        _refuse_view(name, "more than one of its elements refers to one place in memory")
    return tuple(xp.unravel_index(flat, b.shape))


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
    if self._data.dtype.kind != "f":
        from .tensor_methods import int_bounds
        if isinstance(min, float) or isinstance(max, float):
            kind = {"int64": "long int", "int32": "int", "int16": "short int",   # C++'s
                    "int8": "signed char", "uint8": "unsigned char"}.get(self._data.dtype.name,
                                                                         self.dtype)
            raise GradvizError(f"result type Float can't be cast to the desired output type "
                               f"{kind}")
        min, max = int_bounds(self._data.dtype, min, max)
    _check_inplace(self)
    self._data[...] = self._data.clip(min, max)
    return self


def setitem(self, key, value):
    """``t[key] = value``: in place; part of the graph when t or value requires grad."""
    key = _index_key(key, self)
    if len(key) > 1 and _ints_and_arrays(key):
        key = torch_placed_key(self._data, key)   # torch's placement of the values, not NumPy's
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
def _fill_random(self, draw, name, gen=None):
    """Write ``draw(generator, shape)`` (host values; ``gen``'s stream when given) into
    self, keeping dtype and device."""
    from .backend import move
    from .random import generator
    arr = np.asarray(draw(generator(gen), self._data.shape))
    arr = move(arr.astype(self._data.dtype, copy=False), self.device)
    if _joins_graph(self):   # new values: no gradient to the old ones
        return _in_graph(self, name, lambda p: _overwrite(p, Tensor._wrap(arr)))
    _check_inplace(self)
    self._data[...] = arr
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with values drawn uniformly from [a, b)."""
    return _fill_random(self, lambda g, shape: g.uniform(a, b, shape), "uniform_",
                        generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with values drawn from N(mean, std²)."""
    return _fill_random(self, lambda g, shape: g.normal(mean, std, shape), "normal_",
                        generator)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability ``p``, a number or a tensor of them) or 0."""
    prob = p.detach().cpu().numpy() if isinstance(p, Tensor) else p
    return _fill_random(self, lambda g, shape: g.random(shape) < prob, "bernoulli_",
                        generator)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with values drawn from the exponential distribution of rate ``lambd``."""
    return _fill_random(self, lambda g, shape: g.exponential(1.0 / lambd, shape),
                        "exponential_", generator)


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
        if out.dtype != self._data.dtype and not np.can_cast(out.dtype, self._data.dtype,
                                                             "same_kind"):
            # torch casts within a kind (float64 into float32) and refuses a higher kind
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
