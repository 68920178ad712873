// The inspector: everything known about the selected node in the shown step.
import { h, fmt, num, shapeText, countOf, tensorToken, flatValues } from "./format.js";
import { histogram, heatmap, channelMaps } from "./plots.js";

const FULL_VALUES_MAX = 1 << 20;

function statRows(stats, testid) {
  if (!stats) return h("p", { class: "muted" }, "not computed yet");
  const cell = (k, v, id) => h("div", { class: "stat" }, h("span", { class: "k" }, k),
    h("span", { class: "v", "data-testid": id }, v));
  const bad = (stats.nan || 0) + (stats.inf || 0);
  return h("div", { class: "stats" },
    cell("‖·‖", fmt(stats.norm), testid), cell("mean", fmt(stats.mean)), cell("std", fmt(stats.std)),
    cell("min", fmt(stats.min)), cell("max", fmt(stats.max)),
    cell("zeros", stats.zeros ?? "—"),
    bad ? h("div", { class: "stat bad" }, h("span", { class: "k" }, "NaN/Inf"), h("span", { class: "v" }, `${stats.nan}/${stats.inf}`)) : null);
}

/** The thumbnail of a preview as rows of numbers (NaN/±Infinity where non-finite), or null:
 *  `thumb8` ({lo, hi, rows, cols, b64: one byte a cell, nonfinite: base64, one byte a cell: 0 finite, 1 NaN, 2 +Inf, 3 -Inf})
 *  maps each byte q back to lo + q * (hi - lo) / 255; the old `thumb` (nested lists, from
 *  older recordings and stores) is read as it is. */
export function thumbGrid(preview) {
  const t = preview?.thumb8;
  if (t && t.rows > 0 && t.cols > 0) {
    const bin = atob(t.b64 || "");
    const lo = num(t.lo), hi = num(t.hi), step = (hi - lo) / 255;
    const value = Number.isFinite(step) ? (q) => lo + q * step
      : (q) => lo * (1 - q / 255) + hi * (q / 255);   // a range beyond the largest double
    const grid = [];
    for (let i = 0, k = 0; i < t.rows; i++) {
      const row = new Array(t.cols);
      for (let j = 0; j < t.cols; j++, k++) row[j] = k < bin.length ? value(bin.charCodeAt(k) & 255) : NaN;
      grid.push(row);
    }
    if (typeof t.nonfinite === "string") {   // one byte a cell: 0 finite, 1 NaN, 2 +Inf, 3 -Inf
      const mask = atob(t.nonfinite), special = [null, NaN, Infinity, -Infinity];
      for (let k = 0; k < mask.length && k < t.rows * t.cols; k++) {
        const c = mask.charCodeAt(k) & 255;
        if (c) grid[Math.floor(k / t.cols)][k % t.cols] = c < 4 ? special[c] : NaN;
      }
    }
    return grid;
  }
  return Array.isArray(preview?.thumb) && preview.thumb.length ? preview.thumb : null;
}

function tensorPics(preview, shape, label) {
  const out = [];
  const hist = histogram(preview, { color: label === "grad" ? "#10b981" : "#3b82f6" });
  if (hist) out.push(h("div", { class: "pic" }, h("div", { class: "pic-title" }, "histogram"), hist));
  let grid = thumbGrid(preview), source = preview?.thumb8 ? "thumb8" : "thumb";
  if (!grid) {
    source = "values";
    if (preview?.values !== undefined && shape?.length === 2) grid = preview.values;
    else if (preview?.values !== undefined && shape?.length === 1 && shape[0] > 1) grid = [preview.values];
  }
  if (grid && grid.length) {
    const rows = grid.length, cols = grid[0].length;
    const title = source === "values" ? "heatmap" : `heatmap (block means, ${rows}×${cols})`;
    out.push(h("div", { class: "pic", "data-testid": `${label}-heatmap`, "data-source": source,
      "data-rows": rows, "data-cols": cols }, h("div", { class: "pic-title" }, title), heatmap(grid, { label })));
  }
  return out;
}

/** Split a rule "dx = dy * y ; dy_in = dy * x" into clauses bound to input positions. */
export function parseRule(rule) {
  return (rule || "").split(/\s*;\s*/).filter(Boolean).map((clause, i) => {
    const m = clause.match(/^\s*d([A-Za-z]\w*?)(_in)?\s*=\s*(.*)$/);
    if (!m) return { text: clause, index: i, lhs: null, rhs: clause, name: null };
    return { text: clause, index: i, lhs: `d${m[1]}${m[2] || ""}`, name: m[1], rhs: m[3] };
  });
}

/** The gradient each input received, by input position: a grad event lists only the inputs
 * that require grad (in input order), so a Linear on data sends nothing for `dx`. */
