"""Statistics, integration and signal windows as torch's: cov, corrcoef, histogram,
trapezoid / trapz / cumulative_trapezoid, gradient, hann / hamming / blackman / bartlett /
kaiser windows. Compositions of existing ops, so gradients follow (tensor_specials.py sets
them on Tensor and gv)."""
import collections
import math
import numbers

import numpy as np

from ..errors import ArgumentError, GradvizError
from . import dtypes
from .backend import xp_of
from .ops.util import norm_dims
from .tensor import Tensor
from .tensor_methods import _as_tensor


def _t(x, like=None):
    return x if isinstance(x, Tensor) else _as_tensor(x, like)


def _floating(t):
    """t itself when floating, else t in the default dtype (torch's int -> float rule)."""
    return t if t._data.dtype.kind == "f" else t.to(dtypes.get_default_dtype())


def _wrap(arr):
    return Tensor._wrap(np.asarray(arr) if isinstance(arr, (numbers.Number, np.generic))
                        else arr)


def _xp(t):
    """numpy or cupy, where t's data lives (these helpers keep device data on the device)."""
    return xp_of(t._data)


def _return_type(name, fields):
    """A named tuple printed as torch.return_types.<name> prints."""
    def __repr__(self):
        parts = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"gradviz.return_types.{name}(\n{parts})"
    return type(name, (collections.namedtuple(name, fields),),
                {"__slots__": (), "__module__": "gradviz.return_types", "__repr__": __repr__,
                 "__doc__": f"torch.return_types.{name}."})


_Histogram = _return_type("histogram", ["hist", "bin_edges"])


