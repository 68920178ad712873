"""The debugger on the server's default session (MLP on the spiral set, paused before step 1):
stepping, inspector, run/pause/continue, breakpoints, loss chart, status, reconnect, errors."""
import re

from playwright.sync_api import expect

from conftest import count_state, shot

GRAPH_NODES = "[data-testid=graph] [data-node-id]"
OPS = "[data-testid=graph] [data-node-id][data-kind=op]"
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[-+]?\d+)?$")


def wait_count(page, selector, n, timeout=15000):
    page.wait_for_function("([s, n]) => document.querySelectorAll(s).length === n", arg=[selector, n],
                           timeout=timeout)


def wait_at_least(page, selector, n, timeout=15000):
    page.wait_for_function("([s, n]) => document.querySelectorAll(s).length >= n", arg=[selector, n],
                           timeout=timeout)


def backward_selector():
    return "[data-testid=graph] [data-node-id][data-state=backward]"


def test_page_connects_and_default_model_is_ready(page):
    page.wait_for_selector("[data-testid=status][data-state=connected]", timeout=15000)
    assert page.text_content("[data-testid=status]") == "connected"
    assert page.input_value("[data-testid=session]").startswith("mlp-spiral")
    page.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=15000)
    assert "before the next step" in page.text_content("[data-testid=run-state]")
    # nothing drawn yet: no empty minimap box over the graph; the live session says "live"
    assert page.locator("[data-testid=minimap]").is_hidden()
    label = page.eval_on_selector("[data-testid=session]", "s => s.selectedOptions[0].textContent")
    assert label.endswith("· playground · live"), label
    shot(page, "01-ready")


def test_step_forward_runs_one_op_per_click(page):
    for i in range(1, 5):
        page.click("[data-testid=step-forward]")
        wait_count(page, OPS, i)
    # The newest op is the current one; the others are done forward.
    assert count_state(page, "current") == 1
    assert page.locator(f"{OPS}[data-state=forward]").count() == 3


def test_each_step_backward_click_turns_exactly_one_more_node_backward(page):
    sel = backward_selector()
    page.click("[data-testid=step-backward]")
    wait_count(page, sel, 1)
    # the forward pass was finished first (Linear, Tanh, Linear, loss); under load the page
    # may draw the last op a frame after the first backward state: wait for it, do not race
    wait_at_least(page, OPS, 4)
    total_ops = page.locator(OPS).count()
    for n in range(2, total_ops + 1):
        page.click("[data-testid=step-backward]")
        wait_count(page, sel, n)
        page.wait_for_timeout(150)
        assert page.locator(sel).count() == n
        if n < total_ops:          # the node about to run backward is the current one
            assert count_state(page, "current") == 1
    shot(page, "02-stepped-backward")


def test_inspector_shows_value_gradient_rule_and_fan_in(page):
    page.click("[data-testid=step-backward]")
    page.click("[data-testid=step-backward]")
    wait_count(page, backward_selector(), 2)
    node = page.locator(backward_selector()).last
    node_id = node.get_attribute("data-node-id")
    node.click()
    insp = page.locator("[data-testid=inspector]")
    page.wait_for_function("id => document.querySelector('[data-testid=inspector]').dataset.nodeId === id", arg=node_id)
    assert NUMBER.match(insp.locator("[data-testid=grad-norm]").text_content())
    assert NUMBER.match(insp.locator("[data-testid=value-norm]").text_content())
    rule = insp.locator("[data-testid=backward-rule]")
    assert rule.is_visible() and "d" in rule.text_content()
    # Finish this backward pass: every parameter now has its summed gradient and fan-in.
    page.click("[data-testid=continue]")
    page.wait_for_selector("[data-testid=graph] [data-kind=param][data-grad]", timeout=15000)
    param = page.locator("[data-testid=graph] [data-kind=param][data-grad]").first
    param.click()
    fan = insp.locator("[data-testid=fan-in]")
    fan.wait_for()
    assert NUMBER.match(insp.locator("[data-testid=fan-in-sum]").text_content())
    assert NUMBER.match(insp.locator("[data-testid=grad-norm]").text_content())
    # Clicking an input link in the inspector selects that node.
    shot(page, "03-inspector-param")


