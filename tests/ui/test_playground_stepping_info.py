"""Playground step info while stepping op by op, and the page's error box in plain words.

Before: with the step selector on "forward op" or "backward node" the step info
(`pg-step-info`) stayed empty until the step's loss arrived, so a student stepping through
the forward pass could not see where they were; it now says "step 1 / 500 · forward: Linear
(op 1)" from the first op on. And the page's error box said "SHAPE_MISMATCH layer 4 ..." (the
server's code) for a model whose shapes do not fit, "BAD_SPEC optimizer.lr must be ..." (a
code and a JSON path) for a bad value; it now says what the Playground's fields say, the code
staying in `data-code`. The tests click and type what a student would and wait on page state.
"""
import re
from pathlib import Path

from playwright.sync_api import expect

from conftest import open_pg, shot

ROOT = Path(__file__).resolve().parents[2]
INFO = "[data-testid=pg-step-info]"
STEP = "[data-testid=pg-step]"


def session_of(page, server):
    sid = page.get_attribute("#playground-root", "data-session")
    assert sid, "the Playground follows no session"
    return server.gv.manager.get(sid)


def total_steps(page, server):
    """The job's number of training steps, as the server planned it."""
    return session_of(page, server).job.spec["steps"]


def click_step(page, expected):
    """Click Step and wait until the step info says `expected`."""
    page.click(STEP)
    expect(page.locator(INFO)).to_have_text(expected, timeout=20000)


def assert_gate_at(page, server, step, phase=None, at=None):
    """The server's gate is paused in `step` (0-based) and `phase` (or `at` a stop point), as
    the step info says."""
    gate = session_of(page, server).job.gate
    paused = gate.wait_paused(20)
    assert paused is not None
    assert paused["step"] == step, paused
    assert phase is None or paused["phase"] == phase, paused
    assert at is None or paused["at"] == at, paused


def test_forward_op_stepping_names_the_step_and_the_op(page, server):
    open_pg(page)
    page.select_option("[data-testid=step-granularity]", "op")
    expect(page.locator(INFO)).to_have_text("")          # paused before the first step
    total = total_steps(page, server)
    # the default model: Linear, Tanh, Linear and the loss (the Debugger lists the same ops)
    for i, op in enumerate(["Linear", "Tanh", "Linear", "CrossEntropy"]):
        click_step(page, f"step 1 / {total} · forward: {op} (op {i + 1})")
        assert_gate_at(page, server, 0, "forward")
    # the Debugger's step info says the same step and pass
    assert page.text_content("#step-info").startswith("step 1 · ")
    assert page.text_content("#step-info").endswith(" · forward")
    shot(page, "stepping-info-forward")
    # the next op is the next step's first: its loss (step 1) came on the way
    click_step(page, f"step 2 / {total} · forward: Linear (op 1)")
    assert_gate_at(page, server, 1, "forward")
    chart = page.locator("[data-testid=pg-loss-chart]")
    expect(chart).to_have_attribute("data-count", "1")
    assert page.text_content("#step-info").startswith("step 2 · ")


def test_backward_node_stepping_names_the_node_and_a_training_step_ends_it(page, server):
    open_pg(page)
    page.select_option("[data-testid=step-granularity]", "node")
    total = total_steps(page, server)
    # the engine's backward order: the loss, the last Linear, Tanh, the first Linear
    for i, op in enumerate(["CrossEntropy", "Linear", "Tanh"]):
        click_step(page, f"step 1 / {total} · backward: {op} (node {i + 1} / 4)")
        assert_gate_at(page, server, 0, "backward")
    assert page.text_content("#step-info").endswith(" · backward")
    click_step(page, f"step 1 / {total} · backward done")
    shot(page, "stepping-info-backward")
    # a whole training step finishes this one: the info is the last loss's step again
    page.select_option("[data-testid=step-granularity]", "step")
    page.click(STEP)
    expect(page.locator("[data-testid=pg-loss-chart]")).to_have_attribute("data-count", "1",
                                                                          timeout=20000)
    expect(page.locator(INFO)).to_have_text(f"step 1 / {total}")
    assert_gate_at(page, server, 1, at="step")
    expect(page.locator(INFO)).to_have_text(f"step 1 / {total}")   # before step 2 starts


# ---- the page's error box -------------------------------------------------------------------
def error_item(page, code):
    item = page.locator(f"[data-testid=error] .error-item[data-code={code}]").last
    item.wait_for(timeout=20000)
    return item


def assert_plain(text, code):
    """No code, JSON path or limit name in what the student reads."""
    assert text.strip()
    for internal in (code, "BAD_SPEC", "layers[", "optimizer.", "max_", "_"):
        assert internal not in text, (internal, text)


def add_layer(page, kind):
    n = page.locator("[data-testid=layer]").count()
    page.select_option("[data-testid=add-layer-type]", kind)
    page.click("[data-testid=add-layer]")
    page.wait_for_function(f"document.querySelectorAll('[data-testid=layer]').length === {n + 1}")


def cause_error(page, selector, code):
    """The message shown next to its cause (a layer row or a field), once the server's
    answer to Train tagged it with ``code`` (spec errors are shown there only, not in the
    page's error box: test_playground_errors_once.py)."""
    item = page.locator(f"{selector}[data-code={code}]").last
    item.wait_for(timeout=20000)
    return item


