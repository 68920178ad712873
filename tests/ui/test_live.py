"""Live sessions: the layout stays still while the graph grows, an attached script is driven
from the page, job `status` messages and `gap` recovery (a slow viewer's dropped events)."""
import subprocess
import sys
import textwrap
import time

from conftest import ROOT, VIEWPORT, attached_script, shot

OPS = "[data-testid=graph] [data-node-id][data-kind=op]"
BACKWARD = "[data-testid=graph] [data-node-id][data-state=backward]"
POSITIONS = "els => Object.fromEntries(els.map(e => [e.dataset.key, e.getAttribute('transform')]))"


def wait_count(page, selector, n, timeout=15000):
    page.wait_for_function("([s, n]) => document.querySelectorAll(s).length === n", arg=[selector, n],
                           timeout=timeout)


def positions(page):
    return page.eval_on_selector_all("[data-testid=graph] .gnode", POSITIONS)


def test_nodes_placed_during_the_first_pass_never_move(page):
    seen = {}
    for i in range(1, 5):                        # the first forward pass, op by op
        page.click("[data-testid=step-forward]")
        wait_count(page, OPS, i)
        page.wait_for_timeout(100)
        now = positions(page)
        assert {k: now[k] for k in seen} == seen  # what was placed stays where it was
        seen.update(now)
    page.click("[data-testid=continue]")         # end of the forward pass, then backward
    page.wait_for_selector("[data-testid=run-state][data-state=paused]")
    page.click("[data-testid=continue]")
    page.wait_for_function("document.querySelector('#step-info').textContent.includes('done')", timeout=15000)
    page.wait_for_timeout(200)
    after = positions(page)
    assert {k: after[k] for k in seen} == seen
    assert page.get_attribute("[data-testid=graph]", "data-layouts") == "1"   # one full layout, at the start
    # The next step reuses the picture: same slots, same places.
    page.click("[data-testid=step-forward]")
    page.wait_for_function("document.querySelector('#step-info').textContent.startsWith('step 2')", timeout=15000)
    page.wait_for_timeout(200)
    step2 = positions(page)
    assert step2 == after
    assert page.get_attribute("[data-testid=graph]", "data-layouts") == "1"


SCRIPT = """
import os
import sys
from pathlib import Path
import numpy as np
import gradviz as gv

url, token, session, progress = sys.argv[1:5]
att = gv.attach(url, token=token, session=session, paused=True)
rng = np.random.default_rng(0)
model = gv.nn.Sequential(gv.nn.Linear(2, 8), gv.nn.Tanh(), gv.nn.Linear(8, 1))
opt = gv.optim.SGD(model.parameters(), lr=0.1)
x = gv.tensor(rng.normal(size=(16, 2)).astype(np.float32))
y = gv.tensor(rng.normal(size=(16, 1)).astype(np.float32))
for step in range(100000):
    loss = ((model(x) - y) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    Path(progress + ".tmp").write_text(str(step + 1))
    os.replace(progress + ".tmp", progress)      # atomic: a reader never sees a half-written file
"""


def steps_done(progress):
    """How many training steps the script has finished (0 before its first)."""
    return int(progress.read_text()) if progress.exists() else 0


def test_attached_script_is_stepped_from_the_page(browser, server, tmp_path):
    progress = tmp_path / "progress"
    with attached_script(browser, server, tmp_path, SCRIPT, "att-ui", progress) as pg:
        assert pg.input_value("[data-testid=session]") == "att-ui"
        # Paused at its first op: one op node, the current one; the script has not finished a step.
        wait_count(pg, OPS, 1)
        assert pg.get_attribute(OPS, "data-state") == "current"
        pg.click("[data-testid=step-forward]")
        wait_count(pg, OPS, 2)
        assert pg.locator(f"{OPS}[data-state=current]").count() == 1
        pg.click("[data-testid=step-backward]")   # finishes the forward pass, one backward node
        wait_count(pg, BACKWARD, 1, timeout=20000)
        pg.click("[data-testid=step-backward]")
        wait_count(pg, BACKWARD, 2)
        assert not progress.exists()               # still inside step 1
        pg.click("[data-testid=run]")
        # the page leaves "paused" when the process's `resumed` event reaches it
        pg.wait_for_selector("[data-testid=run-state]:not([data-state=paused])", timeout=20000)
        deadline = time.time() + 30
        while steps_done(progress) < 3 and time.time() < deadline:
            time.sleep(0.1)
        assert steps_done(progress) >= 3                                # the process advanced
        pg.click("[data-testid=pause]")
        pg.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=15000)
        n = steps_done(progress)
        time.sleep(0.5)
        assert steps_done(progress) <= n + 1                            # paused means paused
        shot(pg, "21-attached")


