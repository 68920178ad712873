"""The event store: one SQLite file in WAL mode, appended in batches.

``(session, seq)`` is the primary key, so a re-sent event is stored once. A
batch is one transaction (one ``executemany``): when ``append`` returns, every
event in it is committed and survives a SIGKILL of the process.

Durability choice (SECURITY.md, promise 9): WAL with ``synchronous=NORMAL``.
A commit is a ``write()`` of the WAL frames into the OS page cache, with no
fsync; a process crash (``kill -9``, a segfault) cannot lose it, because the
kernel still holds the data and writes it out. A power loss or kernel crash
may lose the last transactions (never corrupt the file): promise 9 is about
the server process, and an fsync per batch would cost milliseconds each.
Checkpoints (which do fsync) run on a background thread on their own
connection, so the ingest path never waits for the disk. SQLite checks WAL
frame checksums on open, so a record torn by a crash mid-write is dropped and
everything committed before it is kept. Restarting on the same file brings
every session back.
"""
import json
import os
import sqlite3
import threading
import time

from ..errors import GradvizError

CHECKPOINT_INTERVAL = 1.0   # seconds between background WAL checkpoints (while writing)
# a traced op's event is ~3 KB of JSON: with 4 KB pages each row spills into an overflow
# page of its own (about twice the WAL bytes and writes per row); 16 KB pages keep rows
# of up to ~4 KB in the b-tree leaf
PAGE_SIZE = 16384
SNAPSHOT_SCALARS = 2000     # steps of each scalar a snapshot keeps
SNAPSHOT_ANOMALIES = 50     # anomalies from before the current step a snapshot keeps

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    created REAL NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    last_seq INTEGER NOT NULL DEFAULT 0,
    count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
"""


def default_store_path():
    """``events.sqlite`` under the user's data directory (created if missing)."""
    import platformdirs
    d = platformdirs.user_data_dir("gradviz", appauthor=False)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, "events.sqlite")


def dumps(event):
    """Compact JSON of one event; refuses NaN/Inf (they must be strings already)."""
    return json.dumps(event, allow_nan=False, separators=(",", ":"))


