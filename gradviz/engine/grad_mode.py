"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``."""
import functools

enabled = True


def is_grad_enabled():
    """True unless inside ``no_grad()``."""
    return enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets grad mode; restores it on exit."""

    def __init__(self, mode=True):
        global enabled
        self.prev = enabled
        self.mode = bool(mode)
        enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global enabled
        enabled = self.prev
        return False


class _Mode:
    mode = True

    def __new__(cls, orig_func=None):
        if orig_func is not None:  # bare ``@no_grad`` (no parentheses), as torch allows
            return cls()(orig_func)
        return super().__new__(cls)

    def __enter__(self):
        global enabled
        self.prev = enabled
        if self.mode is not None:   # None: leave grad mode as it is
            enabled = self.mode
        return self

    def __exit__(self, *exc):
        global enabled
        enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            with type(self)():
                return fn(*a, **k)
        return wrapper


class no_grad(_Mode):
    """Ops inside build no graph (as ``torch.no_grad``); also a decorator."""

    mode = False


class enable_grad(_Mode):
    """Turn grad mode back on inside ``no_grad`` (as ``torch.enable_grad``)."""

    mode = True


class inference_mode(no_grad):
    """``torch.inference_mode``: ops build no graph, as in ``no_grad`` (gradviz has no separate
    inference tensors); ``inference_mode(False)`` leaves grad mode as it is."""

    def __new__(cls, mode=True):
        return super().__new__(cls, mode if callable(mode) else None)

    def __init__(self, mode=True):
        if not callable(mode) and not mode:
            self.mode = None
