"""Fan-out of stored events to viewers: per-client bounded feeds, batches, gaps.

A ``Feed`` is one viewer following one session. It first catches up from the
store (everything after the viewer's ``after`` offset), then follows live
events pushed by the session. Its queue is bounded: when a viewer falls
behind, the oldest undelivered events are dropped and announced once as a
``gap {from_seq, to_seq, dropped}`` (the viewer can fetch them again from the
store). ``Fanout.pump`` is the one loop that drains every feed in batches; it
is run by a background task of the web server and never by the computing
thread, so a slow viewer costs the computing thread nothing.
"""
import threading
from collections import deque

FEED_MAX_EVENTS = 5000   # events held for one viewer before the oldest are dropped
BATCH_MAX = 500          # events per emitted batch
PUMP_INTERVAL = 0.02     # seconds between pumps when nothing wakes the loop


class Feed:
    """Events waiting for one viewer of one session (bounded, with gap coalescing)."""

    def __init__(self, sid, session, after=0, max_events=FEED_MAX_EVENTS):
        self.sid = sid
        self.session = session
        self.cursor = int(after)     # highest seq queued, dropped or sent
        self.live = False            # False while catching up from the store
        self.items = deque()
        self.max_events = max_events
        self.gap = None              # [from_seq, to_seq, dropped] not yet announced
        self.dropped_total = 0
        self.lock = threading.Lock()

    def push(self, events):
        """Queue live events (already stored, in seq order); drop the oldest past the bound."""
        with self.lock:
            for ev in events:
                if ev["seq"] > self.cursor:
                    self.items.append(ev)
                    self.cursor = ev["seq"]
            over = len(self.items) - self.max_events
            if over > 0:
                self._drop(over)

    def _drop(self, n):
        first = self.items[0]["seq"]
        last = first
        for _ in range(n):
            last = self.items.popleft()["seq"]
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

    def take(self, limit=BATCH_MAX):
        """``(gap or None, [events])``: what to send next, at most ``limit`` events."""
        with self.lock:
            gap, self.gap = self.gap, None
            n = min(limit, len(self.items))
            batch = [self.items.popleft() for _ in range(n)]
        if gap is not None:
            gap = {"session": self.session, "from_seq": gap[0], "to_seq": gap[1],
                   "dropped": gap[2]}
        return gap, batch

    def __len__(self):
        return len(self.items)


class Fanout:
    """Every viewer feed of this process, and the pump that sends their batches.

    ``emit(sid, name, payload)`` sends one Socket.IO message; ``can_send(sid)``
    says whether a client has room (its outgoing queue is short);
    ``catch_up(session, after, limit)`` returns stored events with seq > after.
    """

    def __init__(self, emit, can_send, catch_up, batch_max=BATCH_MAX,
                 feed_max=FEED_MAX_EVENTS):
        self.emit = emit
        self.can_send = can_send
        self.catch_up = catch_up
        self.batch_max = batch_max
        self.feed_max = feed_max
        self.feeds = {}                  # (sid, session) -> Feed
        self.by_session = {}             # session -> {sid: Feed}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.sent_events = 0

    def join(self, sid, session, after=0):
        """Start (or restart) a feed for ``sid`` on ``session`` after seq ``after``."""
        feed = Feed(sid, session, after, self.feed_max)
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

    def publish(self, session, events):
        """Push newly stored events of ``session`` to its live feeds (call in seq order)."""
        feeds = self.by_session.get(session)
        if not feeds:
            return
        for feed in list(feeds.values()):
            if feed.live:
                feed.push(events)
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
            if not self.can_send(feed.sid):
                continue
            if not feed.live and not feed.items:
                events = self.catch_up(feed.session, feed.cursor, self.batch_max)
                if events and events[0]["seq"] > feed.cursor + 1:
                    # older than retention: say what is gone, then send what is kept
                    first = events[0]["seq"]
                    feed.note_gap(feed.cursor + 1, first - 1, first - 1 - feed.cursor)
                if events:
                    with feed.lock:
                        feed.items.extend(events)
                        feed.cursor = events[-1]["seq"]
                if len(events) < self.batch_max:
                    with session_lock(feed.session):
                        self.go_live(feed, session_last_seq(feed.session))
                    self.wake.set()
            gap, batch = feed.take(self.batch_max)
            if gap is not None:
                self.emit(feed.sid, "gap", gap)
            if batch:
                self.emit(feed.sid, "events", batch)
                sent += len(batch)
                if feed.items or not feed.live:
                    self.wake.set()     # more to send (queued, or still catching up)
        self.sent_events += sent
        return sent

    def run(self, session_lock, session_last_seq, sleep):
        """The pump loop (a background task) until ``stop``."""
        while not self.stopped.is_set():
            self.wake.wait(PUMP_INTERVAL)
            self.wake.clear()
            try:
                self.pump_once(session_lock, session_last_seq)
            except Exception:  # a broken client must not stop the pump for the others
                import logging
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
                     "dropped": f.dropped_total, "live": f.live} for f in self.feeds.values()]