class EventStore:
    """Sessions and their events, in seq order, in one SQLite file."""

    def __init__(self, path, retention=None):
        self.path = path
        self.retention = int(retention) if retention else None
        self._wlock = threading.Lock()
        self._rlock = threading.Lock()
        try:
            self._w = self._connect()
            self._w.executescript(SCHEMA)
            self._w.execute("PRAGMA wal_autocheckpoint=0")   # checkpoints: background thread
            self._r = self._connect()
        except sqlite3.Error as e:
            raise GradvizError(f"cannot open the event store {path!r}: {e}") from e
        self.closed = False
        self._dirty = threading.Event()
        self._closing = threading.Event()
        self._ckpt = threading.Thread(target=self._checkpoint_loop, name="gradviz-checkpoint",
                                      daemon=True)
        self._ckpt.start()

    def _connect(self):
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                             timeout=10)
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")   # a new file only; no-op on an existing one
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _checkpoint_loop(self, interval=CHECKPOINT_INTERVAL):
        """Copy the WAL into the database now and then, off the ingest path (PASSIVE:
        never blocks a writer or a reader)."""
        try:
            db = self._connect()
        except sqlite3.Error:
            return
        try:
            while not self._closing.wait(interval):   # at most one checkpoint per interval
                if not self._dirty.is_set():
                    continue
                self._dirty.clear()
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass
        finally:
            db.close()

    # ---- sessions ---------------------------------------------------------------------
    def ensure_session(self, session, source, meta=None, created=None):
        """Create the session row if missing; returns True when it was created."""
        with self._wlock:
            cur = self._w.execute(
                "INSERT OR IGNORE INTO sessions (id, source, created, meta) VALUES (?,?,?,?)",
                (session, source, created or time.time(), json.dumps(meta or {})))
            return cur.rowcount == 1

    def sessions(self):
        """Every stored session: ``{id, source, created, meta, events, last_seq}``."""
        with self._rlock:
            rows = self._r.execute(
                "SELECT id, source, created, meta, count, last_seq FROM sessions "
                "ORDER BY created").fetchall()
        return [{"id": r[0], "source": r[1], "created": r[2], "meta": json.loads(r[3]),
                 "events": r[4], "last_seq": r[5]} for r in rows]

    def last_seq(self, session):
        """Highest stored seq of a session (0 when it has none)."""
        with self._rlock:
            row = self._r.execute("SELECT last_seq FROM sessions WHERE id=?",
                                  (session,)).fetchone()
        return row[0] if row else 0

    def first_seq(self, session):
        """Lowest seq still stored (retention may have removed older ones), or None."""
        with self._rlock:
            row = self._r.execute("SELECT MIN(seq) FROM events WHERE session=?",
                                  (session,)).fetchone()
        return row[0] if row else None

    # ---- events -----------------------------------------------------------------------
    def append(self, session, events, bodies=None):
        """Store events (each with its ``seq``) in one transaction; returns how many were new.

        Events already stored under the same ``(session, seq)`` are ignored.
        """
        if not events:
            return 0
        if bodies is None:
            bodies = [dumps(ev) for ev in events]
        return self.append_rows(session, [(ev["seq"], str(ev.get("type", "")), body)
                                          for ev, body in zip(events, bodies)])

    def append_rows(self, session, rows):
        """Store ``[(seq, type, json_text)]`` in one transaction; returns how many were new."""
        if not rows:
            return 0
        top = max(r[0] for r in rows)
        rows = [(session, seq, typ, body) for seq, typ, body in rows]
        with self._wlock:
            db = self._w
            db.execute("BEGIN IMMEDIATE")
            try:
                cur = db.executemany(
                    "INSERT OR IGNORE INTO events (session, seq, type, body) VALUES (?,?,?,?)",
                    rows)
                added = cur.rowcount
                db.execute("UPDATE sessions SET last_seq = MAX(last_seq, ?), count = count + ? "
                           "WHERE id = ?", (top, added, session))
                if self.retention:
                    self._trim(db, session)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self._dirty.set()
        return added

    def _trim(self, db, session):
        count, last = db.execute("SELECT count, last_seq FROM sessions WHERE id=?",
                                 (session,)).fetchone()
        if count > self.retention:
            cur = db.execute("DELETE FROM events WHERE session=? AND seq <= ?",
                             (session, last - self.retention))
            db.execute("UPDATE sessions SET count = count - ? WHERE id=?",
                       (cur.rowcount, session))

    def read_raw(self, session, after=0, limit=1000):
        """``[(seq, json_text)]`` of events with seq > after, in seq order."""
        with self._rlock:
            return self._r.execute(
                "SELECT seq, body FROM events WHERE session=? AND seq > ? ORDER BY seq LIMIT ?",
                (session, int(after), int(limit))).fetchall()

    def snapshot_raw(self, session, scalar_window=SNAPSHOT_SCALARS, anomalies=SNAPSHOT_ANOMALIES):
        """``(upto_seq, [(seq, json_text)])``: the events kept for ``session`` reduced to
        what rebuilds its current state (SECURITY.md, promise 8, offsets older than
        retention), read in one transaction:

        1. per scalar name, the latest event per ``step``, the last ``scalar_window`` steps;
        2. from before the current step: the latest ``param_update`` per node, then the
           latest ``leaf`` of each node an ``op`` of the current step uses (parameters),
           then the last ``anomalies`` anomalies;
        3. every non-scalar event of the current step, in seq order. The current step
           starts after the last backward-side event (``grad``, ``accum``,
           ``backward_begin``/``_end``, ``param_update``) that precedes the last ``op``.

        Groups come in that order (so not in seq order overall); each event keeps its seq.
        A reader resets its state, applies them in the order given, and continues with
        the events after ``upto_seq``."""
        sid = (session,)
        with self._rlock:
            db = self._r
            db.execute("BEGIN")
            try:
                upto = db.execute("SELECT MAX(seq) FROM events WHERE session=?", sid).fetchone()[0]
                if upto is None:
                    return 0, []
                last_op = db.execute("SELECT MAX(seq) FROM events WHERE session=? AND "
                                     "type='op'", sid).fetchone()[0]
                if last_op is None:
                    start = upto
                else:
                    start = db.execute(
                        "SELECT MAX(seq) FROM events WHERE session=? AND seq<? AND type IN "
                        "('grad','accum','backward_begin','backward_end','param_update')",
                        (session, last_op)).fetchone()[0] or 0
                rows = db.execute(
                    "SELECT seq, body, json_extract(body,'$.name') FROM events WHERE seq IN "
                    "(SELECT MAX(seq) FROM events WHERE session=? AND type='scalar' GROUP BY "
                    "json_extract(body,'$.name'), json_extract(body,'$.step')) AND session=? "
                    "ORDER BY seq", (session, session)).fetchall()
                by_name = {}
                for seq, body, name in rows:
                    by_name.setdefault(name, []).append((seq, body))
                scalars = sorted(p for v in by_name.values() for p in v[-scalar_window:])
                before = db.execute(
                    "SELECT type, seq, body FROM events WHERE session=? AND seq IN ("
                    "SELECT MAX(seq) FROM events WHERE session=? AND seq<=? AND "
                    "(type='param_update' OR (type='leaf' AND json_extract(body,'$.node') IN "
                    "(SELECT j.value FROM events e, json_each(json_extract(e.body,'$.inputs')) j "
                    "WHERE e.session=? AND e.seq>? AND e.type='op'))) "
                    "GROUP BY type, json_extract(body,'$.node')) ORDER BY seq",
                    (session, session, start, session, start)).fetchall()
                bad = db.execute(
                    "SELECT seq, body FROM events WHERE session=? AND seq<=? AND type='anomaly' "
                    "ORDER BY seq DESC LIMIT ?", (session, start, int(anomalies))).fetchall()
                step = db.execute(
                    "SELECT seq, body FROM events WHERE session=? AND seq>? AND type!='scalar' "
                    "ORDER BY seq", (session, start)).fetchall()
            finally:
                db.execute("COMMIT")
        updates = [(q, b) for t, q, b in before if t == "param_update"]
        leaves = [(q, b) for t, q, b in before if t == "leaf"]
        return upto, scalars + updates + leaves + sorted(bad) + step

    def read(self, session, after=0, limit=1000):
        """Event dicts with seq > after, in seq order."""
        return [json.loads(body) for _, body in self.read_raw(session, after, limit)]

    def tail(self, session, n):
        """The last ``n`` events of a session, in seq order."""
        with self._rlock:
            rows = self._r.execute(
                "SELECT body FROM events WHERE session=? ORDER BY seq DESC LIMIT ?",
                (session, int(n))).fetchall()
        return [json.loads(r[0]) for r in reversed(rows)]

    def iter_raw(self, session, page=5000):
        """Every stored event's JSON text, in seq order, a page at a time."""
        after = 0
        while True:
            rows = self.read_raw(session, after, page)
            if not rows:
                return
            for _, body in rows:
                yield body
            after = rows[-1][0]

    def close(self):
        """Checkpoint and close (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self._closing.set()
        self._ckpt.join(10)
        with self._wlock, self._rlock:
            try:
                self._w.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass
            self._r.close()
            self._w.close()