export function contribsByInput(inputs, contribs) {
  const out = new Array(inputs.length).fill(null);
  let j = 0;
  inputs.forEach((id, i) => {
    if (j < contribs.length && contribs[j].to === id) out[i] = contribs[j++];
  });
  return out;
}

/** Substitute the numbers of this node into a rule's right-hand side. */
export function fillRule(rhs, bindings) {
  return rhs.replace(/[A-Za-z_]\w*/g, (tok) => (tok in bindings ? bindings[tok] : tok));
}

export class Inspector {
  constructor(root, deps) {
    this.root = root; this.deps = deps; this.store = deps.store;
    this.onSelectNode = deps.onSelectNode; this.onBreak = deps.onBreak;
    this.full = new Map();   // "node:what" -> full values message
    this.render(null, null);
  }

  nodeLink(step, id) {
    const r = step.nodes.get(id);
    const label = r ? (r.kind === "op" ? r.op : (r.name || "input")) : `node ${id}`;
    return h("a", { href: "#", class: "node-link", "data-node-link": id,
      onclick: (e) => { e.preventDefault(); this.onSelectNode(id); } }, `${label} #${id}`);
  }

  render(step, rec) {
    this.step = step; this.rec = rec;
    const root = this.root;
    root.replaceChildren();
    if (!rec) {
      root.removeAttribute("data-node-id");
      root.append(h("div", { class: "insp-empty" }, h("h3", {}, "Inspector"),
        h("p", {}, "Click a node in the graph to see its value, its gradient, the backward rule with this node's numbers, and where its gradient comes from.")));
      return;
    }
    root.setAttribute("data-node-id", String(rec.id));
    const state = this.store.stateOf(step, rec);
    const title = rec.kind === "op" ? rec.op : (rec.name || "input");
    const kind = rec.kind === "op" ? "op" : (rec.name ? "parameter" : "input");
    root.append(h("header", { class: "insp-head" },
      h("div", {}, h("span", { class: `badge kind-${kind}` }, kind), h("h3", {}, title)),
      h("span", { class: `state-pill s-${state}`, "data-testid": "inspector-state" }, state)));

    const meta = [["node", `#${rec.id}`], ["step", String(step.index + 1)]];
    if (rec.kind === "op") meta.push(["op", rec.op], ["module", rec.module || "—"], ["source", rec.src || "—"]);
    else meta.push(["name", rec.name || "—"], ["requires grad", String(rec.requiresGrad ?? "—")]);
    meta.push(["shape", shapeText(rec.shape)], ["dtype", rec.dtype || "—"], ["device", rec.device || "—"]);
    if (rec.attrs && Object.keys(rec.attrs).length) meta.push(["attrs", JSON.stringify(rec.attrs)]);
    root.append(h("dl", { class: "meta" }, meta.map(([k, v]) => [h("dt", {}, k), h("dd", { title: v }, v)])));

    if (rec.kind === "op" && rec.inputs.length) {
      root.append(h("div", { class: "insp-inputs" }, h("span", { class: "k" }, "inputs "),
        rec.inputs.map((i, n) => [n ? ", " : "", this.nodeLink(step, i)])));
    }
    if (rec.kind === "op" && rec.attrs?.inplace) {
      root.append(h("p", { class: "insp-inplace", "data-testid": "inplace-note" },
        `In place: ${rec.attrs.inplace} wrote this result into its first input's tensor. `,
        "That input is the tensor's previous version; ops that read the tensor before ",
        "still point at it, ops after read this node."));
    }
    if (rec.anomaly) {
      root.append(h("div", { class: "anomaly-box" }, h("strong", {}, `Anomaly (${rec.anomaly.where}): `),
        rec.anomaly.message || rec.anomaly.what || ""));
    }

    // Forward value.
    const value = h("section", { class: "card" }, h("h4", {}, "Value (forward)"),
      statRows(rec.stats, "value-norm"), ...tensorPics(rec.preview, rec.shape, "value"));
    value.append(this.fullValues(rec, "value"));
    // Gradient: an op's grad event, or a leaf's accumulated .grad.
    const g = rec.grad || rec.accum;
    const grad = h("section", { class: "card", "data-testid": "grad-card" },
      // an op node's gradient is ∂loss/∂output (none before backward); only leaves get .grad
      h("h4", {}, rec.grad || rec.kind === "op" ? "Gradient  ∂loss/∂output" : "Gradient  .grad (accumulated)"),
      statRows(g, "grad-norm"), ...(g ? tensorPics(g.preview, rec.shape, "grad") : []));
    if (g) grad.append(this.fullValues(rec, "grad"));
    root.append(value, grad);

    if (rec.rule !== undefined && rec.grad) root.append(this.ruleCard(step, rec));
    if (rec.fanIn.length) root.append(this.fanInCard(step, rec, g));
    if (rec.update) root.append(this.updateCard(rec.update));

    // an expanded module folds back into one group from here (Modules folds them all)
    const groups = this.deps.expandedModulesOf?.(rec) || [];
    root.append(h("div", { class: "insp-actions" },
      h("button", { class: "btn small", "data-testid": "break-node", onclick: () => this.onBreak({ node: rec.id }) }, "Break at this node"),
      rec.kind === "op" ? h("button", { class: "btn small", "data-testid": "break-op", onclick: () => this.onBreak({ op: rec.op }) }, `Break on every ${rec.op}`) : null,
      ...groups.map((g) => h("button", { class: "btn small", "data-testid": "collapse-module", "data-group": g,
        title: "Show this module as one node again", onclick: () => this.deps.onCollapse(g) }, `Collapse ${g}`))));
  }

