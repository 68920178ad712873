"""Switching sessions: the page shows only the session picked (its events, breakpoints and job
badge), never a mix with the one left, whose replay or live job is still streaming."""
from conftest import VIEWPORT, shot
from events import record_mlp, synthetic
from test_playground import open_pg

MLP_EVENTS = record_mlp(steps=3)      # traced once, before any server (and its job) exists
ONE_STEP = record_mlp(steps=1)
BIG_EVENTS = synthetic(20000)
STORE = """() => { const s = window.gradviz.store;
  return { session: s.session, lastSeq: s.lastSeq, events: s.eventCount, steps: s.steps.length,
           nodes: s.steps.flatMap((st) => [...st.nodes.keys()]) }; }"""


def new_page(browser, server, session=None):
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url + (f"&session={session}" if session else ""))
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    return ctx, pg, errors


def replay_session(server, events, prefix="replay"):
    s = server.gv.manager.create("replay", prefix=prefix)
    server.gv.manager.ingest_local(s, events)
    return s


def wait_caught_up(pg, session, timeout=20000):
    """Until the page's store holds every event the server has of ``session``."""
    pg.wait_for_function("([id, n]) => window.gradviz.store.session === id && "
                         "window.gradviz.store.lastSeq === n && !window.gradviz.conn.filling",
                         arg=[session.id, session.last_seq], timeout=timeout)


def test_switching_away_from_a_big_replay_shows_only_the_new_session(browser, server):
    big = replay_session(server, BIG_EVENTS, "big")
    small = replay_session(server, MLP_EVENTS, "small")
    ctx, pg, errors = new_page(browser, server, big.id)
    try:
        # the big backlog is still on its way: pick the small one at once
        pg.select_option("[data-testid=session]", small.id)
        wait_caught_up(pg, small)
        pg.wait_for_timeout(1500)   # whatever the big session still had in flight has come
        got = pg.evaluate(STORE)
        assert got["session"] == small.id and got["lastSeq"] == small.last_seq
        assert got["events"] == len(MLP_EVENTS) and got["steps"] == 3
        ids = {e["node"] for e in MLP_EVENTS if "node" in e}
        assert set(got["nodes"]) <= ids
        drawn = pg.eval_on_selector_all("[data-testid=graph] [data-node-id]",
                                        "els => els.map(e => Number(e.dataset.nodeId))")
        assert drawn and set(drawn) <= ids
        assert pg.text_content("#step-info").startswith("step 3 ·")
    finally:
        ctx.close()
    assert not errors


def test_switching_away_from_a_live_job_drops_its_events(browser, server):
    """The default session trains (a live playground job) while the page moves to a recording."""
    small = replay_session(server, MLP_EVENTS, "small")
    ctx, pg, errors = new_page(browser, server)
    try:
        live = pg.input_value("[data-testid=session]")
        pg.click("[data-testid=run]")
        pg.wait_for_function("window.gradviz.store.steps.length >= 3", timeout=20000)
        pg.select_option("[data-testid=session]", small.id)
        wait_caught_up(pg, small)
        pg.wait_for_timeout(1500)   # the job goes on: its batches must not land here
        got = pg.evaluate(STORE)
        assert got["session"] == small.id and got["events"] == len(MLP_EVENTS), got
        assert got["lastSeq"] == small.last_seq and got["steps"] == 3
        assert server.gv.manager.get(live).job.alive()
    finally:
        ctx.close()
    assert not errors


def test_playground_step_after_a_finished_session_shows_the_new_run(browser, server):
    """The usual student flow: the page opens a finished session; Step in the Playground
    starts a new run, and the Debugger shows that run, not a mix with the old one."""
    big = replay_session(server, BIG_EVENTS, "old")
    ctx, pg, errors = new_page(browser, server, big.id)
    try:
        open_pg(pg)
        pg.select_option("[data-testid=step-granularity]", "step")
        pg.click("[data-testid=pg-step]")
        pg.wait_for_function(f"document.querySelector('[data-testid=session]').value !== "
                             f"'{big.id}'", timeout=20000)
        sid = pg.input_value("[data-testid=session]")
        gate = server.gv.manager.get(sid).job.gate
        pg.wait_for_function("document.querySelector('[data-testid=pg-loss-chart]')"
                             ".dataset.count === '1'", timeout=20000)
        assert gate.wait_paused(20) is not None and gate.step == 1
        # one step, one text: the step info has its own hook
        assert pg.locator("[data-testid=pg-step]").count() == 1
        assert pg.text_content("[data-testid=pg-step-info]").startswith("step 1 /")
        session = server.gv.manager.get(sid)
        wait_caught_up(pg, session)
        pg.click("[data-testid=tab-debugger]")
        got = pg.evaluate(STORE)
        assert got["session"] == sid and got["steps"] == 1, got
        # the Debugger steps the new run: one more op on screen
        cur = "[data-testid=graph] [data-node-id][data-state=current]"
        pg.click("[data-testid=step-forward]")
        pg.wait_for_function("s => window.gradviz.store.steps.length === 2 && "
                             "document.querySelectorAll(s).length === 1", arg=cur,
                             timeout=20000)
        shot(pg, "sessions-student-flow")
    finally:
        ctx.close()
    assert not errors


