// The graph view: an SVG of the laid-out view graph, with pan, zoom, zoom-to-fit,
// search, a minimap, and node states as `data-state` (the UI.md testing contract).

const SVG = "http://www.w3.org/2000/svg";
const EDGE_LABELS_MAX = 600;   // above this many edges, shapes show only on hover

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

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

export class GraphView {
  constructor(root, { onSelect, onExpand } = {}) {
    this.root = root;
    this.onSelect = onSelect;
    this.onExpand = onExpand;
    this.svg = svg("svg", { class: "graph-svg", xmlns: SVG });
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
    root.append(this.minimap);
    this.tx = 0; this.ty = 0; this.k = 1;
    this.elements = new Map();   // view key -> <g>
    this.view = null; this.layout = null;
    this.selectedKey = null;
    this.matches = []; this.matchIndex = -1;
    this.bindPanZoom();
    this.setEmpty("Waiting for the first op… press Step forward or Run.");
  }

  setEmpty(text) {
    this.empty.textContent = text || "";
    this.empty.hidden = !text;
  }

  /** Draw a view graph at a layout. `describe(node)` gives {state, kind, title}. */
  render(view, layout, describe) {
    this.view = view; this.layout = layout;
    this.elements.clear();
    this.edgeLayer.replaceChildren(); this.labelLayer.replaceChildren(); this.nodeLayer.replaceChildren();
    const pos = (n) => ({ ...layout.nodes.get(n.key), w: n.w, h: n.h });
    const byKey = new Map(view.nodes.map((n) => [n.key, n]));
    const showLabels = view.edges.length <= EDGE_LABELS_MAX;
    const edgeFrag = document.createDocumentFragment(), labelFrag = document.createDocumentFragment();
    for (const e of view.edges) {
      const a = byKey.get(e.from), b = byKey.get(e.to);
      if (!layout.nodes.has(e.from) || !layout.nodes.has(e.to)) continue;
      const pa = pos(a), pb = pos(b);
      const pts = layout.edges.get(e.from + ">" + e.to);
      const p = svg("path", { d: edgePath(pts, pa, pb), class: "edge", "marker-end": "url(#arrow)",
        "data-from": e.from, "data-to": e.to });
      edgeFrag.append(p);
      const shape = a.rec?.shape;
      if (showLabels && shape && a.rec) {
        const mx = pts && pts.length >= 4 ? pts[Math.floor(pts.length / 2)][0] : (pa.x + pb.x) / 2;
        const my = pts && pts.length >= 4 ? pts[Math.floor(pts.length / 2)][1] : (pa.y + pa.h / 2 + pb.y - pb.h / 2) / 2;
        const t = svg("text", { x: (mx + 4).toFixed(1), y: (my + 3).toFixed(1), class: "edge-label" });
        t.textContent = shape.length ? shape.join("×") : "scalar";
        labelFrag.append(t);
      }
    }
    const nodeFrag = document.createDocumentFragment();
    for (const n of view.nodes) {
      const p = layout.nodes.get(n.key);
      if (!p) continue;
      const d = describe(n);
      const g = svg("g", { class: "gnode", transform: `translate(${(p.x - n.w / 2).toFixed(1)},${(p.y - n.h / 2).toFixed(1)})`,
        "data-key": n.key, "data-kind": d.kind, "data-state": d.state });
      if (n.group) g.setAttribute("data-group", n.group);
      else g.setAttribute("data-node-id", String(d.id ?? n.id));
      if (d.grad) g.setAttribute("data-grad", "1");
      if (d.breakpoint) g.setAttribute("data-breakpoint", "1");
      const title = svg("title");
      title.textContent = d.title || n.label;
      g.append(title, svg("rect", { width: n.w, height: n.h, rx: n.group ? 10 : 6, class: "box" }));
      const t1 = svg("text", { x: n.w / 2, y: n.sub ? 16 : 23, class: "l1" });
      t1.textContent = n.label;
      g.append(t1);
      if (n.sub) {
        const t2 = svg("text", { x: n.w / 2, y: 30, class: "l2" });
        t2.textContent = n.sub;
        g.append(t2);
      }
      if (n.key === this.selectedKey) g.classList.add("selected");
      this.elements.set(n.key, g);
      nodeFrag.append(g);
    }
    this.edgeLayer.append(edgeFrag); this.labelLayer.append(labelFrag); this.nodeLayer.append(nodeFrag);
    this.root.dataset.nodes = String(view.nodes.length);
    this.root.dataset.layout = layout.engine || "";
    this.setEmpty(view.nodes.length ? "" : "Waiting for the first op… press Step forward or Run.");
    this.applySearch();
    this.drawMinimap();
  }

  /** Update states (and node ids) in place, without re-rendering. */
  refresh(describe) {
    if (!this.view) return;
    for (const n of this.view.nodes) {
      const g = this.elements.get(n.key);
      if (!g) continue;
      const d = describe(n);
      if (g.getAttribute("data-state") !== d.state) g.setAttribute("data-state", d.state);
      if (!n.group) {
        const id = String(d.id ?? n.id);
        if (g.getAttribute("data-node-id") !== id) g.setAttribute("data-node-id", id);
      }
      g.toggleAttribute("data-grad", !!d.grad);
      g.toggleAttribute("data-breakpoint", !!d.breakpoint);
      const title = g.firstChild;
      if (d.title && title.textContent !== d.title) title.textContent = d.title;
    }
    this.drawMinimap();
  }

