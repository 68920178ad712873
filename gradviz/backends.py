"""``gv.backends`` and its neighbours (``gv.set_float32_matmul_precision``, ``gv.compile``):
torch's switches for cuDNN, TF32 and compilation, kept so scripts that set them run.

gradviz computes with NumPy (or CuPy) eagerly: these settings are stored and read back as
torch's are, but they change nothing in how gradviz computes.
"""
import functools
import warnings

__all__ = ["cudnn", "cuda", "mps", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "compile"]


class _Cudnn:
    """``gv.backends.cudnn``: benchmark, deterministic, enabled, allow_tf32 (stored only:
    gradviz does not call cuDNN)."""

    def __init__(self):
        self.benchmark = False
        self.deterministic = False
        self.enabled = True
        self.allow_tf32 = True

    def is_available(self):
        """False: gradviz does not use cuDNN."""
        return False

    def version(self):
        """None: no cuDNN library is loaded."""
        return None


class _Matmul:
    """``gv.backends.cuda.matmul``: allow_tf32 and reduced-precision flags (stored only)."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


class _Cuda:
    """``gv.backends.cuda``: the ``matmul`` flags (stored only)."""

    def __init__(self):
        self.matmul = _Matmul()

    def is_built(self):
        """False: gradviz reaches GPUs through CuPy, not a CUDA build of its own."""
        return False


class _Mps:
    """``gv.backends.mps``: Apple's Metal backend, which gradviz does not have."""

    def is_available(self):
        """False: gradviz has no MPS backend."""
        return False

    def is_built(self):
        """False: gradviz has no MPS backend."""
        return False


cudnn = _Cudnn()
cuda = _Cuda()
mps = _Mps()

_PRECISIONS = ("highest", "high", "medium")
_precision = ["highest"]


def set_float32_matmul_precision(precision):
    """torch.set_float32_matmul_precision: 'highest', 'high' or 'medium' (stored; as in torch
    anything but 'highest' also sets ``backends.cuda.matmul.allow_tf32``). gradviz's float32
    matmuls always run at full float32 precision."""
    if precision not in _PRECISIONS:   # torch warns and ignores the call
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", stacklevel=2)
        return
    _precision[0] = precision
    cuda.matmul.allow_tf32 = precision != "highest"


def get_float32_matmul_precision():
    """The precision last set by ``set_float32_matmul_precision`` ('highest' at start)."""
    return _precision[0]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor",  # noqa: A001
            mode=None, options=None, disable=False):
    """torch.compile: returns ``model`` (a module or function) unchanged, since gradviz runs
    eagerly so that every op can be watched. Works as ``gv.compile(model)``, as ``@gv.compile``
    and as ``@gv.compile(mode=...)``."""
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    if not callable(model):
        raise TypeError(f"compile(): expected a callable (a Module or a function), got "
                        f"{type(model).__name__}")
    return model
