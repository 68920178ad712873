"""How tensors print: ``repr(t)`` as torch formats it, and torch.set_printoptions
(digits, summarising, line width, scientific notation). ``Tensor.__repr__`` is
``tensor_repr``."""
import sys

import numpy as np

from ..errors import GradvizError
from . import dtypes
from .backend import as_device, move


# torch.set_printoptions: how tensors print (torch's defaults, its "default" profile)
PRINT_OPTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
              "sci_mode": None}
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, float("inf"), 3, 80)}


def tensor_repr(self):
    """``tensor([...], dtype=..., requires_grad=True)``, as torch prints it."""
    arr = move(self._data, as_device("cpu"))
    opts = PRINT_OPTS
    fmt = {"float_kind": _float_formatter(arr)} if arr.dtype.kind == "f" else None
    threshold = opts["threshold"]
    body = np.array2string(arr, separator=", ", prefix="tensor(", formatter=fmt,
                           max_line_width=opts["linewidth"], edgeitems=opts["edgeitems"],
                           threshold=sys.maxsize if threshold == float("inf")
                           else int(threshold))
    extras = []
    if self.device.type != "cpu":
        extras.append(f"device='{self.device}'")
    if self._data.dtype not in (dtypes.get_default_dtype().np, np.int64, np.bool_) \
            or (arr.size == 0 and arr.dtype != dtypes.get_default_dtype().np):
        extras.append(f"dtype={self.dtype}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn=<{self.grad_fn.name}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + _suffixes(extras, len("tensor("), len(body) - body.rfind("\n")
                                        + 1, opts["linewidth"]) + ")"


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: digits after the point, the element count above which tensors
    print summarised (``edgeitems`` per end), the line width, a profile ('default', 'short',
    'full') whose values the other arguments override, and scientific notation (True/False,
    None: chosen from the values)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise GradvizError(f"unknown print profile {profile!r}: use 'default', 'short' "
                               "or 'full'")
        PRINT_OPTS.update(zip(("precision", "threshold", "edgeitems", "linewidth"),
                              _PROFILES[profile]))
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTS[key] = value
    PRINT_OPTS["sci_mode"] = sci_mode


def _suffixes(extras, indent, last_line_len, linewidth):
    """``, dtype=...`` and the like, each on a new line where the line would pass
    ``linewidth`` (torch's ``_add_suffixes``)."""
    out = []
    for suffix in extras:
        if last_line_len + len(suffix) + 2 > linewidth:
            out.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last_line_len += len(suffix) + 2
    return "".join(out)


def _summarized(arr, edge):
    """The elements a summarised print shows (torch's get_summarized_data)."""
    for axis, n in enumerate(arr.shape):
        if n > 2 * edge:
            arr = np.take(arr, np.r_[0:edge, n - edge:n], axis=axis)
    return arr


def _float_formatter(arr):
    """torch's float printing (``_Formatter``): ``1.``-style when every value is whole,
    else ``precision`` decimals; scientific when magnitudes span > 1000x or leave
    [1e-4, 1e8] (or as ``sci_mode`` says); one width, from the nonzero finite values."""
    opts = PRINT_OPTS
    if arr.size > opts["threshold"]:
        arr = _summarized(arr, opts["edgeitems"])
    flat = arr.reshape(-1).astype(np.float64)
    nz = flat[np.isfinite(flat) & (flat != 0)]
    prec = opts["precision"]
    whole, sci = True, False
    if nz.size:
        whole = bool(np.all(nz == np.ceil(nz)))
        big, small = np.abs(nz).max(), np.abs(nz).min()
        sci = (big / small > 1000.0 or big > 1e8 or small < 1e-4) if opts["sci_mode"] is None \
            else bool(opts["sci_mode"])

    def one(v):
        if sci:
            return f"{v:.{prec}e}"
        if whole:
            return f"{v:.0f}" + ("." if np.isfinite(v) else "")
        return f"{v:.{prec}f}"
    width = max((len(one(v)) for v in nz), default=1)
    return lambda v: one(float(v)).rjust(width)
