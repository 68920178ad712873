"""Playground in the browser: build, data, train/step, errors, code view/mode, keep and share."""
import base64
import json

import pytest
from conftest import VIEWPORT, LiveServer, open_pg, shot

ACC = "Number(document.querySelector('[data-testid=pg-accuracy]').dataset.value || 0)"


def layer_count(page):
    return page.locator("[data-testid=layer]").count()


def set_layer_param(page, i, name, value):
    inp = page.locator("[data-testid=layer]").nth(i).locator(f"input[data-param={name}]")
    inp.fill(str(value))
    inp.dispatch_event("change")


def test_build_an_mlp_and_train_circles_to_90(page):
    open_pg(page)
    # the builder starts from the model the first page runs: the MLP on the 3-class spiral
    types = page.eval_on_selector_all("[data-testid=layer]", "els => els.map(e => e.dataset.type)")
    assert types == ["Linear", "Tanh", "Linear"] and page.input_value("[data-testid=classes]") == "3"
    assert page.locator("[data-testid=layer-shape]").nth(2).text_content() == "→ (3,)"
    page.select_option("[data-testid=dataset]", "circles")
    assert page.eval_on_selector("[data-testid=dataset]", "e => e.tagName") == "SELECT"
    n0 = layer_count(page)
    # add, configure, reorder and remove layers
    page.select_option("[data-testid=add-layer-type]", "Dropout")
    page.click("[data-testid=add-layer]")
    assert layer_count(page) == n0 + 1
    page.locator("[data-testid=layer]").nth(n0).locator("[data-testid=layer-up]").click()
    assert page.locator("[data-testid=layer]").nth(n0 - 1).get_attribute("data-type") == "Dropout"
    page.locator("[data-testid=layer]").nth(n0 - 1).locator("[data-testid=layer-remove]").click()
    assert layer_count(page) == n0
    set_layer_param(page, 0, "out_features", 24)
    page.wait_for_function("document.querySelector('[data-testid=layer] [data-testid=layer-shape]')"
                           ".textContent.includes('24')")
    page.fill("[data-testid=noise]", "0.05")
    page.dispatch_event("[data-testid=noise]", "change")
    page.click("[data-testid=train]")
    page.wait_for_function(f"{ACC} >= 0.9", timeout=60000)
    page.wait_for_function("document.querySelector('[data-testid=boundary]').dataset.step > 0")
    assert int(page.get_attribute("[data-testid=pg-loss-chart]", "data-count")) > 10
    shot(page, "playground-circles")


def test_cnn_on_digits_to_90_with_feature_maps(page):
    open_pg(page)
    page.select_option("[data-testid=dataset]", "digits")
    types = page.eval_on_selector_all("[data-testid=layer]", "els => els.map(e => e.dataset.type)")
    assert types[0] == "Conv2d" and "Flatten" in types
    page.fill("[data-testid=epochs]", "6")
    page.dispatch_event("[data-testid=epochs]", "change")
    page.click("[data-testid=train]")
    page.wait_for_function(f"{ACC} >= 0.9", timeout=60000)
    page.click("[data-testid=sample][data-index='3']")
    page.wait_for_function("document.querySelector('[data-testid=feature-maps]').dataset.sample"
                           " === '3'")
    assert page.locator("[data-testid=feature-map-layer]").count() >= 3
    shot(page, "playground-digits")


def test_transformer_layer_from_the_builder_on_digit_rows(page):
    """A user swaps the sequence preset's GRU for a TransformerEncoderLayer, adds a Flatten,
    sets the heads, sees the shapes, picks NAdam and trains it past chance by far."""
    open_pg(page)
    page.select_option("[data-testid=dataset]", "digits_rows")
    page.locator("[data-testid=layer]").nth(0).locator("[data-testid=layer-type]").select_option(
        "TransformerEncoderLayer")
    page.select_option("[data-testid=add-layer-type]", "Flatten")
    page.click("[data-testid=add-layer]")
    page.locator("[data-testid=layer]").nth(2).locator("[data-testid=layer-up]").click()
    set_layer_param(page, 0, "nhead", 3)     # 3 does not divide the 8 features of a row
    page.wait_for_function("document.querySelector('[data-testid=layer] "
                           "[data-testid=layer-error]').textContent.includes('divide')")
    set_layer_param(page, 0, "nhead", 4)
    page.wait_for_function("document.querySelectorAll('[data-testid=layer-shape]')[1]"
                           ".textContent.includes('(64,)')")
    assert page.locator("[data-testid=layer]").nth(0).locator(
        "input[data-param=dim_feedforward]").input_value() == "32"
    page.select_option("[data-testid=optimizer]", "NAdam")
    page.wait_for_function("document.querySelector('[data-testid=code-view]').textContent"
                           ".includes('optim.NAdam(')")
    page.fill("[data-testid=epochs]", "3")
    page.dispatch_event("[data-testid=epochs]", "change")
    page.click("[data-testid=train]")
    page.wait_for_function(f"{ACC} >= 0.6", timeout=60000)
    shot(page, "playground-transformer")