  ruleCard(step, rec) {
    const clauses = parseRule(rec.rule);
    const bindings = { dy: tensorToken(rec.shape, rec.grad, rec.grad?.preview) };
    // a rule's clauses follow the op's arguments, and a Python number among them (the 2 of
    // `x * 2`, in attrs.scalars by position) is no input: it is a constant, with no gradient
    const scalars = rec.attrs?.scalars || {}, inputs = rec.inputs || [];
    const args = [];   // per argument position: {input: index into inputs} or {scalar: value}
    for (let i = 0, j = 0; i < inputs.length + Object.keys(scalars).length; i++) {
      args.push(String(i) in scalars ? { scalar: scalars[String(i)] } : { input: j++ });
    }
    const argOf = (i) => args[i] || { input: i };
    const constants = new Set();
    clauses.forEach((c, i) => {
      const arg = argOf(i);
      if (c.name && arg.scalar !== undefined) { bindings[c.name] = String(arg.scalar); constants.add(c.name); return; }
      const inp = step.nodes.get(inputs[arg.input]);
      if (c.name && inp) bindings[c.name] = tensorToken(inp.shape, inp.stats, inp.preview);
    });
    if (!("out" in bindings)) bindings.out = tensorToken(rec.shape, rec.stats, rec.preview);
    const card = h("section", { class: "card", "data-testid": "backward-rule" }, h("h4", {}, "Backward rule"),
      h("p", { class: "rule" }, h("code", {}, rec.rule || "(no rule text)")));
    const sent = contribsByInput(inputs, rec.contribs || []);
    const rows = clauses.filter((c, i) => argOf(i).scalar === undefined).map((c) => {
      const k = argOf(c.index).input, contrib = sent[k], input = inputs[k];
      let result = null;
      if (contrib) {
        result = h("span", { class: "rule-result", "data-testid": "rule-result" },
          "→ ‖", fmt(contrib.stats?.norm), "‖ to ", this.nodeLink(step, contrib.to));
      } else if (c.lhs && input !== undefined) {   // e.g. the data a Linear reads
        result = h("span", { class: "rule-result muted", "data-testid": "rule-result" },
          "not computed: ", this.nodeLink(step, input), " does not require grad");
      }
      return h("div", { class: "rule-row" },
        h("code", { class: "rule-lhs" }, c.lhs || c.text),
        c.lhs ? h("code", { class: "rule-filled" }, "= " + fillRule(c.rhs, bindings)) : null,
        result);
    });
    card.append(h("div", { class: "rule-rows" }, rows));
    const where = Object.entries(bindings).filter(([k]) => rec.rule.includes(k))
      .map(([k, v]) => `${k} = ${v}${constants.has(k) ? " (a constant)" : ""}`).join(",   ");
    if (where) card.append(h("p", { class: "muted small" }, "where ", where));
    return card;
  }

  fanInCard(step, rec, g) {
    let sum = 0;
    const rows = rec.fanIn.map((f) => {
      const m = num(f.stats?.mean) * countOf(rec.shape);
      sum += m;
      return h("tr", {}, h("td", {}, this.nodeLink(step, f.from)), h("td", {}, fmt(f.stats?.norm)), h("td", {}, fmt(f.stats?.mean)));
    });
    const meanSum = sum / Math.max(1, countOf(rec.shape));
    const card = h("section", { class: "card", "data-testid": "fan-in" },
      h("h4", {}, `Gradient contributions (fan-in: ${rec.fanIn.length})`),
      h("table", { class: "tbl" }, h("thead", {}, h("tr", {}, h("th", {}, "from"), h("th", {}, "‖contrib‖"), h("th", {}, "mean"))),
        h("tbody", {}, rows),
        h("tfoot", {}, h("tr", {}, h("td", {}, "sum"), h("td", { "data-testid": "fan-in-sum" }, g ? fmt(g.norm) : "—"),
          h("td", {}, fmt(meanSum))))));
    if (g) card.append(h("p", { class: "muted small" }, `The contributions add up to this node's gradient: mean of the sum ${fmt(meanSum)} vs ${fmt(g.mean)}.`));
    return card;
  }

