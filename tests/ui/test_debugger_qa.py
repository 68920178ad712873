"""Debugger-page defects found by QA, each driven as a user drives it: breakpoints shared
by every tab of a session, op breakpoints for one pass only, the loss chart's step numbers,
and the page of a run that ended (no node left "current", the live button says so)."""
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import VIEWPORT, count_state

ROOT = Path(__file__).resolve().parents[2]
BPS = "[data-testid=breakpoint]"
RUN_STATE = "document.querySelector('[data-testid=run-state]').textContent"
OPS = "[data-testid=graph] [data-node-id][data-kind=op]"

SCRIPT = """
import sys
import gradviz as gv

url, token, session = sys.argv[1:4]
gv.attach(url, token=token, session=session, paused=True)
w = gv.randn(4, requires_grad=True)
for step in range(100000):
    y = (w * 2.0).exp()
    y.sum().backward()
"""


def open_tab(browser, url):
    """A new page (own context) on ``url``, ready; its uncaught errors collected."""
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    pg.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=20000)
    pg.click("[data-testid=tab-breakpoints]")
    return ctx, pg


def add_op_breakpoint(pg, op, phase=None):
    pg.click("[data-testid=tab-breakpoints]")
    pg.fill("[data-testid=bp-op]", op)
    if phase is not None:
        pg.select_option("[data-testid=bp-phase]", phase)
    pg.click("[data-testid=bp-add-op]")


def wait_bps(pg, n, timeout=10000):
    pg.wait_for_function("n => document.querySelectorAll('[data-testid=breakpoint]').length === n",
                         arg=n, timeout=timeout)


def start_script(server, tmp_path, session):
    """The script above, attached (paused) as ``session``; returns its process."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    proc = subprocess.Popen([sys.executable, str(script), server.base, server.token, session],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while session not in server.gv.manager.sessions and time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.1)
    return proc


def stop_script(proc):
    proc.kill()
    proc.communicate(timeout=10)


def check_two_tabs(browser, url, op):
    """Add a breakpoint in tab 1: tab 2 lists it; remove it in tab 2: tab 1 no longer does."""
    ctx1, one = open_tab(browser, url)
    ctx2, two = open_tab(browser, url)
    try:
        add_op_breakpoint(one, op)
        wait_bps(one, 1)
        wait_bps(two, 1)                      # it was missing in the other tab
        assert op in two.text_content(BPS)
        one.click("[data-testid=bp-nan]")
        wait_bps(two, 2)
        assert two.is_checked("[data-testid=bp-nan]")
        two.locator(f"{BPS}:has-text('{op}') .x").click()
        wait_bps(two, 1)
        wait_bps(one, 1)                      # it stayed listed in the tab it was added in
        assert op not in one.text_content(BPS)
        two.click("[data-testid=bp-nan]")     # unchecked: removed everywhere
        wait_bps(one, 0)
        assert not one.is_checked("[data-testid=bp-nan]")
        assert not one.errors and not two.errors, (one.errors, two.errors)
    finally:
        ctx1.close()
        ctx2.close()


def test_breakpoint_changes_reach_every_tab_of_a_playground_session(browser, server):
    """A breakpoint removed (or added) in tab 2 was still listed (or missing) in tab 1."""
    check_two_tabs(browser, server.url, "Tanh")
    s = next(s for s in server.gv.manager.sessions.values() if s.job is not None)
    assert s.job.gate.breakpoints == {}


def test_breakpoint_changes_reach_every_tab_of_an_attached_script(browser, server, tmp_path):
    """The same for an attached script: its process holds the breakpoints."""
    proc = start_script(server, tmp_path, "tabs")
    try:
        check_two_tabs(browser, f"{server.url}&session=tabs", "Exp")
    finally:
        stop_script(proc)


def check_phase(pg, op, n_ops):
    """An op breakpoint for the backward pass only pauses before that op's backward node,
    never after its forward op; one for forward only never before its backward node."""
    add_op_breakpoint(pg, op, "backward")
    wait_bps(pg, 1)
    assert pg.text_content(BPS).startswith(f"every {op} (backward only)")
    assert pg.get_attribute(BPS, "data-phase") == "backward"
    pg.click("[data-testid=run]")
    pg.wait_for_function(f"{RUN_STATE}.startsWith('paused before backward of {op}')",
                         timeout=20000)
    # the forward op ran without stopping: the whole forward pass is there
    assert pg.locator(OPS).count() >= n_ops
    pg.locator(f"{BPS} .x").click()
    wait_bps(pg, 0)
    add_op_breakpoint(pg, op, "forward")
    wait_bps(pg, 1)
    assert pg.text_content(BPS).startswith(f"every {op} (forward only)")
    for step in (2, 3):   # not before this op's backward node of step 2: at step 3's op
        pg.click("[data-testid=run]")
        pg.wait_for_function(f"{RUN_STATE}.startsWith('paused after forward of {op}') && "
                             "document.querySelector('#step-info').textContent"
                             f".startsWith('step {step} ')", timeout=20000)


def test_an_op_breakpoint_can_be_for_one_pass_in_a_playground_session(page, server):
    """A breakpoint on Tanh also fired in backward ("paused before backward of Tanh"): the
    form had no way to choose, although the gate takes ``phase``."""
    check_phase(page, "Tanh", 3)
    s = next(s for s in server.gv.manager.sessions.values() if s.job is not None)
    assert [bp["phase"] for bp in s.job.gate.breakpoints.values()] == ["forward"]


def test_an_op_breakpoint_can_be_for_one_pass_in_an_attached_script(browser, server, tmp_path):
    """The phase reaches an attached script's own gate through its command."""
    proc = start_script(server, tmp_path, "phase")
    ctx, pg = open_tab(browser, f"{server.url}&session=phase")
    try:
        check_phase(pg, "Exp", 2)
        assert not pg.errors, pg.errors
    finally:
        ctx.close()
        stop_script(proc)


