// Graph layout: the view graph (nodes, possibly collapsed into module groups), Graphviz
// `dot` for small and medium graphs, and a fast layered layout for graphs too big for dot.
// No DOM here: bench/b6_layout.py runs this module under Node.

export const DOT_LIMIT = 700;       // above this many view nodes, dot is too slow: use layered()
export const COLLAPSE_ABOVE = 300;  // graphs with more nodes open collapsed by module
const CHAR_W = 7.2, NODE_H = 38, PAD_X = 22;

/** Box size for a node label (px), the same estimate for dot and for the renderer. */
export function nodeSize(label, sub) {
  const chars = Math.max(label.length, (sub || "").length * 0.85);
  return { w: Math.max(56, Math.round(chars * CHAR_W + PAD_X)), h: NODE_H };
}

function groupOf(module, expanded) {
  if (!module) return null;
  const parts = module.split(".");
  for (let k = 1; k <= parts.length; k++) {
    const prefix = parts.slice(0, k).join(".");
    if (!expanded.has(prefix)) return prefix;
  }
  return null;
}

/**
 * The graph to draw for one step: nodes of type node/group, and edges between them.
 * `records` are {id, kind, op, name, shape, module, slot, inSlots}: `slot` names a node
 * across steps and `inSlots` are its inputs' slots;
 * with `collapsed`, modules not in `expanded` become one group node each.
 */
export function buildView(records, { collapsed = false, expanded = new Set(), labelOf } = {}) {
  const nodes = [], edges = [], keyOf = new Map(), groups = new Map();
  for (const r of records) {
    const g = collapsed ? groupOf(r.module, expanded) : null;
    if (g) {
      let gn = groups.get(g);
      if (!gn) {
        gn = { key: `g:${g}`, group: g, members: [], label: g, sub: "" };
        groups.set(g, gn);
        nodes.push(gn);
      }
      gn.members.push(r.id);
      keyOf.set(r.slot, gn.key);
    } else {
      const [label, sub] = labelOf ? labelOf(r) : [r.op || r.name || "input", ""];
      const n = { key: r.slot, id: r.id, rec: r, label, sub };
      nodes.push(n);
      keyOf.set(r.slot, n.key);
    }
  }
  for (const gn of groups.values()) gn.sub = `${gn.members.length} nodes · click to expand`;
  const seen = new Set();
  for (const r of records) {
    if (!r.inSlots) continue;
    const to = keyOf.get(r.slot);
    for (const i of r.inSlots) {
      const from = keyOf.get(i);
      if (!from || from === to) continue;
      const k = from + ">" + to;
      if (seen.has(k)) continue;
      seen.add(k);
      edges.push({ from, to });
    }
  }
  for (const n of nodes) Object.assign(n, nodeSize(n.label, n.sub));
  return { nodes, edges };
}

/** The view graph as DOT (node names are indices, sizes fixed so dot and the renderer agree). */
export function toDot(view, { withLabels = false } = {}) {
  const idx = new Map(view.nodes.map((n, i) => [n.key, i]));
  const q = (s) => '"' + String(s).replace(/["\\]/g, "\\$&") + '"';
  const lines = ["digraph G {", " graph [rankdir=TB, nodesep=0.3, ranksep=0.45];",
    " node [shape=box, fixedsize=true];"];
  for (const n of view.nodes) {
    const lab = withLabels ? `, label=${q(n.label + (n.sub ? "\\n" + n.sub : ""))}` : ', label=""';
    lines.push(` n${idx.get(n.key)} [width=${(n.w / 72).toFixed(3)}, height=${(n.h / 72).toFixed(3)}${lab}];`);
  }
  for (const e of view.edges) lines.push(` n${idx.get(e.from)} -> n${idx.get(e.to)};`);
  lines.push("}");
  return lines.join("\n");
}

/** Positions from Graphviz `plain` output: {nodes: Map key->{x,y}, edges: Map "a>b"->points, width, height}. */
export function parsePlain(text, view) {
  const out = { nodes: new Map(), edges: new Map(), width: 0, height: 0 };
  let H = 0;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "graph") { out.width = +f[2] * 72; H = +f[3]; out.height = H * 72; }
    else if (f[0] === "node") {
      const n = view.nodes[+f[1].slice(1)];
      out.nodes.set(n.key, { x: +f[2] * 72, y: (H - +f[3]) * 72 });
    } else if (f[0] === "edge") {
      const a = view.nodes[+f[1].slice(1)], b = view.nodes[+f[2].slice(1)];
      const count = +f[3], pts = [];
      for (let i = 0; i < count; i++) pts.push([+f[4 + 2 * i] * 72, (H - +f[5 + 2 * i]) * 72]);
      out.edges.set(a.key + ">" + b.key, pts);
    }
  }
  return out;
}

/** Lay out with Graphviz dot (a loaded @hpcc-js/wasm-graphviz instance). */
export function layoutDot(view, graphviz) {
  const text = graphviz.layout(toDot(view), "plain", "dot");
  return parsePlain(text, view);
}

/**
 * A fast layered (Sugiyama-style) layout: longest-path ranks, a few barycenter sweeps,
 * packed rows. Linear-ish in nodes + edges; used where dot would take seconds.
 */
