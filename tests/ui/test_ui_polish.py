"""UI polish, each as a user meets it (and each failing before its fix):

1. A Playground request of a running model that the server refuses (Step, a sample's feature
   maps, Download weights) was said twice: in the page's error box and again under the
   Playground's toolbar, there in the server's raw words. Now once, in the box, in words.
2. A graph of a few hundred nodes opened zoomed out so far that its op names were 7 px; zoom
   to fit now stops where they are 9 px and the minimap and panning reach the rest.
3. Searching faded every node that did not match, the anomaly (NaN) node too.
4. At 600 px the legend broke "not run" over two lines; at 360 px the top bar (session list,
   connection state) and the inspector's tabs ran past the window's right edge.

The server failures of (1) are made in the server itself (its job's method raises, as when
a model cannot be written), so the page gets the very answer and `error` message it would.
"""
import pytest
from playwright.sync_api import expect

from conftest import VIEWPORT, open_pg, open_recorded, shot
from events import record_nan, synthetic
from gradviz.errors import GradvizError

NAN_EVENTS = record_nan()   # traced once, before any server (and its traced job) exists
BOX = "[data-testid=error]"
ITEMS = f"{BOX} .error-item"


# ---- 1. a failed Playground request: once, in the error box, in words -------------------------
def refuse(monkeypatch, server, page, method, message):
    """Make the page's playground job answer `method` with a GradvizError(`message`)."""
    sid = page.evaluate("window.gradviz.playground.session")
    job = server.gv.manager.get(sid).job

    def fail(*args, **kwargs):
        raise GradvizError(message)
    monkeypatch.setattr(job, method, fail)


def times_shown(page, phrase):
    """How many elements on the page say `phrase` themselves (not only through a child)."""
    return page.evaluate("""(p) => [...document.querySelectorAll('body *')].filter((e) =>
        e.textContent.includes(p) && ![...e.children].some((c) => c.textContent.includes(p))
        && e.getClientRects().length).length""", phrase)


def assert_said_once(page, phrase):
    page.wait_for_selector(ITEMS, timeout=15000)
    page.wait_for_timeout(1500)               # both the answer and the `error` message are in
    items = page.locator(ITEMS)
    assert items.count() == 1
    text = items.first.locator(".error-text").text_content()
    assert text.startswith("The Playground could not do that: ") and phrase in text
    assert "PLAYGROUND" not in text and "_" not in text      # no code, no internal name
    assert items.first.get_attribute("data-code") == "PLAYGROUND"
    expect(page.locator("[data-testid=spec-error]")).to_be_hidden()
    assert times_shown(page, phrase) == 1


def step_once(page):
    page.select_option("[data-testid=step-granularity]", "step")
    page.click("[data-testid=pg-step]")
    page.wait_for_function(
        "document.querySelector('[data-testid=pg-step-info]').textContent.startsWith('step 1 /')",
        timeout=30000)


def dismiss_all(page):
    while page.locator(f"{BOX} .x").count():
        page.locator(f"{BOX} .x").first.click()
    expect(page.locator(BOX)).to_be_hidden()


def test_a_refused_step_and_weights_download_are_said_once_in_the_error_box(
        page, server, monkeypatch):
    open_pg(page)
    step_once(page)
    refuse(monkeypatch, server, page, "step_training", "the training loop is not answering")
    page.click("[data-testid=pg-step]")
    assert_said_once(page, "the training loop is not answering")
    shot(page, "polish-step-refused")
    dismiss_all(page)
    refuse(monkeypatch, server, page, "weights", "the weights could not be written")
    page.click("[data-testid=download-weights]")
    assert_said_once(page, "the weights could not be written")


def test_refused_feature_maps_are_said_once_in_the_error_box(page, server, monkeypatch):
    open_pg(page)
    page.select_option("[data-testid=dataset]", "digits")
    page.wait_for_selector("#playground-root[data-valid='1']", timeout=15000)
    step_once(page)
    sample = page.locator("[data-testid=sample]").nth(2)
    sample.wait_for(timeout=30000)
    refuse(monkeypatch, server, page, "request_feature_maps", "no test samples are kept")
    sample.click()
    assert_said_once(page, "no test samples are kept")
    shot(page, "polish-feature-maps-refused")


# ---- 2. a big graph opens with readable labels ------------------------------------------------
LABEL_PX = """() => {   // the on-screen font size of the op names drawn inside the graph pane
  const pane = document.querySelector('[data-testid=graph]').getBoundingClientRect();
  return [...document.querySelectorAll('[data-testid=graph] .gnode .l1')].filter((t) => {
    const r = t.getBoundingClientRect();
    return r.width && r.top >= pane.top && r.bottom <= pane.bottom; })
    .map((t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a); }"""


