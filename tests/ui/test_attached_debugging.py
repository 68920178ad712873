"""Debugging one's own script in the page (found by walking through it as a user would):
the session list names an attached script, the inspector's gradient heading for an op,
and the breakpoint panel's "no such op" warning."""
from conftest import VIEWPORT, attached_script

OPS = "[data-testid=graph] [data-node-id][data-kind=op]"
WARN = "[data-testid=bp-op-warning]"
RUN_STATE = "document.querySelector('[data-testid=run-state]').textContent"


def add_op_breakpoint(pg, op):
    pg.click("[data-testid=tab-breakpoints]")
    pg.fill("[data-testid=bp-op]", op)
    pg.press("[data-testid=bp-op]", "Enter")


def test_the_session_list_names_an_attached_script_by_its_title(browser, tmp_path):
    """gv.attach(title=...) was stored but the list said only `attached-3f2a1c · attached`:
    with a few runs of a few scripts a user could not tell which one to open."""
    import gradviz as gv
    from conftest import LiveServer
    server = LiveServer(tmp_path, default_session=False).start()
    att = gv.attach(server.base, token=server.token, title="cnn-digits")
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        x = gv.randn(3, requires_grad=True)
        (x * 2).sum().backward()
        att.flush(30)
        pg = ctx.new_page()
        pg.goto(server.url)
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        option = f"[data-testid=session] option[value='{att.session}']"
        pg.wait_for_selector(option, state="attached", timeout=15000)
        label = pg.text_content(option)
        assert label.startswith(f"{att.session} (cnn-digits) · attached"), label
    finally:
        att.close()
        ctx.close()
        server.stop()


def test_an_op_not_yet_through_backward_shows_its_gradient_as_d_loss_d_output(page):
    """Before backward an op node's gradient card was headed ".grad (accumulated)", a leaf's
    words: an op's gradient is ∂loss/∂output (and it is not computed yet)."""
    page.click("[data-testid=step-forward]")
    page.wait_for_selector(OPS, timeout=15000)
    page.click(OPS)
    page.wait_for_selector("[data-testid=grad-card]", timeout=10000)
    head = page.text_content("[data-testid=grad-card] h4")
    assert "∂loss/∂output" in head and ".grad" not in head, head
    assert "not computed yet" in page.text_content("[data-testid=grad-card]")


def test_the_no_such_op_warning_knows_the_ops_of_the_step_before(page):
    """A breakpoint added just after the next step began was warned about as missing ("it
    has Linear") although the step before ran it: only the ops of the new step were looked at."""
    page.click("[data-testid=continue]")                      # step 1: forward...
    page.wait_for_function(f"{RUN_STATE}.includes('backward')", timeout=15000)
    ops = set(page.eval_on_selector_all(
        OPS, "els => els.map(e => e.querySelector('.l1').textContent)"))
    page.click("[data-testid=continue]")                      # ...and backward
    page.wait_for_function("document.querySelector('#step-info').textContent.includes('done')",
                           timeout=15000)
    page.click("[data-testid=step-forward]")                  # step 2: its first op only
    page.wait_for_function("document.querySelector('#step-info').textContent.startsWith('step 2')",
                           timeout=15000)
    later = sorted(ops - {"Linear"})[0]                       # an op step 2 has not run yet
    add_op_breakpoint(page, later)
    page.wait_for_selector("[data-testid=breakpoint]", timeout=10000)
    assert page.locator(WARN).is_hidden(), page.text_content(WARN)


SCRIPT = """
import sys
import gradviz as gv

url, token, session = sys.argv[1:4]
gv.attach(url, token=token, session=session, paused=True)
w = gv.randn(4, requires_grad=True)
for step in range(100000):
    y = w * 2.0
    if step >= 1:
        y = y.exp()            # an op the first step does not have
    y.sum().backward()
"""


def test_the_no_such_op_warning_goes_once_the_op_runs(browser, server, tmp_path):
    """The warning "No op "Exp" in the current graph" stayed on screen after the breakpoint
    had fired on an Exp node: it now goes away once such an op has run."""
    with attached_script(browser, server, tmp_path, SCRIPT, "warn") as pg:
        add_op_breakpoint(pg, "Exp")
        pg.wait_for_selector(f"{WARN}:has-text('No op \"Exp\"')", timeout=10000)
        pg.click("[data-testid=run]")
        pg.wait_for_function(f"{RUN_STATE}.startsWith('paused after forward of Exp')",
                             timeout=20000)
        pg.wait_for_selector(WARN, state="hidden", timeout=5000)


def test_a_restarted_script_is_offered_on_the_page_of_its_ended_run(browser, tmp_path):
    """After a script was stopped and started again, the page kept showing the ended run
    with no word about the new one: the user had to find it in the session list."""
    import gradviz as gv
    from conftest import LiveServer
    server = LiveServer(tmp_path, default_session=False).start()
    first = gv.attach(server.base, token=server.token, session="run-1", title="cnn")
    second = None
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        x = gv.randn(3, requires_grad=True)
        (x * 2).sum().backward()
        first.flush(30)
        pg = ctx.new_page()
        pg.goto(f"{server.url}&session=run-1")
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        first.close()                                     # the script is stopped...
        pg.wait_for_selector("[data-testid=job-status][data-state=ended]", timeout=15000)
        second = gv.attach(server.base, token=server.token, session="run-2", title="cnn")
        (x * 3).sum().backward()                          # ...and started again
        second.flush(30)
        button = pg.wait_for_selector("[data-testid=notice] [data-testid=open-new-run]",
                                      timeout=15000)
        assert "run-2 (cnn)" in pg.text_content("[data-testid=notice]")
        assert pg.input_value("[data-testid=session]") == "run-1"   # nothing switched by itself
        button.click()
        pg.wait_for_function("document.querySelector('[data-testid=session]').value === 'run-2'",
                             timeout=10000)
        pg.wait_for_selector(OPS, timeout=15000)
        assert pg.locator("[data-testid=notice]").is_hidden()
        assert pg.text_content("[data-testid=run-state]") != "ended"
    finally:
        if second is not None:
            second.close()
        ctx.close()
        server.stop()


def test_breakpoints_of_an_attached_script_survive_a_reload_and_can_be_removed(browser, server,
                                                                              tmp_path):
    """An attached process never told the page its breakpoints' ids: the × of a breakpoint
    did nothing (it kept firing), and after a reload (or in a second tab) the panel was
    empty while the breakpoint still paused the script."""
    with attached_script(browser, server, tmp_path, SCRIPT, "bps") as pg:
        add_op_breakpoint(pg, "Exp")
        pg.click("[data-testid=bp-nan]")
        pg.wait_for_function("document.querySelectorAll('[data-testid=breakpoint]').length === 2")
        pg.reload()
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        pg.click("[data-testid=tab-breakpoints]")
        pg.wait_for_function("document.querySelectorAll('[data-testid=breakpoint]').length === 2",
                             timeout=10000)
        assert pg.is_checked("[data-testid=bp-nan]")
        # remove both: the script then runs through steps with Exp without stopping
        pg.locator("[data-testid=breakpoint]:has-text('Exp') .x").click()
        pg.click("[data-testid=bp-nan]")
        pg.wait_for_function("document.querySelectorAll('[data-testid=breakpoint]').length === 0")
        pg.wait_for_timeout(300)
        pg.click("[data-testid=run]")
        pg.wait_for_function("parseInt(document.querySelector('#step-info').textContent"
                             ".slice(5)) >= 4", timeout=20000)
        assert not pg.text_content("[data-testid=run-state]").startswith("paused")
