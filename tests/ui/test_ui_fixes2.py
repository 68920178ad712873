"""QA report ui2: a link to a session not started yet, graph nodes by keyboard, a replay's
run state after scrubbing, torch-named op breakpoints, full values of ended sessions, and
interaction hints in exported files."""
from pathlib import Path

from conftest import VIEWPORT, shot
from events import record_conv, record_mlp, synthetic

MLP_EVENTS = record_mlp(steps=3)
CONV_EVENTS = record_conv()
GRAPH_NODES = "[data-testid=graph] [data-node-id]"
RUN_STATE = "document.querySelector('[data-testid=run-state]').textContent"


def new_page(browser, server, session=None):
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url + (f"&session={session}" if session else ""))
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    return ctx, pg, errors


def recorded(server, events, source="replay", ended=False):
    s = server.gv.manager.create(source, prefix=source)
    server.gv.manager.ingest_local(s, events)
    if ended:
        s.set_status("ended")
    return s


def open_recorded(browser, server, events, **kw):
    s = recorded(server, events, **kw)
    ctx, pg, errors = new_page(browser, server, s.id)
    pg.wait_for_function("n => Number(document.body.dataset.events) >= n", arg=len(events),
                         timeout=20000)
    pg.wait_for_function("s => document.querySelectorAll(s).length > 0", arg=GRAPH_NODES)
    return ctx, pg, s, errors


def add_op_breakpoint(pg, op):
    pg.click("[data-testid=tab-breakpoints]")
    pg.fill("[data-testid=bp-op]", op)
    pg.press("[data-testid=bp-op]", "Enter")


# ---- 1: ?session=ID before the session exists ------------------------------------------
def test_a_link_to_a_session_not_started_yet_waits_for_it_and_then_shows_it(browser, server):
    ctx, pg, errors = new_page(browser, server, "later1")
    try:
        note = pg.locator("[data-testid=notice]")
        assert note.is_visible() and note.text_content() == "waiting for session later1…"
        pg.wait_for_timeout(2500)   # a poll of the session list: still nothing else shown
        assert pg.evaluate("window.gradviz.store.session") is None
        assert pg.locator(GRAPH_NODES).count() == 0
        assert "session=later1" in pg.url
        assert pg.input_value("[data-testid=session]") == "later1"
        # `gradviz run --session later1 …` starts: its process attaches
        s = server.gv.manager.create("attached", sid="later1")
        server.gv.manager.ingest_local(s, record_mlp(steps=1))
        server.gv.announce_status(s, "attached")
        pg.wait_for_function("window.gradviz.store.session === 'later1'", timeout=10000)
        pg.wait_for_function("s => document.querySelectorAll(s).length > 0", arg=GRAPH_NODES,
                             timeout=10000)
        assert note.is_hidden()
        assert pg.input_value("[data-testid=session]") == "later1"
        assert "session=later1" in pg.url
    finally:
        ctx.close()
    assert not errors


def test_a_waiting_link_also_finds_a_session_that_sends_no_news(browser, server):
    """A session without `status` news (a recording) is found by the list's poll."""
    ctx, pg, errors = new_page(browser, server, "later2")
    try:
        pg.wait_for_selector("[data-testid=notice][data-waiting=later2]")
        s = server.gv.manager.create("replay", sid="later2")
        server.gv.manager.ingest_local(s, MLP_EVENTS)
        pg.wait_for_function("window.gradviz.store.session === 'later2'", timeout=10000)
        pg.wait_for_function("n => Number(document.body.dataset.events) >= n",
                             arg=len(MLP_EVENTS), timeout=10000)
    finally:
        ctx.close()
    assert not errors


# ---- 2: graph nodes by keyboard ------------------------------------------------------------
def test_graph_nodes_are_reached_and_selected_with_the_keyboard(page):
    for _ in range(3):
        page.click("[data-testid=step-forward]")
    page.wait_for_function("s => document.querySelectorAll(s).length >= 3",
                           arg="[data-testid=graph] [data-node-id][data-kind=op]")
    for testid, name in (("zoom-out", "zoom out"), ("zoom-fit", "zoom to fit"),
                         ("zoom-in", "zoom in")):
        assert page.get_attribute(f"[data-testid={testid}]", "aria-label") == name
    nodes = page.locator(GRAPH_NODES)
    for i in range(nodes.count()):
        g = nodes.nth(i)
        assert g.get_attribute("tabindex") == "0" and g.get_attribute("role") == "button"
        label = g.get_attribute("aria-label")
        assert f"#{g.get_attribute('data-node-id')}" in label
        assert label.endswith(", " + g.get_attribute("data-state")), label
    cur = page.locator("[data-testid=graph] [data-node-id][data-state=current]")
    cur_id = cur.get_attribute("data-node-id")
    assert cur.get_attribute("aria-label").endswith(", current")
    # Tab from the last toolbar control lands on the graph's first node
    page.focus("summary:has-text('Export')")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.dataset.nodeId || null")
    assert focused is not None
    page.keyboard.press("Enter")
    page.wait_for_function("id => document.querySelector('[data-testid=inspector]')"
                           ".dataset.nodeId === id", arg=focused)
    # Space selects the focused node too
    page.locator(f"[data-testid=graph] [data-node-id='{cur_id}']").focus()
    page.keyboard.press(" ")
    page.wait_for_function("id => document.querySelector('[data-testid=inspector]')"
                           ".dataset.nodeId === id", arg=cur_id)
    # the label follows the state: the op that was current is done forward after a step
    page.click("[data-testid=step-forward]")
    page.wait_for_function("id => document.querySelector(`[data-testid=graph] "
                           "[data-node-id='${id}']`).getAttribute('aria-label')"
                           ".endsWith(', forward')", arg=cur_id)