  updateCard(u) {
    const rows = [["optimizer", u.optimizer], ["lr", fmt(u.lr)], ["‖Δw‖", fmt(u.update_stats?.norm)],
      ["‖Δw‖ / ‖w‖", fmt(u.ratio)]];
    const card = h("section", { class: "card", "data-testid": "param-update" }, h("h4", {}, "Last optimizer update"),
      h("dl", { class: "meta" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", { "data-testid": k === "‖Δw‖ / ‖w‖" ? "update-ratio" : null }, v ?? "—")])));
    const r = num(u.ratio);
    if (Number.isFinite(r)) {
      const verdict = r > 1e-2 ? "large (≫ 1e-3): the learning rate may be too high" : r < 1e-5 ? "tiny (≪ 1e-3): this layer barely learns" : "healthy (around 1e-3)";
      card.append(h("p", { class: "muted small" }, `update/weight ratio is ${verdict}`));
    }
    if (u.state && Object.keys(u.state).length) {
      card.append(h("table", { class: "tbl", "data-testid": "optimizer-state" },
        h("thead", {}, h("tr", {}, h("th", {}, "state"), h("th", {}, "‖·‖"), h("th", {}, "mean"), h("th", {}, "max"))),
        h("tbody", {}, Object.entries(u.state).map(([k, s]) => h("tr", {}, h("td", {}, k),
          h("td", {}, fmt(s?.norm ?? s)), h("td", {}, fmt(s?.mean)), h("td", {}, fmt(s?.max)))))));
    }
    return card;
  }

  fullValues(rec, what) {
    const key = `${rec.id}:${what}`;
    const box = h("div", { class: "full-values" });
    const got = this.full.get(key);
    if (got) {
      if (got.error) box.append(h("p", { class: "muted" }, got.error));
      else {
        const shape = got.shape || rec.shape;
        if (shape && (shape.length === 4 || (shape.length === 3 && rec.op && /Conv|Pool/.test(rec.op)))) box.append(channelMaps(got.values, shape));
        const flat = flatValues(got.values);
        box.append(h("pre", { class: "values", "data-testid": `full-${what}` }, JSON.stringify(got.values, (k, v) => (typeof v === "number" ? Number(v.toPrecision(5)) : v))
          .slice(0, 20000) + (flat.length > 4000 ? "\n…" : "")));
      }
      return box;
    }
    if (countOf(rec.shape) > FULL_VALUES_MAX) return box;
    const preview = what === "grad" ? (rec.grad || rec.accum)?.preview : rec.preview;
    if (preview?.values === undefined && this.deps.fullValuesKept && !this.deps.fullValuesKept()) {
      // asking would only raise NOT_AVAILABLE: say why here instead
      box.append(h("button", { class: "btn small ghost", "data-testid": `show-${what}`, disabled: true,
        title: "full values are kept only while the process runs" }, `Show full ${what === "grad" ? "gradient" : "values"}`),
      h("p", { class: "muted small", "data-testid": `full-${what}-unavailable` },
        "Full values are kept only while the process runs: this session has ended or is a recording, so only the summary above is known."));
      return box;
    }
    box.append(h("button", { class: "btn small ghost", "data-testid": `show-${what}`, onclick: () => this.fetchFull(rec, what) },
      `Show full ${what === "grad" ? "gradient" : "values"}`));
    return box;
  }

  fetchFull(rec, what) {
    const key = `${rec.id}:${what}`;
    const preview = what === "grad" ? (rec.grad || rec.accum)?.preview : rec.preview;
    if (preview?.values !== undefined) {   // small tensors arrive whole
      this.full.set(key, { values: preview.values, shape: rec.shape });
      this.render(this.step, this.rec);
      return;
    }
    this.pending = key;
    this.deps.conn.requestTensor(rec.id, what);
  }

  /** A `tensor` reply from the server: {node, what, shape, values} or {error}. */
  onTensor(msg) {
    const key = `${msg.node}:${msg.what || "value"}`;
    if (msg.error) this.full.set(key, { error: msg.error.message || String(msg.error) });
    else this.full.set(key, { values: msg.values ?? msg.data, shape: msg.shape });
    if (this.rec && String(this.rec.id) === String(msg.node)) this.render(this.step, this.rec);
  }
}
