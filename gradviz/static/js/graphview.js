// The graph view: an SVG of the laid-out view graph, with pan, zoom, zoom-to-fit,
// search, a minimap, and node states as `data-state` (the UI.md testing contract).
//
// Speed on big graphs (PERF.md B7): the <svg> is one composited layer that pans by a CSS
// translate (no repaint); zoom changes the scale inside it. Every node always has its
// element (`[data-node-id]` with `data-state`), but above VIRTUAL_ABOVE view nodes only
// those near the viewport get their box and labels, and only edges near it are drawn;
// far zoomed out, boxes come without labels. Export draws everything (exportClone).

const SVG = "http://www.w3.org/2000/svg";
const EDGE_LABELS_MAX = 600;   // above this many edges, shapes show only when zoomed in
const VIRTUAL_ABOVE = 400;     // above this many view nodes, draw only what is near the viewport
const LOD_TEXT_K = 0.3;        // below this zoom, a virtualised graph draws boxes without labels
// Zoom-to-fit stops here: the op name (12.5 px in graph.css) is still 9 px on screen.
const READABLE_K = 9 / 12.5;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ESC[c]);

function edgePath(pts, a, b) {
  if (pts && pts.length >= 4) {
    let d = `M${pts[0][0].toFixed(1)},${pts[0][1].toFixed(1)}`;
    const f = (q) => `${q[0].toFixed(1)},${q[1].toFixed(1)}`;
    for (let i = 1; i + 2 < pts.length; i += 3) d += `C${f(pts[i])} ${f(pts[i + 1])} ${f(pts[i + 2])}`;
    return d;
  }
  const x1 = a.x, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y - b.h / 2;
  const my = (y1 + y2) / 2;
  return `M${x1.toFixed(1)},${y1.toFixed(1)}C${x1.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}`;
}

/** Edges to draw: endpoints, path, label and bounding box (for drawing only those in view). */
function edgeRecords(view, layout) {
  const byKey = new Map(view.nodes.map((n) => [n.key, n]));
  const out = [];
  for (const e of view.edges) {
    const pa0 = layout.nodes.get(e.from), pb0 = layout.nodes.get(e.to);
    if (!pa0 || !pb0) continue;
    const a = byKey.get(e.from), b = byKey.get(e.to);
    const pa = { x: pa0.x, y: pa0.y, w: a.w, h: a.h }, pb = { x: pb0.x, y: pb0.y, w: b.w, h: b.h };
    const pts = layout.edges.get(e.from + ">" + e.to);
    let x0 = Math.min(pa.x, pb.x), x1 = Math.max(pa.x, pb.x), y0 = Math.min(pa.y, pb.y), y1 = Math.max(pa.y, pb.y);
    if (pts) for (const [x, y] of pts) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    const shape = a.rec?.shape;
    let label = null;
    if (shape && a.rec) {
      const mx = pts && pts.length >= 4 ? pts[Math.floor(pts.length / 2)][0] : (pa.x + pb.x) / 2;
      const my = pts && pts.length >= 4 ? pts[Math.floor(pts.length / 2)][1] : (pa.y + pa.h / 2 + pb.y - pb.h / 2) / 2;
      label = { x: mx + 4, y: my + 3, text: shape.length ? shape.join("×") : "scalar" };
    }
    out.push({ from: e.from, to: e.to, d: edgePath(pts, pa, pb), label, x0, x1, y0, y1, el: null, labelEl: null });
  }
  return out;
}

