"""Devices and array backends: NumPy on the CPU, CuPy on an NVIDIA GPU."""
import numpy as np

from ..errors import DeviceError

_cupy = None
_cupy_error = None

TNP = "gradviz.engine.tnp"   # the Tensor namespace that backward formulas get under create_graph


def on_graph(xp):
    """True when ``xp`` is the Tensor namespace (create_graph): formulas must build a graph.
    (``getattr(np, "differentiable", False)`` would cost ~3 µs: numpy's module __getattr__.)"""
    return xp.__name__ == TNP


def cupy():
    """The cupy module, or a DeviceError that says what is missing."""
    global _cupy, _cupy_error
    if _cupy is not None:
        return _cupy
    if _cupy_error is None:
        try:
            import cupy as cp  # noqa: PLC0415 - optional dependency
            if cp.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("CuPy found no CUDA device")
            _cupy = cp
            return cp
        except Exception as exc:  # ImportError, CUDA driver errors
            _cupy_error = f"{type(exc).__name__}: {exc}"
    raise DeviceError("device 'cuda' needs CuPy and an NVIDIA GPU "
                      "(pip install 'gradviz[gpu]'); not available here: " + _cupy_error)


def cuda_available():
    """True when CuPy imports and sees at least one GPU."""
    try:
        cupy()
        return True
    except DeviceError:
        return False


class device:
    """``gv.device("cpu")``, ``gv.device("cuda")``, ``gv.device("cuda:0")``."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        spec = str(spec)
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise DeviceError(f"unknown device {spec!r}: use 'cpu', 'cuda' or 'cuda:N'")
        self.type = kind
        self.index = int(idx) if idx else index
        if kind == "cuda" and self.index is None:
            self.index = 0

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None
                                                else ")")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def as_device(spec):
    """Normalise a device argument (None → cpu)."""
    if spec is None:
        return CPU
    return spec if isinstance(spec, device) else device(spec)


def xp_for(dev):
    """The array module for a device."""
    if dev.type == "cpu":
        return np
    return cupy()


def is_gpu_array(a):
    """True for a CuPy array: by type once CuPy is loaded (building ``__cuda_array_interface__``
    cost ~3 µs a call on the GPU machine, six calls an op), by that interface before."""
    if _cupy is not None:
        return isinstance(a, _cupy.ndarray)
    return hasattr(a, "__cuda_array_interface__")


def xp_of(a):
    """The array module an array belongs to."""
    if type(a) is np.ndarray or not is_gpu_array(a):
        return np
    return cupy()


def address(a):
    """Where an array's first element lives in memory (NumPy or CuPy)."""
    if isinstance(a, np.ndarray):
        return a.__array_interface__["data"][0]
    return a.data.ptr


_CUDA = {}   # GPU index -> its device, made once


def gpu_index(a):
    """The index of the GPU an array lives on; None for a host array."""
    if type(a) is np.ndarray or not is_gpu_array(a):
        return None
    dev = getattr(a, "device", None)
    return None if dev is None else dev.id


def device_of(a):
    """The device an array lives on."""
    index = gpu_index(a)
    if index is None:
        return CPU
    found = _CUDA.get(index)
    if found is None:
        found = _CUDA[index] = device("cuda", index)
    return found


def move(a, dev):
    """Copy an array to a device (no copy when it is already there)."""
    if dev.type == "cpu":
        if is_gpu_array(a):
            return a.get()
        return a if isinstance(a, np.ndarray) else np.asarray(a)
    cp = cupy()
    with cp.cuda.Device(dev.index or 0):
        if is_gpu_array(a) and device_of(a) != dev:
            return cp.array(a, copy=True)  # peer copy: asarray would keep it where it is
        return cp.asarray(a)


def quiet_numpy():
    """Silence NumPy's floating-point warnings in the calling thread, as torch is silent.

    NaN and Inf still surface: as values, as ``anomaly`` events, under
    ``detect_anomaly`` and through NaN breakpoints. NumPy keeps this setting per
    thread (a context variable), so threads that run models call this first.
    """
    np.seterr(divide="ignore", over="ignore", under="ignore", invalid="ignore")