def test_the_loss_chart_numbers_steps_as_the_step_info_does(page):
    """The chart's x axis counted steps from 0 while the step info and the scrubber say
    "step 1" for the first: the loss of step k now sits at x = k."""
    page.click("[data-testid=run]")
    page.wait_for_function("Number(document.querySelector('[data-testid=loss-chart]')"
                           ".dataset.count) >= 3", timeout=20000)
    page.click("[data-testid=pause]")
    page.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=15000)
    page.wait_for_timeout(300)
    chart = page.locator("[data-testid=loss-chart]")
    count = int(chart.get_attribute("data-count"))
    assert chart.get_attribute("data-step-first") == "1"
    assert chart.get_attribute("data-step-last") == str(count)
    # the loss plotted at x = k is the value of the loss node of the graph "step k" shows
    pairs = page.evaluate("""() => {
      const st = window.gradviz.store, loss = st.scalars.get('loss');
      return st.steps.filter((s) => s.root !== null).map((s) => [
        s.index + 1, s.nodes.get(s.root).stats.mean, loss.y[loss.x.indexOf(s.index + 1)]]);
    }""")
    done = [p for p in pairs if p[2] is not None]
    assert len(done) >= 3 and done[0][0] == 1, pairs
    for k, root, logged in done:
        assert abs(root - logged) < 1e-5, (k, root, logged)


def test_a_run_killed_mid_step_keeps_no_current_node_and_says_it_ended(browser, server,
                                                                      tmp_path):
    """A run killed while paused kept its last node orange ("current") and the "● live"
    button stayed on: the page now clears the mark and the button says "ended"."""
    proc = start_script(server, tmp_path, "killed")
    ctx, pg = open_tab(browser, f"{server.url}&session=killed")
    try:
        assert pg.get_attribute("[data-testid=live]", "data-state") == "live"
        pg.click("[data-testid=step-forward]")
        pg.wait_for_function(f"{RUN_STATE}.startsWith('paused after forward of Mul')",
                             timeout=20000)
        assert count_state(pg, "current") == 1
        stop_script(proc)                                 # killed mid-step
        pg.wait_for_selector("[data-testid=job-status][data-state=ended]", timeout=15000)
        pg.wait_for_selector("[data-testid=live][data-state=ended]", timeout=5000)
        pg.wait_for_function(f"{RUN_STATE} === 'ended'", timeout=5000)
        assert count_state(pg, "current") == 0
        assert pg.text_content("[data-testid=live]") == "■ ended"
        assert not pg.errors, pg.errors
    finally:
        ctx.close()
        if proc.poll() is None:
            stop_script(proc)


def test_the_minimap_asks_for_a_canvas_read_often(page):
    """Chromium warned "Multiple readback operations using getImageData are faster with the
    willReadFrequently attribute set to true" while the minimap was redrawn."""
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if "willReadFrequently" in m.text
            else None)
    page.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=20000)
    for n in range(1, 4):   # one op per click: wait for each (a loaded machine is slow)
        page.click("[data-testid=step-forward]")
        page.wait_for_function("n => document.querySelectorAll('[data-testid=graph] "
                               "[data-node-id][data-kind=op]').length >= n", arg=n,
                               timeout=20000)
    for _ in range(6):
        page.click("[data-testid=zoom-in]")
    page.wait_for_selector("[data-testid=minimap]", state="visible", timeout=5000)
    for _ in range(8):                                    # each step redraws the minimap
        page.click("[data-testid=step-forward]")
        page.wait_for_timeout(120)
    page.wait_for_timeout(300)
    assert not warnings, warnings
