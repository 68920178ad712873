"""A tiny text progress bar for the examples (no tqdm needed).

    for batch in progress(loader, desc="epoch 1"):
        ...
        bar.set(loss=0.42)       # when you hold the bar: bar = progress(...)

Redraws at most 10 times a second on a terminal; when the output is not a terminal
(a log, a test) it prints one line when the bar finishes.
"""
import os
import sys
import time


def quick():
    """True when the examples should run on a reduced size (``--quick`` or GRADVIZ_SMOKE=1)."""
    return "--quick" in sys.argv[1:] or os.environ.get("GRADVIZ_SMOKE", "") not in ("", "0")


class progress:
    """Wrap an iterable and draw ``desc [#####.....] n/total  elapsed  key=value``."""

    def __init__(self, iterable, total=None, desc="", width=24, stream=None):
        self.iterable = iterable
        try:
            self.total = len(iterable) if total is None else total
        except TypeError:
            self.total = None
        self.desc, self.width = desc, width
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.fields = {}
        self.n = 0
        self.t0 = time.perf_counter()
        self._last = 0.0

    def set(self, **fields):
        """Show these values after the bar (numbers print with 4 significant digits)."""
        self.fields.update(fields)

    def _line(self):
        elapsed = time.perf_counter() - self.t0
        if self.total:
            done = int(self.width * self.n / self.total)
            bar = f"[{'#' * done}{'.' * (self.width - done)}] {self.n}/{self.total}"
        else:
            bar = f"{self.n} it"
        extra = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in self.fields.items())
        return f"{self.desc} {bar} {elapsed:5.1f}s  {extra}".rstrip()

    def _draw(self, final=False):
        now = time.perf_counter()
        if final or (self.tty and now - self._last > 0.1):
            self._last = now
            if self.tty:
                self.stream.write("\r" + self._line() + ("\n" if final else ""))
            elif final:
                self.stream.write(self._line() + "\n")
            self.stream.flush()

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.n += 1
            self._draw()
        self._draw(final=True)
