// The timeline: loss and metrics per step (uPlot), gradient norm per layer per step
// (a heat strip: vanishing gradients fade out, exploding ones glow), and the step scrubber.
import uPlot from "uplot";
import { fmt, num } from "./format.js";

const PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#0891b2"];

export class Timeline {
  constructor({ chartEl, normsEl, scrubber, scrubLabel, liveBtn, onScrub }) {
    this.chartEl = chartEl; this.normsEl = normsEl;
    this.scrubber = scrubber; this.scrubLabel = scrubLabel; this.liveBtn = liveBtn;
    this.onScrub = onScrub;
    this.plot = null; this.names = [];
    this.chartEl.dataset.count = "0";
    this.chartEl.dataset.last = "";
    scrubber.addEventListener("input", () => onScrub(Number(scrubber.value) - 1, false));
    liveBtn.addEventListener("click", () => onScrub(null, true));
    this.sizer = new ResizeObserver(() => this.resize());   // the box, and the legend in it
    this.sizer.observe(chartEl);
  }

  /** Fit the plot to its box, leaving room for the legend (series names and values) under it. */
  resize() {
    if (!this.plot) return;
    const r = this.chartEl.getBoundingClientRect();
    const lh = this.legend ? this.legend.getBoundingClientRect().height : 0;
    this.plot.setSize({ width: Math.max(100, r.width), height: Math.max(60, r.height - 4 - lh) });
  }

