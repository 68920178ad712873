"""Views on recorded sessions (the replay path): graph, layout reuse, scrubber, export,
module groups, search, zoom, minimap, the playground tab."""
from pathlib import Path

import pytest

from conftest import VIEWPORT, shot
from events import record_inplace, record_mlp, record_nan, synthetic

GRAPH_NODES = "[data-testid=graph] [data-node-id]"
MLP_EVENTS = record_mlp(steps=3)      # traced once, before any server (and its job) exists


def _record_times_two():
    import gradviz as gv
    x = gv.tensor([1.0, 2.0, -1.5], requires_grad=True)
    with gv.trace.record() as rec:
        (x * 2 * x).sum().backward()
        events = [dict(e) for e in rec.events]
    for e in events:
        e.pop("session", None)
        e.pop("seq", None)
    return events


TIMES_TWO = _record_times_two()


@pytest.fixture
def server(tmp_path):
    """A server without the default session: these tests open recorded sessions only."""
    from conftest import LiveServer, _need_browser
    _need_browser()
    srv = LiveServer(tmp_path, default_session=False).start()
    try:
        yield srv
    finally:
        srv.stop()


def open_session(browser, server, events, source="replay"):
    s = server.gv.manager.create(source, prefix=source)
    server.gv.manager.ingest_local(s, events)
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{server.url}&session={s.id}")
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    pg.wait_for_function("n => Number(document.body.dataset.events) >= n", arg=len(events), timeout=20000)
    pg.wait_for_timeout(200)
    return ctx, pg, s, errors


@pytest.fixture
def mlp_page(browser, server):
    ctx, pg, s, errors = open_session(browser, server, MLP_EVENTS)
    try:
        yield pg
    finally:
        ctx.close()
    assert not errors


def test_recorded_graph_has_every_node_done_backward_and_shapes_on_edges(mlp_page):
    pg = mlp_page
    ops = pg.locator("[data-testid=graph] [data-node-id][data-kind=op]")
    assert ops.count() >= 8
    # Every op on the path from the parameters to the loss ran backward (the labels' Reshape did not).
    not_backward = pg.eval_on_selector_all("[data-testid=graph] [data-kind=op]:not([data-state=backward])",
                                           "els => els.map(e => e.querySelector('.l1').textContent)")
    assert not_backward == ["Reshape"]
    assert pg.locator("[data-testid=graph] [data-kind=param]").count() == 4
    labels = pg.locator("[data-testid=graph] .edge-label").all_text_contents()
    assert "16×8" in labels
    assert pg.get_attribute("[data-testid=loss-chart]", "data-count") == "3"
    # the legend (series names, values under the cursor) fits in the chart's box
    legend, box = (pg.locator(sel).bounding_box() for sel in ("[data-testid=loss-chart] .u-legend",
                                                                "[data-testid=loss-chart]"))
    assert "loss" in pg.text_content("[data-testid=loss-chart] .u-legend")
    assert legend["height"] > 0 and legend["y"] + legend["height"] <= box["y"] + box["height"] + 1
    assert pg.text_content("[data-testid=run-state]") == "recording"
    assert pg.text_content("[data-testid=live]") == "● last step"
    shot(pg, "10-recorded")


OPS = "[data-testid=graph] [data-kind=op]"


def op_states(pg):
    return pg.eval_on_selector_all(OPS, "els => els.map(e => e.dataset.state)")


def wait_states(pg, want, timeout=10000):
    """Until the op nodes' states, counted, are ``want`` ({state: n}, other states 0)."""
    pg.wait_for_function("""([sel, want]) => {
        const got = {};
        for (const e of document.querySelectorAll(sel)) got[e.dataset.state] = (got[e.dataset.state] || 0) + 1;
        return Object.keys({...got, ...want}).every((k) => (got[k] || 0) === (want[k] || 0));
    }""", arg=[OPS, want], timeout=timeout)


