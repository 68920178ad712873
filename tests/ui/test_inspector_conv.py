"""The inspector's pictures of recorded steps, replayed: per-channel maps of a conv activation,
the block-mean heatmap of a big 2-D tensor (``thumb8``, and the old ``thumb`` form)."""
import base64
import copy

import numpy as np
import pytest

from conftest import open_recorded, shot
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
    ctx, pg, errors = open_recorded(browser, server, CONV_EVENTS, prefix="conv")
    try:
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


def record_big_tanh():
    """One step of tanh(x).sum() on a 64×64 x with a NaN in its first block: the tanh
    output's preview is a 32×32 ``thumb8`` with one non-finite cell."""
    import gradviz as gv
    a = np.random.default_rng(2).standard_normal((64, 64)).astype(np.float32)
    a[0, 0] = np.nan
    x = gv.tensor(a, requires_grad=True)
    with gv.trace.record() as rec:
        x.tanh().sum().backward()
        events = [dict(e) for e in rec.events]
    for e in events:
        e.pop("session", None)
        e.pop("seq", None)
    return events


def as_old_thumb(events):
    """The same events with the pre-thumb8 preview (``thumb``: nested lists of block means)."""
    out = copy.deepcopy(events)
    for e in out:
        for p in (e.get("preview"), (e.get("grad") or {}).get("preview")):
            if p and "thumb8" in p:
                t = p.pop("thumb8")
                q = np.frombuffer(base64.b64decode(t["b64"]), np.uint8).reshape(t["rows"], t["cols"])
                grid = (t["lo"] + q * (t["hi"] - t["lo"]) / 255).round(4).tolist()
                if "nonfinite" in t:
                    mask = np.frombuffer(base64.b64decode(t["nonfinite"]), np.uint8)
                    for k in np.nonzero(mask)[0].tolist():
                        grid[k // t["cols"]][k % t["cols"]] = ["nan", "inf", "-inf"][mask[k] - 1]
                p["thumb"] = grid
    return out


TANH_EVENTS = record_big_tanh()
HEAT_JS = """() => {
  const pic = document.querySelector('[data-testid=inspector] [data-testid=value-heatmap]');
  if (!pic) return null;
  const c = pic.querySelector('canvas'), ctx = c.getContext('2d');
  const px = (x, y) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
  return { source: pic.dataset.source, rows: pic.dataset.rows, cols: pic.dataset.cols,
           title: pic.querySelector('.pic-title').textContent,
           nan: px(1, 1), other: px(c.width - 2, c.height - 2) };
}"""


@pytest.mark.parametrize("form", ["thumb8", "thumb"])
def test_a_big_2d_tensor_shows_its_block_mean_heatmap(browser, server, form):
    """New events carry ``thumb8``; old recordings (``thumb``) still render the same picture."""
    events = TANH_EVENTS if form == "thumb8" else as_old_thumb(TANH_EVENTS)
    ctx, pg, errors = open_recorded(browser, server, events, prefix=form)
    try:
        node = pg.locator("[data-testid=graph] [data-kind=op]", has_text="Tanh").first
        node.click()
        pg.wait_for_function("id => document.querySelector('[data-testid=inspector]').dataset.nodeId === id",
                             arg=node.get_attribute("data-node-id"))
        pg.wait_for_function(f"({HEAT_JS})() !== null", timeout=10000)
        got = pg.evaluate(HEAT_JS)
        assert (got["source"], got["rows"], got["cols"]) == (form, "32", "32")
        assert "block means, 32×32" in got["title"]
        assert got["nan"] == [250, 204, 21]            # the NaN block is marked
        assert got["other"] != [250, 204, 21]
        if form == "thumb8":
            shot(pg, "21-inspector-thumb8-heatmap")
    finally:
        ctx.close()
    assert not errors
