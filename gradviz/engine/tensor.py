"""Tensor: a NumPy/CuPy array with torch's API and a place in the autograd graph.

Here: construction, attributes (shape, dtype, device ...) and the autograd methods
(detach, requires_grad, backward, hooks). The other methods are set on Tensor by the
modules imported at the end: tensor_convert.py (numpy, item, to, clone ...), then
tensor_methods.py and the modules it imports (ops); printing is tensor_print.py."""
import operator

import numpy as np

from ..errors import BackwardError, GradvizError
from ..trace.hooks import HOOKS
from . import dtypes
from .backend import address, as_device, device_of, move, xp_of
from .tensor_print import PRINT_OPTS, set_printoptions, tensor_repr  # noqa: F401 (re-exported)

_ONES = {}  # (shape, dtype) -> a ones array, copied for each backward seed


class Size(tuple):
    """``tensor.shape``: a tuple that prints like torch.Size."""

    def __repr__(self):
        return f"gradviz.Size({list(self)})"

    def numel(self):
        """Number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """A multi-dimensional array that can record the ops applied to it (torch.Tensor)."""

    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_node", "_name", "_hooks",
                 "__weakref__", "__dict__")
    __array_priority__ = 1000  # ndarray + Tensor defers to Tensor.__radd__
    _modified = 0              # function.INPLACE[0] at its last in-place change

    def __init__(self, *args, data=None, size=None, dtype=None, device=None,
                 requires_grad=False):
        """``Tensor(data)`` copies data as floats (the default dtype); ``Tensor(2, 3)``,
        ``Tensor(size=(2, 3))`` and ``Tensor(gv.Size(...))`` are uninitialised tensors of that
        shape (zeros here), as torch.Tensor; ``Tensor()`` is empty."""
        np_dtype = (dtypes.to_dtype(dtype) if dtype is not None
                    else dtypes.get_default_dtype()).np
        shape = _constructor_shape(args, data, size)
        if shape is not None:
            arr = np.zeros(shape, dtype=np_dtype)
        else:
            if data is None:
                data = args[0] if args else ()
            if isinstance(data, (bool, float, complex)):
                raise TypeError(f"Tensor(): data must be a sequence (got {type(data).__name__})"
                                "; use gv.tensor(value) for a 0-d tensor")
            arr = np.asarray(data, dtype=np_dtype)
        self._data = move(arr, as_device(device))
        self.grad = None
        self.grad_fn = None
        self._node = None
        self._name = None
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr, requires_grad=False):
        """A leaf tensor around an existing array (no copy)."""
        t = cls.__new__(cls)
        if not hasattr(arr, "shape"):
            arr = np.asarray(arr)
        t._data = arr
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._node = None
        t._name = None
        t._hooks = None
        return t

    # ---- attributes ---------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return dtypes.from_numpy(self._data.dtype)

    @property
    def device(self):
        return device_of(self._data)

    @property
    def layout(self):
        from . import strided
        return strided

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def data(self):
        """The same values without history (shares memory), as torch's ``.data``."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else value

    @property
    def T(self):
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def size(self, dim=None):
        """The shape, or one dimension of it."""
        return self.shape if dim is None else self._data.shape[dim]

    def dim(self):
        """Number of dimensions."""
        return self._data.ndim

    def numel(self):
        """Number of elements."""
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    def data_ptr(self):
        """The memory address of the first element (an int), as torch's ``data_ptr``."""
        return int(address(self._data))

    def is_floating_point(self):
        """True for float16/32/64 tensors."""
        return self._data.dtype.kind == "f"

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    __hash__ = object.__hash__  # identity (``__eq__`` is elementwise)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __repr__ = tensor_repr

    # ---- autograd ----------------------------------------------------------------------
    def detach(self):
        """A tensor sharing the values (and, as in torch, the in-place version counter: a
        change through it is seen by graphs that saved this one), cut from the graph."""
        out = Tensor._wrap(self._data)
        d = self.__dict__   # the counter cell: made on the first detach (function.note_inplace)
        cell = d.get("_shared_version")
        if cell is None:
            cell = d["_shared_version"] = [self._modified]
            if self.grad_fn is not None:   # the op holds the cell, not the other way: a
                self.grad_fn.shared_version = cell   # kept loss.detach() frees the graph
        out.__dict__["_shared_version"] = cell
        return out

    def detach_(self):
        """Cut this tensor from the graph in place."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording ops on this leaf."""
        if self.grad_fn is not None and not requires_grad:
            raise BackwardError("you can only change requires_grad flags of leaf variables. "
                                "Use detach() to get a tensor that does not require grad.")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise BackwardError("only Tensors of floating point and complex dtype can require "
                                "gradients, "
                                f"not {self.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    def _set_requires_grad(self, value):
        if self.grad_fn is not None:   # torch: even True (which requires_grad_ allows)
            raise BackwardError("you can only change requires_grad flags of leaf variables. "
                                "Use detach() to get a tensor that does not require grad.")
        self.requires_grad_(value)

    # ``t.requires_grad = v`` is checked as torch checks it (int tensors and non-leaves are
    # refused); the engine's hot paths read and write the slot ``_requires_grad`` itself
    requires_grad = property(operator.attrgetter("_requires_grad"), _set_requires_grad,
                             doc="True when ops on this tensor are recorded for backward.")

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute d self / d leaves and accumulate it in each leaf's ``.grad``."""
        if not self.requires_grad:
            raise BackwardError("element 0 of tensors does not require grad and does not "
                                "have a grad_fn")
        if gradient is None:
            if self._data.size != 1:
                raise BackwardError("grad can be implicitly created only for scalar outputs")
            if self._data.dtype.kind == "c":
                raise BackwardError("grad can be implicitly created only for real scalar "
                                    "outputs")
            gradient = self._ones()
            if not (create_graph or inputs is not None or self.grad_fn is None
                    or HOOKS.anomaly):
                backward_plain(self.grad_fn, gradient, retain_graph)  # the usual call
                return
        elif isinstance(gradient, Tensor):
            if gradient.shape != self.shape:
                raise BackwardError(f"Mismatch in shape: grad_output[0] has a shape of "
                                    f"{tuple(gradient.shape)} and output[0] has a shape of "
                                    f"{tuple(self.shape)}.")
            gradient = gradient if create_graph else gradient._data
        else:
            gradient = np.asarray(gradient, dtype=self._data.dtype)
        if create_graph and not isinstance(gradient, Tensor):
            gradient = Tensor._wrap(gradient)
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = run_backward([self], [gradient], retain_graph, create_graph, inputs=inputs,
                                 allow_unused=True)
            for t, g in zip(inputs, grads):
                if g is not None:
                    t.grad = g if t.grad is None else t.grad + g
            return
        run_backward([self], [gradient], retain_graph, create_graph)

    def _ones(self):
        d = self._data
        if type(d) is not np.ndarray:
            return xp_of(d).ones(d.shape, dtype=d.dtype)
        key = (d.shape, d.dtype)
        one = _ONES.get(key)
        if one is None:
            one = np.ones(d.shape, dtype=d.dtype)
            if d.size != 1:  # keep only the implicit seeds of scalar outputs
                return one
            _ONES[key] = one
        return one.copy()

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        import weakref
        if self.grad_fn is None:
            if not self.requires_grad:
                raise BackwardError("can't retain_grad on Tensor that has requires_grad=False")
            return
        self.grad_fn.retain = weakref.ref(self)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn.retain is not None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new
        gradient. Returns a handle with ``.remove()``."""
        if not self.requires_grad:
            raise BackwardError("cannot register a hook on a tensor that doesn't require "
                                "gradient")
        if self.grad_fn is not None:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = {}
            return RemovableHandle(self.grad_fn.hooks, hook)
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf after backward has accumulated its ``.grad``.
        Returns a handle with ``.remove()``."""
        if not self.requires_grad:
            raise BackwardError("cannot register a hook on a tensor that doesn't require "
                                "gradient")
        if self.grad_fn is not None:
            raise BackwardError("post accumulate grad hooks cannot be registered on "
                                "non-leaf tensors")
        if not isinstance(self._hooks, LeafHooks):
            self._hooks = LeafHooks(self._hooks or {})
        return RemovableHandle(self._hooks.post, hook)


class LeafHooks(dict):
    """A leaf's grad hooks (the dict) and its post-accumulate-grad hooks (``post``); truthy
    while either has one, so that backward takes its hooked path for the leaf."""

    def __init__(self, hooks):
        super().__init__(hooks)
        self.post = {}

    def __bool__(self):
        return bool(len(self) or self.post)


def _constructor_shape(args, data, size):
    """The shape ``Tensor(*args, data=, size=)`` asks for, or None when it is given data."""
    if size is not None or (args and all(_is_int(a) for a in args)) or (
            len(args) == 1 and isinstance(args[0], Size)):
        if data is not None or (size is not None and args):
            raise TypeError("Tensor(): give either data or a size, not both")
        shape = tuple(int(s) for s in (size if size is not None else
                                       args[0] if isinstance(args[0], Size) else args))
        if any(s < 0 for s in shape):
            raise GradvizError(f"Trying to create tensor with negative dimension "
                               f"{min(shape)}: {list(shape)}")
        return shape
    if len(args) > 1 or (args and data is not None):
        raise TypeError(f"Tensor(): expected sizes (ints) or one sequence of data, got "
                        f"{args!r}; pass dtype=, device= and requires_grad= by keyword")
    return None


def _is_int(a):
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


class RemovableHandle:
    """Returned by hook registration; ``.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, registry, hook):
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self.registry = registry
        registry[self.id] = hook

    def remove(self):
        """Unregister the hook (idempotent)."""
        self.registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


from . import tensor_convert  # noqa: E402,F401  (attaches numpy, item, to, clone ... to Tensor)
from . import tensor_methods  # noqa: E402,F401  (attaches op methods to Tensor)
from .autograd import backward_plain, run_backward  # noqa: E402  (circular: it uses Tensor)
