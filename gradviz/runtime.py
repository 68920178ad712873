"""torch's process-wide switches that training scripts set at the top: thread counts,
deterministic algorithms, the default device, warnings. gradviz runs NumPy (or CuPy) ops
that are deterministic already and take BLAS's own thread count, so most of these only
keep the setting for the matching getter; each says what it does here."""
import os

from .engine.backend import as_device
from .errors import ArgumentError, GradvizError

_STATE = {"threads": os.cpu_count() or 1, "interop": os.cpu_count() or 1,
          "deterministic": False, "warn_only": False, "warn_always": False}


def set_num_threads(n):
    """Kept for ``get_num_threads`` (NumPy's BLAS keeps the thread count it started with;
    set OMP_NUM_THREADS before starting Python to change it)."""
    n = int(n)
    if n < 1:
        raise ArgumentError("Number of threads must be positive")
    _STATE["threads"] = n


def get_num_threads():
    """The thread count last set (the CPU count at start)."""
    return _STATE["threads"]


def set_num_interop_threads(n):
    """Kept for ``get_num_interop_threads`` (gradviz runs ops one at a time)."""
    n = int(n)
    if n < 1:
        raise ArgumentError("Number of threads must be positive")
    _STATE["interop"] = n


def get_num_interop_threads():
    """The inter-op thread count last set."""
    return _STATE["interop"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Kept for ``are_deterministic_algorithms_enabled``: every gradviz op is deterministic
    already (no atomics, a fixed summation order)."""
    _STATE["deterministic"], _STATE["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled():
    """What ``use_deterministic_algorithms`` last set."""
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """The ``warn_only`` of the last ``use_deterministic_algorithms``."""
    return _STATE["warn_only"]


def set_deterministic_debug_mode(mode):
    """torch's 0/1/2 ('default', 'warn', 'error') form of ``use_deterministic_algorithms``."""
    names = {"default": 0, "warn": 1, "error": 2}
    level = names.get(mode, mode)
    if level not in (0, 1, 2):
        raise ArgumentError(f"invalid value of debug_mode, expected one of 'default', 'warn', "
                            f"'error' or 0, 1, 2, but got {mode!r}")
    use_deterministic_algorithms(level > 0, warn_only=level == 1)


def get_deterministic_debug_mode():
    """0, 1 (warn only) or 2, as torch."""
    if not _STATE["deterministic"]:
        return 0
    return 1 if _STATE["warn_only"] else 2


def get_default_device():
    """The device tensors are made on when none is given: the CPU."""
    return as_device("cpu")


def set_default_device(device):
    """Accepts the CPU (or None); making tensors on the GPU by default is not supported
    here: pass ``device=`` (or call ``.to``) instead."""
    if device is not None and as_device(device).type != "cpu":
        raise GradvizError(f"set_default_device({device!r}) is not supported: gradviz makes "
                           "tensors on the CPU unless given device=; pass device='cuda' "
                           "where you create them, or move them with .to('cuda')")


def set_warn_always(b):
    """Kept for ``is_warn_always_enabled``."""
    _STATE["warn_always"] = bool(b)


def is_warn_always_enabled():
    """What ``set_warn_always`` last set."""
    return _STATE["warn_always"]


def set_flush_denormal(mode):
    """NumPy offers no denormal flushing: returns False, as torch does where unsupported."""
    return False


def set_anomaly_enabled(enabled, check_nan=True):
    """``gv.autograd.set_detect_anomaly`` as the function torch also exports."""
    from .autograd import set_detect_anomaly
    set_detect_anomaly(enabled, check_nan=check_nan)


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    from .trace.hooks import HOOKS
    return bool(HOOKS.anomaly)


def typename(obj):
    """The type name torch's ``typename`` gives: e.g. 'gradviz.FloatTensor' for a tensor."""
    from .engine.tensor import Tensor
    if isinstance(obj, Tensor):
        legacy = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                  "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                  "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
        return "gradviz." + legacy.get(obj.dtype.name, obj.dtype.name)
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ in ("builtins", "__builtin__") else \
        f"{kind.__module__}.{kind.__qualname__}"


NAMES = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
         "get_num_interop_threads", "use_deterministic_algorithms",
         "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
         "set_deterministic_debug_mode", "get_deterministic_debug_mode", "get_default_device",
         "set_default_device", "set_warn_always", "is_warn_always_enabled",
         "set_flush_denormal", "set_anomaly_enabled", "is_anomaly_enabled", "typename"]
