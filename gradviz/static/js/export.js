// Export what the graph view shows: SVG (styles inlined, whole graph), PNG, DOT, JSON,
// and the session's recording (served by the server).
import { toDot } from "./layout.js";

const GRAPH_CSS = "graph.css";   // the stylesheet whose rules the exported SVG carries

function download(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function graphCss() {
  for (const sheet of document.styleSheets) {
    if (!sheet.href || !sheet.href.includes(GRAPH_CSS)) continue;
    return [...sheet.cssRules].map((r) => r.cssText).join("\n");
  }
  return "";
}

// what the page says about clicking or keys ("94 nodes · click to expand") means nothing
// in a static file
const HINTS = [/\s*·\s*click to expand/g, /\s*\(click to expand\)/g];

const unhint = (text) => HINTS.reduce((t, re) => t.replace(re, ""), String(text ?? ""));

/** Strip the page's interaction hints and keyboard hooks from an exported copy. */
function dropInteraction(copy) {
  for (const g of copy.querySelectorAll(".gnode")) {
    for (const a of ["tabindex", "role", "aria-label"]) g.removeAttribute(a);
  }
  for (const t of copy.querySelectorAll(".gnode text, .gnode title")) {
    const text = unhint(t.textContent);
    if (text !== t.textContent) t.textContent = text;
  }
}

/** The whole graph as a standalone SVG string, looking as it does on screen. */
export function svgText(view) {
  const src = view.svg;
  const L = view.layout || { width: 100, height: 100 };
  const copy = view.exportClone ? view.exportClone() : src.cloneNode(true);   // every node drawn
  copy.querySelector(".viewport").removeAttribute("transform");
  copy.setAttribute("viewBox", `-10 -10 ${Math.ceil(L.width + 20)} ${Math.ceil(L.height + 20)}`);
  copy.setAttribute("width", Math.ceil(L.width + 20));
  copy.setAttribute("height", Math.ceil(L.height + 20));
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  copy.classList.add("graph-export");
  const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
  style.textContent = graphCss();
  copy.insertBefore(style, copy.firstChild);
  const bg = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  Object.entries({ x: -10, y: -10, width: L.width + 20, height: L.height + 20, fill: "#f8fafc" })
    .forEach(([k, v]) => bg.setAttribute(k, v));
  copy.insertBefore(bg, copy.querySelector(".viewport"));
  copy.querySelectorAll(".selected").forEach((el) => el.classList.remove("selected"));
  dropInteraction(copy);
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

export function exportSvg(view, name) {
  download(new Blob([svgText(view)], { type: "image/svg+xml" }), `${name}.svg`);
}

export async function exportPng(view, name) {
  const text = svgText(view);
  const L = view.layout;
  const scale = Math.min(2, 16000 / Math.max(L.width, L.height));
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  await new Promise((ok, bad) => { img.onload = ok; img.onerror = () => bad(new Error("the SVG could not be drawn")); img.src = url; });
  const canvas = document.createElement("canvas");
  canvas.width = Math.ceil((L.width + 20) * scale); canvas.height = Math.ceil((L.height + 20) * scale);
  canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
  URL.revokeObjectURL(url);
  const blob = await new Promise((ok) => canvas.toBlob(ok, "image/png"));
  download(blob, `${name}.png`);
}

export function exportDot(view, name) {
  const v = view.view;
  const states = new Map([...view.elements].map(([k, g]) => [k, g.getAttribute("data-state")]));
  const fill = { pending: "#f1f5f9", forward: "#dbeafe", backward: "#d1fae5", current: "#fef3c7", anomaly: "#fee2e2" };
  let text = toDot({ ...v, nodes: v.nodes.map((n) => (n.group ? { ...n, sub: unhint(n.sub) } : n)) }, { withLabels: true });
  // Colour nodes by state, as on screen.
  text = text.replace(/^ n(\d+) \[/gm, (m, i) => ` n${i} [style=filled, fillcolor="${fill[states.get(v.nodes[+i].key)] || "#ffffff"}", `);
  download(new Blob([text], { type: "text/vnd.graphviz" }), `${name}.dot`);
}

export function exportJson(view, name, extra = {}) {
  const v = view.view, L = view.layout;
  const nodes = v.nodes.map((n) => ({
    key: n.key, id: n.group ? null : view.elements.get(n.key)?.getAttribute("data-node-id"), group: n.group || null,
    label: n.label, sub: n.group ? unhint(n.sub) : n.sub, state: view.elements.get(n.key)?.getAttribute("data-state"),
    x: L.nodes.get(n.key)?.x, y: L.nodes.get(n.key)?.y, w: n.w, h: n.h,
  }));
  const body = { ...extra, nodes, edges: v.edges.map((e) => ({ from: e.from, to: e.to })) };
  download(new Blob([JSON.stringify(body, null, 1)], { type: "application/json" }), `${name}.json`);
}

export async function exportRecording(conn, session) {
  const blob = await conn.getBlob(`/api/sessions/${encodeURIComponent(session)}/recording`);
  download(blob, `${session}.jsonl`);
}
