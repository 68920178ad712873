"""Tensor's conversion, copy and layout methods: to Python and NumPy values (numpy, item,
tolist, ``float(t)``, ``bool(t)`` ...), to other dtypes and devices (to, cpu, cuda, type,
float ... bool), and copies in a memory layout (clone, contiguous). Set on Tensor when
tensor.py imports this module; ``stride`` and ``is_contiguous`` are in tensor_extra.py."""
import numpy as np

from ..errors import GradvizError
from . import dtypes
from .backend import as_device, move
from .tensor import Tensor


def numpy(self, force=False):
    """The values as a NumPy array (shares memory on the CPU)."""
    if self.requires_grad and not force:
        raise GradvizError("Can't call numpy() on Tensor that requires grad. "
                           "Use tensor.detach().numpy() instead.")
    if self.device.type != "cpu":
        if not force:
            raise GradvizError("can't convert a cuda tensor to numpy. "
                               "Use Tensor.cpu() to copy the tensor to host memory first.")
        return move(self._data, as_device("cpu"))
    return self._data


def _array(self, dtype=None, copy=None):
    arr = move(self._data, as_device("cpu"))
    return arr.astype(dtype) if dtype is not None else arr


def item(self):
    """The single value as a Python number."""
    if self._data.size != 1:
        raise GradvizError(f"a Tensor with {self._data.size} elements cannot be converted "
                           "to Scalar")
    return self._data.reshape(()).item()


def tolist(self):
    """Nested Python lists of the values."""
    return move(self._data, as_device("cpu")).tolist()


def _as_float(self):
    return float(self.item())


def _as_int(self):
    return int(self.item())


def _as_index(self):
    if self._data.dtype.kind not in "iu" or self._data.size != 1:
        raise TypeError("only integer tensors of a single element can be converted "
                        "to an index")
    return int(self.item())


def _as_bool(self):
    if self._data.size != 1:
        raise GradvizError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())


def clone(self, *, memory_format=None):
    """A copy that stays in the graph (laid out in ``memory_format`` when given)."""
    if memory_format is not None and memory_format.name != "preserve_format":
        from .ops import Contiguous
        return Contiguous.apply(self, memory_format=memory_format.name)
    from .ops import Clone
    return Clone.apply(self)


def contiguous(self, memory_format=None):
    """A C-contiguous tensor, or one in ``memory_format`` (e.g. ``gv.channels_last``);
    self when it already lies so."""
    from .ops.convert import in_memory_format
    name = "contiguous_format" if memory_format is None else memory_format.name
    if name == "preserve_format":
        raise GradvizError("preserve memory format is unsupported by the contiguous "
                           "operator")
    if in_memory_format(self._data, name):
        return self
    from .ops import Contiguous
    return Contiguous.apply(self, memory_format=name)


def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False,
       memory_format=None):
    """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``; a
    ``memory_format`` (``gv.channels_last`` ...) lays the result out so."""
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (dtypes.dtype, np.dtype)) or a in (float, int, bool) or (
                isinstance(a, str) and a in dtypes._BY_NAME) or (
                isinstance(a, type) and issubclass(a, np.generic)):
            dtype = a
        else:
            device = a
    out = self
    if dtype is not None:
        d = dtypes.to_dtype(dtype)
        if d.np != out._data.dtype:
            from .ops import Cast
            out = Cast.apply(out, dtype=d.np)
    if device is not None:
        dev = as_device(device)
        if dev != out.device:
            from .ops import ToDevice
            out = ToDevice.apply(out, device=dev)
    if memory_format is not None and memory_format.name != "preserve_format":
        out = out.contiguous(memory_format)
    if copy and out is self:
        out = self.clone()
    return out


def cpu(self):
    """This tensor on the CPU."""
    return self.to("cpu")


def cuda(self, device=None):
    """This tensor on the GPU (CuPy)."""
    return self.to("cuda" if device is None else f"cuda:{int(device)}")


def type_or_cast(self, dtype=None):
    """The type name, or a cast (torch's ``.type``)."""
    if dtype is None:   # torch's names: 'gradviz.FloatTensor', 'gradviz.cuda.LongTensor'
        from ..runtime import typename
        name = typename(self)
        return name.replace("gradviz.", "gradviz.cuda.") if self.is_cuda else name
    return self.to(dtypes.to_dtype(dtype))   # also gv.LongTensor, "torch.LongTensor"


def to_float(self):
    return self.to(dtypes.float32)


def to_double(self):
    return self.to(dtypes.float64)


def to_half(self):
    return self.to(dtypes.float16)


def to_long(self):
    return self.to(dtypes.int64)


def to_int(self):
    return self.to(dtypes.int32)


def to_bool(self):
    return self.to(dtypes.bool_)


# the dtype shorthands are named to_*: a module-level ``float`` or ``int`` would hide the
# builtins that ``to`` and the number conversions above call
_METHODS = {
    "numpy": numpy, "__array__": _array, "item": item, "tolist": tolist,
    "__float__": _as_float, "__int__": _as_int, "__index__": _as_index, "__bool__": _as_bool,
    "clone": clone, "contiguous": contiguous, "to": to, "cpu": cpu, "cuda": cuda,
    "type": type_or_cast, "float": to_float, "double": to_double, "half": to_half,
    "long": to_long, "int": to_int, "bool": to_bool,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
