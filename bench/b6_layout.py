"""B6: layout of autograd-shaped graphs (1k / 5k / 20k nodes), the UI's layout vs `dot`.

The UI's layout code (gradviz/static/js/layout.js) runs under Node on synthetic traced
residual-MLP graphs (gradviz/static/js/synth.js): the collapsed-by-module view (what a big
graph opens as, laid out as the UI does: Graphviz-wasm dot up to DOT_LIMIT view nodes, the
layered layout above) and the full graph (fast layered layout).
The same full graph is laid out by the `dot` binary in the same run. Median of repeats.
    python -m bench.b6_layout [--quick]
"""
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "gradviz" / "static" / "js"
GRAPHVIZ = ROOT / "node_modules" / "@hpcc-js" / "wasm-graphviz" / "dist" / "index.js"

NODE_SCRIPT = r"""
import { synthGraph } from "%(js)s/synth.js";
import { buildView, layered, layoutView, toDot } from "%(js)s/layout.js";
import { Graphviz } from "%(gv)s";
import { writeFileSync } from "node:fs";
const [sizes, repeats, outDir] = [%(sizes)s, %(repeats)d, %(out)s];
const gv = await Graphviz.load();
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const label = (r) => [r.op || r.name || "input", r.shape.join("x")];
const rows = [];
for (const n of sizes) {
  const recs = synthGraph(n);
  const full = [], coll = [];
  let view, cview, L, cengine;
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    cview = buildView(recs, { collapsed: true, labelOf: label });
    cengine = layoutView(cview, gv).engine;   // what the UI runs: dot, or layered above DOT_LIMIT
    coll.push(performance.now() - t);
    t = performance.now();
    view = buildView(recs, { labelOf: label });
    L = layered(view);
    full.push(performance.now() - t);
  }
  writeFileSync(`${outDir}/g${n}.dot`, toDot(view));
  rows.push({ nodes: recs.length, edges: view.edges.length, collapsed_nodes: cview.nodes.length,
    collapsed_ms: med(coll), collapsed_engine: cengine, full_ms: med(full), full_engine: "layered" });
}
console.log(JSON.stringify(rows));
"""


def _dot_seconds(path, timeout):
    t = time.perf_counter()
    try:
        subprocess.run(["dot", "-Tplain", str(path)], check=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - t


def run(quick=False):
    """Measure; returns {"rows": [...]} with ms figures and the ratio to `dot`."""
    if not shutil.which("node") or not GRAPHVIZ.exists():
        raise SystemExit("B6 needs node and node_modules (npm ci)")
    sizes = [1000, 5000] if quick else [1000, 5000, 20000]
    repeats = 3 if quick else 5
    dot_timeout = 20 if quick else 120
    with tempfile.TemporaryDirectory() as tmp:
        script = NODE_SCRIPT % {"js": JS.as_posix(), "gv": GRAPHVIZ.as_posix(), "sizes": json.dumps(sizes),
                                "repeats": repeats, "out": json.dumps(tmp)}
        out = subprocess.run(["node", "--no-warnings", "--input-type=module", "-e", script],
                             check=True, capture_output=True, text=True, cwd=ROOT)
        rows = json.loads(out.stdout.strip().splitlines()[-1])
        have_dot = shutil.which("dot") is not None
        for row in rows:
            row["dot_s"] = None
            if not have_dot:
                continue
            n = row["nodes"]
            dot_file = Path(tmp) / f"g{sizes[rows.index(row)]}.dot"
            # dot grows super-linearly (≈30 s at 5k): fewer repeats and a time cap for big graphs.
            reps = repeats if n <= 1500 else 1
            times = []
            for _ in range(reps):
                s = _dot_seconds(dot_file, dot_timeout)
                if s is None:
                    break
                times.append(s)
            if times:
                row["dot_s"] = statistics.median(times)
                row["full_vs_dot"] = row["full_ms"] / 1000 / row["dot_s"]
            else:
                row["dot_s"] = f">{dot_timeout}s (timed out)"
    return {"benchmark": "B6", "rows": rows,
            "targets": {"collapsed_ms": 100, "full_5k_ms": 2000, "20k": "does not fail"}}


def _print(res):
    print(f"{'nodes':>7} {'edges':>7} {'collapsed':>10} {'coll. ms':>9} {'full ms':>9} {'dot s':>14} {'full/dot':>9}")
    for r in res["rows"]:
        dot = r["dot_s"] if isinstance(r["dot_s"], str) else (f"{r['dot_s']:.2f}" if r["dot_s"] else "—")
        ratio = f"{r['full_vs_dot']:.4f}" if "full_vs_dot" in r else "—"
        print(f"{r['nodes']:>7} {r['edges']:>7} {r['collapsed_nodes']:>10} {r['collapsed_ms']:>9.1f} "
              f"{r['full_ms']:>9.1f} {dot:>14} {ratio:>9}")


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    _print(res)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "b6_layout.json").write_text(json.dumps(res, indent=2))