function edgeElement(e) {
  return svg("path", { d: e.d, class: "edge", "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to });
}

function labelElement(e) {
  const t = svg("text", { x: e.label.x.toFixed(1), y: e.label.y.toFixed(1), class: "edge-label" });
  t.textContent = e.label.text;
  return t;
}

/** What a screen reader says of a node: op or name (#id), shape, state; a module group
 * says how many nodes it holds and that Enter opens it. */
function ariaLabel(n, d) {
  if (n.group) return `module ${n.group}, ${n.members.length} nodes, ${d.state}, press Enter to expand`;
  const id = d.id ?? n.id;
  return `${n.label}${id !== undefined && id !== null ? " #" + id : ""}, ${n.sub || "?"}, ${d.state}`;
}

/** Give a node element its place and drawing: title, box, labels (lod 2) or the box only (lod 1). */
function fillNode(g, n, p, lod, title) {
  g.setAttribute("transform", `translate(${(p.x - n.w / 2).toFixed(1)},${(p.y - n.h / 2).toFixed(1)})`);
  const t = svg("title");
  t.textContent = title || n.label;
  const parts = [t, svg("rect", { width: n.w, height: n.h, rx: n.group ? 10 : 6, class: "box" })];
  if (lod >= 2) {
    const t1 = svg("text", { x: n.w / 2, y: n.sub ? 16 : 23, class: "l1" });
    t1.textContent = n.label;
    parts.push(t1);
    if (n.sub) {
      const t2 = svg("text", { x: n.w / 2, y: 30, class: "l2" });
      t2.textContent = n.sub;
      parts.push(t2);
    }
  }
  g.replaceChildren(...parts);
}

export class GraphView {
  constructor(root, { onSelect, onExpand } = {}) {
    this.root = root;
    this.onSelect = onSelect;
    this.onExpand = onExpand;
    this.svg = svg("svg", { class: "graph-svg", xmlns: SVG, width: 0, height: 0 });
    this.viewport = svg("g", { class: "viewport" });
    this.edgeLayer = svg("g", { class: "edges" });
    this.labelLayer = svg("g", { class: "edge-labels" });
    this.nodeLayer = svg("g", { class: "nodes" });
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "1", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0L10,5L0,10z", class: "arrowhead" }));
    defs.append(marker);
    this.viewport.append(this.edgeLayer, this.labelLayer, this.nodeLayer);
    this.svg.append(defs, this.viewport);
    root.append(this.svg);
    this.empty = document.createElement("div");
    this.empty.className = "graph-empty";
    root.append(this.empty);
    this.minimap = document.createElement("canvas");
    this.minimap.className = "minimap";
    this.minimap.dataset.testid = "minimap";
    this.minimap.hidden = true;   // until there is a graph too big to see at once
    root.append(this.minimap);
    this.tx = 0; this.ty = 0; this.k = 1;
    this.drawnK = null;          // the scale the SVG content is drawn at
    this.elements = new Map();   // view key -> <g> (every node)
    this.drawn = new Map();      // view key -> lod of the nodes that have their drawing
    this.edges = [];             // edge records (edgeRecords)
    this.view = null; this.layout = null; this.describeFn = null;
    this.drawRect = null; this.lod = 0;
    this.selectedKey = null;
    this.matches = []; this.matchIndex = -1;
    this.pane = null;
    new ResizeObserver(() => { this.pane = null; if (this.view) this.apply(); }).observe(root);
    this.bindPanZoom();
    this.setEmpty("Waiting for the first op… press Step forward or Run.");
  }

  setEmpty(text) {
    this.empty.textContent = text || "";
    this.empty.hidden = !text;
  }

  /** The graph pane's size (cached; a ResizeObserver drops the cache). */
  paneSize() {
    if (!this.pane || !this.pane.width) {
      const r = this.root.getBoundingClientRect();
      this.pane = { width: r.width, height: r.height };
    }
    return this.pane;
  }

  get virtual() { return !!this.view && this.view.nodes.length > VIRTUAL_ABOVE; }

  /** Draw a view graph at a layout. `describe(node)` gives {state, kind, id, title, grad, breakpoint}. */
  render(view, layout, describe) {
    this.view = view; this.layout = layout; this.describeFn = describe;
    this.elements.clear(); this.drawn.clear();
    // Every node's element in one parse: attributes only, drawings come in updateVisible().
    const html = [];
    const shown = [];
    for (const n of view.nodes) {
      const p = layout.nodes.get(n.key);
      if (!p) continue;
      const d = describe(n);
      // keyboard and screen readers reach every node: set once here, the label again only
      // when the node's state or id changes (refresh), never on every refresh
      let a = `<g class="gnode${n.key === this.selectedKey ? " selected" : ""}" data-key="${esc(n.key)}" data-kind="${d.kind}" data-state="${d.state}"`;
      a += ` tabindex="0" role="button" aria-label="${esc(ariaLabel(n, d))}"`;
      a += n.group ? ` data-group="${esc(n.group)}"` : ` data-node-id="${esc(String(d.id ?? n.id))}"`;
      if (d.grad) a += " data-grad";
      if (d.breakpoint) a += " data-breakpoint";
      html.push(a + "></g>");
      shown.push(n);
    }
    this.nodeLayer.innerHTML = html.join("");
    const els = this.nodeLayer.children;
    for (let i = 0; i < shown.length; i++) this.elements.set(shown[i].key, els[i]);
    this.edges = edgeRecords(view, layout);
    this.edgeLayer.replaceChildren(); this.labelLayer.replaceChildren();
    this.drawRect = null;
    this.root.dataset.nodes = String(view.nodes.length);
    this.root.dataset.layout = layout.engine || "";
    this.root.dataset.virtual = this.virtual ? "1" : "";
    this.setEmpty(view.nodes.length ? "" : "Waiting for the first op… press Step forward or Run.");
    this.drawnK = null;
    this.apply();
    this.applySearch();
    this.drawMinimap();
  }

  /** Update states (and node ids) in place, without re-rendering. */
  refresh(describe) {
    if (!this.view) return;
    this.describeFn = describe;
    for (const n of this.view.nodes) {
      const g = this.elements.get(n.key);
      if (!g) continue;
      const d = describe(n);
      let relabel = false;
      if (g.getAttribute("data-state") !== d.state) { g.setAttribute("data-state", d.state); relabel = true; }
      if (!n.group) {
        const id = String(d.id ?? n.id);
        if (g.getAttribute("data-node-id") !== id) { g.setAttribute("data-node-id", id); relabel = true; }
      }
      if (relabel) g.setAttribute("aria-label", ariaLabel(n, d));
      g.toggleAttribute("data-grad", !!d.grad);
      g.toggleAttribute("data-breakpoint", !!d.breakpoint);
      if (this.drawn.has(n.key)) {
        const title = g.firstChild, text = d.title;
        if (text && title && title.textContent !== text) title.textContent = text;
      }
    }
    this.drawMinimap();
  }

  select(key) {
    if (this.selectedKey) this.elements.get(this.selectedKey)?.classList.remove("selected");
    this.selectedKey = key;
    this.elements.get(key)?.classList.add("selected");
  }

  // ---- drawing what is near the viewport ---------------------------------------------------
  /** Draw nodes and edges near the viewport (all of them for small graphs); cheap when nothing changes. */
  updateVisible() {
    if (!this.view || !this.layout) return;
    let R, lod;
    if (!this.virtual) {
      if (this.drawRect) return;
      R = { x0: -Infinity, y0: -Infinity, x1: Infinity, y1: Infinity };
      lod = 2;
    } else {
      const { width, height } = this.paneSize();
      const vx0 = -this.tx / this.k, vy0 = -this.ty / this.k, vw = width / this.k, vh = height / this.k;
      lod = this.k >= LOD_TEXT_K ? 2 : 1;
      const M = this.drawRect;
      if (M && lod === this.lod && vx0 >= M.x0 && vy0 >= M.y0 && vx0 + vw <= M.x1 && vy0 + vh <= M.y1) return;
      R = { x0: vx0 - vw / 2, y0: vy0 - vh / 2, x1: vx0 + vw * 1.5, y1: vy0 + vh * 1.5 };
    }
    this.drawRect = R; this.lod = lod;
    const L = this.layout, describe = this.describeFn;
    for (const n of this.view.nodes) {
      const g = this.elements.get(n.key);
      if (!g) continue;
      const p = L.nodes.get(n.key);
      const inside = p.x + n.w / 2 >= R.x0 && p.x - n.w / 2 <= R.x1 && p.y + n.h / 2 >= R.y0 && p.y - n.h / 2 <= R.y1;
      const have = this.drawn.get(n.key);
      if (inside && have !== lod) {
        fillNode(g, n, p, lod, describe ? describe(n).title : null);
        this.drawn.set(n.key, lod);
      } else if (!inside && have) {
        g.replaceChildren();
        this.drawn.delete(n.key);
      }
    }
    const labels = lod === 2 && (this.edges.length <= EDGE_LABELS_MAX || this.virtual);
    const addE = [], addL = [];
    for (const e of this.edges) {
      const inside = e.x1 >= R.x0 && e.x0 <= R.x1 && e.y1 >= R.y0 && e.y0 <= R.y1;
      if (inside && !e.el) { e.el = edgeElement(e); addE.push(e.el); }
      else if (!inside && e.el) { e.el.remove(); e.el = null; }
      const wantLabel = inside && labels && e.label;
      if (wantLabel && !e.labelEl) { e.labelEl = labelElement(e); addL.push(e.labelEl); }
      else if (!wantLabel && e.labelEl) { e.labelEl.remove(); e.labelEl = null; }
    }
    if (addE.length) this.edgeLayer.append(...addE);
    if (addL.length) this.labelLayer.append(...addL);
    this.root.dataset.drawn = String(this.drawn.size);
  }

  /** A copy of the SVG with every node and edge drawn (for export), whatever is in view. */
  exportClone() {
    const copy = this.svg.cloneNode(true);
    copy.removeAttribute("style");
    if (!this.view) return copy;
    const byKey = new Map(this.view.nodes.map((n) => [n.key, n]));
    for (const g of copy.querySelector(".nodes").children) {
      const n = byKey.get(g.getAttribute("data-key"));
      if (n && !g.querySelector(".l1")) fillNode(g, n, this.layout.nodes.get(n.key), 2, this.describeFn ? this.describeFn(n).title : null);
    }
    copy.querySelector(".edges").replaceChildren(...this.edges.map(edgeElement));
    const labels = this.edges.length <= EDGE_LABELS_MAX ? this.edges.filter((e) => e.label).map(labelElement) : [];
    copy.querySelector(".edge-labels").replaceChildren(...labels);
    return copy;
  }

  // ---- pan and zoom ----------------------------------------------------------------
  apply() {
    if (this.drawnK !== this.k) {   // zoom: scale inside the SVG (sharp text), resize its box
      this.drawnK = this.k;
      this.viewport.setAttribute("transform", `scale(${this.k.toFixed(4)})`);
      const L = this.layout || { width: 0, height: 0 };
      this.svg.setAttribute("width", Math.ceil((L.width + 20) * this.k));
      this.svg.setAttribute("height", Math.ceil((L.height + 20) * this.k));
      this.root.dataset.zoom = this.k.toFixed(3);
      // Level of detail: big graphs seen from afar drop the second label line (half the glyphs).
      const low = !!this.view && this.view.nodes.length > 1000 && this.k < 0.9;
      if (this.root.classList.contains("lod-low") !== low) this.root.classList.toggle("lod-low", low);
    }
    // Pan: move the composited layer by whole pixels, no repaint.
    this.svg.style.transform = `translate(${Math.round(this.tx)}px,${Math.round(this.ty)}px)`;
    this.updateVisible();
    if (this.layout && this.view) {
      const { width, height } = this.paneSize();
      const want = this.view.nodes.length > 40 || this.layout.width * this.k > width || this.layout.height * this.k > height;
      if (this.minimap.hidden === want) this.drawMinimap();
    }
    this.drawMinimapViewport();
  }

  zoomAt(factor, cx, cy) {
    const k = Math.min(4, Math.max(0.02, this.k * factor));
    const f = k / this.k;
    this.tx = cx - (cx - this.tx) * f;
    this.ty = cy - (cy - this.ty) * f;
    this.k = k;
    this.apply();
  }

  panBy(dx, dy) { this.tx += dx; this.ty += dy; this.apply(); }

  /** Zoom to fit, but never so far out that the op names are too small to read: a big graph
   * opens at READABLE_K, at its top (where the pass starts), and the minimap and panning
   * reach the rest (as a map does; shrinking 300 nodes into the pane left 7 px labels). */
  fit() {
    if (!this.layout || !this.layout.nodes.size) return;
    const r = this.paneSize(), L = this.layout;
    const W = L.width + 40, H = L.height + 40;
    const whole = Math.min(1.4, Math.min(r.width / W, r.height / H));
    this.k = Math.max(whole, READABLE_K);
    this.tx = (r.width - L.width * this.k) / 2;
    this.ty = (r.height - L.height * this.k) / 2;
    if (L.width * this.k > r.width) this.tx = this.clampX(r.width / 2 - this.topNode().x * this.k, r);
    if (L.height * this.k > r.height) this.ty = 20;
    this.apply();
  }

  /** The placed node nearest the top of the layout (where a pass starts). */
  topNode() {
    let top = null;
    for (const p of this.layout.nodes.values()) if (!top || p.y < top.y) top = p;
    return top;
  }

  /** A horizontal pan that leaves no more than a margin of empty pane beside the layout. */
  clampX(tx, r) {
    const w = this.layout.width * this.k;
    return Math.min(20, Math.max(r.width - w - 20, tx));
  }

  /** Whether the whole layout is inside the pane at the current pan and zoom. */
  fits() {
    if (!this.layout) return true;
    const r = this.paneSize(), L = this.layout;
    return this.tx >= -1 && this.ty >= -1 && this.tx + L.width * this.k <= r.width + 1 && this.ty + L.height * this.k <= r.height + 1;
  }

  centerOn(key) {
    const p = this.layout?.nodes.get(key);
    if (!p) return;
    const r = this.paneSize();
    if (this.k < 0.5) this.k = 0.8;
    this.tx = r.width / 2 - p.x * this.k;
    this.ty = r.height / 2 - p.y * this.k;
    this.apply();
  }

  /** Pan (never zoom) just enough to bring a node into view. */
  ensureVisible(key) {
    const p = this.layout?.nodes.get(key);
    if (!p) return;
    const r = this.paneSize();
    const sx = p.x * this.k + this.tx, sy = p.y * this.k + this.ty, m = 60;
    let dx = 0, dy = 0;
    if (sx < m) dx = m - sx; else if (sx > r.width - m) dx = r.width - m - sx;
    if (sy < m) dy = m - sy; else if (sy > r.height - m) dy = r.height - m - sy;
    if (dx || dy) this.panBy(dx, dy);
  }

  bindPanZoom() {
    let drag = null;
    const root = this.root;
    root.addEventListener("pointerdown", (e) => {
      if (e.button !== 0 || e.target === this.minimap) return;
      drag = { x: e.clientX, y: e.clientY, moved: false, target: e.target };
      root.setPointerCapture(e.pointerId);
    });
    root.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      root.classList.add("panning");
      this.userMoved = true;
      drag.x = e.clientX; drag.y = e.clientY;
      this.panBy(dx, dy);
    });
    const end = () => {
      if (!drag) return;
      const d = drag;
      drag = null;
      root.classList.remove("panning");
      if (d.moved) return;
      const g = d.target.closest?.(".gnode");
      if (!g) return;
      if (g.dataset.group) this.onExpand?.(g.dataset.group);
      else this.onSelect?.(g.dataset.key);
    };
    root.addEventListener("pointerup", end);
    // the keyboard's click: Enter or Space on a focused node selects it (a group expands)
    root.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" && e.key !== " ") return;
      const g = e.target.closest?.(".gnode");
      if (!g || e.ctrlKey || e.metaKey || e.altKey) return;
      e.preventDefault();
      if (g.dataset.group) this.onExpand?.(g.dataset.group);
      else this.onSelect?.(g.dataset.key);
    });
    // Tab onto a node outside the view: pan to it (the pane itself must not scroll, the
    // SVG is placed by a transform)
    root.addEventListener("focusin", (e) => {
      const g = e.target.closest?.(".gnode");
      if (!g) return;
      root.scrollTop = 0; root.scrollLeft = 0;
      this.ensureVisible(g.dataset.key);
    });
    root.addEventListener("pointercancel", () => { drag = null; root.classList.remove("panning"); });
    root.addEventListener("wheel", (e) => {
      if (e.target === this.minimap) return;
      e.preventDefault();
      this.userMoved = true;
      const r = root.getBoundingClientRect();
      this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    this.minimap.addEventListener("pointerdown", (e) => {
      const move = (ev) => this.minimapJump(ev);
      move(e);
      const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    });
  }

  // ---- search ------------------------------------------------------------------------
  search(text) {
    this.query = (text || "").trim().toLowerCase();
    this.applySearch();
    return this.matches.length;
  }

  applySearch() {
    if (this.matches.length || this.query) for (const g of this.elements.values()) g.classList.remove("match", "dim");
    this.matches = [];
    if (!this.query || !this.view) { this.root.classList.remove("searching"); return; }
    for (const n of this.view.nodes) {
      const hay = [n.label, n.sub, n.rec?.name, n.rec?.op, n.rec?.module, n.group].join(" ").toLowerCase();
      if (hay.includes(this.query)) this.matches.push(n.key);
    }
    this.root.classList.add("searching");
    for (const key of this.matches) this.elements.get(key)?.classList.add("match");
    this.matchIndex = -1;
  }

  nextMatch() {
    if (!this.matches.length) return null;
    this.matchIndex = (this.matchIndex + 1) % this.matches.length;
    const key = this.matches[this.matchIndex];
    this.centerOn(key);
    return key;
  }

  // ---- minimap -------------------------------------------------------------------------
  drawMinimap() {
    const L = this.layout;
    const r = this.paneSize();
    const show = !!(L && this.view && (this.view.nodes.length > 40 || L.width * this.k > r.width || L.height * this.k > r.height));
    this.minimap.hidden = !show;
    if (!show) return;
    const W = 180, H = Math.max(60, Math.min(180, W * L.height / Math.max(1, L.width)));
    const dpr = window.devicePixelRatio || 1;
    this.minimap.width = W * dpr; this.minimap.height = H * dpr;
    this.minimap.style.width = W + "px"; this.minimap.style.height = H + "px";
    const s = Math.min(W / L.width, H / L.height);
    this.mm = { s, ox: (W - L.width * s) / 2, oy: (H - L.height * s) / 2, W, H, dpr };
    // read back with getImageData on every pan: tell the browser (Chromium warns otherwise)
    const ctx = this.minimap.getContext("2d", { willReadFrequently: true });
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const colors = { pending: "#cbd5e1", forward: "#60a5fa", backward: "#34d399", current: "#f59e0b", anomaly: "#ef4444" };
    for (const n of this.view.nodes) {
      const p = L.nodes.get(n.key);
      if (!p) continue;
      const state = this.elements.get(n.key)?.getAttribute("data-state") || "pending";
      ctx.fillStyle = colors[state] || "#94a3b8";
      ctx.fillRect(this.mm.ox + (p.x - n.w / 2) * s, this.mm.oy + (p.y - n.h / 2) * s, Math.max(1.5, n.w * s), Math.max(1.5, n.h * s));
    }
    this.mmBase = ctx.getImageData(0, 0, W * dpr, H * dpr);
    this.drawMinimapViewport();
  }

  drawMinimapViewport() {
    if (this.minimap.hidden || !this.mm || !this.mmBase) return;
    const ctx = this.minimap.getContext("2d", { willReadFrequently: true });
    ctx.putImageData(this.mmBase, 0, 0);
    const r = this.paneSize();
    const { s, ox, oy } = this.mm;
    ctx.strokeStyle = "#0f172a"; ctx.lineWidth = 1.2;
    ctx.strokeRect(ox + (-this.tx / this.k) * s, oy + (-this.ty / this.k) * s, (r.width / this.k) * s, (r.height / this.k) * s);
  }

  minimapJump(e) {
    if (!this.mm) return;
    const b = this.minimap.getBoundingClientRect();
    const gx = (e.clientX - b.left - this.mm.ox) / this.mm.s, gy = (e.clientY - b.top - this.mm.oy) / this.mm.s;
    const r = this.paneSize();
    this.tx = r.width / 2 - gx * this.k; this.ty = r.height / 2 - gy * this.k;
    this.apply();
  }
}
