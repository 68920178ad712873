"""Playground messages as a student reads them (QA as a student, each defect fixed).

Before: a bad value said "BAD_SPEC: optimizer.lr must be a number between 1e-08 and 10.0
(got 0)" (a JSON path and a code, not the "Learning rate" label next to the box), and while
the spec was invalid the Code tab and the decision boundary kept showing the last valid model
with nothing saying so. The tests type what a student types and wait on page state.
"""
from playwright.sync_api import expect

from conftest import open_pg, shot

ROOT = "#playground-root"


def wait_valid(page, valid):
    page.wait_for_selector(f"{ROOT}[data-valid='{valid}']")


def type_into(page, testid, text):
    """Select what the box holds, type `text` key by key and leave the box (Tab)."""
    box = page.locator(f"[data-testid={testid}]")
    box.click()
    box.press("Control+a")
    if text:
        box.press_sequentially(text)
    else:
        box.press("Delete")
    box.press("Tab")


def field_error(page, path):
    return page.locator(f"[data-testid=field-error][data-for='{path}']")


def assert_plain(text):
    """No code or JSON path in what the student reads."""
    for internal in ("BAD_SPEC", "SHAPE_MISMATCH", "optimizer.", "dataset.", "layers[",
                     "out_features", "1e-08", "non-empty list", "_"):
        assert internal not in text, (internal, text)


def test_learning_rate_message_uses_its_label(page):
    open_pg(page)
    type_into(page, "lr", "0")
    wait_valid(page, "0")
    err = field_error(page, "optimizer.lr")
    expect(err).to_have_text("Learning rate must be a number above 0 and at most 10 "
                             "(you entered 0)")
    assert_plain(err.text_content())
    # the code and the path stay on the element for tests and debugging
    assert err.get_attribute("data-code") == "BAD_SPEC"
    assert err.get_attribute("data-path") == "optimizer.lr"
    type_into(page, "lr", "")
    expect(err).to_have_text("Learning rate must be a number above 0 and at most 10 "
                             "(the box is empty)")
    type_into(page, "lr", "0.05")
    wait_valid(page, "1")
    expect(err).to_have_text("")
    assert err.get_attribute("data-code") is None


def test_points_and_epochs_messages_use_their_labels(page):
    open_pg(page)
    type_into(page, "n", "3")
    err = field_error(page, "dataset.n")
    expect(err).to_contain_text("Points must be a whole number from 8 to")
    expect(err).to_contain_text("(you entered 3)")
    assert_plain(err.text_content())
    type_into(page, "n", "200")
    wait_valid(page, "1")
    type_into(page, "epochs", "100000000")
    err = field_error(page, "epochs")
    expect(err).to_contain_text("Epochs is 100000000, more than this server allows (at most ")
    assert err.get_attribute("data-code") == "TOO_MANY_EPOCHS"
    assert "max_epochs" not in err.text_content()


def test_removing_every_layer_says_add_a_layer(page):
    open_pg(page)
    while page.locator("[data-testid=layer]").count():
        n = page.locator("[data-testid=layer]").count()
        page.locator("[data-testid=layer-remove]").first.click()
        page.wait_for_function(f"document.querySelectorAll('[data-testid=layer]').length < {n}")
    wait_valid(page, "0")
    box = page.locator("[data-testid=spec-error]")
    expect(box).to_be_visible()
    expect(box).to_have_text("Add at least one layer")
    assert box.get_attribute("data-path") == "layers"
    shot(page, "messages-no-layers")


def test_layer_setting_message_names_the_row_and_its_label(page):
    open_pg(page)
    row = page.locator("[data-testid=layer]").nth(0)
    width = row.locator("input[data-param=out_features]")
    width.click()
    width.press("Control+a")
    width.press("Delete")
    width.press("Tab")
    err = row.locator("[data-testid=layer-error]")
    expect(err).to_contain_text("Layer 1 (Linear): out must be a whole number from 1 to ")
    expect(err).to_contain_text("(the box is empty)")
    assert err.get_attribute("data-path") == "layers[0].out_features"
    assert_plain(err.text_content())


def test_bad_json_in_spec_json_is_said_plainly(page):
    open_pg(page)
    page.click("[data-testid=pg-tab-json]")
    page.fill("[data-testid=spec-json]", "{not json")
    page.click("[data-testid=spec-apply]")
    err = page.locator("[data-testid=spec-json-error]")
    expect(err).to_contain_text("That is not valid JSON")
    assert err.get_attribute("data-code") == "BAD_JSON"
    page.fill("[data-testid=spec-json]", '{"layers": [{"type": "Warp"}]}')
    page.click("[data-testid=spec-apply]")
    expect(page.locator("[data-testid=layer-error]")).to_have_text(
        "Layer 1: “Warp” is not a known layer type; pick one from the list")


def test_code_and_boundary_are_marked_out_of_date_while_the_spec_is_invalid(page):
    open_pg(page)
    code_note = page.locator("[data-testid=code-stale]")
    viz_note = page.locator("[data-testid=viz-stale]")
    expect(code_note).to_be_hidden()
    expect(viz_note).to_be_hidden()
    code = page.locator("[data-testid=code-view]")
    before = code.text_content()
    assert before
    type_into(page, "lr", "-1")
    wait_valid(page, "0")
    expect(code_note).to_be_visible()
    expect(code_note).to_contain_text("showing the last valid model")
    expect(viz_note).to_be_visible()
    expect(viz_note).to_contain_text("showing the last valid model")
    assert code.text_content() == before     # still the last valid model's script
    shot(page, "messages-stale")
    type_into(page, "lr", "0.25")
    wait_valid(page, "1")
    expect(code_note).to_be_hidden()
    expect(viz_note).to_be_hidden()
    expect(code).to_contain_text("lr=0.25")