export function layered(view, { sweeps = 4 } = {}) {
  const n = view.nodes.length;
  const index = new Map(view.nodes.map((v, i) => [v.key, i]));
  const preds = Array.from({ length: n }, () => []), succs = Array.from({ length: n }, () => []);
  const indeg = new Int32Array(n);
  for (const e of view.edges) {
    const a = index.get(e.from), b = index.get(e.to);
    if (a === undefined || b === undefined) continue;
    preds[b].push(a); succs[a].push(b); indeg[b]++;
  }
  // Longest path from the sources (Kahn order; any cycle leftovers go last).
  const rank = new Int32Array(n), queue = [], order = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi];
    order.push(v);
    for (const s of succs[v]) {
      if (rank[s] < rank[v] + 1) rank[s] = rank[v] + 1;
      if (--indeg[s] === 0) queue.push(s);
    }
  }
  if (order.length < n) for (let i = 0; i < n; i++) if (indeg[i] > 0) order.push(i);
  // Pull sources (leaves, parameters) down next to their first user.
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k];
    if (preds[v].length === 0 && succs[v].length) {
      let m = Infinity;
      for (const s of succs[v]) m = Math.min(m, rank[s]);
      rank[v] = Math.max(0, m - 1);
    }
  }
  let maxRank = 0;
  for (let i = 0; i < n; i++) maxRank = Math.max(maxRank, rank[i]);
  const rows = Array.from({ length: maxRank + 1 }, () => []);
  for (const v of order) rows[rank[v]].push(v);
  const pos = new Float64Array(n);
  const place = () => rows.forEach((row) => row.forEach((v, i) => { pos[v] = i; }));
  place();
  const bary = (v, nbrs) => {
    if (!nbrs.length) return pos[v];
    let s = 0;
    for (const u of nbrs) s += pos[u];
    return s / nbrs.length;
  };
  const key = new Float64Array(n);
  for (let s = 0; s < sweeps; s++) {
    const down = s % 2 === 0;
    const seq = down ? rows : [...rows].reverse();
    for (const row of seq) {
      for (const v of row) key[v] = bary(v, down ? preds[v] : succs[v]);
      row.sort((a, b) => key[a] - key[b]);
      row.forEach((v, i) => { pos[v] = i; });
    }
  }
  // Coordinates: pack each row left to right, then centre rows on a common axis.
  const gapX = 18, gapY = 70;
  const out = { nodes: new Map(), edges: new Map(), width: 0, height: 0 };
  const xs = new Float64Array(n);
  let width = 0;
  rows.forEach((row) => {
    let x = 0;
    for (const v of row) { const w = view.nodes[v].w; xs[v] = x + w / 2; x += w + gapX; }
    row.width = x - gapX;
    width = Math.max(width, row.width);
  });
  rows.forEach((row, r) => {
    const off = (width - row.width) / 2;
    for (const v of row) out.nodes.set(view.nodes[v].key, { x: xs[v] + off + 10, y: r * gapY + 30 });
  });
  out.width = width + 20;
  out.height = maxRank * gapY + 60;
  return out;
}

/**
 * Place nodes that a layout does not know yet, without moving the placed ones:
 * below their lowest input, to the right of anything already on that row.
 */
export function placeNew(view, layout) {
  const byKey = new Map(view.nodes.map((v) => [v.key, v]));
  const preds = new Map();
  for (const e of view.edges) {
    if (!preds.has(e.to)) preds.set(e.to, []);
    preds.get(e.to).push(e.from);
  }
  const rowRight = new Map();
  for (const [k, p] of layout.nodes) {
    const w = byKey.get(k)?.w ?? 80;
    const row = Math.round(p.y / 35);
    rowRight.set(row, Math.max(rowRight.get(row) ?? -Infinity, p.x + w / 2));
  }
  let added = 0;
  for (const v of view.nodes) {
    if (layout.nodes.has(v.key)) continue;
    let y = 30, x = null;
    for (const pk of preds.get(v.key) || []) {
      const p = layout.nodes.get(pk);
      if (p) { if (p.y + 70 > y) y = p.y + 70; x = x === null ? p.x : (x + p.x) / 2; }
    }
    const row = Math.round(y / 35);
    const right = Math.max(rowRight.get(row) ?? -Infinity, rowRight.get(row - 1) ?? -Infinity,
      rowRight.get(row + 1) ?? -Infinity);
    if (x === null) x = 10 + v.w / 2;
    if (x - v.w / 2 < right + 16) x = right + 16 + v.w / 2;
    layout.nodes.set(v.key, { x, y });
    rowRight.set(row, x + v.w / 2);
    layout.width = Math.max(layout.width, x + v.w / 2 + 10);
    layout.height = Math.max(layout.height, y + 30);
    added++;
  }
  return added;
}

/** Pick and run the right layout for a view graph. */
export function layoutView(view, graphviz) {
  if (graphviz && view.nodes.length <= DOT_LIMIT) {
    try { return { ...layoutDot(view, graphviz), engine: "dot" }; } catch (e) { /* fall through */ }
  }
  return { ...layered(view), engine: "layered" };
}
