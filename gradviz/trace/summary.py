"""Tensor summaries for events: stats and a small preview, always JSON-safe."""
import binascii
import math
import threading

import numpy as np

from ..engine.backend import is_gpu_array

PREVIEW_MAX = 64   # at most this many elements are sent in full
HIST_BINS = 32
THUMB_MAX = 32


def to_host(a):
    """A NumPy view of a NumPy or CuPy array (CuPy copies once)."""
    if not is_gpu_array(a):
        return a if isinstance(a, np.ndarray) else np.asarray(a)
    return a.get()


def jfloat(x):
    """A float JSON can carry: non-finite values become "nan", "inf", "-inf"."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if x != x else ("inf" if x > 0 else "-inf")


def jvalues(a):
    """Nested lists of JSON-safe numbers for a small array (complex: [real, imag] pairs)."""
    if a.dtype.kind == "c":   # JSON has no complex numbers
        return jvalues(np.stack([a.real, a.imag], -1))
    if a.dtype.kind == "b":
        return a.tolist()
    if a.dtype.kind in "iu":
        return a.tolist()
    f = a.astype(np.float64)
    if np.isfinite(f).all():  # the common case: one C-level conversion
        return f.tolist()
    flat = [jfloat(v) for v in f.ravel().tolist()]
    if a.ndim == 0:
        return flat[0]
    return np.array(flat, dtype=object).reshape(a.shape).tolist()


def _complex_note(summarise, a):
    """A summary of |a| for a complex array, marked ``"of": "abs"`` (the magnitudes are
    what a histogram or a min/max can order)."""
    from ..engine.backend import xp_of
    out = summarise(xp_of(a).abs(a))
    out = dict(out) if isinstance(out, dict) else out
    out["of"] = "abs"
    return out


def stats(a):
    """``{min, max, mean, std, norm, nan, inf, zeros}`` over the whole array (over |a|, with
    ``"of": "abs"``, for a complex array)."""
    if a.dtype.kind == "c":
        return _complex_note(stats, a)
    if is_gpu_array(a):
        return device_summary(a)[0]
    n = int(a.size)
    if n == 0:
        return {"min": None, "max": None, "mean": None, "std": None, "norm": 0.0,
                "nan": 0, "inf": 0, "zeros": 0, "count": 0}
    f = a.reshape(-1)
    if f.dtype.kind != "f" or f.dtype.itemsize < 4:
        f = f.astype(np.float64)
    if n <= SMALL:
        return _small_stats(f.tolist(), n)
    # NumPy's count_nonzero on floats is a slow path; comparing first is ~4x faster
    zeros = int(np.count_nonzero(f == 0)) if n > 1024 else n - int(np.count_nonzero(f))
    lo, hi = _min(f), _max(f)
    nan = inf = 0
    if not (math.isfinite(lo) and math.isfinite(hi)):  # min/max see every NaN and Inf
        bad = ~np.isfinite(f)
        nan = int(np.isnan(f).sum())
        inf = int(bad.sum()) - nan
        f = f[~bad]
        if f.size == 0:
            return {"min": "nan", "max": "nan", "mean": "nan", "std": "nan", "norm": "nan",
                    "nan": nan, "inf": inf, "zeros": zeros, "count": n}
        lo, hi = _min(f), _max(f)
    # one float64 copy serves both sums (a dot product is the fastest sum of squares)
    d = f if f.dtype == np.float64 else f.astype(np.float64)
    k = _scale(float(lo), float(hi))
    if k != 1.0:
        d = d / k
    return _moments(float(_sum(d)), float(np.dot(d, d)), d.size, k, lo, hi, nan, inf, zeros, n)


_min, _max, _sum = np.minimum.reduce, np.maximum.reduce, np.add.reduce
SMALL = 32  # stats of at most this many values are computed on a Python list
BIG = 1e100  # finite values beyond this are summed divided by the largest one


def _scale(lo, hi):
    """What to divide finite values in [lo, hi] by before summing them and their squares:
    1, or the largest magnitude when squares could overflow (a debugger sees blow-ups)."""
    m = max(-lo, hi)
    return m if m > BIG else 1.0


def _moments(s1, s2, m, k, lo, hi, nan, inf, zeros, n):
    """The stats dict from the sum and the sum of squares of ``m`` finite values divided by
    ``k`` (mean, std and norm scaled back; a norm beyond the largest double is inf)."""
    mean = s1 / m
    var = max(s2 / m - mean * mean, 0.0)
    norm = k * math.sqrt(s2) if not (nan or inf) else (float("nan") if nan else float("inf"))
    return {"min": jfloat(lo), "max": jfloat(hi), "mean": jfloat(k * mean),
            "std": jfloat(k * math.sqrt(var)), "norm": jfloat(norm),
            "nan": nan, "inf": inf, "zeros": zeros, "count": n}


def _small_stats(v, n):
    """``stats`` of a few floats: NumPy's fixed cost per reduction is larger than the work."""
    fin = [x for x in v if x - x == 0.0]  # NaN and +-Inf give NaN
    zeros = v.count(0.0)
    bad = n - len(fin)
    nan = sum(map(math.isnan, v)) if bad else 0
    inf = bad - nan
    if not fin:
        return {"min": "nan", "max": "nan", "mean": "nan", "std": "nan", "norm": "nan",
                "nan": nan, "inf": inf, "zeros": zeros, "count": n}
    lo, hi = min(fin), max(fin)
    k = _scale(lo, hi)
    if k != 1.0:
        fin = [x / k for x in fin]
    return _moments(math.fsum(fin), math.fsum([x * x for x in fin]), len(fin), k, lo, hi,
                    nan, inf, zeros, n)