def test_the_playground_tab_shows_and_drives_the_debuggers_session(page, server):
    """The first page's session is the builder's starting model: steps taken in the Debugger
    show in the Playground tab (loss, run state); Train goes on with that session after a
    pause, and Restart starts the same spec anew."""
    first = page.input_value("[data-testid=session]")
    for _ in range(3):   # three training steps from the Debugger's toolbar
        page.click("[data-testid=step-backward]")
        page.click("[data-testid=continue]")
        page.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=15000)
    page.wait_for_function("Number(document.querySelector('[data-testid=loss-chart]')"
                           ".dataset.count) >= 2", timeout=20000)
    open_pg(page)
    chart = "document.querySelector('[data-testid=pg-loss-chart]').dataset.count"
    page.wait_for_function(f"Number({chart}) >= 2", timeout=20000)
    assert page.get_attribute("#playground-root", "data-session") == first
    assert page.get_attribute("[data-testid=pg-run-state]", "data-state") == "paused"
    assert page.get_attribute("[data-testid=boundary]", "data-step") != ""
    # Train goes on from there: the same session, more steps
    before = int(page.evaluate(chart))
    page.click("[data-testid=train]")
    page.wait_for_function(f"Number({chart}) > {before + 5}", timeout=20000)
    page.click("[data-testid=pg-pause]")
    page.wait_for_selector("[data-testid=pg-run-state][data-state=paused]", timeout=15000)
    assert page.input_value("[data-testid=session]") == first
    assert server.gv.manager.get(first).job.alive()
    paused_at = int(page.evaluate(chart))
    page.click("[data-testid=train]")   # after a pause: on from the same step, not anew
    page.wait_for_function(f"Number({chart}) > {paused_at}", timeout=20000)
    assert page.input_value("[data-testid=session]") == first
    # Restart: the same spec in a new session, from step 1
    page.click("[data-testid=pg-restart]")
    page.wait_for_function(f"document.querySelector('[data-testid=session]').value !== '{first}'",
                           timeout=20000)
    page.wait_for_function(f"Number({chart}) >= 1", timeout=20000)
    second = page.input_value("[data-testid=session]")
    assert page.get_attribute("#playground-root", "data-session") == second
    assert not server.gv.manager.get(first).job.alive()   # one traced job per process
    # the list no longer calls the stopped session live
    label = f"document.querySelector('[data-testid=session] option[value=\"{first}\"]')"
    page.wait_for_function(f"{label}.textContent.endsWith('events')", timeout=15000)


def test_step_granularity_op_node_and_training_step(page, server):
    open_pg(page)
    page.select_option("[data-testid=step-granularity]", "step")
    page.click("[data-testid=pg-step]")
    page.wait_for_function("document.querySelector('[data-testid=pg-loss-chart]').dataset.count"
                           " === '1'", timeout=20000)
    page.wait_for_selector("[data-testid=pg-run-state][data-state=paused]")
    sid = page.get_attribute("#playground-root", "data-session")
    gate = server.gv.manager.get(sid).job.gate
    assert gate.wait_paused(20) is not None and gate.paused["at"] == "step" and gate.step == 1
    page.select_option("[data-testid=step-granularity]", "op")
    before = page.evaluate("window.gradviz.store.eventCount")
    page.click("[data-testid=pg-step]")
    page.wait_for_function(f"window.gradviz.store.eventCount > {before}")
    page.select_option("[data-testid=step-granularity]", "node")
    page.click("[data-testid=pg-step]")
    page.wait_for_selector("[data-testid=graph] [data-node-id][data-state=backward]",
                           state="attached", timeout=20000)
    assert page.get_attribute("[data-testid=pg-loss-chart]", "data-count") == "1"