def test_a_graph_of_a_few_hundred_nodes_opens_with_readable_labels(browser, server):
    ctx, pg, errors = open_recorded(browser, server, synthetic(280))
    try:
        assert int(pg.get_attribute("[data-testid=graph]", "data-nodes")) > 250
        sizes = pg.evaluate(LABEL_PX)
        assert len(sizes) >= 10 and min(sizes) >= 9 - 1e-6, sizes
        shot(pg, "polish-big-graph-fit")
        # the rest is reached by panning: the minimap's bottom brings the last op (the Mean)
        mm = pg.locator("[data-testid=minimap]")
        expect(mm).to_be_visible()
        box = mm.bounding_box()
        mm.click(position={"x": box["width"] / 2, "y": box["height"] - 3})
        mean = pg.locator("[data-testid=graph] [data-node-id]:has-text('Mean')")
        pane = pg.locator("[data-testid=graph]").bounding_box()
        mb = mean.bounding_box()
        assert mb and pane["y"] <= mb["y"] and mb["y"] + mb["height"] <= pane["y"] + pane["height"]
        # zooming out is still the user's choice; zoom to fit comes back to readable labels
        for _ in range(4):
            pg.click("[data-testid=zoom-out]")
        assert float(pg.get_attribute("[data-testid=graph]", "data-zoom")) < 0.5
        pg.click("[data-testid=zoom-fit]")
        assert min(pg.evaluate(LABEL_PX)) >= 9 - 1e-6
    finally:
        ctx.close()
    assert not errors


# ---- 3. the anomaly stays visible while searching ---------------------------------------------
def opacity(pg, selector):
    return float(pg.eval_on_selector(selector, "e => getComputedStyle(e).opacity"))


def test_search_does_not_fade_the_anomaly_node(browser, server):
    ctx, pg, errors = open_recorded(browser, server, NAN_EVENTS)
    try:
        bad = "[data-testid=graph] [data-node-id][data-state=anomaly]"
        pg.wait_for_selector(bad, timeout=15000)
        pg.fill("[data-testid=search]", "relu")
        pg.wait_for_selector("[data-testid=graph] .gnode.match")
        assert "Log" in pg.text_content(bad)                     # the anomaly does not match
        other = "[data-testid=graph] [data-node-id][data-kind=op]:has-text('Mean')"
        assert opacity(pg, other) == pytest.approx(0.25)          # others fade as before
        assert opacity(pg, "[data-testid=graph] .gnode.match") == 1
        assert opacity(pg, bad) == 1
        shot(pg, "polish-search-keeps-anomaly")
        # the banner's link still leads to it, and it is in plain sight there
        pg.click("[data-testid=anomaly-node]")
        assert pg.get_attribute("[data-testid=inspector]", "data-node-id") == \
            pg.get_attribute(bad, "data-node-id")
        assert opacity(pg, bad) == 1
    finally:
        ctx.close()
    assert not errors


# ---- 4. narrow windows: nothing past the right edge, every control usable ---------------------
TOPMOST = """(sel) => {
  const el = document.querySelector(sel), r = el.getBoundingClientRect();
  if (!r.width || !r.height) return `${sel} has no size`;
  if (r.left < 0 || r.right > innerWidth + 0.5) return `${sel} is outside the window`;
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return top && (top === el || el.contains(top)) ? "ok" : `${sel} is covered`;
}"""

TOP_BAR = ["[data-testid=tab-debugger]", "[data-testid=tab-playground]",
           "[data-testid=session]", "[data-testid=status]"]
TOOLBAR = ["[data-testid=run]", "[data-testid=pause]", "[data-testid=step-forward]",
           "[data-testid=step-backward]", "[data-testid=continue]", "[data-testid=search]",
           "[data-testid=zoom-out]", "[data-testid=zoom-fit]", "[data-testid=zoom-in]",
           "[data-testid=collapse]", ".toolbar .menu summary", "[data-testid=tab-breakpoints]"]


def assert_no_sideways_scroll(page):
    m = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert m[0] <= m[1], m


def assert_usable(page, selectors):
    for sel in selectors:
        page.locator(sel).scroll_into_view_if_needed()
        assert page.evaluate(TOPMOST, sel) == "ok"


@pytest.mark.parametrize("width", [600, 360])
def test_narrow_windows_keep_the_top_bar_legend_and_controls_inside(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.wait_for_function(f"innerWidth === {width}")
    page.wait_for_selector("[data-testid=status][data-state=connected]", timeout=15000)
    page.click("[data-testid=step-forward]")
    page.wait_for_selector("[data-testid=graph] [data-node-id]", timeout=15000)
    assert_no_sideways_scroll(page)
    assert_usable(page, TOP_BAR + TOOLBAR)
    # the legend: inside the graph pane, each entry on one line
    pane = page.locator("[data-testid=graph]").bounding_box()
    legend = page.locator(".legend").bounding_box()
    assert legend["x"] >= pane["x"] and legend["x"] + legend["width"] <= pane["x"] + pane["width"]
    for entry in page.locator(".legend .lg").all():
        assert entry.bounding_box()["height"] < 20, entry.text_content()
    shot(page, f"polish-narrow-debugger-{width}")
    # the controls work from there: step again, switch to the Playground and back
    n = page.locator("[data-testid=graph] [data-node-id][data-kind=op]").count()
    page.click("[data-testid=step-forward]")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=graph] [data-node-id][data-kind=op]')"
        ".length > n", arg=n, timeout=15000)
    page.click("[data-testid=tab-playground]")
    page.wait_for_selector("#playground-root[data-ready='1']")
    assert_no_sideways_scroll(page)
    assert_usable(page, TOP_BAR + ["[data-testid=train]", "[data-testid=pg-step]"])
    shot(page, f"polish-narrow-playground-{width}")
    page.click("[data-testid=tab-debugger]")
    expect(page.locator("[data-testid=run]")).to_be_visible()
    assert_no_sideways_scroll(page)