def test_a_recording_is_stepped_with_the_debugger_buttons(mlp_page):
    pg = mlp_page
    n = len(op_states(pg))                      # the last step, every op shown (Reshape forward only)
    assert op_states(pg).count("backward") == n - 1
    layouts = pg.get_attribute("[data-testid=graph]", "data-layouts")
    pos = pg.eval_on_selector_all("[data-testid=graph] .gnode", "els => els.map(e => e.getAttribute('transform'))")
    # step forward: the step on screen starts again from its first op; the rest is not run yet
    pg.click("[data-testid=step-forward]")
    wait_states(pg, {"current": 1, "pending": n - 1})
    assert pg.get_attribute("[data-testid=run-state]", "data-state") == "paused"
    assert pg.text_content("[data-testid=run-state]").startswith("replay · paused after forward of")
    assert pg.text_content("#step-info").startswith("step 3 ·")
    pg.keyboard.press("f")                      # the shortcut too
    wait_states(pg, {"forward": 1, "current": 1, "pending": n - 2})
    # step backward: the forward pass ends, then exactly one backward node per click
    pg.click("[data-testid=step-backward]")
    wait_states(pg, {"backward": 1, "current": 1, "forward": n - 2})
    pg.click("[data-testid=step-backward]")
    wait_states(pg, {"backward": 2, "current": 1, "forward": n - 3})
    shot(pg, "13-replay-stepping")
    # nothing moved, nothing was laid out again
    assert pg.eval_on_selector_all("[data-testid=graph] .gnode", "els => els.map(e => e.getAttribute('transform'))") == pos
    assert pg.get_attribute("[data-testid=graph]", "data-layouts") == layouts
    # continue: to the end of the backward pass, which is the end of the recording
    pg.click("[data-testid=continue]")
    wait_states(pg, {"backward": n - 1, "forward": 1})
    pg.wait_for_function("document.querySelector('[data-testid=run-state]').textContent === 'recording'")
    # an earlier step, from the scrubber: run plays it from its start to the end
    pg.fill("[data-testid=scrubber]", "1")
    pg.dispatch_event("[data-testid=scrubber]", "input")
    pg.wait_for_function("document.querySelector('#scrub-label').textContent.startsWith('step 1 /')")
    pg.click("[data-testid=continue]")          # step 1's forward pass
    wait_states(pg, {"forward": n - 1, "current": 1})
    assert pg.text_content("#step-info").startswith("step 1 ·")
    pg.click("[data-testid=run]")
    pg.wait_for_function("document.querySelector('[data-testid=run-state]').textContent === 'recording'",
                         timeout=20000)
    wait_states(pg, {"backward": n - 1, "forward": 1})
    assert pg.text_content("#step-info").startswith("step 3 ·")
    assert pg.locator("[data-testid=error]").is_hidden()


def test_breakpoints_stop_a_recording_that_plays(mlp_page):
    pg = mlp_page
    pg.click("[data-tab=breakpoints]")
    pg.fill("[data-testid=bp-op]", "Tanh")
    pg.press("[data-testid=bp-op]", "Enter")
    pg.fill("[data-testid=bp-grad-norm]", "1e-12")
    pg.press("[data-testid=bp-grad-norm]", "Enter")
    assert pg.locator("[data-testid=breakpoint]").count() == 2
    pg.click("[data-testid=run]")                # plays step 3 from its start: stops after Tanh
    pg.wait_for_function("document.querySelector('[data-testid=run-state]').textContent"
                         ".startsWith('replay · paused after forward of Tanh')", timeout=10000)
    tanh = pg.get_attribute("[data-testid=graph] [data-state=current]", "data-node-id")
    assert pg.get_attribute("[data-testid=inspector]", "data-node-id") == tanh   # selected
    pg.click("[data-testid=run]")                # on to the first backward node: ‖grad‖ > 1e-12
    pg.wait_for_function("document.querySelector('[data-testid=run-state]').textContent"
                         ".startsWith('replay · paused before backward of Neg')", timeout=10000)
    wait_states(pg, {"current": 1, "forward": len(op_states(pg)) - 1})
    pg.click("[data-testid=pause]")
    for b in pg.locator("[data-testid=breakpoint] .x").all()[::-1]:
        b.click()
    pg.click("[data-testid=run]")                # no breakpoint left: to the end
    pg.wait_for_function("document.querySelector('[data-testid=run-state]').textContent === 'recording'",
                         timeout=20000)
    assert pg.locator("[data-testid=error]").is_hidden()