def test_run_on_an_ended_single_step_session_draws_the_graph(browser, server):
    """Debugger report #5: Run on a one-step recording emptied the graph for good."""
    one = ONE_STEP
    s = server.gv.manager.create("attached", prefix="ended")
    server.gv.manager.ingest_local(s, one)
    s.set_status("ended")
    ctx, pg, errors = new_page(browser, server, s.id)
    try:
        pg.wait_for_function("n => Number(document.body.dataset.events) >= n", arg=len(one))
        nodes = "[data-testid=graph] [data-node-id]"
        pg.wait_for_function("s => document.querySelectorAll(s).length > 0", arg=nodes)
        total = pg.locator(nodes).count()
        pg.click("[data-testid=run]")
        pg.wait_for_selector("[data-testid=run-state][data-state=running]", timeout=20000)
        pg.wait_for_selector("[data-testid=run-state][data-state=ended]", timeout=20000)
        pg.wait_for_timeout(300)
        assert pg.locator(nodes).count() == total
        assert pg.locator("[data-testid=graph] [data-node-id][data-state=backward]").count()
        # and stepping it again draws the ops one by one
        pg.click("[data-testid=step-forward]")
        pg.wait_for_function("s => document.querySelectorAll(s).length === 1",
                             arg="[data-testid=graph] [data-node-id][data-state=current]")
        assert pg.locator(nodes).count() == total   # the rest waits as not run yet
    finally:
        ctx.close()
    assert not errors


def bp_texts(pg):
    return pg.locator("[data-testid=breakpoint]").all_text_contents()


def test_breakpoints_belong_to_their_session(browser, server):
    """Debugger report #6: a breakpoint added on one session is not listed on, nor honoured
    by, another; coming back lists it again (and a new page learns it from the server)."""
    rec = replay_session(server, MLP_EVENTS, "rec")
    ctx, pg, errors = new_page(browser, server)
    try:
        live = pg.input_value("[data-testid=session]")
        pg.click("[data-testid=tab-breakpoints]")
        pg.fill("[data-testid=bp-op]", "Tanh")
        pg.press("[data-testid=bp-op]", "Enter")
        pg.wait_for_function("() => document.querySelectorAll('[data-testid=breakpoint]')"
                             ".length === 1")
        gate = server.gv.manager.get(live).job.gate
        deadline = 50
        while not gate.breakpoints and deadline:
            pg.wait_for_timeout(100)
            deadline -= 1
        assert [b["op"] for b in gate.breakpoints.values()] == ["Tanh"]
        pg.select_option("[data-testid=session]", rec.id)
        wait_caught_up(pg, rec)
        assert bp_texts(pg) == []
        # Run plays the recording through its Tanh ops: the live session's breakpoint is not its
        pg.click("[data-testid=run]")
        pg.wait_for_selector("[data-testid=run-state][data-state=running]", timeout=20000)
        pg.wait_for_selector("[data-testid=run-state]:not([data-state=running])", timeout=20000)
        assert pg.get_attribute("[data-testid=run-state]", "data-state") == "recording"
        assert pg.text_content("#step-info").startswith("step 3 ·")
        pg.select_option("[data-testid=session]", live)
        pg.wait_for_function("() => document.querySelectorAll('[data-testid=breakpoint]')"
                             ".length === 1")
        assert bp_texts(pg)[0].startswith("every Tanh")
    finally:
        ctx.close()
    assert not errors
    ctx, pg, errors = new_page(browser, server, live)   # a new page: the server's list
    try:
        pg.wait_for_function("() => document.querySelectorAll('[data-testid=breakpoint]')"
                             ".length === 1", timeout=15000)
        assert bp_texts(pg)[0].startswith("every Tanh")
    finally:
        ctx.close()
    assert not errors


def test_the_job_badge_of_an_ended_session_goes_when_switching(browser, server):
    """Debugger report #7: "process ended" stayed on a live, paused session."""
    s = server.gv.manager.create("attached", prefix="gone")
    server.gv.manager.ingest_local(s, MLP_EVENTS)
    s.set_status("ended")
    ctx, pg, errors = new_page(browser, server, s.id)
    try:
        pg.wait_for_selector("[data-testid=job-status][data-state=ended]", timeout=15000)
        assert "ended" in pg.text_content("[data-testid=job-status]")
        live = next(o for o in pg.eval_on_selector_all(
            "[data-testid=session] option", "els => els.map(e => e.value)") if o != s.id)
        pg.select_option("[data-testid=session]", live)
        pg.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=15000)
        pg.wait_for_timeout(300)
        badge = pg.locator("[data-testid=job-status]")
        assert "ended" not in badge.text_content()
        assert badge.get_attribute("data-state") != "ended"
        assert pg.evaluate("document.body.dataset.job") != "ended"
    finally:
        ctx.close()
    assert not errors
