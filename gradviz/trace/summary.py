"""Tensor summaries for events: stats and a small preview, always JSON-safe."""
import math

import numpy as np

PREVIEW_MAX = 64   # at most this many elements are sent in full
HIST_BINS = 32
THUMB_MAX = 32


def to_host(a):
    """A NumPy view of a NumPy or CuPy array (CuPy copies once)."""
    if isinstance(a, np.ndarray):
        return a
    get = getattr(a, "get", None)
    return np.asarray(get() if get is not None else a)


def jfloat(x):
    """A float JSON can carry: non-finite values become "nan", "inf", "-inf"."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if x != x else ("inf" if x > 0 else "-inf")


def jvalues(a):
    """Nested lists of JSON-safe numbers for a small array."""
    if a.dtype.kind == "b":
        return a.tolist()
    if a.dtype.kind in "iu":
        return a.tolist()
    flat = [jfloat(v) for v in a.astype(np.float64).ravel().tolist()]
    if a.ndim == 0:
        return flat[0]
    return np.array(flat, dtype=object).reshape(a.shape).tolist()


def stats(a):
    """``{min, max, mean, std, norm, nan, inf, zeros}`` over the whole array."""
    a = to_host(a)
    n = a.size
    if n == 0:
        return {"min": None, "max": None, "mean": None, "std": None, "norm": 0.0,
                "nan": 0, "inf": 0, "zeros": 0, "count": 0}
    if a.dtype.kind == "b":
        f = a.astype(np.float64)
        nan = inf = 0
    else:
        f = a if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else a.astype(np.float64)
        if f.dtype.kind == "f":
            finite = np.isfinite(f)
            if finite.all():
                nan = inf = 0
            else:
                nan = int(np.isnan(f).sum())
                inf = int(n - nan - finite.sum())
                f = f[finite]
        else:
            nan = inf = 0
    zeros = int(n - np.count_nonzero(a))
    if f.size == 0:
        return {"min": "nan", "max": "nan", "mean": "nan", "std": "nan", "norm": "nan",
                "nan": nan, "inf": inf, "zeros": zeros, "count": n}
    f64 = f.astype(np.float64, copy=False)
    mean = f64.mean()
    sq = float(np.dot(f64.ravel(), f64.ravel()))
    var = max(sq / f64.size - mean * mean, 0.0)
    return {"min": jfloat(f.min()), "max": jfloat(f.max()), "mean": jfloat(mean),
            "std": jfloat(math.sqrt(var)), "norm": jfloat(math.sqrt(sq) if not (nan or inf) else
                                                         (float("nan") if nan else float("inf"))),
            "nan": nan, "inf": inf, "zeros": zeros, "count": n}


def histogram(a, bins=HIST_BINS):
    """32 equal bins between the finite min and max."""
    f = a.astype(np.float64, copy=False).ravel()
    f = f[np.isfinite(f)]
    if f.size == 0:
        return {"lo": 0.0, "hi": 0.0, "counts": [0] * bins}
    lo, hi = float(f.min()), float(f.max())
    if lo == hi:
        counts = [0] * bins
        counts[bins // 2] = int(f.size)
        return {"lo": lo, "hi": hi, "counts": counts}
    counts, _ = np.histogram(f, bins=bins, range=(lo, hi))
    return {"lo": lo, "hi": hi, "counts": counts.tolist()}


def thumbnail(a, size=THUMB_MAX):
    """At most size×size block means of a 2-D array (image-like arrays: the first map)."""
    while a.ndim > 2:
        a = a[0]
    h, w = a.shape
    sh, sw = max(1, math.ceil(h / size)), max(1, math.ceil(w / size))
    H, W = h // sh, w // sw
    if H == 0 or W == 0:
        return None
    block = a[:H * sh, :W * sw].astype(np.float64).reshape(H, sh, W, sw).mean(axis=(1, 3))
    return jvalues(block)


def preview(a):
    """Full values for small arrays, else a histogram (and a thumbnail for 2-D+)."""
    a = to_host(a)
    if a.size <= PREVIEW_MAX:
        return {"values": jvalues(a)}
    out = {"hist": histogram(a)}
    if a.ndim >= 2 and a.dtype.kind != "b":
        thumb = thumbnail(a)
        if thumb is not None:
            out["thumb"] = thumb
    return out


def summary(a):
    """``(stats, preview)`` of one array."""
    return stats(a), preview(a)
