"""Parameter: a Tensor that a Module registers as a learnable weight (torch.nn.Parameter)."""
import numpy as np

from ..engine import dtypes
from ..engine.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` that Modules collect in ``parameters()``.

    ``Parameter(t)`` shares memory with ``t`` (as in torch); ``Parameter()`` is empty.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            arr = np.empty((0,), dtype=dtypes.get_default_dtype().np)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = np.asarray(data)
            if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
                arr = arr.astype(dtypes.get_default_dtype().np)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._node = None
        self._name = None
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(Tensor._wrap(self._data.copy()), self.requires_grad)
        if self.grad is not None:
            out.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = out
        return out


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute."""

    def __init__(self, data, persistent=True):
        arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._node = None
        self._name = None
        self._hooks = None
        self._requires_grad = False
        self.persistent = persistent
