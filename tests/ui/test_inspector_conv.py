"""The inspector's per-channel maps for a conv activation (a recorded conv step, replayed)."""
import pytest

from conftest import VIEWPORT, shot
from events import record_conv

CONV_EVENTS = record_conv(channels=4)     # traced before any server (and its job) exists


@pytest.fixture
def server(tmp_path):
    """A server without the default session: this test opens a recorded session only."""
    from conftest import LiveServer, _need_browser
    _need_browser()
    srv = LiveServer(tmp_path, default_session=False).start()
    try:
        yield srv
    finally:
        srv.stop()


def test_selecting_a_conv_node_shows_one_map_per_channel(browser, server):
    s = server.gv.manager.create("replay", prefix="conv")
    server.gv.manager.ingest_local(s, CONV_EVENTS)
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(f"{server.url}&session={s.id}")
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        pg.wait_for_function("n => Number(document.body.dataset.events) >= n", arg=len(CONV_EVENTS), timeout=20000)
        conv = pg.locator("[data-testid=graph] [data-kind=op]", has_text="Conv").first
        conv.click()
        insp = pg.locator("[data-testid=inspector]")
        pg.wait_for_function("id => document.querySelector('[data-testid=inspector]').dataset.nodeId === id",
                             arg=conv.get_attribute("data-node-id"))
        assert "Conv" in insp.locator("h3").text_content()
        assert "1×4×4×4" in insp.text_content()
        insp.locator("[data-testid=show-value]").click()
        maps = insp.locator("[data-testid=channel-maps]")
        maps.wait_for(timeout=10000)
        assert maps.locator("canvas").count() == 4                     # one map per channel
        assert maps.locator("figcaption").all_text_contents() == ["c0", "c1", "c2", "c3"]
        assert all(c.bounding_box()["width"] > 20 for c in maps.locator("canvas").all())
        # The gradient of the activation has its maps too.
        insp.locator("[data-testid=show-grad]").click()
        pg.wait_for_function("document.querySelectorAll('[data-testid=inspector] [data-testid=channel-maps]').length === 2")
        shot(pg, "20-conv-channel-maps")
    finally:
        ctx.close()
    assert not errors
