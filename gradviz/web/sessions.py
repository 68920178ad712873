"""Sessions: a stream of events with one source (playground, attached, replay).

A session owns its seq counter and its lock; every event is stored before it
is published to viewers, and ``last_seq`` moves only after the commit, so a
viewer catching up from the store and then following live events never misses
or repeats one (SECURITY.md, promise 8).
"""
import secrets
import threading
import time

from ..trace.store import dumps
from .jsonlines import DECODER as _DECODER
from .jsonlines import fast_rows as _fast_rows
from .jsonlines import json_text_depth_ok
from .limits import ApiError, LimitError, check_limit

SOURCES = ("playground", "attached", "replay")
ORDER_TIMEOUT = 10.0    # seconds a producer's batch waits for the batch it follows
MAX_WAITING = 16        # batches of one session waiting at once (more: OUT_OF_ORDER at once)


def new_session_id(prefix):
    """A readable, unique session id such as ``mlp-spiral-3f9a1c``."""
    return f"{prefix}-{secrets.token_hex(3)}"


class Session:
    """One event stream and what drives it (a server job, a producer, a file)."""

    def __init__(self, sid, source, created=None, meta=None, last_seq=0, count=0):
        self.id = sid
        self.source = source
        self.created = created or time.time()
        self.meta = dict(meta or {})
        self.last_seq = last_seq
        self.count = count
        self.lock = threading.RLock()
        self.stored = threading.Condition(self.lock)   # notified when last_seq moves
        self.waiting = 0             # produce batches waiting for the one before them
        self.job = None              # runner.Job for playground sessions
        self.producers = 0           # connected producers (attached sessions)
        self.status = None           # job status text (ready, running, done, error...)
        self.message = None          # what went wrong, with status "error"
        self.exit = None             # how an attached process ended ("ok", "error: X"...)

    @property
    def live(self):
        """True while something in this process (or a producer) still adds events."""
        job = self.job
        # a job announces its end from its own thread, just before the thread exits: a
        # viewer that lists sessions on that news must already see it as not live
        return bool(self.producers) or (job is not None and job.alive()
                                        and job.status not in ("done", "stopped", "error"))

    def info(self):
        """The row of ``GET /api/sessions``."""
        row = {"id": self.id, "events": self.count, "created": self.created,
               "source": self.source, "live": self.live, "last_seq": self.last_seq}
        if self.meta.get("title"):
            row["title"] = self.meta["title"]
        if self.status:
            row["status"] = self.status
        if self.message:
            row["message"] = self.message
        if self.exit and not self.producers:
            row["exit"] = self.exit
        return row

    def set_status(self, status, message=None):
        """The job's latest status, kept so that a viewer who joins later sees it too."""
        self.status, self.message = status, message


