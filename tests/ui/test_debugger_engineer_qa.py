"""Debugger-page defects found by an ML engineer's QA pass on a small ResNet (conv, BatchNorm,
residual adds) attached with gv.attach: an expanded module could not be folded back on its
own, a narrow window scrolled sideways when a sidebar input took the focus, and the
breakpoint panel's "no such op" warning overflowed the panel and outlived its breakpoint."""
from conftest import attached_script, shot

GROUPS = "els => els.map(e => e.dataset.group)"
WARN = "[data-testid=bp-op-warning]"
LONG_OP = "ThisIsAVeryLongOperationNameThatMatchesNoOpOfThisGraphAtAllEvenWhenTrained"

RESNET = """
import sys
import gradviz as gv
import gradviz.nn as nn
import gradviz.nn.functional as F

url, token, session = sys.argv[1:4]
gv.attach(url, token=token, session=session, paused=True)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.stage1 = nn.Sequential(Block(4, 4, 1))
        self.stage2 = nn.Sequential(Block(4, 4, 1))
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = self.stage2(self.stage1(F.relu(self.stem(x))))
        return self.fc(x.mean(dim=(2, 3)))


gv.manual_seed(0)
model = Net()
opt = gv.optim.SGD(model.parameters(), lr=0.05)
for step in range(100000):
    loss = F.cross_entropy(model(gv.randn(2, 3, 6, 6)), gv.randint(0, 3, (2,)))
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


def groups(pg):
    return pg.eval_on_selector_all("[data-testid=graph] [data-group]", GROUPS)


def test_an_expanded_module_folds_back_from_the_inspector(browser, server, tmp_path):
    """Modules collapsed, a click expands a group, but nothing folded one group back: only
    the Modules button, which folds (or unfolds) every module at once. The inspector of a
    node inside an expanded module now offers "Collapse <module>" for each level."""
    with attached_script(browser, server, tmp_path, RESNET, "resnet") as pg:
        pg.click("[data-testid=continue]")               # the whole forward pass
        pg.wait_for_function(
            "document.querySelector('[data-testid=run-state]').textContent.includes('backward')",
            timeout=20000)
        pg.click("[data-testid=collapse]")
        pg.wait_for_selector("[data-testid=graph] [data-group=stage1]", timeout=10000)
        pg.click("[data-testid=graph] [data-group=stage1]")
        pg.wait_for_selector("[data-testid=graph] [data-group='stage1.0']", timeout=10000)
        pg.click("[data-testid=graph] [data-group='stage1.0']")
        add = "[data-testid=graph] [data-node-id][data-kind=op]:has(.l1:text-is('Add'))"
        pg.wait_for_selector(add, timeout=10000)
        assert pg.locator(add).count() == 1              # stage2's Add is still folded away
        pg.click(add)
        buttons = "[data-testid=inspector] [data-testid=collapse-module]"
        pg.wait_for_selector(buttons, timeout=10000)
        shot(pg, "engineer_collapse_offer")
        offered = pg.eval_on_selector_all(buttons, GROUPS)
        assert offered == ["stage1.0", "stage1"], offered
        pg.click(f"{buttons}[data-group=stage1]")
        pg.wait_for_selector(add, state="detached", timeout=10000)
        assert "stage1" in groups(pg) and "stage1.0" not in groups(pg), groups(pg)
        assert pg.locator(buttons).count() == 0
        shot(pg, "engineer_collapsed_back")


def test_a_narrow_window_does_not_scroll_sideways_when_a_sidebar_input_is_focused(page):
    """Below ~740 px the graph column and the 400 px sidebar were wider than the window:
    the page was 734 px wide in a 700 px window, and focusing the gradient-norm box
    scrolled the whole page sideways (the top bar and toolbar slid off to the left)."""
    page.set_viewport_size({"width": 600, "height": 800})
    page.click("[data-testid=step-forward]")
    page.wait_for_selector("[data-testid=graph] [data-node-id]", timeout=15000)
    page.click("[data-testid=tab-breakpoints]")
    page.focus("[data-testid=bp-grad-norm]")
    page.wait_for_timeout(200)
    shot(page, "engineer_narrow_focus")
    m = page.evaluate("""() => ({width: document.documentElement.scrollWidth,
        left: document.documentElement.scrollLeft + document.body.scrollLeft,
        side: document.querySelector('.side').getBoundingClientRect().right})""")
    assert m["width"] <= 600 and m["left"] == 0 and m["side"] <= 600, m


def test_a_long_op_name_warning_and_breakpoint_stay_inside_the_panel(page):
    """The "no such op" warning for a long op name ran past the panel's right edge, and so
    did the breakpoint's row in the list (under its × button)."""
    page.click("[data-testid=step-forward]")
    page.wait_for_selector("[data-testid=graph] [data-node-id]", timeout=15000)
    page.click("[data-testid=tab-breakpoints]")
    page.fill("[data-testid=bp-op]", LONG_OP)
    page.click("[data-testid=bp-add-op]")
    page.wait_for_selector(f"{WARN}:not([hidden])", timeout=10000)
    page.wait_for_selector("[data-testid=breakpoint]", timeout=10000)
    shot(page, "engineer_long_op_warning")
    for sel in (WARN, "[data-testid=breakpoint] span"):
        m = page.eval_on_selector(sel, """e => ({scroll: e.scrollWidth, client: e.clientWidth,
            right: e.getBoundingClientRect().right,
            panel: document.querySelector('.breakpoints-panel').getBoundingClientRect().right})""")
        assert m["scroll"] <= m["client"] and m["right"] <= m["panel"], (sel, m)


def test_removing_the_breakpoint_takes_its_no_such_op_warning_away(page):
    """After the breakpoint for an unknown op was removed, its warning ("The breakpoint
    stays: it fires if such an op runs later") stayed on screen about a breakpoint that
    was gone."""
    page.click("[data-testid=step-forward]")
    page.wait_for_selector("[data-testid=graph] [data-node-id]", timeout=15000)
    page.click("[data-testid=tab-breakpoints]")
    page.fill("[data-testid=bp-op]", "Softplus")
    page.click("[data-testid=bp-add-op]")
    page.wait_for_selector(f"{WARN}:not([hidden])", timeout=10000)
    page.click("[data-testid=breakpoint] button")
    page.wait_for_selector("[data-testid=breakpoint]", state="detached", timeout=10000)
    assert page.locator(WARN).is_hidden(), page.text_content(WARN)
