"""How an attached process ends, as its session's ``exit`` says: ``ok``, ``error: X``,
``interrupted`` (Ctrl-C) or ``terminated`` (SIGTERM).

``exit_reason`` names the end an exception type makes; ``_watch_uncaught`` notes the
exception that reaches ``sys.excepthook`` (the one ending the interpreter);
``ExitHandling``, mixed into ``remote.Attachment``, catches SIGTERM so that the unsent
events and the ``bye`` go first, works out the exit text at close and sends the ``bye``.
"""
import os
import signal
import sys
import threading

SIGTERM_FLUSH_TIMEOUT = 10.0   # seconds to send what is unsent on SIGTERM (docker waits 10)

# the type of the exception that reached sys.excepthook: the one ending the interpreter
# (sys.last_type is not that: pytest and IPython set it for exceptions that end nothing)
_UNCAUGHT = [None]


def _watch_uncaught():
    prev = sys.excepthook
    if getattr(prev, "gradviz_watch", False):
        return

    def hook(exc_type, value, tb):
        _UNCAUGHT[0] = exc_type
        prev(exc_type, value, tb)
    hook.gradviz_watch = True
    sys.excepthook = hook


def exit_reason(exc_type):
    """The ``exit`` text for a process ending with ``exc_type`` (None: a clean end)."""
    if exc_type is None or (isinstance(exc_type, type) and issubclass(exc_type, SystemExit)):
        return "ok"
    if isinstance(exc_type, type) and issubclass(exc_type, KeyboardInterrupt):
        return "interrupted"
    return f"error: {getattr(exc_type, '__name__', exc_type)}"


class ExitHandling:
    """The SIGTERM handler, exit text and ``bye`` of an ``Attachment`` (the class that
    mixes it in has ``flush``, ``close``, ``client``, ``session``, ``exit_hint``,
    ``signalled`` and ``_prev_sigterm``)."""

    def _catch_sigterm(self):
        """Handle SIGTERM (``_on_sigterm``), only from the main thread (where Python runs
        signal handlers), and only when SIGTERM would end the process: not when the
        script ignores it or a handler not set from Python (unknown to chain to) has it."""
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            prev = signal.getsignal(signal.SIGTERM)
            if prev is None or prev == signal.SIG_IGN:
                return
            signal.signal(signal.SIGTERM, self._on_sigterm)
        except (AttributeError, ValueError, OSError):   # no SIGTERM here, or not allowed
            return
        self._prev_sigterm = prev

    def _on_sigterm(self, signum, frame):
        """SIGTERM: send the unsent events and ``bye {exit: "terminated"}``, then end the
        process as SIGTERM does (killed by the signal: status 143 in a shell, -15 for
        ``subprocess``). When the script had its own handler, it is called instead of
        ending here (it decides: exit now, or finish its work, still streamed; the session
        says "terminated" either way)."""
        prev = self._prev_sigterm
        self.signalled = "terminated"
        if callable(prev):
            if self.flush(SIGTERM_FLUSH_TIMEOUT):
                self._bye(self.signalled)   # in case the script's handler ends it abruptly
            prev(signum, frame)
            return
        self.close(SIGTERM_FLUSH_TIMEOUT, exit=self.signalled)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        os._exit(128 + signal.SIGTERM)   # not reached: the signal ends the process first

    def _restore_sigterm(self):
        """Put the script's SIGTERM handler back, if ours is still the one set (from the
        main thread only; closed elsewhere, ours stays and still chains to it)."""
        prev = self._prev_sigterm
        if prev is None or threading.current_thread() is not threading.main_thread():
            return
        self._prev_sigterm = None
        try:
            if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                signal.signal(signal.SIGTERM, prev)
        except (ValueError, OSError):
            pass

    def _close_at_exit(self):
        """atexit: the interpreter is ending, so the exception that reached sys.excepthook
        (if any) is the one ending it."""
        self.close(exit=self.exit_hint or exit_reason(_UNCAUGHT[0]))

    def _exit_text(self, exit):
        """The ``exit`` to report at close: "terminated" once SIGTERM came, else ``exit``
        if given, else the runner's hint or "ok" (a script closing its attachment itself is
        still running: an exception some code passed to sys.excepthook earlier, as IPython
        does for each failed cell, did not end it)."""
        if self.signalled:
            return self.signalled
        if exit is None:
            return self.exit_hint or "ok"
        return exit

    def _bye(self, reason):
        """Tell the server how the process ended (shown as the session's ``exit``)."""
        try:
            if self.client.connected:
                self.client.call("bye", {"session": self.session, "exit": reason[:200]},
                                 timeout=2.0)
        except Exception:   # an older server, or gone: the exit reason is only informative
            pass