HIST_SAMPLE = 8192  # histograms of bigger tensors use an evenly strided sample


def histogram(a, bins=HIST_BINS):
    """32 equal bins between the finite min and max (of a strided sample for big arrays)."""
    f = a.reshape(-1)
    sampled = f.size > HIST_SAMPLE
    if sampled:
        f = f[::-(-f.size // HIST_SAMPLE)]
    f = f.astype(np.float64)
    if f.size == 0:
        return {"lo": 0.0, "hi": 0.0, "counts": [0] * bins, "sampled": sampled}
    lo, hi = float(_min(f)), float(_max(f))  # min/max see every NaN and Inf
    if not (math.isfinite(lo) and math.isfinite(hi)):
        f = f[np.isfinite(f)]
        if f.size == 0:
            return {"lo": 0.0, "hi": 0.0, "counts": [0] * bins, "sampled": sampled}
        lo, hi = float(_min(f)), float(_max(f))
    if lo == hi:
        counts = [0] * bins
        counts[bins // 2] = int(f.size)
        return {"lo": lo, "hi": hi, "counts": counts, "sampled": sampled}
    base, span = lo, hi - lo   # f is a private float64 copy
    if not math.isfinite(span):  # a range beyond the largest double: halve it first
        f *= 0.5
        base, span = lo * 0.5, hi * 0.5 - lo * 0.5
    f -= base
    f *= bins / span
    idx = f.astype(np.intp)
    np.minimum(idx, bins - 1, out=idx)
    counts = np.bincount(idx, minlength=bins)
    return {"lo": lo, "hi": hi, "counts": counts.tolist(), "sampled": sampled}


THUMB_LEVELS = 255  # thumbnails: 8 bits a cell, what a colour map shows anyway


def thumbnail(a, size=THUMB_MAX):
    """At most size×size block means of a 2-D array (image-like arrays: the first map),
    quantised to 8 bits (``thumb8``: a picture, not the values), or None when empty."""
    while a.ndim > 2:
        a = a[0]
    h, w = a.shape
    sh, sw = max(1, math.ceil(h / size)), max(1, math.ceil(w / size))
    H, W = h // sh, w // sw
    if H == 0 or W == 0:
        return None
    # one float64 copy, rows summed in blocks of sh (contiguous adds), then columns in
    # blocks of sw (a product with ones): several times faster than one 4-D reduction
    src = a[:H * sh, :W * sw]
    with np.errstate(over="ignore"):
        block = _block_sums(src.astype(np.float64), H, W, sh, sw)
        if sh * sw > 1:
            if np.isfinite(block).all():
                block /= sh * sw
            else:   # NaN or Inf in the map, or sums past the largest double: divide first
                block = _block_sums(src / np.float64(sh * sw), H, W, sh, sw)
    return thumb8(block)


def _block_sums(block, H, W, sh, sw):
    """Sums of the sh×sw blocks of an (H*sh, W*sw) float64 array."""
    if sh > 1:
        block = np.add.reduce(block.reshape(H, sh, W * sw), axis=1)
    if sw > 1:
        block = np.matmul(block.reshape(H, W, sw), np.ones(sw))
    return block


def thumb8(block):
    """``{lo, hi, rows, cols, b64[, nonfinite]}`` of a 2-D float64 array (which it may
    overwrite): each cell is ``q`` in 0..255 (one byte, row-major, base64) with value
    ``lo + q * (hi - lo) / 255`` over the finite cells (within ``(hi - lo) / 510``);
    non-finite cells have byte 0 there and are marked in ``nonfinite``: base64 of one more
    byte a cell, 0 finite, 1 NaN, 2 +Inf, 3 -Inf (present only when there are some, and
    never bigger than the picture itself, however many cells blew up)."""
    H, W = block.shape
    flat = block.reshape(-1)
    lo, hi = float(_min(flat)), float(_max(flat))
    bad = None
    if not (math.isfinite(lo) and math.isfinite(hi)):  # min/max see every NaN and Inf
        fin = np.isfinite(block)
        mask = np.isnan(block).astype(np.uint8)
        mask[block == np.inf] = 2
        mask[block == -np.inf] = 3
        bad = binascii.b2a_base64(mask.tobytes(), newline=False).decode("ascii")
        if fin.any():
            lo, hi = float(block[fin].min()), float(block[fin].max())
        else:
            lo = hi = 0.0
        block[~fin] = lo
    if hi > lo:
        span, base = hi - lo, lo
        if not math.isfinite(span):  # a range beyond the largest double: halve it first
            block *= 0.5
            span, base = hi * 0.5 - lo * 0.5, lo * 0.5
        block -= base
        scale = THUMB_LEVELS / span
        if math.isfinite(scale):
            block *= scale
        else:  # a subnormal range
            block /= span
            block *= THUMB_LEVELS
        np.rint(block, out=block)
        q = block.astype(np.uint8)
    else:
        q = np.zeros((H, W), dtype=np.uint8)
    out = {"lo": lo, "hi": hi, "rows": H, "cols": W,
           "b64": binascii.b2a_base64(q.tobytes(), newline=False).decode("ascii")}
    if bad:
        out["nonfinite"] = bad
    return out


def preview(a):
    """Full values for small arrays, else a histogram (and a thumbnail for 2-D+); a complex
    array's preview is of |a| (``"of": "abs"``), small ones add ``"complex"`` [re, im]
    pairs."""
    if a.dtype.kind == "c":
        out = _complex_note(preview, a)
        if a.size <= PREVIEW_MAX:
            out["complex"] = jvalues(to_host(a))
        return out
    if is_gpu_array(a):
        return device_summary(a)[1]
    if a.size <= PREVIEW_MAX:
        return {"values": jvalues(a)}
    out = {"hist": histogram(a)}
    if a.ndim >= 2 and a.dtype.kind != "b":
        thumb = thumbnail(a)
        if thumb is not None:
            out["thumb8"] = thumb
    return out


def summary(a):
    """``(stats, preview)`` of one array."""
    return stats(a), preview(a)


# ---- GPU arrays: reduced on the device, one small copy to the host per event ------------------
_last = threading.local()  # stats(a) then preview(a) of one event share one transfer


def device_summary(a):
    """``(stats, preview)`` of a CuPy array: every reduction runs on the device and one
    float64 vector (a few scalars, 32 histogram counts, <= 32x32 thumbnail) is copied back."""
    if getattr(_last, "arr", None) is a:
        return _last.out
    if a.size <= PREVIEW_MAX:  # small: the array itself is the cheapest thing to copy
        host = a.get()
        out = stats(host), {"values": jvalues(host)}
    else:
        out = _device_digest(a)
    _last.arr, _last.out = a, out
    return out


def _device_digest(a):
    from ..engine.backend import xp_of
    xp = xp_of(a)
    n = int(a.size)
    f = a.reshape(-1)
    f = f.astype(xp.float64) if f.dtype.kind != "f" or f.dtype.itemsize < 4 else f
    fin = xp.isfinite(f)
    z = xp.where(fin, f, 0).astype(xp.float64)
    lo = xp.where(fin, f, xp.inf).min().astype(xp.float64)
    hi = xp.where(fin, f, -xp.inf).max().astype(xp.float64)
    big = xp.maximum(-lo, hi)   # as ``_scale``, with no trip to the host
    k = xp.where(big > BIG, big, 1.0)
    zk = z / k
    step = -(-n // HIST_SAMPLE)
    s, sfin = z[::step] * 0.5, fin[::step]   # halves: no range overflows
    slo, shi = xp.where(sfin, s, xp.inf).min(), xp.where(sfin, s, -xp.inf).max()
    span = shi - slo  # 0 (one value) or nan (no finite value): scale 0, fixed on the host
    scale = HIST_BINS / xp.where(span > 0, span, xp.inf)
    idx = xp.clip(((s - xp.where(sfin.any(), slo, 0)) * scale).astype(xp.int64), 0, HIST_BINS - 1)
    parts = [xp.stack([lo, hi, zk.sum(), (zk * zk).sum(), xp.isnan(f).sum().astype(xp.float64),
                       (~fin).sum().astype(xp.float64), (f == 0).sum().astype(xp.float64),
                       slo * 2, shi * 2, sfin.sum().astype(xp.float64), k]),
             xp.bincount(idx, weights=sfin.astype(xp.float64), minlength=HIST_BINS)]
    t = a
    while t.ndim > 2:
        t = t[0]
    thumb = None
    if a.ndim >= 2 and a.dtype.kind != "b":
        h, w = t.shape
        sh, sw = max(1, math.ceil(h / THUMB_MAX)), max(1, math.ceil(w / THUMB_MAX))
        if h // sh and w // sw:
            thumb = (h // sh, w // sw)
            cells = t[:thumb[0] * sh, :thumb[1] * sw].astype(xp.float64) / (sh * sw)
            parts.append(cells.reshape(thumb[0], sh, thumb[1], sw).sum(axis=(1, 3)).reshape(-1))
    v = xp.concatenate(parts).get()  # the one device -> host copy of this event
    return _digest_stats(v, n), _digest_preview(v, n, step, thumb)


_HIST_AT = 11   # where the histogram counts start in a digest (after 11 scalars)


def _digest_stats(v, n):
    lo, hi, s1, s2, nan, bad, zeros = v[:7]
    nan, inf, zeros = int(nan), int(bad) - int(nan), int(zeros)
    m = n - int(bad)
    if m == 0:
        return {"min": "nan", "max": "nan", "mean": "nan", "std": "nan", "norm": "nan",
                "nan": nan, "inf": inf, "zeros": zeros, "count": n}
    return _moments(float(s1), float(s2), m, float(v[10]), lo, hi, nan, inf, zeros, n)


def _digest_preview(v, n, step, thumb):
    slo, shi, count = float(v[7]), float(v[8]), int(v[9])
    hist = {"lo": slo, "hi": shi, "sampled": step > 1,
            "counts": v[_HIST_AT:_HIST_AT + HIST_BINS].astype(np.int64).tolist()}
    if count == 0:
        hist.update(lo=0.0, hi=0.0)
    elif slo == shi:
        hist["counts"] = [0] * HIST_BINS
        hist["counts"][HIST_BINS // 2] = count
    out = {"hist": hist}
    if thumb is not None:
        out["thumb8"] = thumb8(v[_HIST_AT + HIST_BINS:].reshape(thumb))  # on the host
    return out
