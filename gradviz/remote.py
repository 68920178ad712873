"""``gv.attach``: stream this process's events to a running ``gradviz serve``.

Events leave the tracer's drain thread into an outbox; a sender thread numbers
them (``seq``, continuing the session), encodes each once as a JSON line and
sends them in batches with ``produce {session, lines, after}`` (``lines`` as UTF-8
bytes, a binary attachment, when the server's ``hello`` says it takes them). Up to
``WINDOW`` batches are in flight at once (``after`` tells the server which
batch each one follows, so it stores them in order); each is kept until the
server acknowledges it (the ack carries the highest stored seq). After a
dropped connection or a lost ack the client reconnects and sends again what
was not acknowledged; the server stores each ``(session, seq)`` once. At
normal interpreter exit everything is flushed and acknowledged before the
process ends; Ctrl-C is recorded as exit ``interrupted`` and SIGTERM as
``terminated`` (the unsent events and the ``bye`` go first: remote_exit.py).
Step-gate commands from the server drive a local ``StepGate``. If the server cannot
be reached, one message is printed and the script runs on untraced.
"""
import atexit
import json
import sys
import threading
import time
from collections import deque

import numpy as np

from .remote_exit import SIGTERM_FLUSH_TIMEOUT  # noqa: F401 - still public here
from .remote_exit import ExitHandling, _watch_uncaught, exit_reason
from .trace.gate import StepGate, install_gate, uninstall_gate

BATCH_MAX = 2000          # events per produce message
BATCH_BYTES = 1 << 20     # and about this many bytes of JSON lines
WINDOW = 4                # produce messages awaiting their ack at once
MAX_PENDING = 200_000     # events held before the tracer is slowed down (back-pressure)
ACK_TIMEOUT = 15.0


def _not_json(o):
    raise TypeError(f"an object of type {type(o).__name__} is not JSON serializable")


# one C encoder reused for every event (json.dumps builds a new one per call)
_c_encode = json.encoder.c_make_encoder(None, _not_json, json.encoder.encode_basestring_ascii,
                                        None, ":", ",", False, False, False)


def _encode(obj):
    """Compact JSON text of ``obj`` (NaN/Inf refused)."""
    return "".join(_c_encode(obj, 0))


try:  # optional (not a dependency): several times faster, above all at printing floats
    import orjson as _orjson
    _ORJSON_OPTS = (_orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS
                    | _orjson.OPT_PASSTHROUGH_SUBCLASS)  # what the standard encoder refuses
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

# events the tracer builds itself: every float went through jfloat/jvalues (finite)
_TRACED = frozenset(("op", "grad", "leaf", "accum"))


def _encode_event(ev):
    """Compact JSON text of one event, the same JSON value ``_encode`` gives.

    With orjson installed (optional): the tracer's own events take it directly (their
    floats are finite and their keys strings by construction); other events take it
    unless its text holds a ``null``, which may be a NaN that orjson writes as null:
    those go to the standard encoder, which refuses NaN/Inf as before. Whatever orjson
    refuses (big ints, non-string keys, surrogates...) goes to the standard encoder.
    """
    return _encode_event_bytes(ev).decode()


def _encode_event_bytes(ev):
    """``_encode_event`` as UTF-8 bytes (what orjson makes: no decoding on the way)."""
    if _orjson is not None:
        try:
            b = _orjson.dumps(ev, option=_ORJSON_OPTS)
        except (TypeError, ValueError):
            return _encode(ev).encode()
        if ev.get("type") in _TRACED or b"null" not in b:
            return b
    return _encode(ev).encode()


