"""``gv.trace.record()`` and ``gv.trace.subscribe()``: the in-process sinks."""
import json

from .core import TRACER
from .hooks import HOOKS
from .summary import jfloat


class Recording:
    """Events captured while a ``record()`` block was open (``rec.events``)."""

    def __init__(self, session="local"):
        self.session = session
        self._events = []
        self._seq = 0
        self._open = False

    def _sink(self, events):
        for ev in events:
            self._seq += 1
            ev = dict(ev, session=self.session, seq=self._seq)
            self._events.append(ev)

    @property
    def events(self):
        """All events so far, in seq order (pending records are drained first)."""
        if self._open:
            TRACER.drain()
        return self._events

    def __enter__(self):
        self._open = True
        TRACER.add_sink(self._sink)
        return self

    def __exit__(self, *exc):
        TRACER.remove_sink(self._sink)
        self._open = False
        return False

    def save(self, path):
        """Write the recording as JSON lines (what ``gradviz replay`` reads)."""
        with open(path, "w", encoding="utf-8") as f:
            for ev in self.events:
                f.write(json.dumps(ev, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path):
        """Read a JSON-lines recording written by ``save`` or the server (as ``gradviz
        replay`` does: a torn last line is skipped, a bad line is a ``GradvizError``)."""
        from ..cli import load_recording
        rec = cls()
        rec._events = load_recording(path)
        if rec._events:
            rec.session = rec._events[0].get("session", "local")
            rec._seq = rec._events[-1].get("seq", len(rec._events))
        return rec


def record(session="local"):
    """Context manager recording every event emitted inside it."""
    return Recording(session)


class Subscription:
    """Handle of ``subscribe``; ``.remove()`` stops delivery (pending events first)."""

    def __init__(self, fn, background):
        self.fn = fn
        self.background = background
        TRACER.add_sink(self._sink, background=background)

    def _sink(self, events):
        for ev in events:
            self.fn(ev)

    def remove(self):
        """Deliver pending events, then stop."""
        TRACER.remove_sink(self._sink, background=self.background)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def subscribe(fn, background=True):
    """Call ``fn(event)`` for every event, off the computing thread by default.

    ``flush()`` delivers pending events at once; ``background=False`` delivers
    only on ``flush()`` (and on ``remove()``), on the caller's thread.
    """
    return Subscription(fn, background)


def flush():
    """Summarise and deliver every pending record now."""
    TRACER.drain()


def emit(event):
    """Add a ready-made event (``scalar``, ``param_update``...) to the stream.

    A no-op when nobody listens.
    """
    if HOOKS.listening:
        TRACER.event(event)


def scalar(name, value, step=None):
    """Log a number (loss, accuracy...) as a ``scalar`` event."""
    emit({"type": "scalar", "name": name, "value": jfloat(value), "step": step})
