"""B7: browser render of a 5k-node / 6k-edge graph in headless Chromium.

Starts a gradviz server (no default session) holding one recorded session of a
synthetic residual network, opens the UI, then in the page: drops the model, ingests
the events again, renders the full (expanded) graph and times the first frame after the
data; then pans for 2 s with one pan per animation frame and counts frames. Median of repeats.
    python -m bench.b7_render [--quick]
"""
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ui"))

FIRST_FRAME_JS = """async () => {
  const g = window.gradviz;
  const id = g.conn.session;
  let after = 0, events = [];
  for (;;) {
    const r = await g.conn.getJSON(`/api/sessions/${id}/events`, { after, limit: 5000 });
    events = events.concat(r.events);
    if (!r.events.length || r.next === after) break;
    after = r.next;
  }
  g.store.reset(id); g.ctl.reset();
  g.ctl.userCollapse = true; g.ctl.collapsed = false;
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const t0 = performance.now();
  g.store.ingest(events);
  g.ctl.update(new Set(["structure", "view"]));
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const first = performance.now() - t0;
  return { first_ms: first, nodes: document.querySelectorAll('[data-testid=graph] [data-node-id]').length,
           edges: g.view.edges.length, drawn_nodes: g.view.drawn.size,
           drawn_edges: document.querySelectorAll('[data-testid=graph] .edge').length, engine: g.view.layout.engine };
}"""

PAN_JS = """async (ms) => {
  const v = window.gradviz.view;
  v.k = 0.6; v.apply();
  let frames = 0, dir = 1;
  const t0 = performance.now();
  await new Promise((ok) => {
    const tick = () => {
      frames++;
      v.panBy(4 * dir, 2 * dir);
      if (frames % 60 === 0) dir = -dir;
      if (performance.now() - t0 < ms) requestAnimationFrame(tick); else ok();
    };
    requestAnimationFrame(tick);
  });
  return frames / ((performance.now() - t0) / 1000);
}"""


def run(quick=False):
    """Measure first frame (ms) and panning fps for a 5k-node graph; returns a dict."""
    from playwright.sync_api import sync_playwright
    from conftest import ARGS, CHROMIUM, VIEWPORT, LiveServer
    from events import synthetic
    repeats = 3 if quick else 5
    events = synthetic(5000)
    with tempfile.TemporaryDirectory() as tmp:
        srv = LiveServer(Path(tmp), default_session=False).start()
        try:
            s = srv.gv.manager.create("replay", prefix="b7")
            srv.gv.manager.ingest_local(s, events)
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                try:
                    pg = b.new_page(viewport=VIEWPORT)
                    pg.goto(f"{srv.url}&session={s.id}")
                    pg.wait_for_selector("body[data-ready='1']", timeout=30000)
                    pg.wait_for_function(f"Number(document.body.dataset.events) >= {len(events)}", timeout=60000)
                    firsts, fps, info = [], [], None
                    for _ in range(repeats):
                        info = pg.evaluate(FIRST_FRAME_JS)
                        firsts.append(info["first_ms"])
                        fps.append(pg.evaluate(PAN_JS, 1000 if quick else 2000))
                finally:
                    b.close()
        finally:
            srv.stop()
    return {"benchmark": "B7", "nodes": info["nodes"], "edges": info["edges"], "layout": info["engine"],
            "drawn_nodes": info["drawn_nodes"], "drawn_edges": info["drawn_edges"],
            "first_frame_ms": statistics.median(firsts), "pan_fps": statistics.median(fps),
            "first_frame_all": firsts, "pan_fps_all": fps, "targets": {"first_frame_ms": 1000, "pan_fps": 30}}


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    print(f"B7: {res['nodes']} nodes / {res['edges']} edges ({res['layout']} layout): "
          f"first frame {res['first_frame_ms']:.0f} ms (target ≤ 1000), panning {res['pan_fps']:.1f} fps (target ≥ 30)")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "b7_render.json").write_text(json.dumps(res, indent=2))
