"""``detect_anomaly``: find the op that first produced a NaN or Inf."""
from ..errors import AnomalyError
from ..trace.hooks import HOOKS


def _bad(a):
    """'nan', 'inf' or None for an array."""
    if a is None or getattr(a, "dtype", None) is None or a.dtype.kind != "f":
        return None
    xp = _xp(a)
    if xp.isnan(a).any():
        return "nan"
    if xp.isinf(a).any():
        return "inf"
    return None


def _xp(a):
    from .backend import xp_of
    return xp_of(a)


def check_forward(fn, out, node):
    """Remember where each op was called; report a NaN/Inf output as an anomaly event."""
    from ..trace.core import user_src
    fn.src = user_src()
    what = _bad(out._data)
    if what and HOOKS.listening:
        HOOKS.tracer.event({"type": "anomaly", "node": node, "where": "forward", "what": what,
                            "message": f"{type(fn).__name__} produced {what} values "
                                       f"(called at {fn.src})"})


def check_backward(fn, grads_in):
    """Raise, naming the forward op and its source line, when a gradient is NaN/Inf."""
    for i, g in enumerate(grads_in):
        raw = getattr(g, "_data", g)
        what = _bad(raw)
        if what:
            src = getattr(fn, "src", None)
            msg = (f"Function '{fn.name}' returned {what} values in its {i}th "
                   f"output. The forward op {type(fn).__name__} was called at "
                   f"{src or 'an unknown place (it ran before detect_anomaly)'}.")
            if HOOKS.listening:
                from ..trace.core import fn_node
                HOOKS.tracer.event({"type": "anomaly", "node": fn_node(fn), "where": "backward",
                                    "what": what, "message": msg})
            raise AnomalyError(msg)


class detect_anomaly:
    """Context manager: backward raises at the first op whose gradient is NaN/Inf,
    naming the forward op and the line that called it (as torch.autograd.detect_anomaly)."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = HOOKS.anomaly
        HOOKS.anomaly = self.check_nan
        HOOKS.refresh()
        return self

    def __exit__(self, *exc):
        HOOKS.anomaly = self.prev
        HOOKS.refresh()
        return False


class set_detect_anomaly(detect_anomaly):
    """Turn anomaly detection on or off: at once when called, as torch's; used as a context
    manager, the previous mode comes back on exit."""

    def __init__(self, mode, check_nan=True):
        super().__init__(bool(mode) and bool(check_nan))
        self.prev = HOOKS.anomaly
        HOOKS.anomaly = self.check_nan
        HOOKS.refresh()

    def __enter__(self):
        return self
