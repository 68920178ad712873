"""Complex tensors: ``z.real``, ``z.imag``, ``conj``, ``angle``, ``sgn``, ``gv.complex``,
``gv.polar``, ``gv.view_as_real`` / ``gv.view_as_complex`` (thin calls of the ops in
ops/complex.py), ``exp2`` and ``vdot`` (it conjugates its first vector) of complex tensors,
and dot's refusal of a complex vector with one of another dtype (matmul's is in
tensor_methods.matmul).

Differences from torch, on purpose: ``view_as_real`` and ``view_as_complex`` return copies
(values and gradients as torch's views); ``conj`` conjugates at once (torch sets a lazy
conjugate bit, so ``resolve_conj`` is a no-op here). ``z.real`` / ``z.imag`` are views of
``z`` as in torch (writing into them writes into ``z``) unless ``z`` requires grad: then
they are read-only, since a write would bypass the graph and give wrong gradients.
"""
import math

import numpy as np

from ..errors import GradvizError
from . import dtypes
from . import ops as O
from . import tensor_extra
from .ops.linalg import check_product_dtypes
from .tensor import Tensor

_LN2 = math.log(2.0)


def is_complex(self):
    """True for complex64/complex128 tensors."""
    return self._data.dtype.kind == "c"


def _part(self, cls):
    out = cls.apply(self)
    if (out._requires_grad or self._requires_grad) and type(out._data) is np.ndarray:
        out._data.flags.writeable = False   # see the module docstring (CuPy has no flag)
    return out


def _real(self):
    """The real part: a view of a complex tensor's real values; a real tensor itself."""
    if self._data.dtype.kind != "c":
        return self
    return _part(self, O.Real)


def _imag(self):
    """The imaginary part of a complex tensor (a view; real tensors raise, as torch)."""
    if self._data.dtype.kind != "c":
        raise GradvizError("imag is not implemented for tensors with non-complex dtypes.")
    return _part(self, O.Imag)


def conj(self):
    """The complex conjugate (a real tensor is returned as it is, as torch)."""
    return O.Conj.apply(self) if self._data.dtype.kind == "c" else self


def conj_physical(self):
    """The complex conjugate, computed now (as ``conj`` here: gradviz has no conj bit)."""
    return conj(self)


def resolve_conj(self):
    """This tensor (gradviz never leaves a conjugation pending)."""
    return self


def is_conj(self):
    """False: gradviz has no lazy conjugate bit."""
    return False


def angle(self):
    """The argument of each element in (-pi, pi] (real inputs: pi for negatives, else 0)."""
    x = self if self._data.dtype.kind in "fc" else self.to(dtypes.get_default_dtype())
    return O.Angle.apply(x)


def sgn(self):
    """z / |z| for a complex tensor (0 at 0), as torch's sgn; sign for a real one."""
    return O.Sgn.apply(self) if self._data.dtype.kind == "c" else self.sign()


def exp2(self):
    """2 ** self; a complex tensor's is exp(self ln 2) (pow takes complex only as the base)."""
    if self._data.dtype.kind == "c":
        return (self * _LN2).exp()
    return tensor_extra.exp2(self)


def dot(self, other):
    """The inner product of two 1-D tensors (torch's dtype names when one is complex)."""
    if isinstance(other, Tensor) and self.ndim == 1 == other.ndim:
        check_product_dtypes(self._data, other._data)
    return tensor_extra.dot(self, other)


def vdot(self, other):
    """sum(conj(self) * other) of two 1-D tensors, as torch (dot conjugates neither)."""
    return dot(conj(self), other)


def complex(real, imag):  # noqa: A001 - torch's name
    """``real + i imag`` from two float32 (or two float64) tensors, broadcast together."""
    return O.Complex.apply(_tensor("complex", real), _tensor("complex", imag))


def polar(abs, angle):  # noqa: A002 - torch's names
    """``abs * (cos(angle) + i sin(angle))`` from two float32 (or float64) tensors."""
    return O.Polar.apply(_tensor("polar", abs), _tensor("polar", angle))


def view_as_real(input):  # noqa: A002
    """A complex tensor as a real one with a last dim of 2 (real, imag); a copy here."""
    return O.ViewAsReal.apply(_tensor("view_as_real", input))


def view_as_complex(input):  # noqa: A002
    """A float tensor whose last dim is 2 (real, imag) as a complex tensor; a copy here."""
    return O.ViewAsComplex.apply(_tensor("view_as_complex", input))


def _tensor(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): expected a Tensor, got {type(x).__name__}")
    return x


def stft(self, *args, **kwargs):
    """``gv.stft(self, ...)`` (torch.Tensor.stft)."""
    from ..fft import stft as _stft   # gradviz.fft imports the engine
    return _stft(self, *args, **kwargs)


def istft(self, *args, **kwargs):
    """``gv.istft(self, ...)`` (torch.Tensor.istft)."""
    from ..fft import istft as _istft
    return _istft(self, *args, **kwargs)


def register():
    """Set the complex methods and properties on Tensor (before the real-only fallbacks)."""
    for name, fn in (("is_complex", is_complex), ("conj", conj),
                     ("conj_physical", conj_physical), ("resolve_conj", resolve_conj),
                     ("is_conj", is_conj), ("angle", angle), ("sgn", sgn), ("exp2", exp2),
                     ("dot", dot), ("vdot", vdot), ("stft", stft), ("istft", istft)):
        setattr(Tensor, name, fn)
    Tensor.real = property(_real, doc=_real.__doc__)
    Tensor.imag = property(_imag, doc=_imag.__doc__)


register()

# gv.<name> (gv.conj, gv.resolve_conj and gv.is_complex come with tensor_aliases' names)
FUNCTIONS = {"complex": complex, "polar": polar, "view_as_real": view_as_real,
             "view_as_complex": view_as_complex, "real": _real, "imag": _imag,
             "angle": angle, "conj_physical": conj_physical, "is_conj": is_conj}
