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
from .limits import ApiError, LimitError, check_limit

SOURCES = ("playground", "attached", "replay")


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
        self.job = None              # runner.Job for playground sessions
        self.producers = 0           # connected producers (attached sessions)
        self.status = None           # job status text (ready, running, done, error...)

    @property
    def live(self):
        """True while something in this process (or a producer) still adds events."""
        return bool(self.producers) or (self.job is not None and self.job.alive())

    def info(self):
        """The row of ``GET /api/sessions``."""
        row = {"id": self.id, "events": self.count, "created": self.created,
               "source": self.source, "live": self.live, "last_seq": self.last_seq}
        if self.meta.get("title"):
            row["title"] = self.meta["title"]
        if self.status:
            row["status"] = self.status
        return row


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
            return self._commit(session, out, [dumps(ev) for ev in out])

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
        with session.lock:
            fresh = [(ev, b) for ev, b in zip(clean, bodies) if ev["seq"] > session.last_seq]
            if fresh:
                self._commit(session, [f[0] for f in fresh], [f[1] for f in fresh])
            return session.last_seq

    def ingest_remote(self, sid, source, events, bodies):
        """Events another server process stored (scale-out): store here too, publish."""
        s = self.sessions.get(sid) or self.create(source, sid=sid)
        with s.lock:
            fresh = [(ev, b) for ev, b in zip(events, bodies) if ev["seq"] > s.last_seq]
            if fresh:
                self._commit(s, [f[0] for f in fresh], [f[1] for f in fresh], remote=True)

    def _commit(self, session, events, bodies, remote=False):
        added = self.store.append(session.id, events, bodies)
        session.count += added
        session.last_seq = max(session.last_seq, events[-1]["seq"])
        self.fanout.publish(session.id, events)
        if self.publish_remote is not None and not remote:
            self.publish_remote(session.id, session.source, bodies)
        return session.last_seq
