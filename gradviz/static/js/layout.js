// Graph layout: the view graph (nodes, possibly collapsed into module groups), Graphviz
// `dot` for small and medium graphs, and a fast layered layout for graphs too big for dot.
// No DOM here: bench/b6_layout.py runs this module under Node.

export const DOT_LIMIT = 400;       // above this many view nodes, dot is too slow (B6): use layered()
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
  const nodes = [], edges = [], keyOf = new Map(), groups = new Map(), groupMemo = new Map();
  for (const r of records) {
    let g = null;
    if (collapsed && r.module) {
      g = groupMemo.get(r.module);
      if (g === undefined) { g = groupOf(r.module, expanded); groupMemo.set(r.module, g); }
    }
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
 * Place nodes that a layout does not know yet, never moving the placed ones, so a graph
 * that grows (the first forward pass, stepped op by op) keeps its picture: a node goes one
 * row below its lowest placed input, under its first input; its new source inputs
 * (parameters, data) go on the row above it, beside that input; each lands on the free
 * spot of its row nearest to where it wants to be. Returns how many nodes were placed.
 */
export function placeNew(view, layout) {
  const RANK_H = 70, GAP_X = 18, TOP = 30;
  const byKey = new Map(view.nodes.map((v) => [v.key, v]));
  const preds = new Map(), hasUsers = new Set();
  for (const e of view.edges) {
    if (!byKey.has(e.from) || !byKey.has(e.to)) continue;
    if (!preds.has(e.to)) preds.set(e.to, []);
    preds.get(e.to).push(e.from);
    hasUsers.add(e.from);
  }
  const rows = new Map();   // row bucket -> [[left, right, y]]
  const bucket = (y) => Math.round(y / RANK_H);
  const occupy = (x, y, w) => {
    const b = bucket(y);
    if (!rows.has(b)) rows.set(b, []);
    rows.get(b).push([x - w / 2, x + w / 2, y]);
  };
  for (const [k, p] of layout.nodes) occupy(p.x, p.y, byKey.get(k)?.w ?? 80);
  const freeX = (want, y, w) => {
    const obs = [];
    for (let b = bucket(y) - 1; b <= bucket(y) + 1; b++) {
      for (const iv of rows.get(b) || []) if (Math.abs(iv[2] - y) < NODE_H + 10) obs.push(iv);
    }
    const minX = 10 + w / 2;
    const ok = (x) => x >= minX && obs.every(([l, r]) => x + w / 2 + GAP_X <= l || x - w / 2 - GAP_X >= r);
    if (ok(want)) return want;
    let best = null;
    for (const c of [minX, ...obs.flatMap(([l, r]) => [l - GAP_X - w / 2, r + GAP_X + w / 2])]) {
      if (ok(c) && (best === null || Math.abs(c - want) < Math.abs(best - want))) best = c;
    }
    return best;
  };
  let added = 0;
  const put = (v, x, y) => {
    layout.nodes.set(v.key, { x, y });
    occupy(x, y, v.w);
    layout.width = Math.max(layout.width, x + v.w / 2 + 10);
    layout.height = Math.max(layout.height, y + NODE_H / 2 + 12);
    added++;
  };
  const isSource = (k) => !(preds.get(k) || []).length;
  for (const v of view.nodes) {
    if (layout.nodes.has(v.key)) continue;
    if (isSource(v.key) && hasUsers.has(v.key)) continue;   // placed beside its first user
    const ps = preds.get(v.key) || [];
    const placed = ps.filter((k) => layout.nodes.has(k));
    const sources = ps.filter((k) => !layout.nodes.has(k) && isSource(k));
    let y = TOP;
    for (const k of placed) y = Math.max(y, layout.nodes.get(k).y + RANK_H);
    if (!placed.length && sources.length) y = TOP + RANK_H;
    const main = placed.length ? layout.nodes.get(placed[0]) : null;
    let sx = main ? main.x + byKey.get(placed[0]).w / 2 + GAP_X : 10;
    const xs = [];
    for (const k of sources) {
      const s = byKey.get(k);
      const x = freeX(sx + s.w / 2, y - RANK_H, s.w);
      put(s, x, y - RANK_H);
      xs.push(x);
      sx = x + s.w / 2 + GAP_X;
    }
    const want = main ? main.x : xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 10 + v.w / 2;
    put(v, freeX(want, y, v.w), y);
  }
  for (const v of view.nodes) {   // sources whose users were placed before: the top row
    if (!layout.nodes.has(v.key)) put(v, freeX(10 + v.w / 2, TOP, v.w), TOP);
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