def test_shapes_that_do_not_fit_are_said_in_words_when_training(page):
    open_pg(page)
    add_layer(page, "Conv2d")                # a convolution after the MLP's flat output
    page.wait_for_selector("#playground-root[data-valid='0']")
    page.click("[data-testid=train]")        # the server refuses; nothing starts
    item = cause_error(page, "[data-testid=layer] [data-testid=layer-error]", "SHAPE_MISMATCH")
    text = item.text_content()
    assert text.startswith("Layer 4 (Conv2d) expects (channels, height, width)"), text
    assert_plain(text, "SHAPE_MISMATCH")
    assert item.get_attribute("data-path") == "layers[3]"
    shot(page, "error-shape-mismatch")


def test_a_bad_value_is_said_with_its_label_when_training(page):
    open_pg(page)
    lr = page.locator("[data-testid=lr]")
    lr.click()
    lr.press("Control+a")
    lr.press_sequentially("0")
    lr.press("Tab")
    page.wait_for_selector("#playground-root[data-valid='0']")
    page.click("[data-testid=train]")
    item = cause_error(page, "[data-testid=field-error][data-for=\"optimizer.lr\"]", "BAD_SPEC")
    text = item.text_content().strip()
    assert text == "Learning rate must be a number above 0 and at most 10 (you entered 0)", text
    assert item.get_attribute("data-path") == "optimizer.lr"


def test_too_many_epochs_is_said_as_the_servers_limit_when_training(page):
    open_pg(page)
    epochs = page.locator("[data-testid=epochs]")
    epochs.click()
    epochs.press("Control+a")
    epochs.press_sequentially("100000000")
    epochs.press("Tab")
    page.wait_for_selector("#playground-root[data-valid='0']")
    page.click("[data-testid=train]")
    text = cause_error(page, "[data-testid=field-error][data-for=epochs]",
                       "TOO_MANY_EPOCHS").text_content().strip()
    assert re.fullmatch(r"Epochs is 100000000, more than this server allows \(at most \d+\)",
                        text), text


def test_a_breakpoint_the_server_refuses_is_said_in_words(page):
    page.click("[data-testid=tab-breakpoints]")
    page.fill("[data-testid=bp-op]", "X" * 150)    # the server refuses op names this long
    page.click("[data-testid=bp-add-op]")
    item = page.locator("[data-testid=error] .error-item").last
    item.wait_for(timeout=10000)
    code = item.get_attribute("data-code")
    text = item.text_content().replace("×", "")
    assert code and code not in text, (code, text)
    assert text.startswith("The breakpoint was not set: "), text


def test_code_mode_syntax_error_is_said_in_words(page):
    open_pg(page)
    page.click("[data-testid=pg-tab-codemode]")
    page.fill("[data-testid=code-editor]", "print('hi'\n")
    page.click("[data-testid=code-run]")
    out = page.locator("[data-testid=code-output][data-code=SYNTAX_ERROR]")
    out.wait_for(timeout=20000)
    assert out.text_content().startswith("Your code has a syntax error (line "), \
        out.text_content()
    assert "SYNTAX_ERROR" not in out.text_content()
    box = error_item(page, "SYNTAX_ERROR").text_content()
    assert box.startswith("Your code has a syntax error (line ") and "SYNTAX_ERROR" not in box


def server_codes():
    """Every error code gradviz's server code can send (``ApiError("CODE", ...)`` and kin)."""
    codes = set()
    pat = re.compile(r"(?:ApiError|LimitError|SpecError|SpecLimitError)\(\s*\"([A-Z_]+)\"|"
                     r"\"code\": \"([A-Z_]+)\"|code = \"([A-Z_]+)\"|"
                     r"(?:_limit|check_limit)\([^)]*?\"([A-Z][A-Z_]+)\"")
    for path in (ROOT / "gradviz").rglob("*.py"):
        for m in pat.finditer(path.read_text(encoding="utf-8")):
            codes.update(g for g in m.groups() if g)
    return sorted(codes)


def test_every_server_code_reads_as_words(page):
    """The error box's wording function over every code the server can send (found in its
    source) and those the page makes: a sentence without the code or a JSON path."""
    codes = server_codes()
    assert {"SHAPE_MISMATCH", "BAD_SPEC", "INTERNAL", "TENSOR_TOO_LARGE"} <= set(codes), codes
    codes += ["UI", "GRAPHVIZ", "EXPORT", "JOB", "CONNECT", "GAP", "BREAKPOINT", "ERROR",
              "HTTP_500"]
    got = page.evaluate("""async (codes) => {
      const { plainError } = await import("/static/js/playground_messages.js");
      return codes.map((code) => [code, plainError({ code, message: "a b.c must be one of (x)",
        ...(code.startsWith("TOO_") || code.endsWith("_TOO_LARGE")
          ? { limit: { name: "max_x", value: 3 } } : {}) })]);
    }""", codes)
    for code, text in got:
        assert text and code not in text, (code, text)
        assert "max_x" not in text, (code, text)