def test_scrubber_shows_an_earlier_step_with_the_same_layout(mlp_page):
    pg = mlp_page
    last_ids = set(pg.eval_on_selector_all(GRAPH_NODES, "els => els.map(e => e.dataset.nodeId)"))
    layouts = pg.get_attribute("[data-testid=graph]", "data-layouts")
    pos_before = pg.eval_on_selector_all("[data-testid=graph] .gnode", "els => els.map(e => e.getAttribute('transform'))")
    pg.fill("[data-testid=scrubber]", "1")
    pg.dispatch_event("[data-testid=scrubber]", "input")
    pg.wait_for_function("document.querySelector('#scrub-label').textContent.startsWith('step 1 /')")
    first_ids = set(pg.eval_on_selector_all(GRAPH_NODES, "els => els.map(e => e.dataset.nodeId)"))
    assert first_ids != last_ids                       # other op nodes: step 1's
    pos_after = pg.eval_on_selector_all("[data-testid=graph] .gnode", "els => els.map(e => e.getAttribute('transform'))")
    assert pos_after == pos_before                     # laid out once, reused
    assert pg.get_attribute("[data-testid=graph]", "data-layouts") == layouts
    # The inspector follows the scrubbed step.
    pg.locator("[data-testid=graph] [data-kind=op]").last.click()
    assert pg.get_attribute("[data-testid=inspector]", "data-node-id") in first_ids
    pg.click("[data-testid=live]")
    pg.wait_for_function("document.querySelector('#scrub-label').textContent.startsWith('step 3 /')")


def test_a_long_session_names_real_step_numbers_on_the_scrubber(browser, server):
    events = record_mlp(steps=305, batch=2)   # the page keeps the graphs of the last 300
    ctx, pg, _, errors = open_session(browser, server, events)
    try:
        label = "document.querySelector('#scrub-label').textContent"
        pg.wait_for_function(f"{label} === 'step 305 / 305 · kept from 6'")
        assert pg.get_attribute("[data-testid=scrubber]", "max") == "300"
        pg.fill("[data-testid=scrubber]", "1")           # the oldest graph kept: step 6
        pg.dispatch_event("[data-testid=scrubber]", "input")
        pg.wait_for_function(f"{label}.startsWith('step 6 / 305')")
        assert pg.text_content("#step-info").startswith("step 6 ·")
    finally:
        ctx.close()
    assert not errors


def test_switching_session_drops_the_selection_of_the_last_one(browser, server):
    other = server.gv.manager.create("replay", prefix="other")
    server.gv.manager.ingest_local(other, MLP_EVENTS)          # same node names: same slots
    ctx, pg, _, errors = open_session(browser, server, MLP_EVENTS)
    try:
        pg.locator("[data-testid=graph] [data-kind=param]").first.click()
        pg.wait_for_selector("[data-testid=graph] .gnode.selected")
        assert pg.get_attribute("[data-testid=inspector]", "data-node-id")
        pg.select_option("[data-testid=session]", other.id)
        pg.wait_for_function("n => Number(document.body.dataset.events) >= n", arg=len(MLP_EVENTS))
        pg.wait_for_selector("[data-testid=graph] [data-kind=param]")
        assert pg.locator("[data-testid=graph] .gnode.selected").count() == 0
        assert not pg.get_attribute("[data-testid=inspector]", "data-node-id")
    finally:
        ctx.close()
    assert not errors


def _record_deep(layers=15, steps=2):
    import gradviz as gv
    gv.manual_seed(0)
    model = gv.nn.Sequential(*[gv.nn.Linear(4, 4) for _ in range(layers)])
    with gv.trace.record() as rec:
        for _ in range(steps):
            model.zero_grad()
            model(gv.randn(2, 4)).pow(2).mean().backward()
    events = [dict(e) for e in rec.events]
    for e in events:
        e.pop("session", None)
        e.pop("seq", None)
    return events


