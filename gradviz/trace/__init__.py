"""Tracing: watch every forward op and backward gradient as events (EVENTS.md)."""
from .core import TRACER, new_node_id, tensor_node
from .hooks import HOOKS
from .recorder import Recording, emit, flush, record, scalar, subscribe

__all__ = ["record", "subscribe", "flush", "emit", "scalar", "Recording", "TRACER", "HOOKS",
           "new_node_id", "tensor_node"]