def _xor_mask(key, data):
    """WebSocket masking (RFC 6455 5.3) of ``data`` with the 4-byte ``key``, by NumPy."""
    n = len(data)
    a = np.frombuffer(data, dtype=np.uint8)
    k = np.frombuffer(key * (n // 4 + 1), dtype=np.uint8, count=n)
    return np.bitwise_xor(a, k).tobytes()


_socket_class = None


def _fast_mask_socket():
    """A ``websocket.WebSocket`` that masks its outgoing frames with NumPy.

    websocket-client masks with Python big integers when ``wsaccel`` is missing
    (several passes over every byte, holding the GIL): with megabyte batches that
    was a tenth of the attach threads' time. Same bytes on the wire.
    """
    global _socket_class
    if _socket_class is None:
        import websocket

        class FastMaskFrame(websocket.ABNF):
            def _get_masked(self, mask_key):
                data = self.data
                if data is None or len(data) < 1024:
                    return super()._get_masked(mask_key)
                if isinstance(data, str):
                    data = data.encode("latin-1")
                if isinstance(mask_key, str):
                    mask_key = mask_key.encode("latin-1")
                return mask_key + _xor_mask(mask_key, data)

        class FastMaskSocket(websocket.WebSocket):
            def send_frame(self, frame):
                if type(frame) is websocket.ABNF:
                    frame.__class__ = FastMaskFrame
                return super().send_frame(frame)

        _socket_class = FastMaskSocket
    return _socket_class


def _bad_token(data):
    """True when a Socket.IO connect error is the server refusing the connection: the
    server answered (a reply in ``data``), and the token is all it checks on connect
    (SERVER.md; the Socket.IO server may pass on only "Connection refused by server")."""
    return isinstance(data, dict) and (data.get("code") == "BAD_TOKEN"
                                       or "refused" in str(data.get("message", "")))


class _Batch:
    """Numbered events as JSON lines (UTF-8): ``first``..``last`` seq, sent or not."""

    __slots__ = ("first", "last", "text", "n", "sent_at")

    def __init__(self, first, last, text, n):
        self.first, self.last, self.text, self.n = first, last, text, n
        self.sent_at = None


class Attachment(ExitHandling):
    """A live connection from this process to a server session (see ``attach``)."""

    def __init__(self, url, token=None, session=None, paused=False, title=None,
                 connect_timeout=5.0, batch_max=BATCH_MAX, max_pending=MAX_PENDING,
                 window=WINDOW, keep_values=None):
        self.url = url
        self.token = token
        self.session = session
        self.title = title
        self.batch_max = batch_max
        self.max_pending = max_pending
        self.window = max(1, int(window))
        self.connect_timeout = connect_timeout
        from .remote_tensor import KEEP_VALUES
        # recent nodes' arrays, for a viewer's `tensor` request (see remote_tensor)
        self.gate = StepGate(paused=paused,
                             keep_values=KEEP_VALUES if keep_values is None else keep_values)
        self.outbox = deque()        # events from the tracer, not yet numbered
        self.pending = deque()       # _Batch: numbered, not yet acknowledged (in seq order)
        self.pending_events = 0
        self.in_flight = 0           # pending[:in_flight] were sent and await their ack
        self.cond = threading.Condition()
        self.seq = None              # last seq assigned (None until the first hello)
        self.acked = 0
        self.active = False
        self.closing = False
        self.need_hello = True
        self.rejected = 0            # events the server refused (reported once)
        self.binary = False          # send `lines` as bytes (a binary attachment)
        self.batch_bytes = BATCH_BYTES   # under the server's message limit (hello says it)
        self.making = 0              # events taken from the outbox, being encoded
        self._warned = False
        self.connect_error = None    # what the server said when it refused the connection
        self.exit_hint = None        # how the process ends, when a runner knows (`gradviz run`)
        self.signalled = None        # "terminated" once SIGTERM arrived: how it ends, whatever
        self._prev_sigterm = None    # the SIGTERM handler before ours (None: ours is not set)
        self.client = None
        self.sender = None

    # ---- set-up -----------------------------------------------------------------------
    def start(self):
        """Connect, open the session and start streaming; on failure say so once."""
        import socketio
        # websocket-client checks UTF-8 in pure Python (without wsaccel) before it decodes
        # the text in C, which checks it anyway: skip the slow pass
        # handle_sigint=False: python-socketio's SIGINT handler disconnects every client
        # before KeyboardInterrupt reaches the script, so Ctrl-C lost the last events and
        # the `bye` that says the run was interrupted; close() at exit does both instead
        self.client = c = socketio.Client(reconnection=True, reconnection_delay=0.2,
                                          reconnection_delay_max=2.0, handle_sigint=False,
                                          websocket_extra_options={"skip_utf8_validation": True,
                                                                   "class_": _fast_mask_socket()})
        c.on("connect", self._on_connect)
        c.on("disconnect", self._on_disconnect)
        c.on("command", self._on_command)
        c.on("tensor_request", self._on_tensor_request)
        c.on("connect_error", self._on_connect_error)
        try:
            c.connect(self.url, auth={"token": self.token}, transports=["websocket"],
                      wait_timeout=self.connect_timeout)
            self._hello()
        except Exception as e:
            if _bad_token(self.connect_error):
                self._say(f"gradviz: the server at {self.url} refused the token (check "
                          "--token / GRADVIZ_TOKEN); the script continues without streaming")
            else:
                self._say(f"gradviz: cannot reach the server at {self.url} ({e}); "
                          "the script continues without streaming")
            self._shutdown_client()
            return self
        from .trace import TRACER
        self.active = True
        install_gate(self.gate)   # under gv.debug.break_on's gate if one is set already
        _watch_uncaught()
        TRACER.add_sink(self._sink, background=True)
        self.sender = threading.Thread(target=self._send_loop, name="gradviz-attach",
                                       daemon=True)
        self.sender.start()
        atexit.register(self._close_at_exit)
        self._catch_sigterm()
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
        self.binary = r.get("lines_bytes") is True   # the server takes `lines` as bytes
        limit = r.get("max_message_bytes")
        if isinstance(limit, int) and limit > 0:
            # a message over the limit closes the connection (engine.io): stay well under,
            # a batch may pass its size by one event
            self.batch_bytes = max(4096, min(BATCH_BYTES, limit // 4))
        with self.cond:
            if self.seq is None:
                self.seq = self.acked = int(r["last_seq"])
            else:   # the server may have stored batches whose acks were lost
                self.acked = max(self.acked, min(int(r["last_seq"]), self.seq))
                self._drop_acked()
            self.need_hello = False

    # ---- socket callbacks (the client's threads) -------------------------------------------
    def _on_connect(self):
        with self.cond:
            self.need_hello = True
            self.cond.notify_all()

    def _on_connect_error(self, data=None):
        self.connect_error = data   # the server's refusal ({code: BAD_TOKEN, ...}), if any

    def _on_disconnect(self, *reason):
        with self.cond:
            self.need_hello = True
            self.in_flight = 0       # their acks will not come: send them again
        if not self.closing:
            self.gate.release()   # nobody can press "continue" now: never hang the script

    def _on_tensor_request(self, msg):
        from .remote_tensor import answer
        return answer(self.gate, msg)

    def _on_command(self, msg):
        """Apply a viewer's command to the step gate; the ack is the gate's state (its
        breakpoints with their ids: how a page learns them, to show and remove them).
        ``{"action": "state"}`` only asks for it."""
        try:
            if isinstance(msg, dict) and msg.get("action") == "state":
                return _json_safe(self.gate.state())
            return _json_safe(self.gate.apply(msg))
        except Exception as e:
            print(f"gradviz: ignored a bad command from the server: {e}", file=sys.stderr)
            return {"error": {"code": "BAD_COMMAND", "message": str(e)[:500]}}

    # ---- events -----------------------------------------------------------------------
    def _sink(self, events):
        with self.cond:
            while len(self.outbox) + self.pending_events > self.max_pending and self.active \
                    and self.client.connected:
                self.cond.wait(0.5)   # back-pressure on the tracer while the server is slow
            self.outbox.extend(events)
            self.cond.notify_all()

    def _make_batch(self):
        """Number and encode the next events of the outbox into a pending batch (caller
        holds ``cond``; it is released while encoding, so the tracer never waits on it)."""
        out = self.outbox
        evs = [out.popleft() for _ in range(min(len(out), self.batch_max))]
        self.making = len(evs)
        self.cond.release()
        try:
            texts = self._encode_all(evs)
        finally:
            self.cond.acquire()
            self.making = 0
        if len(texts) < len(evs):       # over batch_bytes: the rest waits for the next batch
            out.extendleft(reversed(evs[len(texts):]))
        sid = _encode(self.session).encode()
        lines = []
        first = self.seq + 1
        for text in texts:
            if text is None:
                continue
            self.seq += 1
            lines.append(b'%b,"seq":%d,"session":%b}' % (text[:-1], self.seq, sid))
        if not lines:
            return None
        b = _Batch(first, self.seq, b"\n".join(lines), len(lines))
        self.pending.append(b)
        self.pending_events += b.n
        return b

    def _encode_all(self, evs):
        """JSON texts (bytes) of the first events of ``evs`` up to about ``batch_bytes``
        (None for an event that cannot be sent: it is reported and skipped)."""
        texts = []
        size = 0
        for ev in evs:
            if size >= self.batch_bytes:
                break
            if "seq" in ev or "session" in ev:
                ev = {k: v for k, v in ev.items() if k not in ("seq", "session")}
            try:
                text = _encode_event_bytes(ev)
            except (TypeError, ValueError, RecursionError) as e:
                self.rejected += 1
                print(f"gradviz: an event could not be sent as JSON and was skipped: {e}",
                      file=sys.stderr)
                text = None
            else:
                size += len(text) + 40
            texts.append(text)
        return texts

    def _busy(self):
        """Events not yet acknowledged: queued, being encoded, or pending."""
        return bool(self.outbox or self.making or self.pending)

    def _next_to_send(self):
        """``(batch, after)`` to send now, or None (caller holds ``cond``)."""
        if self.in_flight >= self.window:
            return None
        if self.in_flight >= len(self.pending):
            if not self.outbox or self._make_batch() is None:
                return None
            if not self.in_flight < min(len(self.pending), self.window):
                return None     # the connection changed while encoding: decide again
        b = self.pending[self.in_flight]
        # the first batch in flight follows nothing (the server has all before it or
        # never will); the others follow the batch sent before them
        after = self.pending[self.in_flight - 1].last if self.in_flight else None
        self.in_flight += 1
        b.sent_at = time.monotonic()
        return b, after

    def _send_loop(self):
        while True:
            with self.cond:
                while True:
                    if not self.active and not self._busy():
                        return
                    if self.need_hello or not self.client.connected:
                        break
                    self._check_timeout()
                    nxt = self._next_to_send()
                    if nxt is not None:
                        break
                    self.cond.wait(0.5)
                need_hello = self.need_hello
            if not self.client.connected:
                if not self.active:
                    return          # closing with no server: give up on the rest
                self._reset()
                self._wait(0.2)
                continue
            if need_hello:
                try:
                    self._hello()
                except Exception:
                    self._wait(0.2)
                    continue
                self._reset()       # a new connection: send again all that is unacknowledged
                continue
            b, after = nxt
            # bytes travel as a binary attachment: no JSON string escaping either side
            msg = {"session": self.session,
                   "lines": b.text if self.binary else b.text.decode()}
            if after is not None:
                msg["after"] = after
            try:
                self.client.emit("produce", msg,
                                 callback=lambda r=None, b=b: self._acknowledge(r, b))
            except Exception:
                self._reset()
                self._wait(0.2)     # disconnected: resend after reconnecting

    def _check_timeout(self):
        if self.in_flight and self.pending and self.pending[0].sent_at is not None and \
                time.monotonic() - self.pending[0].sent_at > ACK_TIMEOUT:
            self.in_flight = 0      # the ack is lost: send again from the oldest

    def _reset(self):
        with self.cond:
            self.in_flight = 0
            self.cond.notify_all()

    def _acknowledge(self, r, batch):
        with self.cond:
            if isinstance(r, dict) and (r.get("ok") or
                                        (r.get("error") or {}).get("code") == "OUT_OF_ORDER"):
                if isinstance(r.get("last_seq"), int):
                    self.acked = max(self.acked, r["last_seq"])
                self._drop_acked()
                if not r.get("ok"):
                    self.in_flight = 0          # a batch before it went missing: resend
            elif batch in self.pending:
                # refused (over a limit, invalid): drop it so the rest can flow
                del self.pending[self.pending.index(batch)]
                self.pending_events -= batch.n
                self.in_flight = 0      # the batches sent after it wait for it: send again
                self.rejected += batch.n
                err = (r or {}).get("error", {}) if isinstance(r, dict) else {}
                print(f"gradviz: the server refused {batch.n} events: "
                      f"{err.get('message', r)}", file=sys.stderr)
            self.cond.notify_all()

    def _drop_acked(self):
        p = self.pending
        while p and p[0].last <= self.acked:
            b = p.popleft()
            self.pending_events -= b.n
            self.in_flight = max(0, self.in_flight - 1)

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
            return self.cond.wait_for(lambda: not self._busy(), timeout)

    def close(self, timeout=30.0, exit=None):
        """Flush, stop tracing into the server, tell it how the process ended and
        disconnect (idempotent). ``exit``: ``"ok"``, ``"error: ValueError"``,
        ``"interrupted"`` (Ctrl-C), ``"terminated"`` (SIGTERM: always, once it came);
        default: "ok" (at interpreter exit: from the exception ending it)."""
        if self.closing:
            return
        self.closing = True
        self._restore_sigterm()
        was_active = self.active
        if self.active:
            from .trace import TRACER
            TRACER.remove_sink(self._sink, background=True)
            uninstall_gate(self.gate)   # break_on's breakpoints stay, without the server
            self.gate.release()
            self._drain_or_give_up(timeout)
            with self.cond:
                self.active = False
                self.cond.notify_all()
            if self.sender is not None:
                self.sender.join(5)
            try:
                atexit.unregister(self._close_at_exit)
            except Exception:
                pass
        if was_active:
            self._bye(self._exit_text(exit))
        self._shutdown_client()

    def _drain_or_give_up(self, timeout, offline_grace=5.0):
        """Wait for every event to be acknowledged; give up after a long disconnection."""
        deadline = time.monotonic() + timeout
        offline_since = None
        with self.cond:
            while self._busy() and time.monotonic() < deadline:
                if self.client.connected:
                    offline_since = None
                elif offline_since is None:
                    offline_since = time.monotonic()
                elif time.monotonic() - offline_since > offline_grace:
                    break
                self.cond.wait(0.1)
            lost = len(self.outbox) + self.pending_events
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
        self.close(exit=exit_reason(exc[0]))
        return False


def _json_safe(state):
    """``state`` if it is JSON (an ack must be), else None."""
    try:
        json.dumps(state, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return state


def attach(url="http://127.0.0.1:5000", token=None, session=None, paused=False, title=None,
           keep_values=None):
    """Stream this process's events to ``gradviz serve`` at ``url`` and obey its debugger.

    ``token``: the server's token (or a producer token); ``session``: a session id
    to create or continue; ``paused=True`` stops at the first op until a viewer
    steps or runs; ``keep_values``: bytes of recent node values kept for a viewer's
    full-value requests (default 32 MiB, 0: none). Returns an ``Attachment``
    (``.flush()``, ``.close()``); it closes itself at normal interpreter exit after
    every event is acknowledged.
    """
    return Attachment(url, token=token, session=session, paused=paused, title=title,
                      keep_values=keep_values).start()