def test_gradient_norms_of_many_parameters_stay_readable_and_scroll(browser, server):
    ctx, pg, _, errors = open_session(browser, server, _record_deep())
    try:
        norms = "[data-testid=grad-norms]"
        pg.wait_for_function(f"document.querySelector('{norms}').dataset.layers === '30'")
        canvas = pg.locator(f"{norms} canvas").bounding_box()
        assert canvas["height"] >= 30 * 11                  # a readable row per parameter
        assert pg.eval_on_selector(norms, "e => e.scrollHeight > e.clientHeight")   # scrolls
        assert pg.eval_on_selector(norms, "e => getComputedStyle(e).overflowY") == "auto"
    finally:
        ctx.close()
    assert not errors


def test_export_svg_downloads_what_is_shown(mlp_page):
    pg = mlp_page
    pg.click("summary:has-text('Export')")
    with pg.expect_download() as dl:
        pg.click("[data-testid=export-svg]")
    path = dl.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text
    shown = pg.locator(GRAPH_NODES).count()
    assert text.count("data-node-id=") == shown
    assert "data-state=\"backward\"" in text and ".gnode" in text   # states and their colours
    for testid, suffix in (("export-dot", ".dot"), ("export-json", ".json"), ("export-png", ".png"),
                           ("export-recording", ".jsonl")):
        if not pg.locator(f"[data-testid={testid}]").is_visible():
            pg.click("summary:has-text('Export')")
        with pg.expect_download() as dl:
            pg.click(f"[data-testid={testid}]")
        assert dl.value.suggested_filename.endswith(suffix)
        assert Path(dl.value.path()).stat().st_size > 0


def test_search_zoom_and_fit(mlp_page):
    pg = mlp_page
    pg.fill("[data-testid=search]", "tanh")
    assert pg.text_content("#search-count") == "1 match"
    assert pg.locator("[data-testid=graph] .gnode.match").count() == 1
    pg.press("[data-testid=search]", "Enter")
    assert "Tanh" in pg.text_content("[data-testid=inspector] h3")
    z0 = float(pg.get_attribute("[data-testid=graph]", "data-zoom"))
    pg.click("[data-testid=zoom-in]")
    assert float(pg.get_attribute("[data-testid=graph]", "data-zoom")) > z0
    box = pg.locator("[data-testid=graph]").bounding_box()
    pg.mouse.move(box["x"] + 100, box["y"] + 200)
    pg.mouse.down()
    pg.mouse.move(box["x"] + 300, box["y"] + 300, steps=5)
    pg.mouse.up()
    pg.click("[data-testid=zoom-fit]")
    assert abs(float(pg.get_attribute("[data-testid=graph]", "data-zoom")) - z0) < 1e-3


def test_big_graph_opens_collapsed_and_groups_expand(browser, server):
    ctx, pg, s, errors = open_session(browser, server, synthetic(800))
    try:
        groups = pg.locator("[data-testid=graph] [data-group]")
        assert groups.count() >= 5
        assert pg.locator(GRAPH_NODES).count() < 50
        n0 = pg.locator("[data-testid=graph] .gnode").count()
        groups.first.click()
        pg.wait_for_function("n => document.querySelectorAll('[data-testid=graph] .gnode').length > n", arg=n0)
        shot(pg, "11-collapsed")
        pg.click("[data-testid=collapse]")       # expand everything
        pg.wait_for_function("document.querySelectorAll('[data-testid=graph] [data-node-id]').length > 700",
                             timeout=20000)
        assert pg.locator("[data-testid=graph] [data-group]").count() == 0
        assert pg.locator("[data-testid=minimap]").is_visible()
        shot(pg, "12-expanded")
    finally:
        ctx.close()
    assert not errors


def test_playground_tab_is_there(mlp_page):
    pg = mlp_page
    pg.click("[data-testid=tab-playground]")
    assert pg.locator("[data-testid=playground]").is_visible()
    assert not pg.locator("[data-testid=graph]").is_visible()
    pg.click("[data-testid=tab-debugger]")
    assert pg.locator("[data-testid=graph]").is_visible()


