"""``gv.autograd.forward_ad``: torch's dual-tensor API (make_dual, unpack_dual, dual_level),
computed in reverse mode: gradviz has no forward-mode AD.

A dual tensor here is its primal made differentiable, with its tangent noted beside it;
``unpack_dual(y)`` then gives ``J·tangents`` by the double-vjp trick (``u ↦ uᵀJ`` is linear
in u, so its derivative along the tangents is ``J t``): exact values, two backward passes.
Differences from torch, all from the reverse-mode graph this needs: dual tensors and what
is computed from them report ``requires_grad=True``, and ops run under ``no_grad`` carry no
tangent.
"""
from collections import namedtuple

from ..engine.grad_mode import enable_grad
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError, ShapeError

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "What ``unpack_dual`` returns: (primal, tangent or None)."

_LEVELS = []   # per level entered: [(dual tensor, tangent, made from a requires-grad tensor)]


def enter_dual_level():
    """Start a new forward-AD level (only one at a time, as torch); returns its index."""
    if _LEVELS:
        raise GradvizError("Entering a new forward AD level but the current level is not "
                           "valid. Make sure you did not modified it directly.")
    _LEVELS.append([])
    return len(_LEVELS) - 1


def exit_dual_level(*, level=None):
    """End the current level: its dual tensors lose their tangents."""
    if not _LEVELS:
        raise GradvizError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    _LEVELS.pop()


class dual_level:
    """``with dual_level():`` — the scope in which dual tensors keep their tangents."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def make_dual(tensor, tangent, *, level=None):
    """A tensor with ``tensor``'s values whose tangent (forward derivative) is ``tangent``."""
    if not _LEVELS:
        raise GradvizError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise GradvizError("make_dual expects Tensors for the primal and the tangent")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ArgumentError(f"Expected primal to be floating point or complex, but got: "
                            f"{tensor.dtype}")
    if any(d is tensor for d, _, _ in _LEVELS[-1]):
        raise GradvizError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {len(_LEVELS) - 1} is not supported.")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise ShapeError("Trying to set a forward gradient that has a different size than that "
                         "of the original Tensor, this is not supported. Tensor is of size "
                         f"{list(tensor.shape)} while the given forward gradient is of size "
                         f"{list(tangent.shape)}.")
    with enable_grad():   # a view keeps an outer graph; else a new leaf to differentiate by
        dual = tensor.view_as(tensor) if tensor.requires_grad else \
            tensor.detach().requires_grad_()
    _LEVELS[-1].append((dual, tangent, tensor.requires_grad))
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the tangent is None outside a level or when ``tensor`` was not
    computed from a dual tensor of the current level."""
    from . import grad
    from ..engine.creation import zeros_like
    duals = _LEVELS[-1] if _LEVELS else []
    # the primal keeps the reverse-mode graph to the caller's tensors (as torch's view does),
    # not to the stand-ins make_dual made for tensors that did not require grad
    outer = tensor.requires_grad and any(user for _, _, user in duals)
    primal = tensor.view_as(tensor) if outer else tensor.detach()
    for d, t, _ in duals:
        if d is tensor:
            return UnpackedDualTensor(primal, t)
    if not duals or not tensor.requires_grad:
        return UnpackedDualTensor(primal, None)
    with enable_grad():
        u = zeros_like(tensor, requires_grad=True)   # any u: uᵀJ's graph w.r.t. u is linear
        vjps = grad(tensor, [d for d, _, _ in duals], u, create_graph=True, allow_unused=True)
        pairs = [(v, t) for v, t in zip(vjps, (t for _, t, _ in duals))
                 if v is not None and v.requires_grad]
        if not any(v is not None for v in vjps):
            return UnpackedDualTensor(primal, None)
        if not pairs:   # reached, but J does not depend on u: a zero tangent
            return UnpackedDualTensor(primal, zeros_like(primal))
        # the graph stays for the caller's backward; the tangent, like torch's, is itself
        # differentiable w.r.t. the caller's tensors that require grad
        jvp, = grad([v for v, _ in pairs], u, [t for _, t in pairs], allow_unused=True,
                    retain_graph=True, create_graph=outer)
    if jvp is None:
        return UnpackedDualTensor(primal, zeros_like(primal))
    return UnpackedDualTensor(primal, jvp if outer else jvp.detach())