def test_bad_specs_and_limits_show_next_to_the_cause(page):
    open_pg(page)
    set_layer_param(page, 0, "out_features", 100000)
    row = page.locator("[data-testid=layer]").nth(0)
    row.locator("[data-testid=layer-error][data-code=LAYER_TOO_WIDE]").filter(
        has_text="more than this server allows").wait_for()
    set_layer_param(page, 0, "out_features", 16)
    page.wait_for_selector("#playground-root[data-valid='1']")
    page.select_option("[data-testid=add-layer-type]", "Conv2d")
    page.click("[data-testid=add-layer]")
    last = page.locator("[data-testid=layer]").last
    last.locator("[data-testid=layer-error][data-code=SHAPE_MISMATCH]").wait_for()
    assert "Conv2d" in last.locator("[data-testid=layer-error]").text_content()
    page.click("[data-testid=train]")       # the server refuses; nothing starts
    last.locator("[data-testid=layer-error][data-code=SHAPE_MISMATCH]").wait_for()
    last.locator("[data-testid=layer-remove]").click()
    page.fill("[data-testid=epochs]", "100000000")
    page.dispatch_event("[data-testid=epochs]", "change")
    page.locator("[data-testid=field-error][data-for=epochs][data-code=TOO_MANY_EPOCHS]").filter(
        has_text="Epochs is 100000000").wait_for()
    page.click("[data-testid=pg-tab-json]")
    page.fill("[data-testid=spec-json]", '{"layers": [{"type": "Warp"}]}')
    page.click("[data-testid=spec-apply]")
    page.locator("[data-testid=layer-error]").filter(has_text="not a known layer type").wait_for()
    page.fill("[data-testid=spec-json]", "{not json")
    page.click("[data-testid=spec-apply]")
    page.locator("[data-testid=spec-json-error][data-code=BAD_JSON]").filter(
        has_text="not valid JSON").wait_for()
    shot(page, "playground-errors")
    unavailable = page.eval_on_selector_all("[data-testid=dataset] option[disabled]",
                                            "els => els.map(e => e.value)")
    for name in unavailable:
        assert page.locator(f"[data-testid=dataset-unavailable] [data-name={name}]").count() == 1
    if unavailable:   # one line each; a click shows which files are missing and where they go
        note = page.locator(f"[data-testid=dataset-unavailable] [data-name={unavailable[0]}]")
        assert not note.locator(".reason").is_visible()
        note.locator("summary").click()
        assert "not found" in note.locator(".reason").text_content()
        assert note.locator(".reason").is_visible()


def test_code_view_save_share_and_weights(page, server, browser, tmp_path):
    open_pg(page)
    code = page.text_content("[data-testid=code-view]")
    assert "nn.Sequential(" in code and "optim.Adam" in code and "gv.save" in code
    compile(code, "model.py", "exec")
    with page.expect_download() as d:
        page.click("[data-testid=save-spec]")
    with open(d.value.path()) as f:
        spec = json.load(f)
    assert spec["dataset"]["name"] == "spiral"
    page.click("[data-testid=copy-code]")
    page.wait_for_selector("[data-testid=pg-toast]")
    spec["dataset"] = {"name": "moons", "n": 120, "noise": 0.2}
    spec["layers"][0]["out_features"] = 5
    spec["layers"][-1]["out_features"] = 2   # moons has 2 classes (the default spiral 3)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    page.set_input_files("[data-testid=load-file]", str(path))
    page.wait_for_function("document.querySelector('[data-testid=code-view]').textContent"
                           ".includes('data.moons(120, noise=0.2')")
    assert page.input_value("[data-testid=dataset]") == "moons"
    set_layer_param(page, 0, "out_features", 7)
    page.wait_for_function("document.querySelector('[data-testid=code-view]').textContent"
                           ".includes('nn.Linear(2, 7)')")
    page.click("[data-testid=share]")
    url = page.input_value("[data-testid=share-url]")
    assert "#spec=" in url and server.token not in url
    spec2 = json.loads(base64.urlsafe_b64decode(url.split("#spec=")[1] + "==="))
    assert spec2["layers"][0]["out_features"] == 7
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        p2 = ctx.new_page()
        p2.goto(server.url + "#spec=" + url.split("#spec=")[1])
        p2.wait_for_selector("#playground-root[data-valid='1']", timeout=20000)
        assert p2.input_value("[data-testid=layer] input[data-param=out_features]") == "7"
    finally:
        ctx.close()
    page.click("[data-testid=pg-step]")
    page.wait_for_selector("[data-testid=pg-run-state][data-state=paused]")
    with page.expect_download() as d:
        page.click("[data-testid=download-weights]")
    import gradviz as gv
    state = gv.load(d.value.path())
    assert state["0.weight"].shape == (7, 2)


def test_code_mode_runs_attached(page):
    open_pg(page)
    page.click("[data-testid=pg-tab-codemode]")
    page.fill("[data-testid=code-editor]", "import gradviz as gv\nx = gv.tensor([1.0, 2.0], "
              "requires_grad=True)\n(x * x).sum().backward()\nprint('grad', x.grad.tolist())\n")
    page.click("[data-testid=code-run]")
    page.wait_for_selector("[data-testid=code-output][data-state=done]", timeout=60000)
    assert "grad [2.0, 4.0]" in page.text_content("[data-testid=code-output]")
    shot(page, "playground-code-mode")


@pytest.fixture
def open_server(tmp_path):
    srv = LiveServer(tmp_path, token=None)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_code_mode_refused_without_token(browser, open_server):
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        pg = ctx.new_page()
        pg.goto(open_server.base + "/")
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        open_pg(pg)
        pg.click("[data-testid=pg-tab-codemode]")
        pg.click("[data-testid=code-run]")
        pg.wait_for_selector("[data-testid=code-output][data-code=CODE_MODE_DISABLED]")
    finally:
        ctx.close()