class SessionManager:
    """Every session of this server, the store behind them and the fan-out in front."""

    def __init__(self, store, fanout, limits, publish_remote=None):
        self.store = store
        self.fanout = fanout
        self.limits = limits
        self.publish_remote = publish_remote   # scale-out bridge (Redis) or None
        self.sessions = {}
        self.lock = threading.Lock()
        for row in store.sessions():
            s = Session(row["id"], row["source"], row["created"], row["meta"],
                        row["last_seq"], row["events"])
            self.sessions[s.id] = s

    def create(self, source, sid=None, meta=None, prefix=None):
        """A new session (or the existing one with that id)."""
        if source not in SOURCES:
            raise ApiError("BAD_SOURCE", f"unknown session source {source!r}")
        with self.lock:
            if sid is not None and sid in self.sessions:
                return self.sessions[sid]
            sid = sid or new_session_id(prefix or source)
            s = Session(sid, source, meta=meta)
            self.sessions[sid] = s
        self.store.ensure_session(s.id, source, s.meta, s.created)
        return s

    def get(self, sid):
        """The session with id ``sid``; ApiError(404) when unknown."""
        s = self.sessions.get(sid) if isinstance(sid, str) else None
        if s is None:
            raise ApiError("NO_SESSION", f"no session {sid!r}", status=404)
        return s

    def list(self):
        """Session rows, oldest first."""
        rows = [s.info() for s in list(self.sessions.values())]
        rows.sort(key=lambda r: r["created"])
        return rows[-self.limits["max_sessions_listed"]:]

    def lock_of(self, sid):
        """The lock guarding a session's seq and publication."""
        return self.sessions[sid].lock

    def last_seq_of(self, sid):
        """Highest stored seq of a session."""
        return self.sessions[sid].last_seq

    # ---- ingest -----------------------------------------------------------------------
    def ingest_local(self, session, events):
        """Events from this process's tracer: assign session and seq, store, publish."""
        if not events:
            return session.last_seq
        with session.lock:
            seq = session.last_seq
            out = []
            for ev in events:
                seq += 1
                ev = dict(ev)
                ev["session"] = session.id
                ev["seq"] = seq
                out.append(ev)
            return self._commit(session, [(ev["seq"], str(ev.get("type", "")), dumps(ev))
                                          for ev in out])

    def ingest_produced(self, session, events):
        """Events a producer sent with its own seqs: validate, store new ones once, publish."""
        check_limit(len(events), self.limits, "max_batch_events", "TOO_MANY_EVENTS",
                    "the number of events in one batch")
        clean, bodies = [], []
        prev = 0
        max_bytes = self.limits["max_event_bytes"]
        for i, ev in enumerate(events):
            if not isinstance(ev, dict):
                raise ApiError("BAD_EVENT", f"event {i} is not a JSON object")
            seq = ev.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or seq <= prev:
                raise ApiError("BAD_SEQ", f"event {i}: 'seq' must be an integer >= 1, "
                                          "strictly increasing within a batch")
            prev = seq
            if not isinstance(ev.get("type"), str) or not 0 < len(ev["type"]) <= 64:
                raise ApiError("BAD_EVENT", f"event {i}: 'type' must be a short string")
            ev = dict(ev)
            ev["session"] = session.id
            ev.setdefault("v", 1)
            try:
                body = dumps(ev)
            except (ValueError, TypeError, RecursionError) as e:
                raise ApiError("BAD_EVENT", f"event {i} is not valid schema JSON "
                                            f"(NaN/Inf must be strings): {e}") from None
            if len(body) > max_bytes:
                raise LimitError("EVENT_TOO_LARGE", f"event {i} is {len(body)} bytes, over "
                                 f"the limit of {max_bytes}",
                                 limit={"name": "max_event_bytes", "value": max_bytes})
            clean.append(ev)
            bodies.append(body)
        return self._commit_fresh(session, [(ev["seq"], ev["type"], b)
                                            for ev, b in zip(clean, bodies)])

    def ingest_lines(self, session, text):
        """A producer's batch as JSON lines (one event object per line, with ``seq``):
        validate, store new ones once, publish. A line that already carries this
        session's id and ``v`` is stored and sent as it came (never re-encoded).
        ``text`` is a string, or UTF-8 bytes (a binary attachment: no JSON string
        escaping on the way)."""
        raw = text                      # the depth check reads bytes as they came
        if isinstance(text, (bytes, bytearray)):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ApiError("BAD_MESSAGE", f"'lines' is not UTF-8 text: {e}") from None
        if not isinstance(text, str):
            raise ApiError("BAD_MESSAGE", "'lines' must be a string of JSON lines")
        lines = text.split("\n")
        if lines and not lines[-1]:
            lines.pop()
        check_limit(len(lines), self.limits, "max_batch_events", "TOO_MANY_EVENTS",
                    "the number of events in one batch")
        if not lines:
            return session.last_seq
        max_bytes = self.limits["max_event_bytes"]
        if max(map(len, lines)) > max_bytes:
            i = next(i for i, line in enumerate(lines) if len(line) > max_bytes)
            raise LimitError("EVENT_TOO_LARGE", f"event {i} is {len(lines[i])} bytes, over "
                             f"the limit of {max_bytes}",
                             limit={"name": "max_event_bytes", "value": max_bytes})
        depth = self.limits["max_json_depth"] - 2     # as inside {session, events: [...]}
        if not json_text_depth_ok(raw, depth):
            raise LimitError("TOO_DEEP", f"an event nests deeper than {depth} levels",
                             limit={"name": "max_json_depth",
                                    "value": self.limits["max_json_depth"]})
        rows = _fast_rows(lines, session.id)
        if rows is None:    # something to complete or to refuse: one line at a time
            rows = self._check_lines(session.id, lines, max_bytes)
        return self._commit_fresh(session, rows)

    def _check_lines(self, sid, lines, max_bytes):
        """``[(seq, type, json_text)]`` of validated lines; ApiError naming the first bad one."""
        rows = []
        prev = 0
        scan, decode = _DECODER.scan_once, _DECODER.decode
        for i, line in enumerate(lines):
            try:
                try:
                    ev, end = scan(line, 0)       # the C scanner: one value at offset 0
                except StopIteration:
                    end = -1
                if end != len(line):
                    ev = decode(line)             # whitespace around it, or an error message
            except (ValueError, RecursionError) as e:
                raise ApiError("BAD_EVENT", f"event {i} is not valid JSON "
                                            f"(NaN/Inf must be strings): {e}") from None
            if not isinstance(ev, dict):
                raise ApiError("BAD_EVENT", f"event {i} is not a JSON object")
            seq = ev.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or seq <= prev:
                raise ApiError("BAD_SEQ", f"event {i}: 'seq' must be an integer >= 1, "
                                          "strictly increasing within a batch")
            prev = seq
            typ = ev.get("type")
            if not isinstance(typ, str) or not 0 < len(typ) <= 64:
                raise ApiError("BAD_EVENT", f"event {i}: 'type' must be a short string")
            if ev.get("session") != sid or "v" not in ev:
                ev["session"] = sid
                ev.setdefault("v", 1)
                line = dumps(ev)
                if len(line) > max_bytes:
                    raise LimitError("EVENT_TOO_LARGE", f"event {i} is {len(line)} bytes, "
                                     f"over the limit of {max_bytes}",
                                     limit={"name": "max_event_bytes", "value": max_bytes})
            rows.append((seq, typ, line))
        return rows

    def wait_for_seq(self, session, seq, timeout=ORDER_TIMEOUT):
        """Wait until ``session`` has stored up to ``seq`` (a producer's batches in flight
        at once are stored in order); False after ``timeout`` seconds."""
        with session.lock:
            if session.last_seq >= seq:
                return True
            if session.waiting >= MAX_WAITING or \
                    seq - session.last_seq > MAX_WAITING * self.limits["max_batch_events"]:
                return False        # not a batch in flight: never hold a thread for it
            session.waiting += 1
            try:
                return session.stored.wait_for(lambda: session.last_seq >= seq, timeout)
            finally:
                session.waiting -= 1

    def _commit_fresh(self, session, rows):
        """Store and publish the rows newer than the session's last seq; returns it."""
        with session.lock:
            last = session.last_seq
            if rows and rows[0][0] <= last:
                rows = [r for r in rows if r[0] > last]
            if rows:
                self._commit(session, rows)
            return session.last_seq

    def ingest_remote(self, sid, source, events, bodies):
        """Events another server process stored (scale-out): store here too, publish."""
        s = self.sessions.get(sid) or self.create(source, sid=sid)
        with s.lock:
            fresh = [(ev["seq"], str(ev.get("type", "")), b) for ev, b in zip(events, bodies)
                     if ev["seq"] > s.last_seq]
            if fresh:
                self._commit(s, fresh, remote=True)

    def _commit(self, session, rows, remote=False):
        """Store ``[(seq, type, json_text)]`` (in seq order), then publish them."""
        added = self.store.append_rows(session.id, rows)
        session.count += added
        session.last_seq = max(session.last_seq, rows[-1][0])
        session.stored.notify_all()
        self.fanout.publish(session.id, [(r[0], r[2]) for r in rows])
        if self.publish_remote is not None and not remote:
            self.publish_remote(session.id, session.source, [r[2] for r in rows])
        return session.last_seq