def test_backward_rule_sends_each_gradient_to_its_own_input(page):
    """The first Linear reads the data (no grad) and its weight and bias: dW goes to the
    weight, db to the bias, and dx says it was not computed (not dW to the bias)."""
    page.click("[data-testid=step-backward]")
    page.click("[data-testid=continue]")
    wait_count(page, "[data-testid=graph] [data-kind=op][data-state=backward]", 4)
    first = page.locator("[data-testid=graph] [data-kind=op]:has-text('Linear')").first
    first.click()
    rule = page.locator("[data-testid=inspector] [data-testid=backward-rule]")
    rule.wait_for()
    rows = rule.locator(".rule-row")
    texts = {rows.nth(i).locator(".rule-lhs").text_content():
             rows.nth(i).locator("[data-testid=rule-result]") for i in range(rows.count())}
    assert set(texts) == {"dx", "dW", "db"}
    assert "input" in texts["dx"].text_content()
    assert "does not require grad" in texts["dx"].text_content()
    assert texts["dW"].locator("a").text_content().startswith("0.weight #")
    assert texts["db"].locator("a").text_content().startswith("0.bias #")
    # the norm shown for dW is the weight's gradient (its only use: the same as its .grad)
    w_norm = texts["dW"].text_content().split("‖")[1]
    texts["dW"].locator("a").click()
    # (waits: under load the leaf's accumulated gradient may reach the page a moment later)
    expect(page.locator("[data-testid=inspector] [data-testid=grad-norm]")).to_have_text(w_norm)


def test_run_pause_loss_chart_and_param_update(page):
    chart = page.locator("[data-testid=loss-chart]")
    page.click("[data-testid=run]")
    page.wait_for_function("document.querySelector('[data-testid=loss-chart]').dataset.count >= 3", timeout=20000)
    page.click("[data-testid=pause]")
    page.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=15000)
    count = int(chart.get_attribute("data-count"))
    assert count >= 3
    assert NUMBER.match(chart.get_attribute("data-last"))
    page.wait_for_timeout(300)
    assert int(chart.get_attribute("data-count")) <= count + 1     # paused means paused
    # A parameter shows its last optimizer update and update/weight ratio.
    page.locator("[data-testid=graph] [data-kind=param]").first.click()
    page.wait_for_selector("[data-testid=inspector] [data-testid=param-update]", timeout=15000)
    assert NUMBER.match(page.text_content("[data-testid=update-ratio]"))
    assert page.locator("[data-testid=grad-norms]").get_attribute("data-layers") not in (None, "0")
    shot(page, "04-after-run")


def test_breakpoint_on_op_type_pauses_there_and_selects_it(page):
    page.click("[data-testid=step-forward]")
    wait_count(page, OPS, 1)
    page.click("[data-testid=tab-breakpoints]")
    page.fill("[data-testid=bp-op]", "Tanh")
    page.click("[data-testid=bp-add-op]")
    page.wait_for_selector("[data-testid=breakpoint]")
    page.click("[data-testid=run]")
    page.wait_for_function(
        "() => { const n = document.querySelector('[data-testid=graph] [data-state=current]');"
        " return n && n.querySelector('.l1').textContent === 'Tanh'; }", timeout=15000)
    insp_id = page.get_attribute("[data-testid=inspector]", "data-node-id")
    cur = page.get_attribute("[data-testid=graph] [data-state=current]", "data-node-id")
    assert insp_id == cur
    shot(page, "05-breakpoint")


def test_gradient_norm_breakpoint_marks_an_anomaly(page):
    page.click("[data-testid=tab-breakpoints]")
    page.fill("[data-testid=bp-grad-norm]", "1e-12")
    page.click("[data-testid=bp-add-norm]")
    page.wait_for_selector("[data-testid=breakpoint]")
    page.click("[data-testid=run]")
    page.wait_for_selector("[data-testid=graph] [data-state=anomaly]", timeout=15000)
    banner = page.locator("[data-testid=anomaly]")
    assert banner.is_visible() and "norm" in banner.text_content()
    assert page.get_attribute("[data-testid=inspector]", "data-node-id") == \
        page.get_attribute("[data-testid=graph] [data-state=anomaly]", "data-node-id")


def test_reconnect_resumes_without_losing_or_repeating_events(page, server):
    page.click("[data-testid=step-forward]")
    page.click("[data-testid=step-forward]")
    wait_count(page, OPS, 2)
    page.evaluate("window.gradviz.conn.socket.io.engine.close()")
    page.wait_for_selector("[data-testid=status][data-state=disconnected]", timeout=5000)
    page.wait_for_selector("[data-testid=status][data-state=connected]", timeout=15000)
    page.click("[data-testid=step-forward]")
    wait_count(page, OPS, 3)
    sid = page.input_value("[data-testid=session]")
    page.wait_for_timeout(300)
    last = server.gv.manager.last_seq_of(sid)
    got = page.evaluate("[window.gradviz.store.eventCount, window.gradviz.store.lastSeq]")
    assert got == [last, last]


def test_server_errors_appear_in_the_page(page):
    page.click("[data-testid=tab-breakpoints]")
    page.fill("[data-testid=bp-op]", "X" * 150)    # the server refuses op names this long
    page.click("[data-testid=bp-add-op]")
    err = page.locator("[data-testid=error]")
    err.wait_for(state="visible", timeout=10000)
    assert err.text_content().strip()
    page.wait_for_function("document.querySelectorAll('[data-testid=breakpoint]').length === 0")