def test_job_status_messages_show_in_the_page(page, server):
    sid = page.input_value("[data-testid=session]")
    session = server.gv.manager.sessions[sid]
    # `status` is broadcast to connected sockets: wait until the page's socket is one
    page.wait_for_selector("[data-testid=status][data-state=connected]", timeout=20000)
    server.gv.announce_status(session, "running")
    el = page.locator("[data-testid=job-status]")
    el.wait_for(state="visible", timeout=10000)
    page.wait_for_function("document.querySelector('[data-testid=job-status]').textContent === 'job running'")
    server.gv.announce_status(session, "error", "ValueError: the loss is NaN")
    page.wait_for_function("document.querySelector('[data-testid=job-status]').dataset.state === 'error'")
    assert "the loss is NaN" in el.text_content()
    assert "the loss is NaN" in page.text_content("[data-testid=error]")
    other = server.gv.manager.create("replay", prefix="other")
    server.gv.announce_status(other, "done")                      # another session's job: not shown here
    page.wait_for_timeout(300)
    assert page.get_attribute("[data-testid=job-status]", "data-state") == "error"


def test_a_job_that_failed_before_the_page_opened_shows_its_error(browser, server):
    session = server.gv.manager.create("playground", prefix="failed")
    session.set_status("error", "ValueError: the loss is NaN at step 3")   # no viewer yet
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        pg = ctx.new_page()
        pg.goto(f"{server.url}&session={session.id}")
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        pg.wait_for_selector("[data-testid=job-status][data-state=error]", timeout=15000)
        assert pg.input_value("[data-testid=session]") == session.id
        assert "the loss is NaN at step 3" in pg.text_content("[data-testid=job-status]")
        assert "the loss is NaN at step 3" in pg.text_content("[data-testid=error]")
        # the session list says it too
        rows = pg.evaluate("window.gradviz.conn.getJSON('/api/sessions')")
        row = next(r for r in rows if r["id"] == session.id)
        assert row["status"] == "error" and "step 3" in row["message"]
    finally:
        ctx.close()


GAP_JS = """async ([from, to]) => {
  const g = window.gradviz, id = g.conn.session;
  const r = await g.conn.getJSON(`/api/sessions/${id}/events`, { after: -1, limit: 5000 });
  const all = r.events;
  g.store.reset(id); g.ctl.reset();
  const sock = g.conn.socket;
  const fire = (name, arg) => sock.listeners(name).forEach((f) => f(arg));
  fire("events", all.filter((e) => e.seq < from));
  // The feed dropped from..to for this slow viewer: the server says so, then sends what follows.
  fire("gap", { session: id, from_seq: from, to_seq: to, dropped: to - from + 1 });
  fire("events", all.filter((e) => e.seq > to));
  return { total: all.length, last: all[all.length - 1].seq };
}"""


def test_gap_refetches_the_missed_events_in_order(page):
    for i in range(1, 4):
        page.click("[data-testid=step-forward]")
        wait_count(page, OPS, i)
    page.click("[data-testid=continue]")
    page.wait_for_selector("[data-testid=run-state][data-state=paused]")
    page.wait_for_timeout(300)
    before = page.evaluate("[...document.querySelectorAll('[data-testid=graph] [data-node-id]')]"
                           ".map(e => e.dataset.nodeId + ':' + e.dataset.state).sort()")
    first = page.evaluate("window.gradviz.store.lastSeq")
    info = page.evaluate(GAP_JS, [3, first - 2])
    page.wait_for_function("document.body.dataset.gaps === '1'", timeout=10000)
    got = page.evaluate("[window.gradviz.store.eventCount - window.gradviz.store.gaps.length,"
                        " window.gradviz.store.lastSeq]")
    assert got == [info["total"], info["last"]]                 # nothing lost, nothing repeated
    page.wait_for_timeout(300)
    after = page.evaluate("[...document.querySelectorAll('[data-testid=graph] [data-node-id]')]"
                          ".map(e => e.dataset.nodeId + ':' + e.dataset.state).sort()")
    assert after == before
    assert "re-fetched" in page.text_content("[data-testid=notice]")
    assert page.locator("[data-testid=error]").is_hidden()


