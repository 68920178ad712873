"""Module's device and dtype changes: ``to`` (device, floating dtype, memory format), cpu,
cuda, float, double, half and type, applied to every parameter, gradient and buffer in
place. ``Module`` takes these methods from ``ConvertMixin``."""
from ..engine import dtypes
from ..engine.backend import as_device, move
from ..engine.ops.convert import in_memory_format, laid_out
from ..engine.tensor import Tensor
from ..errors import GradvizError
from ..trace.hooks import HOOKS


class ConvertMixin:
    """Module's methods that move or cast its parameters and buffers (returning self)."""

    def _apply_arrays(self, convert):
        if HOOKS.listening:
            HOOKS.tracer.drain()
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p._data = convert(p._data)
                if p.grad is not None:
                    p.grad._data = convert(p.grad._data)
            for b in m._buffers.values():
                if b is not None:
                    b._data = convert(b._data)
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False, memory_format=None):
        """Move parameters and buffers to a device and/or cast floating ones to a dtype; a
        ``memory_format`` (``gv.channels_last``) lays out the 4-D (5-D) ones so."""
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, dtypes.dtype) or a in (float, int, bool):
                dtype = a
            else:
                device = a
        np_dtype = None
        if dtype is not None:
            d = dtypes.to_dtype(dtype)
            if not d.is_floating_point:
                raise GradvizError(f"nn.Module.to only accepts floating point dtypes, "
                                   f"but got desired dtype={d}")
            np_dtype = d.np
        dev = as_device(device) if device is not None else None

        def convert(arr):
            if np_dtype is not None and arr.dtype.kind == "f" and arr.dtype != np_dtype:
                arr = arr.astype(np_dtype)
            if dev is not None:
                arr = move(arr, dev)
            if layout is not None and arr.ndim == layout_rank and not in_memory_format(
                    arr, layout):
                arr = laid_out(arr, layout)
            return arr
        layout = None if memory_format is None else memory_format.name
        layout_rank = {"channels_last": 4, "channels_last_3d": 5}.get(layout)
        return self._apply_arrays(convert)

    def cpu(self):
        """Move everything to the CPU."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move everything to the GPU (CuPy)."""
        return self.to("cuda" if device is None else f"cuda:{int(device)}")

    def float(self):
        """Cast floating parameters and buffers to float32."""
        return self.to(dtypes.float32)

    def double(self):
        """Cast floating parameters and buffers to float64."""
        return self.to(dtypes.float64)

    def half(self):
        """Cast floating parameters and buffers to float16."""
        return self.to(dtypes.float16)

    def type(self, dst_type):
        """Cast every parameter and buffer (integer ones too, as torch) to ``dst_type``."""
        np_dtype = dtypes.to_dtype(dst_type).np
        return self._apply_arrays(lambda arr: arr if arr.dtype == np_dtype
                                  else arr.astype(np_dtype))
