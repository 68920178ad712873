"""Graph mode for the linalg ops' backward formulas (create_graph=True).

Under create_graph a backward gets the Tensor namespace as ``xp``. The formulas in
linalg_more.py are written on ``xp`` and ``xp.linalg``; :class:`_GraphXP` adds the few
array routines the Tensor namespace lacks (triangles, joins, ``linalg``) as ops on Tensors,
so that the same formula builds a graph. ``_gxp`` and ``_la`` pick it or the plain backend.
"""
import numpy as np

from ..backend import on_graph


class _GraphLinalg:
    """``xp.linalg`` for the Tensor namespace (create_graph): the same routines as ops, so
    that a backward formula written on ``xp.linalg`` builds a graph."""

    # the ops are imported on call: linalg_more imports this module

    @staticmethod
    def inv(a):
        from .linalg_more import Inv  # noqa: PLC0415
        return Inv.apply(a)

    @staticmethod
    def det(a):
        from .linalg_more import Det  # noqa: PLC0415
        return Det.apply(a)

    @staticmethod
    def solve(a, b):
        from .linalg_more import Solve  # noqa: PLC0415
        return Solve.apply(a, b)

    @staticmethod
    def svd(a, full_matrices=False):
        from .linalg_more import Svd, svd_shapes, unpack  # noqa: PLC0415
        batch = tuple(a.shape[:-2])
        return unpack(Svd.apply(a, full_matrices=full_matrices),
                      svd_shapes(tuple(a.shape), full_matrices), batch)

    @staticmethod
    def eigh(a):
        from .linalg_more import Eigh, unpack  # noqa: PLC0415
        batch, n = tuple(a.shape[:-2]), a.shape[-1]
        return unpack(Eigh.apply(a), [batch + (n,), batch + (n, n)], batch)


class _GraphXP:
    """The Tensor namespace plus the few array routines these formulas also use (triangles,
    joins, ``linalg``), as ops on Tensors: a backward written on ``xp`` builds a graph."""

    linalg = _GraphLinalg

    def __init__(self, tnp):
        self._tnp = tnp
        self.__name__ = tnp.__name__   # on_graph() still recognises it

    def __getattr__(self, name):
        return getattr(self._tnp, name)

    @staticmethod
    def tril(a, k=0):
        return a.tril(k)

    @staticmethod
    def triu(a, k=0):
        return a.triu(k)

    @staticmethod
    def concatenate(parts, axis=0):
        from ..functional import cat
        return cat(list(parts), dim=axis)

    @staticmethod
    def zeros_like(a):
        return a * 0

    @staticmethod
    def broadcast_shapes(*shapes):
        return np.broadcast_shapes(*[tuple(s) for s in shapes])


def _gxp(xp):
    """``xp``, or under create_graph the Tensor namespace completed by :class:`_GraphXP`."""
    return _GraphXP(xp) if on_graph(xp) else xp


def _la(xp):
    """``xp.linalg``, or its graph-building twin under create_graph."""
    return _GraphLinalg if on_graph(xp) else xp.linalg