  select(key) {
    if (this.selectedKey) this.elements.get(this.selectedKey)?.classList.remove("selected");
    this.selectedKey = key;
    this.elements.get(key)?.classList.add("selected");
  }

  // ---- pan and zoom ----------------------------------------------------------------
  apply() {
    this.viewport.setAttribute("transform", `translate(${this.tx.toFixed(2)},${this.ty.toFixed(2)}) scale(${this.k.toFixed(4)})`);
    this.root.dataset.zoom = this.k.toFixed(3);
    // Level of detail: big graphs seen from afar drop the second label line (half the glyphs).
    this.root.classList.toggle("lod-low", !!this.view && this.view.nodes.length > 1000 && this.k < 0.9);
    if (this.layout && this.minimap.hidden !== !(this.view.nodes.length > 40 || this.layout.width * this.k > this.root.clientWidth || this.layout.height * this.k > this.root.clientHeight)) this.drawMinimap();
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

  fit() {
    if (!this.layout || !this.layout.nodes.size) return;
    const r = this.root.getBoundingClientRect();
    const W = this.layout.width + 40, H = this.layout.height + 40;
    this.k = Math.min(1.4, Math.max(0.02, Math.min(r.width / W, r.height / H)));
    // Tall graphs would shrink to a sliver: keep them readable and start at the top.
    if (this.layout.height * this.k < r.height * 0.5 || this.k >= 0.35) {
      this.tx = (r.width - this.layout.width * this.k) / 2;
      this.ty = (r.height - this.layout.height * this.k) / 2;
    } else {
      this.k = Math.max(this.k, Math.min(0.6, r.width / W));
      this.tx = (r.width - this.layout.width * this.k) / 2;
      this.ty = 20;
    }
    this.apply();
  }

  centerOn(key) {
    const p = this.layout?.nodes.get(key);
    if (!p) return;
    const r = this.root.getBoundingClientRect();
    if (this.k < 0.5) this.k = 0.8;
    this.tx = r.width / 2 - p.x * this.k;
    this.ty = r.height / 2 - p.y * this.k;
    this.apply();
  }

  /** Pan (never zoom) just enough to bring a node into view. */
  ensureVisible(key) {
    const p = this.layout?.nodes.get(key);
    if (!p) return;
    const r = this.root.getBoundingClientRect();
    const sx = p.x * this.k + this.tx, sy = p.y * this.k + this.ty, m = 60;
    let dx = 0, dy = 0;
    if (sx < m) dx = m - sx; else if (sx > r.width - m) dx = r.width - m - sx;
    if (sy < m) dy = m - sy; else if (sy > r.height - m) dy = r.height - m - sy;
    if (dx || dy) this.panBy(dx, dy);
  }

  bindPanZoom() {
    let drag = null;
    this.svg.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, moved: false, target: e.target };
      this.svg.setPointerCapture(e.pointerId);
    });
    this.svg.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      this.root.classList.add("panning");
      this.userMoved = true;
      drag.x = e.clientX; drag.y = e.clientY;
      this.panBy(dx, dy);
    });
    const end = (e) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      this.root.classList.remove("panning");
      if (d.moved) return;
      const g = d.target.closest?.(".gnode");
      if (!g) return;
      if (g.dataset.group) this.onExpand?.(g.dataset.group);
      else this.onSelect?.(g.dataset.key);
    };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", () => { drag = null; });
    this.svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.userMoved = true;
      const r = this.svg.getBoundingClientRect();
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
    this.matches = [];
    for (const [key, g] of this.elements) g.classList.remove("match", "dim");
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
    const r = this.root.getBoundingClientRect();
    const show = !!(L && this.view && (this.view.nodes.length > 40 || L.width * this.k > r.width || L.height * this.k > r.height));
    this.minimap.hidden = !show;
    if (!show) return;
    const W = 180, H = Math.max(60, Math.min(180, W * L.height / Math.max(1, L.width)));
    const dpr = window.devicePixelRatio || 1;
    this.minimap.width = W * dpr; this.minimap.height = H * dpr;
    this.minimap.style.width = W + "px"; this.minimap.style.height = H + "px";
    const s = Math.min(W / L.width, H / L.height);
    this.mm = { s, ox: (W - L.width * s) / 2, oy: (H - L.height * s) / 2, W, H, dpr };
    const ctx = this.minimap.getContext("2d");
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
    const ctx = this.minimap.getContext("2d");
    ctx.putImageData(this.mmBase, 0, 0);
    const r = this.root.getBoundingClientRect();
    const { s, ox, oy } = this.mm;
    ctx.strokeStyle = "#0f172a"; ctx.lineWidth = 1.2;
    ctx.strokeRect(ox + (-this.tx / this.k) * s, oy + (-this.ty / this.k) * s, (r.width / this.k) * s, (r.height / this.k) * s);
  }

  minimapJump(e) {
    if (!this.mm) return;
    const b = this.minimap.getBoundingClientRect();
    const gx = (e.clientX - b.left - this.mm.ox) / this.mm.s, gy = (e.clientY - b.top - this.mm.oy) / this.mm.s;
    const r = this.root.getBoundingClientRect();
    this.tx = r.width / 2 - gx * this.k; this.ty = r.height / 2 - gy * this.k;
    this.apply();
  }
}