# ---- statistics --------------------------------------------------------------------------------
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the rows (variables) over the columns (observations), optionally with
    integer frequency weights and float observation weights, as torch.cov."""
    if input.ndim > 2:
        raise GradvizError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    x = _floating(input.reshape(1, -1) if input.ndim < 2 else input)
    n_obs = x.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        wt = _t(wt, x)
        if wt.ndim > 1 or wt.numel() != n_obs:
            raise GradvizError(f"cov(): expected {name} to have one or fewer dimensions and "
                               f"the same number of elements as the observations ({n_obs})")
        if name == "fweights" and wt._data.dtype.kind == "f":
            raise GradvizError("cov(): expected fweights to have integral dtype")
        w = wt.to(x.dtype) if w is None else w * wt.to(x.dtype)
    if w is None:
        w_sum = n_obs
        avg = x.sum(1) / w_sum
        norm = w_sum - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        norm = w_sum - correction if aweights is None or correction == 0 else \
            w_sum - correction * (w * _t(aweights, x).to(x.dtype)).sum() / w_sum
    if float(norm if isinstance(norm, numbers.Number) else norm.item()) <= 0:
        import warnings  # noqa: PLC0415 - only on this rare path
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = 0 * norm
    xm = x - avg.unsqueeze(1)
    c = xm.matmul((xm if w is None else xm * w).t())
    return (c / norm).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the rows (cov normalised by the deviations)."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    sd = c.diagonal().sqrt()
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    return c.clamp(-1, 1)


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges): counts (or weights, or a density) of input's values in ``bins``
    equal bins over ``range`` (default: min to max), or in the bins a 1-D edges tensor
    gives."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        raise GradvizError(f'"histogramdd" not implemented for '
                           f"'{x.dtype.name.capitalize()}'")
    xp = _xp(x)
    data = x._data.reshape(-1)
    edges = bins._data.astype(np.float64) if isinstance(bins, Tensor) else int(bins)
    if range is not None and range[0] > range[1]:
        raise GradvizError("histogramdd(): expected the lower bound of the range to be less "
                           "than or equal to the upper bound")
    w = None if weight is None else _t(weight, x)._data.reshape(-1)
    hist, out_edges = xp.histogram(data, edges, range=range, weights=w, density=density)
    return _Histogram(Tensor._wrap(hist.astype(x._data.dtype)),
                      Tensor._wrap(out_edges.astype(x._data.dtype)))


# ---- integration and differences ------------------------------------------------------------
def _dx_along(y, x, d):
    """Spacings between samples along d: from coordinates x (1-D, or shaped as y)."""
    x = _t(x, y)
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise GradvizError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y.ndim
        shape[d] = x.shape[0] - 1
        return x.diff().reshape(shape)
    return x.diff(dim=d)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule's integral of y along dim, sampled at x (or spaced by dx, 1)."""
    y = _floating(_t(y))
    d = norm_dims(dim, y.ndim)[0]
    n = y.shape[d]
    if x is not None and dx is not None:
        raise ArgumentError("trapezoid: x and dx cannot both be given")
    if n == 0:
        return y.sum(d)
    if x is not None:
        step = _dx_along(y, x, d)
        return ((y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * step).sum(d) / 2
    h = 1 if dx is None else dx
    return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * h


def trapz(y, x=None, *, dx=None, dim=-1):
    """trapezoid (torch's older name)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral of y along dim (one fewer element than y)."""
    y = _floating(_t(y))
    d = norm_dims(dim, y.ndim)[0]
    n = y.shape[d]
    if n == 0:
        return y
    pairs = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2
    step = _dx_along(y, x, d) if x is not None else (1 if dx is None else dx)
    return (pairs * step).cumsum(d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences of input along each dim (one-sided at the edges, of order
    ``edge_order``); ``spacing``: a number, one number per dim, or coordinates per dim."""
    x = _floating(_t(input))
    dims = list(range(x.ndim)) if dim is None else \
        list(norm_dims(dim, x.ndim)) if isinstance(dim, (tuple, list)) else \
        [norm_dims(dim, x.ndim)[0]]
    if edge_order not in (1, 2):
        raise GradvizError("torch.gradient only supports edge_order=1 and edge_order=2.")
    sp = list(spacing) if isinstance(spacing, (tuple, list)) else [spacing] * len(dims)
    if len(sp) != len(dims):
        raise GradvizError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                           f"it's spacing and dim arguments to have the same length, but got "
                           f"a spacing argument of length {len(sp)} and a dim argument of "
                           f"length {len(dims)}.")
    out = []
    for d, h in zip(dims, sp):
        if x.shape[d] < edge_order + 1:
            raise GradvizError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
        out.append(_gradient_1d(x, d, h, edge_order))
    return tuple(out)


def _gradient_1d(f, d, h, edge_order):
    n = f.shape[d]

    def part(start, length):
        return f.narrow(d, start, length)
    if isinstance(h, Tensor):
        if h.ndim != 1 or h.shape[0] != n:
            raise GradvizError("torch.gradient expected each tensor in spacing to be 1-D and "
                               "as long as its dim")
        shape = [1] * f.ndim
        shape[d] = n - 1
        step = h.to(f.dtype).diff().reshape(shape)
        hs, hd = step.narrow(d, 0, n - 2), step.narrow(d, 1, n - 2)
        inner = (hs * hs * part(2, n - 2) - hd * hd * part(0, n - 2)
                 + (hd * hd - hs * hs) * part(1, n - 2)) / (hs * hd * (hs + hd))
        if edge_order == 1:
            first = (part(1, 1) - part(0, 1)) / step.narrow(d, 0, 1)
            last = (part(n - 1, 1) - part(n - 2, 1)) / step.narrow(d, n - 2, 1)
        else:   # the quadratic through the three points at each end (numpy's formulas)
            h1, h2 = step.narrow(d, 0, 1), step.narrow(d, 1, 1)
            first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * part(0, 1)
                     + (h1 + h2) / (h1 * h2) * part(1, 1) - h1 / (h2 * (h1 + h2)) * part(2, 1))
            h1, h2 = step.narrow(d, n - 3, 1), step.narrow(d, n - 2, 1)
            last = (h2 / (h1 * (h1 + h2)) * part(n - 3, 1) - (h1 + h2) / (h1 * h2)
                    * part(n - 2, 1) + (2 * h2 + h1) / (h2 * (h1 + h2)) * part(n - 1, 1))
    else:
        inner = (part(2, n - 2) - part(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (part(1, 1) - part(0, 1)) / h
            last = (part(n - 1, 1) - part(n - 2, 1)) / h
        else:
            first = (part(0, 1) * -1.5 + part(1, 1) * 2 - part(2, 1) * 0.5) / h
            last = (part(n - 3, 1) * 0.5 - part(n - 2, 1) * 2 + part(n - 1, 1) * 1.5) / h
    from .functional import cat  # noqa: PLC0415 - functional imports this module
    return cat([first, inner, last], d)


# ---- windows -------------------------------------------------------------------------------
def _window(name, n, periodic, dtype, device, requires_grad, fn):
    if n < 0:
        raise GradvizError(f"{name} requires non-negative window_length, got "
                           f"window_length={n}")
    dt = dtypes.get_default_dtype() if dtype is None else dtype
    if n <= 1:
        w = np.ones(n)
    else:
        m = n + 1 if periodic else n
        w = fn(np.arange(m, dtype=np.float64), m)[:n]
    t = Tensor._wrap(np.asarray(w, dtype=dt.np))
    t = t if device is None else t.to(device)
    return t.requires_grad_() if requires_grad else t


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / (N - 1)) (N + 1 points, the last dropped, when periodic)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.5 - 0.5 * np.cos(2 * math.pi * k / (m - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    """alpha - beta cos(2 pi n / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: alpha - beta * np.cos(2 * math.pi * k / (m - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.42 - 0.5 * np.cos(2 * math.pi * k / (m - 1))
                   + 0.08 * np.cos(4 * math.pi * k / (m - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """1 - |2n / (N - 1) - 1| (a triangle)."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 1 - np.abs(2 * k / (m - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    """i0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / i0(beta)."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: np.i0(beta * np.sqrt(np.maximum(
                       1 - (2 * k / (m - 1) - 1) ** 2, 0))) / np.i0(beta))