# ---- 3: a replay's run state and loss points after scrubbing -------------------------------
def scrub_to(pg, step):
    pg.eval_on_selector("[data-testid=scrubber]", "(el, v) => { el.value = String(v); "
                        "el.dispatchEvent(new Event('input', {bubbles: true})); }", step)


def test_scrubbing_a_paused_replay_drops_the_stale_pause_and_loss_points(browser, server):
    ctx, pg, s, errors = open_recorded(browser, server, MLP_EVENTS)
    try:
        add_op_breakpoint(pg, "Tanh")
        pg.click("[data-testid=run]")   # plays step 3 from its start: stops after its Tanh
        pg.wait_for_function(f"{RUN_STATE}.startsWith('replay · paused after forward of Tanh')",
                             timeout=10000)
        assert pg.get_attribute("[data-testid=loss-chart]", "data-count") == "2"
        scrub_to(pg, 1)
        pg.wait_for_function("document.querySelector('#step-info').textContent"
                             ".startsWith('step 1 ·')")
        text = pg.text_content("[data-testid=run-state]")
        assert "Tanh" not in text and "paused" not in text, text
        assert "step 1" in text
        pg.click("[data-testid=run]")   # from step 1's start: no loss logged yet
        pg.wait_for_function(f"{RUN_STATE}.startsWith('replay · paused after forward of Tanh')",
                             timeout=10000)
        assert pg.text_content("#step-info").startswith("step 1 ·")
        assert pg.get_attribute("[data-testid=loss-chart]", "data-count") == "0"
        pg.click("[data-testid=run]")   # on to step 2's Tanh: step 1's loss only
        pg.wait_for_function("document.querySelector('#step-info').textContent"
                             ".startsWith('step 2 ·')", timeout=10000)
        pg.wait_for_function(f"{RUN_STATE}.startsWith('replay · paused after forward of Tanh')",
                             timeout=10000)
        assert pg.get_attribute("[data-testid=loss-chart]", "data-count") == "1"
    finally:
        ctx.close()
    assert not errors


# ---- 4: op breakpoints by torch's names --------------------------------------------------
def test_a_torch_named_op_breakpoint_fires_in_a_replay(browser, server):
    ctx, pg, s, errors = open_recorded(browser, server, CONV_EVENTS)
    try:
        add_op_breakpoint(pg, "ReLU")
        assert pg.locator("[data-testid=bp-op-warning]").is_hidden()   # it is the Relu
        relu = pg.get_attribute("[data-testid=graph] [data-kind=op]:has-text('Relu')",
                                "data-node-id")
        pg.wait_for_selector(f"[data-testid=graph] [data-node-id='{relu}'][data-breakpoint]",
                             timeout=10000)
        pg.click("[data-testid=run]")
        pg.wait_for_function(f"{RUN_STATE}.startsWith('replay · paused after forward of Relu')",
                             timeout=10000)
        assert pg.get_attribute("[data-testid=inspector]", "data-node-id") == relu
        pg.locator("[data-testid=breakpoint] .x").click()
        add_op_breakpoint(pg, "conv2d")   # the functional's name, with its 2d suffix
        pg.wait_for_function("document.querySelectorAll("
                             "'[data-testid=graph] [data-breakpoint]').length === 1",
                             timeout=10000)   # the graph redraws on the next frame
        pg.click("[data-testid=run]")     # no Conv after the Relu: to the end
        pg.wait_for_function(f"{RUN_STATE} === 'recording'", timeout=10000)
        pg.click("[data-testid=run]")     # again from the step's start: the Conv stops it
        pg.wait_for_function(f"{RUN_STATE}.startsWith('replay · paused after forward of Conv')",
                             timeout=10000)
    finally:
        ctx.close()
    assert not errors


