"""``gv.testing``: torch.testing's ``assert_close`` for gradviz tensors, NumPy arrays,
Python numbers and (nested) sequences or mappings of them."""
import collections.abc
import math
import numbers

import numpy as np

from .engine.tensor import Tensor

__all__ = ["assert_close"]

# torch.testing's default (rtol, atol) per dtype; integers and bools compare exactly
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def _tolerance(*dtypes):
    """The loosest default of the dtypes (torch takes the max over actual and expected)."""
    rtols, atols = zip(*(_TOLERANCES.get(np.dtype(d), (0.0, 0.0)) for d in dtypes))
    return max(rtols), max(atols)


def _dtype_name(dt, tensor):
    if not tensor:
        return repr(dt)
    return "gradviz." + ("bool" if np.dtype(dt) == np.bool_ else np.dtype(dt).name)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close, as
    ``torch.testing.assert_close``: ``|actual - expected| <= atol + rtol * |expected|``
    elementwise, with per-dtype default tolerances, matching shapes and (by default) dtypes."""
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {missing}.")
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, [])


def _is_tensor_like(x):
    return isinstance(x, (Tensor, np.ndarray))


def _is_number(x):
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path):
    if _is_number(actual) and _is_number(expected):
        return _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype, msg,
                                path)
    if _is_tensor_like(actual) and _is_tensor_like(expected) and \
            isinstance(actual, Tensor) == isinstance(expected, Tensor):
        return _compare_arrays(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path)
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and isinstance(expected, seq) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                  msg, path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, msg, path + [i])
        return None
    if isinstance(actual, collections.abc.Mapping) and \
            isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match: {sorted(map(repr, actual))} != "
                  f"{sorted(map(repr, expected))}", msg, path)
        for k in actual:
            _compare(actual[k], expected[k], rtol, atol, equal_nan, check_dtype, msg,
                     path + [k])
        return None
    # torch: a tensor against a list or array is a type error, not a comparison
    raise TypeError("No comparison pair was able to handle inputs of type "
                    f"{_type_name(actual)} and {_type_name(expected)}.")


def _type_name(x):
    return "<class 'gradviz.Tensor'>" if isinstance(x, Tensor) else str(type(x))


def _fail(text, msg, path):
    if msg is not None:
        raise AssertionError(msg(text) if callable(msg) else msg)
    if path:
        text += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    raise AssertionError(text)


def _allowed(tol, exact):
    return "" if exact else f" (up to {tol} allowed)"


def _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path):
    ta, te = _scalar_type(actual), _scalar_type(expected)
    if check_dtype and ta is not te:
        _fail(f"The (d)types do not match: {ta} != {te}.", msg, path)
    if ta is bool and te is bool:
        if bool(actual) != bool(expected):
            _fail(f"Booleans mismatch: {bool(actual)} is not {bool(expected)}", msg, path)
        return
    if rtol is None:
        rtol, atol = _tolerance(*(np.float64 if t is float else np.int64 for t in (ta, te)))
    a, e = complex(actual) if ta is complex else actual, complex(expected) \
        if te is complex else expected
    if _close_scalar(a, e, rtol, atol, equal_nan):
        return
    exact = rtol == 0 and atol == 0
    diff = abs(a - e)
    rel = diff / abs(e) if e != 0 else (math.inf if diff else math.nan)
    _fail(f"Scalars are not {'equal' if exact else 'close'}!\n\nExpected {e} but got {a}.\n"
          f"Absolute difference: {diff}{_allowed(atol, exact)}\n"
          f"Relative difference: {rel}{_allowed(rtol, exact)}", msg, path)


def _scalar_type(x):
    if isinstance(x, (bool, np.bool_)):
        return bool
    if isinstance(x, numbers.Integral):
        return int
    if isinstance(x, numbers.Real):
        return float
    return complex


def _close_scalar(a, e, rtol, atol, equal_nan):
    if a == e:
        return True
    if isinstance(a, complex) or isinstance(e, complex):
        return abs(a - e) <= atol + rtol * abs(e)
    if math.isnan(a) or math.isnan(e):
        return equal_nan and math.isnan(a) and math.isnan(e)
    if math.isinf(a) or math.isinf(e):
        return False
    return abs(a - e) <= atol + rtol * abs(e)


def _host(x):
    if isinstance(x, Tensor):
        x = x.detach()
        return np.asarray(x.cpu().numpy() if hasattr(x, "cpu") else x.numpy())
    return np.asarray(x)


def _compare_arrays(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path):
    is_tensor = isinstance(actual, Tensor)
    a, e = _host(actual), _host(expected)
    if a.shape != e.shape:
        size = (lambda s: f"gradviz.Size({list(s)})") if is_tensor else repr
        _fail(f"The values for attribute 'shape' do not match: {size(a.shape)} != "
              f"{size(e.shape)}.", msg, path)
    if check_dtype and a.dtype != e.dtype:
        _fail(f"The values for attribute 'dtype' do not match: {_dtype_name(a.dtype, is_tensor)}"
              f" != {_dtype_name(e.dtype, is_tensor)}.", msg, path)
    if rtol is None:
        rtol, atol = _tolerance(a.dtype, e.dtype)
    common = np.promote_types(a.dtype, e.dtype)
    if common == np.bool_:
        common = np.dtype(np.uint8)
    a, e = a.astype(common), e.astype(common)
    if a.dtype.kind in "biu":
        ok = a == e
    else:
        ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
        ok |= a == e   # equal infinities are close
    if ok.all():
        return
    exact = rtol == 0 and atol == 0
    if a.ndim == 0:   # torch words a 0-d mismatch as a scalar one
        return _compare_scalars(a.reshape(()).item(), e.reshape(()).item(), rtol, atol,
                                equal_nan, False, msg, path)
    # differences in the common dtype (ints: as float32, torch's true division of them)
    wide = a.dtype if a.dtype.kind in "fc" else np.float32
    if a.dtype.kind in "biu":
        diff = np.abs(a.astype(np.int64) - e.astype(np.int64))
    else:
        diff = np.abs(a - e)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (diff / np.abs(e)).astype(wide) if a.dtype.kind in "fc" else \
            diff.astype(wide) / np.abs(e).astype(wide)
    diff = np.where(ok, 0, diff)
    rel = np.where(ok, 0, rel)
    bad = int((~ok).sum())
    ia = np.unravel_index(int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff))), a.shape)
    ir = np.unravel_index(int(np.nanargmax(np.where(np.isnan(rel), np.inf, rel))), a.shape)
    ia, ir = tuple(int(i) for i in ia), tuple(int(i) for i in ir)
    _fail(f"Tensor-likes are not {'equal' if exact else 'close'}!\n\n"
          f"Mismatched elements: {bad} / {a.size} ({100 * bad / a.size:.1f}%)\n"
          f"Greatest absolute difference: {diff[ia].item()} at index {ia}"
          f"{_allowed(atol, exact)}\n"
          f"Greatest relative difference: {float(rel[ir])} at index {ir}"
          f"{_allowed(rtol, exact)}", msg, path)