def test_an_in_place_op_is_labelled_and_explained(browser, server):
    ctx, pg, s, errors = open_session(browser, server, record_inplace())
    try:
        node = pg.locator(f"{OPS}:has-text('Add (in place)')")
        assert node.count() == 1
        # y[0] = ... is the other (an IndexPut); total += loss rebinds total (no in-place op)
        assert pg.locator(f"{OPS}:has-text('(in place)')").count() == 2
        assert pg.locator(f"{OPS}:has-text('IndexPut (in place)')").count() == 1
        node.click()
        note = pg.locator("[data-testid=inspector] [data-testid=inplace-note]")
        note.wait_for()
        assert "add_" in note.text_content() and "previous version" in note.text_content()
        # its first input is the Mul that made y's first version: follow the link to it
        pg.locator("[data-testid=inspector] .insp-inputs a").first.click()
        pg.wait_for_function("document.querySelector('[data-testid=inspector] h3')"
                             ".textContent === 'Mul'")
        assert pg.locator("[data-testid=inspector] [data-testid=inplace-note]").count() == 0
        shot(pg, "13-inplace")
    finally:
        ctx.close()
    assert not errors


def test_the_session_list_names_the_session_shown(browser, server):
    """A page opened before any session exists picks the newest one when sessions appear; the
    session list then selects that one, not the list's first entry."""
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(server.url)
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        older = server.gv.manager.create("replay", prefix="older")
        server.gv.manager.ingest_local(older, MLP_EVENTS)
        shown = server.gv.manager.create("replay", prefix="shown")
        server.gv.manager.ingest_local(shown, MLP_EVENTS)
        pg.wait_for_function("n => Number(document.body.dataset.events) >= n",
                             arg=len(MLP_EVENTS), timeout=20000)
        assert pg.evaluate("window.gradviz.conn.session") == shown.id
        assert pg.input_value("[data-testid=session]") == shown.id
        assert pg.text_content("[data-testid=session] option:checked").startswith(shown.id)
    finally:
        ctx.close()
    assert not errors


def test_where_a_nan_starts_is_marked_without_any_breakpoint(browser, server):
    """No breakpoint, no detect_anomaly: the op that turned finite values into NaN (the Log)
    is shown as an anomaly with the banner naming it; the ops after it, which only carry
    the NaN on, are not."""
    ctx, pg, _, errors = open_session(browser, server, record_nan())
    try:
        bad = pg.locator("[data-testid=graph] [data-state=anomaly]")
        bad.first.wait_for(timeout=15000)
        assert bad.count() == 1 and "Log" in bad.first.text_content()
        banner = pg.locator("[data-testid=anomaly]")
        assert banner.is_visible() and "Log produced nan values" in banner.text_content()
        assert pg.get_attribute("[data-testid=inspector]", "data-node-id") == \
            bad.first.get_attribute("data-node-id")
        mean = pg.locator("[data-testid=graph] [data-kind=op]:has-text('Mean')")
        assert mean.get_attribute("data-state") != "anomaly"
    finally:
        ctx.close()
    assert not errors


def test_the_rule_of_an_op_with_a_python_number_shows_the_number(browser, server):
    """Debugger report #10: ``x * 2``'s rule "dx = dy * y ; dy_in = dy * x" filled in y
    nowhere and had a gradient row for the 2, which is a constant, not an input."""
    ctx, pg, s, errors = open_session(browser, server, TIMES_TWO)
    try:
        mul = next(e["node"] for e in TIMES_TWO if e["type"] == "op" and e["op"] == "Mul"
                   and e["attrs"].get("scalars"))
        pg.click(f"[data-testid=graph] [data-node-id='{mul}']")
        card = pg.locator("[data-testid=backward-rule]")
        card.wait_for()
        rows = card.locator(".rule-row")
        assert rows.count() == 1                         # dx only: no dy_in for the 2
        assert rows.first.locator(".rule-lhs").text_content() == "dx"
        filled = rows.first.locator(".rule-filled").text_content()
        assert filled.endswith("* 2") and " y" not in filled, filled
        assert "y = 2 (a constant)" in card.text_content()
        assert card.locator("[data-testid=rule-result]").count() == 1
    finally:
        ctx.close()
    assert not errors
