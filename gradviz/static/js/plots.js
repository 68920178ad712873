// Small canvas plots for the inspector: histogram, heatmap, per-channel maps.
import { fmt, num, flatValues } from "./format.js";

function setup(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = w * dpr; canvas.height = h * dpr;
  canvas.style.width = w + "px"; canvas.style.height = h + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Histogram from a preview ({hist:{lo,hi,counts}} or {values}); returns the canvas. */
export function histogram(preview, { w = 300, h = 86, color = "#3b82f6" } = {}) {
  const canvas = document.createElement("canvas");
  canvas.className = "plot-hist";
  let lo, hi, counts;
  if (preview?.hist) ({ lo, hi, counts } = preview.hist);
  else if (preview?.values !== undefined) {
    const v = flatValues(preview.values).filter(Number.isFinite);
    lo = Math.min(...v); hi = Math.max(...v);
    const bins = Math.min(32, Math.max(4, v.length));
    counts = new Array(bins).fill(0);
    for (const x of v) counts[hi === lo ? bins >> 1 : Math.min(bins - 1, Math.floor((x - lo) / (hi - lo) * bins))]++;
  } else return null;
  const ctx = setup(canvas, w, h);
  const max = Math.max(1, ...counts), bw = (w - 8) / counts.length, ph = h - 18;
  ctx.fillStyle = color;
  counts.forEach((c, i) => {
    const bh = (c / max) * (ph - 4);
    ctx.fillRect(4 + i * bw + 0.5, ph - bh, Math.max(1, bw - 1), bh);
  });
  ctx.fillStyle = "#64748b"; ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "left"; ctx.fillText(fmt(lo), 4, h - 4);
  ctx.textAlign = "right"; ctx.fillText(fmt(hi), w - 4, h - 4);
  if (lo < 0 && hi > 0) {
    const zx = 4 + (-lo / (hi - lo)) * (w - 8);
    ctx.strokeStyle = "#94a3b8"; ctx.setLineDash([2, 2]);
    ctx.beginPath(); ctx.moveTo(zx, 2); ctx.lineTo(zx, ph); ctx.stroke();
    ctx.textAlign = "center"; ctx.fillText("0", zx, h - 4);
  }
  return canvas;
}

/** Diverging blue-white-red colour for v in [-1, 1]. */
function color(v) {
  if (!Number.isFinite(v)) return [250, 204, 21];
  const t = Math.max(-1, Math.min(1, v));
  if (t >= 0) return [255, Math.round(255 - 180 * t), Math.round(255 - 200 * t)];
  return [Math.round(255 + 196 * t), Math.round(255 + 125 * t), 255];
}

/** Heatmap of a 2-D array (nested lists), scaled symmetric around 0. */
export function heatmap(rows, { size = 220, scale = null, label = "" } = {}) {
  const H = rows.length, W = rows[0]?.length || 1;
  const canvas = document.createElement("canvas");
  canvas.className = "plot-heat";
  const cell = Math.max(1, Math.floor(size / Math.max(H, W)));
  const ctx = setup(canvas, W * cell, H * cell);
  let m = scale;
  if (m === null) {
    m = 0;
    for (const r of rows) for (const v of r) { const x = Math.abs(num(v)); if (Number.isFinite(x) && x > m) m = x; }
  }
  m = m || 1;
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    const [r, g, b] = color(num(rows[i][j]) / m);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(j * cell, i * cell, cell, cell);
  }
  canvas.title = `${label} ${H}×${W}, colour scale ±${fmt(m)}`;
  return canvas;
}

/** Per-channel maps of a conv activation (values of shape N×C×H×W or C×H×W): first sample. */
export function channelMaps(values, shape, { maxChannels = 32 } = {}) {
  const wrap = document.createElement("div");
  wrap.className = "channel-maps";
  wrap.dataset.testid = "channel-maps";
  let sample = values;
  if (shape.length === 4) sample = values[0];
  let m = 0;
  for (const ch of sample) for (const r of ch) for (const v of r) { const x = Math.abs(num(v)); if (Number.isFinite(x) && x > m) m = x; }
  sample.slice(0, maxChannels).forEach((ch, c) => {
    const cell = document.createElement("figure");
    cell.append(heatmap(ch, { size: 64, scale: m, label: `channel ${c}` }));
    const cap = document.createElement("figcaption");
    cap.textContent = `c${c}`;
    cell.append(cap);
    wrap.append(cell);
  });
  return wrap;
}
