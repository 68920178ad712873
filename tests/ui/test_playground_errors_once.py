"""The page's error box as a student meets it: each problem once, and never over a control.

Before: pressing Train with a layer whose shapes do not fit (or a bad learning rate) showed
the message next to the layer (or the field) *and* in the page's error box, since the server
also sends a failed request's error as an `error` message. And the box, fixed over the top of
the page, covered the Playground toolbar's step selector and step info while it was open.
Now a spec error the builder shows by its cause stays out of the box; the box (for errors
with no place on the page, e.g. a breakpoint the server refuses) sits in the page's flow
above the toolbar, in the Debugger and the Playground, in wide and narrow windows.
"""
import pytest
from playwright.sync_api import expect

from conftest import open_pg, shot

BOX = "[data-testid=error]"
ROOT = "#playground-root"


def record_server_errors(page):
    """Keep the codes of the server's `error` messages as they arrive (to wait on them)."""
    page.evaluate("""() => { window.__serverErrors = [];
      window.gradviz.conn.socket.on("error", (e) => window.__serverErrors.push(e && e.code)); }""")


def wait_server_error(page, code):
    """Wait until the server has sent `error {code}`; then past the page's hold of it (2 s)."""
    page.wait_for_function("(c) => window.__serverErrors.includes(c)", arg=code, timeout=15000)
    page.wait_for_timeout(2500)


def type_into(page, testid, text):
    box = page.locator(f"[data-testid={testid}]")
    box.click()
    box.press("Control+a")
    box.press_sequentially(text)
    box.press("Tab")


def add_conv_after_the_mlp(page):
    page.select_option("[data-testid=add-layer-type]", "Conv2d")
    page.click("[data-testid=add-layer]")
    page.wait_for_selector(f"{ROOT}[data-valid='0']")


def remove_every_layer(page):
    while page.locator("[data-testid=layer]").count():
        n = page.locator("[data-testid=layer]").count()
        page.locator("[data-testid=layer-remove]").first.click()
        page.wait_for_function(f"document.querySelectorAll('[data-testid=layer]').length < {n}")
    page.wait_for_selector(f"{ROOT}[data-valid='0']")


def refuse_a_breakpoint(page):
    """A breakpoint the server refuses (an op name too long): an error with no field."""
    page.click("[data-testid=tab-debugger]")
    page.click("[data-testid=tab-breakpoints]")
    page.fill("[data-testid=bp-op]", "X" * 150)
    page.click("[data-testid=bp-add-op]")
    item = page.locator(f"{BOX} .error-item").filter(has_text="The breakpoint was not set")
    item.wait_for(timeout=10000)
    return item


# each: how the student makes the spec invalid, the code, where the builder says it, its text
CASES = {
    "shape-mismatch": (add_conv_after_the_mlp, "SHAPE_MISMATCH",
                       "[data-testid=layer]:last-child [data-testid=layer-error]",
                       "Layer 4 (Conv2d) expects"),
    "learning-rate": (lambda page: type_into(page, "lr", "0"), "BAD_SPEC",
                      "[data-testid=field-error][data-for='optimizer.lr']",
                      "Learning rate must be a number above 0"),
    "no-layers": (remove_every_layer, "BAD_SPEC", "[data-testid=spec-error]",
                  "Add at least one layer"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_spec_error_on_train_shows_by_its_cause_only(page, case):
    make_invalid, code, where, text = CASES[case]
    open_pg(page)
    record_server_errors(page)
    make_invalid(page)
    page.click("[data-testid=train]")          # the server refuses; nothing starts
    wait_server_error(page, code)
    shown = page.locator(where)
    expect(shown).to_contain_text(text)
    assert shown.get_attribute("data-code") == code
    # the box shows nothing for it: it is hidden, with no item of the spec error
    expect(page.locator(BOX)).to_be_hidden()
    assert page.locator(f"{BOX} .error-item").count() == 0
    # an error with no place on the page still goes to the box, and only it
    item = refuse_a_breakpoint(page)
    expect(page.locator(BOX)).to_be_visible()
    assert page.locator(f"{BOX} .error-item").count() == 1
    assert item.get_attribute("data-code") != code
    # Train again: the same spec error, again only by its cause
    page.click("[data-testid=tab-playground]")
    page.evaluate("window.__serverErrors = []")
    page.click("[data-testid=train]")
    wait_server_error(page, code)
    expect(shown).to_contain_text(text)
    assert page.locator(f"{BOX} .error-item").count() == 1
    assert page.locator(f"{BOX} .error-item[data-code={code}]").count() == 0
    shot(page, f"errors-once-{case}")


TOPMOST = """(sel) => {
  const el = document.querySelector(sel), r = el.getBoundingClientRect();
  if (!r.width || !r.height) return `${sel} has no size`;
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (x >= innerWidth || y >= innerHeight) return `${sel} is outside the window`;
  const top = document.elementFromPoint(x, y);
  if (top && (top === el || el.contains(top))) return "ok";
  return `${sel} is covered by ${top ? top.outerHTML.slice(0, 80) : "nothing"}`;
}"""


def assert_not_covered(page, *selectors):
    for sel in selectors:
        assert page.evaluate(TOPMOST, sel) == "ok"


@pytest.mark.parametrize("width", [1400, 1000, 700])
def test_the_error_box_covers_no_control(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    open_pg(page)
    page.select_option("[data-testid=step-granularity]", "step")
    page.click("[data-testid=pg-step]")        # one training step: the step info says so
    page.wait_for_function(
        "document.querySelector('[data-testid=pg-step-info]').textContent.startsWith('step 1 /')",
        timeout=20000)
    refuse_a_breakpoint(page)                  # two messages: a taller box
    page.fill("[data-testid=bp-grad-norm]", "0")
    page.click("[data-testid=bp-add-norm]")    # the page refuses a threshold of 0
    page.wait_for_function("document.querySelectorAll('[data-testid=error] .error-item')"
                           ".length === 2", timeout=10000)
    page.wait_for_function("document.getElementById('step-info').textContent !== ''")
    assert_not_covered(page, "[data-testid=run]", "[data-testid=step-forward]",
                       "[data-testid=step-backward]", "#step-info")
    shot(page, f"error-box-debugger-{width}")
    page.click("[data-testid=tab-playground]")
    expect(page.locator(BOX)).to_be_visible()
    assert_not_covered(page, "[data-testid=step-granularity]", "[data-testid=pg-step-info]",
                       "[data-testid=train]", "[data-testid=pg-step]",
                       "[data-testid=pg-run-state]")
    shot(page, f"error-box-playground-{width}")
    # dismissing the messages gives the room back
    while page.locator(f"{BOX} .x").count():
        page.locator(f"{BOX} .x").first.click()
    expect(page.locator(BOX)).to_be_hidden()
    assert_not_covered(page, "[data-testid=step-granularity]", "[data-testid=pg-step-info]")
