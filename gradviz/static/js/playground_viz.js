// Playground drawings: loss/accuracy chart, decision boundary, sample picker, feature maps.
export const COLORS = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];

export function setup(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  canvas.style.width = w + "px"; canvas.style.height = h + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function rgb(hex) { const n = parseInt(hex.slice(1), 16); return [n >> 16, (n >> 8) & 255, n & 255]; }

/** Loss (left axis, log scale) and test accuracy (right axis, 0..1) over steps. */
export function drawChart(canvas, loss, acc, w, h) {
  const ctx = setup(canvas, w, h);
  const L = 40, R = 38, T = 10, B = 22, pw = w - L - R, ph = h - T - B;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  ctx.strokeStyle = "#e2e8f0"; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) { const y = T + ph * i / 4; ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + pw, y); ctx.stroke(); }
  const maxStep = Math.max(1, ...loss.map((p) => p[0]), ...acc.map((p) => p[0]));
  const X = (s) => L + pw * s / maxStep;
  ctx.fillStyle = "#64748b"; ctx.textAlign = "center";
  ctx.fillText("0", L, h - 6); ctx.fillText(String(maxStep), L + pw, h - 6); ctx.fillText("step", L + pw / 2, h - 6);
  const fin = loss.filter((p) => Number.isFinite(p[1]) && p[1] > 0);
  if (fin.length) {
    let lo = Math.log10(Math.min(...fin.map((p) => p[1]))), hi = Math.log10(Math.max(...fin.map((p) => p[1])));
    if (hi - lo < 0.5) { lo -= 0.25; hi += 0.25; }
    const Y = (v) => T + ph * (1 - (Math.log10(v) - lo) / (hi - lo));
    ctx.strokeStyle = "#2563eb"; ctx.lineWidth = 1.6; ctx.beginPath();
    fin.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
    ctx.stroke();
    ctx.fillStyle = "#2563eb"; ctx.textAlign = "right";
    ctx.fillText(Number(10 ** hi).toPrecision(2), L - 4, T + 8); ctx.fillText(Number(10 ** lo).toPrecision(2), L - 4, T + ph);
  }
  if (acc.length) {
    const Y = (v) => T + ph * (1 - v);
    ctx.strokeStyle = "#16a34a"; ctx.lineWidth = 1.8; ctx.beginPath();
    acc.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
    ctx.stroke();
    ctx.fillStyle = "#16a34a"; ctx.textAlign = "left";
    ctx.fillText("100%", L + pw + 4, T + 8); ctx.fillText("0%", L + pw + 4, T + ph);
  }
  const bad = loss.find((p) => !Number.isFinite(p[1]));
  if (bad) {   // a NaN or Inf loss is not on the log scale: mark the step it happened at
    const x = X(bad[0]);
    ctx.strokeStyle = "#dc2626"; ctx.lineWidth = 1.2; ctx.setLineDash([4, 3]);
    ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, T + ph); ctx.stroke(); ctx.setLineDash([]);
    const what = Number.isNaN(bad[1]) ? "NaN" : bad[1] > 0 ? "Inf" : "-Inf";
    ctx.fillStyle = "#dc2626"; ctx.textAlign = x > L + pw / 2 ? "right" : "left";
    ctx.fillText(`loss ${what} at step ${bad[0]}`, x + (x > L + pw / 2 ? -4 : 4), T + 12);
  }
  if (!fin.length && !acc.length && !bad) {
    ctx.fillStyle = "#94a3b8"; ctx.textAlign = "center";
    ctx.fillText("Train to see the loss and test accuracy", L + pw / 2, T + ph / 2);
  }
}

/** The decision boundary (grid of predicted classes, alpha = confidence) and the points. */
export function drawBoundary(canvas, size, data, boundary) {
  const ctx = setup(canvas, size, size);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size, size);
  let x0, x1, y0, y1;
  if (boundary) { [x0, x1] = boundary.x; [y0, y1] = boundary.y; }
  else if (data?.train?.length) {
    const xs = data.train.map((p) => p[0]), ys = data.train.map((p) => p[1]);
    x0 = Math.min(...xs) - 0.3; x1 = Math.max(...xs) + 0.3; y0 = Math.min(...ys) - 0.3; y1 = Math.max(...ys) + 0.3;
  } else {
    ctx.fillStyle = "#94a3b8"; ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center";
    ctx.fillText("Train or step to see the data", size / 2, size / 2 - 8);
    ctx.fillText("and the model's decision boundary", size / 2, size / 2 + 10);
    return;
  }
  if (boundary) {
    const { nx, ny, cls, conf } = boundary;
    const img = ctx.createImageData(nx, ny);
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const k = j * nx + i, o = ((ny - 1 - j) * nx + i) * 4, [r, g, b] = rgb(COLORS[cls[k] % COLORS.length]);
      const c = Number(conf[k]), a = Math.max(0, Math.min(1, (c - 0.4) / 0.6));
      img.data[o] = Math.round(255 + (r - 255) * a * 0.45); img.data[o + 1] = Math.round(255 + (g - 255) * a * 0.45);
      img.data[o + 2] = Math.round(255 + (b - 255) * a * 0.45); img.data[o + 3] = 255;
    }
    const tmp = document.createElement("canvas"); tmp.width = nx; tmp.height = ny;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tmp, 0, 0, size, size);
  }
  const X = (v) => (v - x0) / (x1 - x0) * size, Y = (v) => size - (v - y0) / (y1 - y0) * size;
  for (const [set, hollow] of [[data?.train || [], false], [data?.test || [], true]]) {
    for (const [a, b, c] of set) {
      ctx.beginPath(); ctx.arc(X(a), Y(b), hollow ? 3.2 : 2.8, 0, 2 * Math.PI);
      if (hollow) { ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = COLORS[c % COLORS.length]; ctx.lineWidth = 1.5; ctx.stroke(); }
      else { ctx.fillStyle = COLORS[c % COLORS.length]; ctx.fill(); ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 0.8; ctx.stroke(); }
    }
  }
}

/** A 2-D array of numbers as a grey (or diverging) image of `scale` pixels per cell. */
export function heat(arr, scale, lo, hi) {
  const h = arr.length, w = arr[0]?.length || 1;
  const c = document.createElement("canvas");
  c.width = w; c.height = h; c.style.width = w * scale + "px"; c.style.height = h * scale + "px";
  c.style.imageRendering = "pixelated";
  const ctx = c.getContext("2d"), img = ctx.createImageData(w, h);
  if (lo === undefined) { const flat = arr.flat(); lo = Math.min(...flat); hi = Math.max(...flat); }
  const span = hi - lo || 1;
  for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) {
    const t = (Number(arr[j][i]) - lo) / span, o = (j * w + i) * 4;
    img.data[o] = Math.round(15 + 240 * t); img.data[o + 1] = Math.round(23 + 200 * t); img.data[o + 2] = Math.round(42 + 120 * t); img.data[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}
