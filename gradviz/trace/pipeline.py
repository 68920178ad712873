"""Fan-out of stored events to viewers: per-client bounded feeds, batches, gaps.

A ``Feed`` is one viewer following one session. It first catches up from the
store (everything after the viewer's ``after`` offset), then follows live
events pushed by the session. Events travel as ``(seq, json_text)`` pairs: the
text stored once is the text sent, never decoded and re-encoded per viewer.
Its queue is bounded: when a viewer falls behind, the oldest undelivered events
(the middle of its stream, between what it has and the newest) are dropped and
announced once as a ``gap {from_seq, to_seq, dropped}`` before the newest
events, so the latest state always reaches a slow viewer quickly (it can fetch
the dropped ones again from the store). A viewer whose offset is older than the
store's retention gets a ``snapshot {session, from_seq, upto_seq, events}`` that
rebuilds the current state (``EventStore.snapshot_raw``), then the events after
``upto_seq``. ``Fanout.pump`` is the one loop that
drains every feed in batches; it is run by a background task of the web server
and never by the computing thread, so a slow viewer costs the computing thread
nothing.

A viewer that joined with ``raw`` gets each batch as one string, the JSON text
of the event array (``events "[{...},{...}]"``): thousands of events per
message, encoded once. Other viewers get a list of event objects (``events
[{...}]``), in smaller batches.
"""
import json
import logging
import threading
from collections import deque

from .store import dumps

FEED_MAX_EVENTS = 20000  # events held for one viewer before the oldest are dropped
BATCH_MAX = 500          # events per emitted batch (viewers taking lists of objects)
RAW_BATCH_MAX = 5000     # events per emitted batch (viewers taking JSON text)
RAW_BATCH_BYTES = 2 << 20   # and at most about this many bytes of JSON text
PUMP_INTERVAL = 0.02     # seconds between pumps when nothing wakes the loop


def json_array(bodies):
    """The JSON text of an array, from the JSON texts of its items."""
    return "[" + ",".join(bodies) + "]"


class Feed:
    """Events waiting for one viewer of one session (bounded, with gap coalescing)."""

    def __init__(self, sid, session, after=0, max_events=FEED_MAX_EVENTS, raw=False):
        self.sid = sid
        self.session = session
        self.cursor = int(after)     # highest seq queued, dropped or sent
        self.live = False            # False while catching up from the store
        self.raw = bool(raw)         # batches as JSON text (one string per emit)
        self.items = deque()         # (seq, json_text) in seq order
        self.max_events = max_events
        self.gap = None              # [from_seq, to_seq, dropped] not yet announced
        self.dropped_total = 0
        self.lock = threading.Lock()

    def push(self, events):
        """Queue live event dicts (already stored, in seq order)."""
        self.push_raw([(ev["seq"], dumps(ev)) for ev in events])

    def push_raw(self, pairs):
        """Queue live ``(seq, json_text)`` pairs; drop the oldest past the bound."""
        if not pairs:
            return
        with self.lock:
            if pairs[0][0] > self.cursor:
                self.items.extend(pairs)
            else:
                self.items.extend(p for p in pairs if p[0] > self.cursor)
            self.cursor = max(self.cursor, pairs[-1][0])
            over = len(self.items) - self.max_events
            if over > 0:
                self._drop(over)

    def _drop(self, n):
        items = self.items
        first = items[0][0]
        if n >= len(items):
            last = items[-1][0]
            items.clear()
        else:
            for _ in range(n - 1):
                items.popleft()
            last = items.popleft()[0]
        if self.gap is None:
            self.gap = [first, last, 0]
        self.gap[1] = last
        self.gap[2] += n
        self.dropped_total += n

    def note_gap(self, from_seq, to_seq, dropped):
        """Record events that can no longer be sent (older than retention)."""
        with self.lock:
            if self.gap is None:
                self.gap = [from_seq, to_seq, 0]
            self.gap[1] = max(self.gap[1], to_seq)
            self.gap[2] += dropped

    def take_raw(self, limit=RAW_BATCH_MAX, max_bytes=RAW_BATCH_BYTES):
        """``(gap or None, [json_text])``: what to send next (at most ``limit`` events,
        and about ``max_bytes``; always at least one)."""
        with self.lock:
            gap, self.gap = self.gap, None
            items = self.items
            n = min(limit, len(items))
            batch = []
            size = 0
            pop = items.popleft
            for _ in range(n):
                body = pop()[1]
                batch.append(body)
                size += len(body)
                if size >= max_bytes:
                    break
        if gap is not None:
            gap = {"session": self.session, "from_seq": gap[0], "to_seq": gap[1],
                   "dropped": gap[2]}
        return gap, batch

    def take(self, limit=BATCH_MAX):
        """``(gap or None, [events])``: what to send next, at most ``limit`` event dicts."""
        gap, bodies = self.take_raw(limit, float("inf"))
        return gap, (json.loads(json_array(bodies)) if bodies else [])

    def __len__(self):
        return len(self.items)


