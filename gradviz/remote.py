"""``gv.attach``: stream this process's events to a running ``gradviz serve``.

Events leave the tracer's drain thread into an outbox; a sender thread numbers
them (``seq``, continuing the session), sends them in batches with
``produce`` and keeps each batch until the server acknowledges it (the ack
carries the highest stored seq). After a dropped connection the client
reconnects and sends again what was not acknowledged; the server stores each
``(session, seq)`` once. At normal interpreter exit everything is flushed and
acknowledged before the process ends. Step-gate commands from the server
drive a local ``StepGate``. If the server cannot be reached, one message is
printed and the script runs on untraced.
"""
import atexit
import sys
import threading
from collections import deque

from .trace.gate import StepGate

BATCH_MAX = 2000          # events per produce message
MAX_PENDING = 200_000     # events held before the tracer is slowed down (back-pressure)
ACK_TIMEOUT = 15.0


class Attachment:
    """A live connection from this process to a server session (see ``attach``)."""

    def __init__(self, url, token=None, session=None, paused=False, title=None,
                 connect_timeout=5.0, batch_max=BATCH_MAX, max_pending=MAX_PENDING):
        self.url = url
        self.token = token
        self.session = session
        self.title = title
        self.batch_max = batch_max
        self.max_pending = max_pending
        self.connect_timeout = connect_timeout
        self.gate = StepGate(paused=paused)
        self.outbox = deque()        # events from the tracer, not yet numbered
        self.pending = deque()       # numbered events not yet acknowledged
        self.cond = threading.Condition()
        self.seq = None              # last seq assigned (None until the first hello)
        self.acked = 0
        self.active = False
        self.closing = False
        self.need_hello = True
        self.rejected = 0            # events the server refused (reported once)
        self._warned = False
        self.client = None
        self.sender = None

    # ---- set-up -----------------------------------------------------------------------
    def start(self):
        """Connect, open the session and start streaming; on failure say so once."""
        import socketio
        self.client = c = socketio.Client(reconnection=True, reconnection_delay=0.2,
                                          reconnection_delay_max=2.0)
        c.on("connect", self._on_connect)
        c.on("disconnect", self._on_disconnect)
        c.on("command", self._on_command)
        try:
            c.connect(self.url, auth={"token": self.token}, transports=["websocket"],
                      wait_timeout=self.connect_timeout)
            self._hello()
        except Exception as e:
            self._say(f"gradviz: cannot reach the server at {self.url} ({e}); "
                      "the script continues without streaming")
            self._shutdown_client()
            return self
        from .trace import HOOKS, TRACER
        self.active = True
        HOOKS.gate = self.gate
        HOOKS.refresh()
        TRACER.add_sink(self._sink, background=True)
        self.sender = threading.Thread(target=self._send_loop, name="gradviz-attach",
                                       daemon=True)
        self.sender.start()
        atexit.register(self.close)
        return self

    def _say(self, text):
        if not self._warned:
            self._warned = True
            print(text, file=sys.stderr, flush=True)

    def _hello(self):
        r = self.client.call("hello", {"session": self.session, "title": self.title},
                             timeout=ACK_TIMEOUT)
        if not isinstance(r, dict) or not r.get("ok"):
            raise ConnectionError(f"the server refused the session: {r}")
        self.session = r["session"]
        with self.cond:
            if self.seq is None:
                self.seq = self.acked = int(r["last_seq"])
            self.need_hello = False

    # ---- socket callbacks (the client's threads) -------------------------------------------
    def _on_connect(self):
        with self.cond:
            self.need_hello = True
            self.cond.notify_all()

    def _on_disconnect(self, *reason):
        with self.cond:
            self.need_hello = True
        if not self.closing:
            self.gate.release()   # nobody can press "continue" now: never hang the script

    def _on_command(self, msg):
        try:
            self.gate.apply(msg)
        except Exception as e:
            print(f"gradviz: ignored a bad command from the server: {e}", file=sys.stderr)

    # ---- events -----------------------------------------------------------------------
    def _sink(self, events):
        with self.cond:
            while len(self.outbox) + len(self.pending) > self.max_pending and self.active \
                    and self.client.connected:
                self.cond.wait(0.5)   # back-pressure on the tracer while the server is slow
            self.outbox.extend(events)
            self.cond.notify_all()

    def _send_loop(self):
        while True:
            with self.cond:
                while self.active and not (self.outbox or self.pending):
                    self.cond.wait(0.5)
                if not self.active and not (self.outbox or self.pending):
                    return
                while self.outbox and len(self.pending) < self.batch_max:
                    ev = self.outbox.popleft()
                    self.seq += 1
                    ev["seq"] = self.seq
                    self.pending.append(ev)
                batch = [self.pending[i] for i in range(min(self.batch_max, len(self.pending)))]
                need_hello = self.need_hello
            if not self.client.connected:
                if not self.active:
                    return          # closing with no server: give up on the rest
                self._wait(0.2)
                continue
            try:
                if need_hello:
                    self._hello()
                r = self.client.call("produce", {"session": self.session, "events": batch},
                                     timeout=ACK_TIMEOUT)
            except Exception:
                self._wait(0.2)     # disconnected or timed out: resend after reconnecting
                continue
            self._acknowledge(r, batch)

    def _acknowledge(self, r, batch):
        with self.cond:
            if isinstance(r, dict) and r.get("ok"):
                self.acked = max(self.acked, int(r["last_seq"]))
                while self.pending and self.pending[0]["seq"] <= self.acked:
                    self.pending.popleft()
            else:
                # refused (over a limit, invalid): drop it so the rest can flow
                for _ in batch:
                    if self.pending:
                        self.pending.popleft()
                self.rejected += len(batch)
                err = (r or {}).get("error", {}) if isinstance(r, dict) else {}
                print(f"gradviz: the server refused {len(batch)} events: "
                      f"{err.get('message', r)}", file=sys.stderr)
            self.cond.notify_all()

    def _wait(self, seconds):
        with self.cond:
            self.cond.wait(seconds)

    # ---- flush and close ------------------------------------------------------------------
    def flush(self, timeout=30.0):
        """Send every event so far and wait for its acknowledgement; True when all are in."""
        if not self.active:
            return False
        from .trace import TRACER
        TRACER.drain()
        with self.cond:
            self.cond.notify_all()
            return self.cond.wait_for(lambda: not self.outbox and not self.pending, timeout)

    def close(self, timeout=30.0):
        """Flush, stop tracing into the server, and disconnect (idempotent)."""
        if self.closing:
            return
        self.closing = True
        if self.active:
            from .trace import HOOKS, TRACER
            TRACER.remove_sink(self._sink, background=True)
            if HOOKS.gate is self.gate:
                HOOKS.gate = None
            HOOKS.refresh()
            self.gate.release()
            self._drain_or_give_up(timeout)
            with self.cond:
                self.active = False
                self.cond.notify_all()
            if self.sender is not None:
                self.sender.join(5)
            try:
                atexit.unregister(self.close)
            except Exception:
                pass
        self._shutdown_client()

    def _drain_or_give_up(self, timeout, offline_grace=5.0):
        """Wait for every event to be acknowledged; give up after a long disconnection."""
        import time
        deadline = time.monotonic() + timeout
        offline_since = None
        with self.cond:
            while (self.outbox or self.pending) and time.monotonic() < deadline:
                if self.client.connected:
                    offline_since = None
                elif offline_since is None:
                    offline_since = time.monotonic()
                elif time.monotonic() - offline_since > offline_grace:
                    break
                self.cond.wait(0.1)
            lost = len(self.outbox) + len(self.pending)
        if lost:
            print(f"gradviz: {lost} events were not acknowledged by {self.url}",
                  file=sys.stderr, flush=True)

    def _shutdown_client(self):
        c = self.client
        if c is not None:
            try:
                c.disconnect()
            except Exception:
                pass
            try:
                c.shutdown()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def attach(url="http://127.0.0.1:5000", token=None, session=None, paused=False, title=None):
    """Stream this process's events to ``gradviz serve`` at ``url`` and obey its debugger.

    ``token``: the server's token (or a producer token); ``session``: a session id
    to create or continue; ``paused=True`` stops at the first op until a viewer
    steps or runs. Returns an ``Attachment`` (``.flush()``, ``.close()``); it
    closes itself at normal interpreter exit after every event is acknowledged.
    """
    return Attachment(url, token=token, session=session, paused=paused, title=title).start()