def test_the_page_says_when_an_attached_process_ends(browser, tmp_path):
    import gradviz as gv
    from conftest import LiveServer
    # no server-run job here: its gate's events would reach this process's attach sink too
    server = LiveServer(tmp_path, default_session=False).start()
    att = gv.attach(server.base, token=server.token, session="att-ends")
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        x = gv.randn(4, 3, requires_grad=True)
        loss = ((x * 2) ** 2).mean()               # a step that logs no scalar of its own
        loss.backward()
        (x * 2).sum()                              # a forward pass that never runs backward
        att.flush(30)
        pg = ctx.new_page()
        pg.goto(f"{server.url}&session=att-ends")
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        # the last step is another graph than the step before: drawn as itself (two ops),
        # not on the first step's picture with a never-run ghost of its third op
        wait_count(pg, OPS + ":not([data-state=pending])", 2)
        pg.wait_for_timeout(300)
        assert pg.locator(OPS).count() == 2
        assert pg.text_content("[data-testid=run-state]") == "running · forward"
        # the loss chart plots the backward root of each step when the script logs nothing
        assert pg.get_attribute("[data-testid=loss-chart]", "data-count") == "1"
        assert abs(float(pg.get_attribute("[data-testid=loss-chart]", "data-last")) - loss.item()) < 1e-4
        att.close()                                # the process is done with the server
        pg.wait_for_selector("[data-testid=job-status][data-state=ended]", timeout=15000)
        assert pg.text_content("[data-testid=job-status]") == "process ended"
        pg.wait_for_function("document.querySelector('[data-testid=run-state]').textContent === 'ended'")
        # its events are a recording now: the first click reopens it as one, then it steps
        pg.click("[data-testid=step-forward]")
        pg.wait_for_selector("[data-testid=notice]:has-text('open again as a recording')", timeout=10000)
        pg.click("[data-testid=step-forward]")
        pg.wait_for_function("document.querySelector('[data-testid=run-state]').textContent"
                             ".startsWith('replay · paused after forward of Mul')", timeout=10000)
        # a page opened afterwards knows it ended, and steps it at once
        pg2 = ctx.new_page()
        pg2.goto(f"{server.url}&session=att-ends")
        pg2.wait_for_selector("[data-testid=job-status][data-state=ended]", timeout=15000)
        assert pg2.text_content("[data-testid=run-state]") == "ended"
        pg2.click("[data-testid=step-forward]")
        pg2.wait_for_function("document.querySelector('[data-testid=run-state]').textContent"
                              ".startsWith('replay · paused after forward of Mul')", timeout=10000)
        assert pg2.locator("[data-testid=error]").is_hidden()
        # the same session attached again: the page follows it live, not as a recording
        att2 = gv.attach(server.base, token=server.token, session="att-ends")
        try:
            pg2.wait_for_selector("[data-testid=job-status][data-state=attached]", timeout=15000)
            (gv.randn(2, 2, requires_grad=True) * 3).sum()
            att2.flush(30)
            pg2.wait_for_function("document.querySelector('[data-testid=run-state]').textContent"
                                  " === 'running · forward'", timeout=15000)
        finally:
            att2.close()
    finally:
        att.close()
        ctx.close()
        server.stop()


INF_GRAD_SCRIPT = """
import sys
import gradviz as gv

url, token, session = sys.argv[1:4]
att = gv.attach(url, token=token, session=session, paused=True)
for step in range(100000):
    x = gv.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 3).sum().backward()      # d sqrt(x) / dx at 0 = inf, into x.grad only
"""


def test_nan_inf_breakpoint_stops_where_a_backward_node_sends_inf_into_a_leaf(browser, server,
                                                                              tmp_path):
    """The page's "Pause on NaN / Inf" stops after the backward of Sqrt, whose gradient into
    the leaf x is inf (every value and every incoming gradient is finite): the run state says
    so and the Sqrt node is the current one. Before, nothing stopped."""
    with attached_script(browser, server, tmp_path, INF_GRAD_SCRIPT, "att-inf") as pg:
        pg.click("[data-testid=tab-breakpoints]")
        pg.check("[data-testid=bp-nan]")
        pg.click("[data-testid=run]")
        pg.wait_for_function(
            "() => document.querySelector('[data-testid=run-state]').textContent"
            ".includes('after backward of Sqrt')", timeout=20000)
        shot(pg, "22-inf-grad-into-leaf")
        # the node that sent the inf is marked (anomaly wins over current) and inspected
        bad = pg.locator("[data-testid=graph] [data-node-id][data-state=anomaly]")
        assert bad.count() == 1 and bad.locator(".l1").text_content() == "Sqrt"
        assert pg.get_attribute("[data-testid=inspector]", "data-node-id") == \
            bad.get_attribute("data-node-id")
        assert "Sqrt" in pg.locator("[data-testid=anomaly]").text_content()


CRASH_SCRIPT = """
import sys
import gradviz as gv

url, token, session = sys.argv[1:4]
gv.attach(url, token=token, session=session)
x = gv.randn(3, requires_grad=True)
(x * 2).sum().backward()
raise ValueError("the data ran out")
"""


def test_the_page_says_how_an_attached_process_ended(browser, server, tmp_path):
    """A plain script (gv.attach, no `gradviz run`) that dies of an exception: the job badge
    says "process ended: error: ValueError", not the same words as a clean finish."""
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent(CRASH_SCRIPT))
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        proc = subprocess.run([sys.executable, str(script), server.base, server.token, "crash"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and "the data ran out" in proc.stderr
        pg = ctx.new_page()
        pg.goto(f"{server.url}&session=crash")
        pg.wait_for_selector("[data-testid=job-status][data-state=ended]", timeout=15000)
        assert pg.text_content("[data-testid=job-status]") == "process ended: error: ValueError"
    finally:
        ctx.close()
