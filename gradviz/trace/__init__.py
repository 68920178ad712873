"""Tracing: watch every forward op and backward gradient as events (EVENTS.md).

The module is callable as torch.trace: ``gv.trace(matrix)`` sums the diagonal.
"""
import sys

from .core import TRACER, new_node_id, tensor_node
from .hooks import HOOKS
from .recorder import Recording, emit, flush, record, scalar, subscribe

__all__ = ["record", "subscribe", "flush", "emit", "scalar", "Recording", "TRACER", "HOOKS",
           "new_node_id", "tensor_node"]


class _CallableModule(type(sys.modules[__name__])):
    """``gv.trace`` is this events package and also torch.trace: ``gv.trace(matrix)`` is the
    sum of the matrix's diagonal (``matrix.trace()``)."""

    def __call__(self, input):
        """torch.trace: the sum of the main diagonal of a 2-D tensor."""
        from ..engine.tensor import Tensor
        if not isinstance(input, Tensor):
            raise TypeError(f"trace(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        return input.trace()


sys.modules[__name__].__class__ = _CallableModule
