"""The Playground as a student learning backprop uses it (exploratory QA, each defect fixed).

Every test clicks and types what a student would and waits on page state, never on sleeps.
"""
from conftest import open_pg, shot

RUN_STATE = "document.querySelector('[data-testid=pg-run-state]')"
CHART = "document.querySelector('[data-testid=pg-loss-chart]')"


def wait_valid(page, valid):
    page.wait_for_function(
        f"document.querySelector('#playground-root').dataset.valid === '{valid}'")


def test_narrow_window_keeps_the_model_column_usable(page):
    """Before: at 700-1000 px the fixed 290 + 1fr + 400 px columns left the Model column a few
    pixels wide (layers and Add layer unreachable) and the page wider than the window."""
    open_pg(page)
    for width in (1000, 700, 420):
        page.set_viewport_size({"width": width, "height": 700})
        page.wait_for_function(f"innerWidth === {width}")
        row = page.locator("[data-testid=layer]").first
        row.scroll_into_view_if_needed()
        box = row.bounding_box()
        assert box["width"] >= min(300, width - 60), (width, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        for tid in ("train", "pg-step", "pg-pause", "add-layer"):
            b = page.locator(f"[data-testid={tid}]").bounding_box()
            assert b and b["x"] + b["width"] <= width, (width, tid, b)
        # the toolbar and panel fit: nothing pushes the page wider than the window
        assert page.evaluate("document.querySelector('.pg').scrollWidth") <= width
        shot(page, f"student-narrow-{width}")
    # and the narrow builder still works: add a layer by clicking
    n = page.locator("[data-testid=layer]").count()
    page.select_option("[data-testid=add-layer-type]", "ReLU")
    page.click("[data-testid=add-layer]")
    page.wait_for_function(f"document.querySelectorAll('[data-testid=layer]').length === {n + 1}")


def test_diverging_training_reports_the_step_the_chart_shows(page):
    """Before: lr 10 made the loss Inf at step 9 (the step info's numbering); the run state
    said "non-finite loss at step 8" (0-based), the chart's last value read NaN (the "inf"
    string was not parsed) and the Debugger's banner ended with a dead "node #null" link."""
    open_pg(page)
    page.select_option("[data-testid=loss]", "mse_onehot")
    page.select_option("[data-testid=optimizer]", "SGD")
    page.fill("[data-testid=lr]", "10")
    page.press("[data-testid=lr]", "Tab")
    width = page.locator("[data-testid=layer] input[data-param=out_features]").first
    width.fill("256")
    width.press("Tab")
    page.wait_for_function("gradviz.playground.spec.optimizer.lr === 10 && "
                           "gradviz.playground.spec.layers[0].out_features === 256")
    wait_valid(page, "1")
    page.click("[data-testid=train]")
    page.wait_for_function(f"{RUN_STATE}.dataset.state === 'error'", timeout=60000)
    page.wait_for_function(f"{CHART}.dataset.nonfinite !== ''")
    bad = int(page.get_attribute("[data-testid=pg-loss-chart]", "data-nonfinite"))
    # the diverging step is the chart's last point and the step info's last step
    assert int(page.get_attribute("[data-testid=pg-loss-chart]", "data-count")) == bad
    assert page.text_content("[data-testid=pg-step-info]").startswith(f"step {bad} /")
    last = page.get_attribute("[data-testid=pg-loss-chart]", "data-last")
    assert last in ("Infinity", "-Infinity", "NaN")
    state = page.text_content("[data-testid=pg-run-state]")
    assert f"at step {bad}" in state and "non-finite loss" in state, state
    shot(page, "student-diverged")
    page.click("[data-testid=tab-debugger]")
    page.wait_for_selector("[data-testid=anomaly]:not([hidden])")
    banner = page.text_content("[data-testid=anomaly]")
    assert f"at step {bad};" in banner and "smaller lr" in banner, banner
    assert "#null" not in banner and page.locator("[data-testid=anomaly-node]").count() == 0
    shot(page, "student-diverged-debugger")


def test_letters_in_a_number_box_are_called_not_a_number(page):
    """Before: typing "1e" (a number box keeps letters e/E only) in Learning rate said
    "optimizer.lr must be a number ... (empty)" while the box visibly held "1e"."""
    open_pg(page)
    lr = page.locator("[data-testid=lr]")
    before = lr.input_value()
    lr.click()
    lr.press("Control+a")
    lr.press_sequentially("1e")
    lr.press("Tab")
    wait_valid(page, "0")
    err = page.locator("[data-testid=field-error][data-for='optimizer.lr']")
    assert "not a number" in err.text_content() and "empty" not in err.text_content()
    assert page.evaluate("document.querySelector('[data-testid=lr]').validity.badInput")
    # a truly empty box still says empty; a good value clears the message and nothing is lost
    lr.fill("0.5")
    lr.press("Tab")
    wait_valid(page, "1")
    lr.fill("")
    lr.press("Tab")
    page.wait_for_function("document.querySelector(\"[data-testid=field-error]"
                           "[data-for='optimizer.lr']\").textContent"
                           ".includes('(the box is empty)')")
    lr.fill(before)
    lr.press("Tab")
    wait_valid(page, "1")
    assert err.text_content() == ""
    assert page.locator("[data-testid=layer]").count() == 3