class Fanout:
    """Every viewer feed of this process, and the pump that sends their batches.

    ``emit(sid, name, payload)`` sends one Socket.IO message; ``can_send(sid)``
    says whether a client has room (its outgoing queue is short);
    ``catch_up(session, after, limit)`` returns stored ``(seq, json_text)`` pairs
    with seq > after, in seq order.
    """

    def __init__(self, emit, can_send, catch_up, batch_max=BATCH_MAX,
                 feed_max=FEED_MAX_EVENTS, raw_batch_max=RAW_BATCH_MAX, snapshot=None):
        self.snapshot = snapshot    # (session, after) -> (upto_seq, [(seq, json_text)]) or None
        self.emit = emit
        self.can_send = can_send
        self.catch_up = catch_up
        self.batch_max = batch_max
        self.raw_batch_max = raw_batch_max
        self.feed_max = feed_max
        self.feeds = {}                  # (sid, session) -> Feed
        self.by_session = {}             # session -> {sid: Feed}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.sent_events = 0

    def join(self, sid, session, after=0, raw=False):
        """Start (or restart) a feed for ``sid`` on ``session`` after seq ``after``
        (``raw``: batches as JSON text)."""
        feed = Feed(sid, session, after, self.feed_max, raw=raw)
        with self.lock:
            self.feeds[(sid, session)] = feed
            self.by_session.setdefault(session, {})[sid] = feed
        self.wake.set()
        return feed

    def leave(self, sid, session=None):
        """Stop the feeds of ``sid`` (on one session, or all of them)."""
        with self.lock:
            for key in [k for k in self.feeds if k[0] == sid and session in (None, k[1])]:
                feed = self.feeds.pop(key)
                self.by_session.get(feed.session, {}).pop(sid, None)

    def publish(self, session, pairs):
        """Push newly stored ``(seq, json_text)`` pairs of ``session`` to its live feeds
        (call in seq order)."""
        feeds = self.by_session.get(session)
        if not feeds:
            return
        for feed in list(feeds.values()):
            if feed.live:
                feed.push_raw(pairs)
        self.wake.set()

    def go_live(self, feed, last_seq):
        """Switch a caught-up feed to live delivery (caller holds the session's lock)."""
        if feed.cursor >= last_seq:
            feed.live = True
            return True
        return False

    def pump_once(self, session_lock, session_last_seq):
        """Send one batch to every feed that has room; returns events sent."""
        sent = 0
        with self.lock:
            feeds = list(self.feeds.values())
        for feed in feeds:
            try:
                sent += self._pump_feed(feed, session_lock, session_last_seq)
            except Exception:   # one broken feed must not starve the others: drop it alone
                logging.getLogger("gradviz.web").exception(
                    "fan-out to %s on %s failed; feed dropped", feed.sid, feed.session)
                self.leave(feed.sid, feed.session)
                try:
                    self.emit(feed.sid, "error", {"code": "FEED_FAILED", "session": feed.session,
                                                  "message": "the server could not send this "
                                                  "session's events; join again"})
                except Exception:
                    pass
        self.sent_events += sent
        return sent

    def _pump_feed(self, feed, session_lock, session_last_seq):
        """Send one batch to ``feed`` if its client has room; returns events sent."""
        sent = 0
        if not self.can_send(feed.sid):
            return 0
        limit = self.raw_batch_max if feed.raw else self.batch_max
        if not feed.live and not feed.items:
            pairs = self.catch_up(feed.session, feed.cursor, limit)
            if pairs and pairs[0][0] > feed.cursor + 1:
                # older than retention: a snapshot of the current state, then the
                # events after it (or, with no snapshot, say what is gone)
                snap = self.snapshot(feed.session, feed.cursor) if self.snapshot else None
                if snap is not None:
                    self._send_snapshot(feed, *snap)
                    pairs = []
                else:
                    first = pairs[0][0]
                    feed.note_gap(feed.cursor + 1, first - 1, first - 1 - feed.cursor)
            if pairs:
                with feed.lock:
                    feed.items.extend(pairs)
                    feed.cursor = pairs[-1][0]
            if len(pairs) < limit:
                with session_lock(feed.session):
                    self.go_live(feed, session_last_seq(feed.session))
                self.wake.set()
        if feed.raw:
            gap, batch = feed.take_raw(limit)
            payload = json_array(batch) if batch else None
        else:
            gap, batch = feed.take(limit)
            payload = batch
        if gap is not None:
            self.emit(feed.sid, "gap", gap)
        if batch:
            self.emit(feed.sid, "events", payload)
            sent += len(batch)
            if feed.items or not feed.live:
                self.wake.set()     # more to send (queued, or still catching up)
        return sent

    def _send_snapshot(self, feed, upto, pairs):
        """Emit ``snapshot {session, from_seq, upto_seq, events}`` and move the feed past
        ``upto`` (``events``: JSON text for raw feeds, a list of objects otherwise)."""
        text = json_array([b for _, b in pairs])
        msg = {"session": feed.session, "from_seq": feed.cursor + 1, "upto_seq": upto,
               "events": text if feed.raw else json.loads(text)}
        with feed.lock:
            feed.items.clear()
            feed.gap = None
            feed.cursor = max(feed.cursor, upto)
        self.emit(feed.sid, "snapshot", msg)
        self.sent_events += len(pairs)

    def run(self, session_lock, session_last_seq, sleep):
        """The pump loop (a background task) until ``stop``."""
        while not self.stopped.is_set():
            self.wake.wait(PUMP_INTERVAL)
            self.wake.clear()
            try:
                self.pump_once(session_lock, session_last_seq)
            except Exception:  # a broken client must not stop the pump for the others
                logging.getLogger("gradviz.web").exception("fan-out pump failed")
                sleep(0.05)

    def stop(self):
        """End ``run`` at its next iteration."""
        self.stopped.set()
        self.wake.set()

    def stats(self):
        """Queued and dropped counts per feed (for benchmarks and /api/health)."""
        with self.lock:
            return [{"sid": f.sid, "session": f.session, "queued": len(f),
                     "dropped": f.dropped_total, "live": f.live, "raw": f.raw}
                    for f in self.feeds.values()]
