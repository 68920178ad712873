"""Reconnecting past the server's retention: the page gets a `snapshot` and rebuilds the
current step from it, then follows the live events (SECURITY.md, promise 8)."""
import json
import time

import pytest
from conftest import VIEWPORT, LiveServer

RETENTION = 1500
OPS = "[data-testid=graph] [data-node-id][data-kind=op]"


@pytest.fixture
def kept_server(tmp_path):
    """The default session (MLP on spiral, paused) on a store keeping 1500 events."""
    srv = LiveServer(tmp_path, retention=RETENTION)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _session(srv):
    return next(s for s in srv.gv.manager.sessions.values() if s.job is not None)


def _current_ops(srv, sid):
    """Op node ids of the store's current step (what a snapshot rebuilds)."""
    _, rows = srv.gv.store.snapshot_raw(sid)
    return sorted(e["node"] for e in map(json.loads, (b for _, b in rows)) if e["type"] == "op")


def test_reconnect_past_retention_rebuilds_the_current_step(browser, kept_server):
    srv = kept_server
    s = _session(srv)
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(srv.url)
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        page.click("[data-testid=continue]")                # one forward pass, seen live
        page.wait_for_selector("[data-testid=run-state][data-state=paused]")
        page.wait_for_function("window.gradviz.store.current?.order.length > 3", timeout=15000)
        seen = page.evaluate("window.gradviz.store.lastSeq")
        assert page.evaluate("document.body.dataset.snapshots") is None
        page.evaluate("window.gradviz.conn.socket.disconnect()")
        # meanwhile the job runs on: far more events than the store keeps
        srv.gv.control(s, {"action": "run"})
        deadline = s.last_seq + 4 * RETENTION
        end = time.monotonic() + 60
        while s.last_seq < deadline and time.monotonic() < end:
            time.sleep(0.05)
        srv.gv.control(s, {"action": "pause"})
        s.job.gate.wait_paused(10)
        time.sleep(0.3)
        first = srv.gv.store.first_seq(s.id)
        assert first > seen + 1                            # what we missed is gone
        page.evaluate("window.gradviz.conn.socket.connect()")
        page.wait_for_function("document.body.dataset.snapshots === '1'", timeout=15000)
        page.wait_for_function(f"window.gradviz.store.lastSeq >= {s.last_seq}", timeout=15000)
        got = page.evaluate("""(() => { const st = window.gradviz.store, c = st.current;
            return {ops: c.order.filter((id) => c.nodes.get(id).kind === 'op').sort((a, b) => a - b),
                    steps: st.steps.length, loss: st.scalars.get('loss')?.x.length || 0,
                    paused: !!st.paused, gaps: st.gaps.length}; })()""")
        assert got["ops"] == _current_ops(srv, s.id) and got["ops"]
        assert got["steps"] <= 2 and got["gaps"] == 0 and got["paused"]
        assert got["loss"] > 10                            # the loss curve kept by the store
        page.wait_for_function(
            f"document.querySelectorAll('{OPS}').length === {len(got['ops'])}", timeout=15000)
        assert "snapshot" in page.text_content("[data-testid=notice]")
        assert page.locator("[data-testid=error]").is_hidden()
        # and the live stream goes on from there, with no repeat
        before = page.evaluate("window.gradviz.store.eventCount")
        page.click("[data-testid=step-forward]")
        page.wait_for_function(f"window.gradviz.store.eventCount > {before}", timeout=15000)
        page.wait_for_function(f"window.gradviz.store.lastSeq === {s.last_seq}", timeout=15000)
    finally:
        ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"