  /** Redraw from the store's scalars: loss first, then any other metric. */
  updateScalars(scalars) {
    const names = [...scalars.keys()].sort((a, b) => (a === "loss" ? -1 : b === "loss" ? 1 : a.localeCompare(b)));
    const loss = scalars.get("loss");
    this.chartEl.dataset.count = String(loss ? loss.y.length : 0);
    this.chartEl.dataset.last = loss && loss.y.length ? String(num(loss.y[loss.y.length - 1])) : "";
    // the step numbers of the loss's first and last points (as the step info numbers steps)
    this.chartEl.dataset.stepFirst = loss && loss.x.length ? String(loss.x[0]) : "";
    this.chartEl.dataset.stepLast = loss && loss.x.length ? String(loss.x[loss.x.length - 1]) : "";
    if (!names.length) {   // nothing (yet) at this position: no points left over
      if (this.plot) this.plot.setData([[], ...this.names.map(() => [])]);
      return;
    }
    // Align every series on the union of their x (step) values.
    const xs = [...new Set(names.flatMap((n) => scalars.get(n).x))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const data = [xs];
    for (const n of names) {
      const col = new Array(xs.length).fill(null);
      const s = scalars.get(n);
      s.x.forEach((x, i) => { const v = num(s.y[i]); col[at.get(x)] = Number.isFinite(v) ? v : null; });
      data.push(col);
    }
    if (!this.plot || names.join() !== this.names.join()) {
      this.names = names;
      if (this.legend) this.sizer.unobserve(this.legend);
      this.plot?.destroy();
      const r = this.chartEl.getBoundingClientRect();
      this.plot = new uPlot({
        width: Math.max(100, r.width), height: Math.max(80, r.height - 4),
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false }, loss: { auto: true }, metric: { auto: true } },
        axes: [
          { stroke: "#64748b", grid: { stroke: "#eef2f7" }, size: 28, font: "11px system-ui",
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], values: (u, v) => v.map((x) => String(Math.round(x))) },
          { scale: "loss", stroke: "#64748b", grid: { stroke: "#eef2f7" }, size: 46, font: "11px system-ui", values: (u, v) => v.map(fmt) },
          ...(names.length > 1 ? [{ scale: "metric", side: 1, stroke: "#94a3b8", grid: { show: false }, size: 40, font: "11px system-ui", values: (u, v) => v.map(fmt) }] : []),
        ],
        series: [{ label: "step" }, ...names.map((n, i) => ({
          label: n, scale: n === "loss" ? "loss" : "metric", stroke: PALETTE[i % PALETTE.length],
          width: n === "loss" ? 2 : 1.5, points: { show: (u, si, i0, i1) => i1 - i0 < 40 }, spanGaps: true,   // dots only while few
          value: (u, v) => (v === null || v === undefined ? "—" : fmt(v)),
        }))],
      }, data, this.chartEl);
      this.legend = this.plot.root.querySelector(".u-legend");
      if (this.legend) this.sizer.observe(this.legend);   // its laid-out height comes later
    } else {
      this.plot.setData(data);
    }
  }

  /** Heat strip: one row per parameter, one column per recorded step, colour = log10 ‖grad‖. */
  updateNorms(gradNorms, stepCount, shownStep) {
    const el = this.normsEl;
    const names = [...gradNorms.keys()];
    el.dataset.layers = String(names.length);
    const canvas = el.querySelector("canvas") || el.appendChild(document.createElement("canvas"));
    const r = el.getBoundingClientRect();
    // rows stay readable (≥ 11 px: a label each); more rows than fit scroll in the box
    const rowH = Math.max(11, Math.min(16, (r.height - 22) / Math.max(1, names.length)));
    const H = Math.max(20, rowH * names.length);
    const W = Math.max(100, r.width - (H > r.height ? 16 : 8));
    const dpr = window.devicePixelRatio || 1;
    canvas.width = W * dpr; canvas.height = H * dpr;
    canvas.style.width = W + "px"; canvas.style.height = H + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    if (!names.length) return;
    const labelW = Math.min(120, W * 0.3), cols = Math.max(1, stepCount), cw = (W - labelW) / cols;
    let lo = Infinity, hi = -Infinity;
    for (const m of gradNorms.values()) for (const v of m.values()) {
      const x = Math.log10(Math.max(1e-12, num(v)));
      if (Number.isFinite(x)) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    }
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    ctx.font = "10px system-ui, sans-serif"; ctx.textBaseline = "middle";
    names.forEach((name, row) => {
      ctx.fillStyle = "#475569";
      ctx.fillText(name.length > 20 ? "…" + name.slice(-19) : name, 2, row * rowH + rowH / 2);
      for (const [step, v] of gradNorms.get(name)) {
        const x = num(v);
        const t = Number.isFinite(x) ? (Math.log10(Math.max(1e-12, x)) - lo) / (hi - lo) : 1;
        ctx.fillStyle = Number.isFinite(x) ? `hsl(${250 - 210 * t}, 80%, ${30 + 35 * t}%)` : "#ef4444";
        ctx.fillRect(labelW + step * cw, row * rowH + 1, Math.max(1, cw - (cw > 3 ? 1 : 0)), rowH - 2);
      }
    });
    if (shownStep !== null && shownStep !== undefined) {
      ctx.strokeStyle = "#0f172a"; ctx.lineWidth = 1;
      ctx.strokeRect(labelW + shownStep * cw + 0.5, 0.5, Math.max(2, cw - 1), H - 1);
    }
    el.title = `log10 ‖grad‖ from ${lo.toFixed(1)} (dark blue) to ${hi.toFixed(1)} (yellow)`;
  }

  /** ``shown``: position among the ``stepCount`` steps kept; the label names real step
   * numbers (the browser keeps the last few hundred graphs: then it says from which step). */
  updateScrubber(stepCount, shown, live, firstIndex = 0, shownIndex = shown, lastIndex = stepCount - 1) {
    this.scrubber.max = String(Math.max(1, stepCount));
    this.scrubber.disabled = stepCount < 2;
    this.scrubber.value = String(shown + 1);
    const kept = firstIndex > 0 ? ` · kept from ${firstIndex + 1}` : "";
    this.scrubLabel.textContent = stepCount ? `step ${shownIndex + 1} / ${lastIndex + 1}${kept}` : "no steps yet";
    this.scrubLabel.title = firstIndex > 0
      ? `the page keeps the graphs of the last ${stepCount} steps (${firstIndex + 1}–${lastIndex + 1}); the charts cover all`
      : "";
    this.liveBtn.classList.toggle("active", live);
    // a recording has no live end: the button goes to its last step; nor has a session
    // whose job or process ended while on screen
    this.liveBtn.textContent = this.recording ? (live ? "● last step" : "go to last step")
      : this.ended ? (live ? "■ ended" : "go to last step") : live ? "● live" : "go live";
    this.liveBtn.dataset.state = this.recording ? "recording" : this.ended ? "ended" : "live";
  }
}