def test_an_op_name_the_graph_lacks_gets_a_warning_not_an_error(browser, server):
    ctx, pg, s, errors = open_recorded(browser, server, MLP_EVENTS)
    try:
        add_op_breakpoint(pg, "Softmaxx")
        warn = pg.locator("[data-testid=bp-op-warning]")
        assert warn.is_visible()
        assert 'No op "Softmaxx"' in warn.text_content() and "Tanh" in warn.text_content()
        assert pg.locator("[data-testid=breakpoint]").all_text_contents()[0].startswith(
            "every Softmaxx")   # kept: the op may come later
        assert pg.locator("[data-testid=error]").is_hidden()
        pg.fill("[data-testid=bp-op]", "t")   # typing again clears it
        assert warn.is_hidden()
        pg.fill("[data-testid=bp-op]", "tanh")
        pg.press("[data-testid=bp-op]", "Enter")
        assert warn.is_hidden()
    finally:
        ctx.close()
    assert not errors


def test_a_torch_named_op_breakpoint_fires_in_a_live_session(browser, server):
    from gradviz.web.playground.handlers import start
    from gradviz.web.playground.spec import default_spec
    spec = default_spec()
    spec["layers"] = [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                      {"type": "Linear", "out_features": 3}]
    s = start(server.gv, spec, paused=True)
    ctx, pg, errors = new_page(browser, server, s.id)
    try:
        pg.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=20000)
        add_op_breakpoint(pg, "ReLU")
        pg.wait_for_function("() => document.querySelectorAll('[data-testid=breakpoint]')"
                             ".length === 1")
        pg.wait_for_timeout(300)   # the gate has it before Run
        pg.click("[data-testid=run]")
        pg.wait_for_function("window.gradviz.store.paused?.reason === 'breakpoint'",
                             timeout=20000)
        pg.wait_for_function("document.querySelector('[data-testid=inspector] h3')"
                             "?.textContent === 'Relu'", timeout=10000)
        assert "paused after forward of Relu" in pg.text_content("[data-testid=run-state]")
    finally:
        ctx.close()
    assert not errors


# ---- 5: full values of an ended or recorded session ---------------------------------------
def inspect_tanh(pg):
    pg.click("[data-testid=graph] [data-kind=op]:has-text('Tanh')")
    pg.wait_for_function("document.querySelector('[data-testid=inspector] h3')"
                         "?.textContent === 'Tanh'")


def test_an_ended_session_does_not_offer_full_values(browser, server):
    for source in ("attached", "replay"):
        ctx, pg, s, errors = open_recorded(browser, server, MLP_EVENTS, source=source,
                                           ended=source == "attached")
        try:
            inspect_tanh(pg)
            btn = pg.locator("[data-testid=show-value]")
            assert btn.is_disabled()
            why = pg.locator("[data-testid=full-value-unavailable]")
            assert why.is_visible()
            assert "full values are kept only while the process runs" in why.text_content().lower()
            btn.click(force=True)
            pg.wait_for_timeout(500)
            assert pg.locator("[data-testid=error]").is_hidden()   # no NOT_AVAILABLE banner
            # a small tensor came whole with its event: that one still shows
            pg.click("[data-testid=graph] [data-kind=op]:has-text('LogSoftmax')")
            pg.click("[data-testid=show-value]")
            pg.wait_for_selector("[data-testid=full-value]")
        finally:
            ctx.close()
        assert not errors, source


def test_a_live_session_still_offers_full_values(page):
    page.click("[data-testid=step-backward]")
    page.wait_for_selector("[data-testid=graph] [data-kind=op]:has-text('Tanh')")
    inspect_tanh(page)
    assert page.locator("[data-testid=show-value]").is_enabled()
    assert page.locator("[data-testid=full-value-unavailable]").count() == 0


# ---- 6: exported files carry no interaction hints ----------------------------------------
def test_a_collapsed_export_drops_click_to_expand(browser, server):
    ctx, pg, s, errors = open_recorded(browser, server, synthetic(800))
    try:
        groups = pg.locator("[data-testid=graph] [data-group]")
        assert groups.count() >= 5
        assert "click to expand" in pg.text_content("[data-testid=graph]")   # on screen: yes
        pg.click("summary:has-text('Export')")
        with pg.expect_download() as dl:
            pg.click("[data-testid=export-svg]")
        text = Path(dl.value.path()).read_text(encoding="utf-8")
        assert "data-group=" in text and " nodes" in text
        assert "click to expand" not in text and "tabindex" not in text
        assert 'role="button"' not in text
        for testid in ("export-json", "export-dot"):
            if not pg.locator(f"[data-testid={testid}]").is_visible():
                pg.click("summary:has-text('Export')")
            with pg.expect_download() as dl:
                pg.click(f"[data-testid={testid}]")
            assert "click to expand" not in Path(dl.value.path()).read_text(encoding="utf-8")
        shot(pg, "ui2-collapsed-export")
    finally:
        ctx.close()
    assert not errors
