// The Playground panel (issue 6): build a model from layers, pick data, train / pause / step,
// watch loss, test accuracy, the decision boundary or feature maps; code view, code mode,
// save / load / share specs and download weights. The server validates every spec.
import { h, num as jsonNum } from "./format.js";
import { plainError, plainMessage } from "./playground_messages.js";
import { COLORS, drawBoundary, drawChart, heat } from "./playground_viz.js";

import { $, ACTS, CLASSES, CODE_EXAMPLE, FRACTIONS, KIND, OPT_FIELDS, PARAM_LABELS, PARAMS, PRESETS, TYPES, clone, decodeSpec, encodeSpec } from "./playground_spec.js";

// the engine's events that say where a step stands (the step info follows them)
const TRACKED = new Set(["op", "backward_begin", "grad", "backward_end", "param_update"]);

/** Call `fn` when the user leaves number box `el` holding what is not a number. */
function blurBad(el, fn) { el.addEventListener("blur", () => { if (el.validity.badInput) fn(); }); }

class Playground {
  constructor(root, app) {
    this.root = root; this.app = app; this.socket = app.conn.socket;
    // the starting spec (the model of the server's default session) comes with the datasets
    this.spec = null; this.defaults = {}; this.clean = null; this.datasets = [];
    this.session = null; this.sessionSpec = null; this.reset();
    this.build();
    // events come from main.js (live and fetched-up batches alike): see onEvents
    this.socket.on("status", (m) => { if (m?.session === this.session) this.setRun(m.status === "running" ? "running" : m.status, m.message); });
    this.socket.on("playground_output", (m) => this.onOutput(m));
    const fromUrl = new URLSearchParams(location.hash.slice(1)).get("spec") || new URLSearchParams(location.search).get("spec");
    // a shared spec is what the page opened for: no session's spec replaces it until Train
    this.keepSpec = Boolean(fromUrl);
    if (fromUrl) { try { this.spec = decodeSpec(fromUrl); } catch (e) { this.specError({ code: "BAD_SHARE_URL", message: `the shared spec in the URL is not valid base64 JSON: ${e.message}`, field: null }); } }
    let loaded;
    this.ready = new Promise((resolve) => { loaded = resolve; });
    const start = () => this.request({ action: "datasets" }).then((r) => {
      this.datasets = r.datasets || []; this.defaults = r.default || {};
      this.spec ??= clone(this.defaults);
      this.renderAll();
      loaded();
    });
    if (this.socket.connected) start(); else this.socket.once("connect", start);
    if (app.conn.session) this.adopt(app.conn.session);   // the page picked one before we came
    this.socket.on("connect", () => this.validate());
  }

  reset() {
    this.loss = []; this.acc = []; this.data = null; this.boundary = null; this.fmaps = null;
    this.events = 0; this.lastSeq = -1;
    // where the run stands inside a step, for the step info while stepping op by op: the step
    // (0-based) in progress and the next one, this step's forward ops and backward nodes
    this.pos = { step: null, next: 0, phase: "idle", ops: [], grads: [], count: null };
  }

  request(msg) {
    return new Promise((resolve) => this.socket.emit("playground", msg, (r) => resolve(r || {})));
  }

  // ---- layout ------------------------------------------------------------------------
  build() {
    const field = (label, key, input) => h("label", { class: "pg-field", "data-field": key }, h("span", {}, label), input, h("span", { class: "pg-err", "data-testid": "field-error", "data-for": key }));
    const num = (tid, step = "any", min = null) => h("input", { type: "number", step, min, "data-testid": tid });
    this.el = {};
    const E = this.el;
    E.dataset = h("select", { "data-testid": "dataset", "aria-label": "dataset" });
    E.n = num("n", "1", "8"); E.noise = num("noise", "0.05", "0"); E.split = num("test-split", "0.05", "0.05"); E.classes = num("classes", "1", "2");
    E.unavail = h("div", { class: "pg-note small muted", "data-testid": "dataset-unavailable" });
    E.layers = h("div", { class: "pg-layers" });
    E.addType = h("select", { "data-testid": "add-layer-type", "aria-label": "layer type" }, ...TYPES.map((t) => h("option", { value: t }, t)));
    E.summary = h("div", { class: "pg-summary", "data-testid": "model-summary" });
    E.loss = h("select", { "data-testid": "loss" }, ...[["cross_entropy", "cross-entropy"], ["nll_after_log_softmax", "NLL of log-softmax"], ["mse_onehot", "MSE on one-hot"]].map(([v, l]) => h("option", { value: v }, l)));
    E.opt = h("select", { "data-testid": "optimizer" }, ...Object.keys(OPT_FIELDS).map((t) => h("option", { value: t }, t)));
    E.lr = num("lr"); E.momentum = num("momentum", "0.05", "0"); E.alpha = num("alpha", "0.01", "0"); E.wd = num("weight-decay", "any", "0"); E.wd.placeholder = "0"; E.momentum.placeholder = "0";
    E.bs = num("batch-size", "1", "1"); E.epochs = num("epochs", "1", "1");
    E.gran = h("select", { "data-testid": "step-granularity", "aria-label": "step granularity" },
      h("option", { value: "step" }, "training step"), h("option", { value: "op" }, "forward op"), h("option", { value: "node" }, "backward node"));
    E.runState = h("span", { class: "run-state", "data-testid": "pg-run-state", "data-state": "idle" }, "not started");
    E.stepInfo = h("span", { class: "muted small", "data-testid": "pg-step-info" });
    E.accuracy = h("span", { class: "pg-acc", "data-testid": "pg-accuracy", "data-value": "" }, "test accuracy —");
    E.specErr = h("div", { class: "pg-spec-error", "data-testid": "spec-error", hidden: true });
    E.chart = h("canvas", { "data-testid": "pg-loss-chart", "data-count": "0", "data-last": "" });
    E.boundary = h("canvas", { "data-testid": "boundary", "data-step": "" });
    E.samples = h("div", { class: "pg-samples", "data-testid": "samples" });
    E.fmaps = h("div", { class: "pg-fmaps", "data-testid": "feature-maps" });
    E.viz = h("div", { class: "pg-viz" });
    E.code = h("pre", { class: "pg-code", "data-testid": "code-view" });
    // while the spec is invalid the code and the boundary are the last valid model's: say so
    E.codeStale = h("div", { class: "pg-stale", "data-testid": "code-stale", hidden: true });
    E.vizStale = h("div", { class: "pg-stale", "data-testid": "viz-stale", hidden: true });
    E.editor = h("textarea", { class: "pg-editor", "data-testid": "code-editor", spellcheck: "false" }, CODE_EXAMPLE);
    E.output = h("pre", { class: "pg-output", "data-testid": "code-output" });
    E.json = h("textarea", { class: "pg-editor", "data-testid": "spec-json", spellcheck: "false" });
    E.share = h("input", { class: "pg-share", "data-testid": "share-url", readonly: true, placeholder: "Share: a link with the spec appears here" });
    E.file = h("input", { type: "file", accept: ".json,application/json", hidden: true, "data-testid": "load-file" });
    const btn = (tid, text, fn, cls = "btn") => h("button", { class: cls, "data-testid": tid, onclick: fn }, text);
    E.optFields = {};
    const card = (title, ...kids) => h("section", { class: "pg-card" }, h("h3", {}, title), ...kids);
    const tabs = h("nav", { class: "pg-tabs" }, ...[["code", "Code"], ["codemode", "Code mode"], ["json", "Spec JSON"]].map(([k, t]) =>
      h("button", { class: `pg-tab${k === "code" ? " active" : ""}`, "data-testid": `pg-tab-${k}`, onclick: () => this.tab(k) }, t)));
    this.panes = {
      code: h("div", { class: "pg-pane" }, h("div", { class: "pg-row" }, h("span", { class: "muted small" }, "The same model as a gradviz script: runs as is."), h("div", { class: "spacer" }),
        btn("copy-code", "Copy", () => this.copy(E.code.textContent, "code copied")), btn("download-code", "Download .py", () => this.download(new Blob([E.code.textContent], { type: "text/x-python" }), "model.py"))), E.codeStale, E.code),
      codemode: h("div", { class: "pg-pane", hidden: true }, h("div", { class: "pg-row" }, h("span", { class: "muted small" }, "Python for what the builder cannot express; runs in a limited process."), h("div", { class: "spacer" }),
        btn("code-run", "▶ Run code", () => this.runCode(), "btn primary"), btn("code-stop", "Stop", () => this.stopCode())), E.editor, h("div", { class: "box-title" }, "Output"), E.output),
      json: h("div", { class: "pg-pane", hidden: true }, h("div", { class: "pg-row" }, h("span", { class: "muted small" }, "The model spec; the server checks it before anything runs."), h("div", { class: "spacer" }),
        btn("spec-apply", "Apply", () => this.applyJson(), "btn primary")), E.json, h("div", { class: "pg-err block", "data-testid": "spec-json-error" })),
    };
    this.root.replaceChildren(h("div", { class: "pg" },
      h("div", { class: "pg-toolbar" },
        btn("train", "▶ Train", () => this.train(), "btn primary"), btn("pg-pause", "❚❚ Pause", () => this.command("pause")),
        btn("pg-restart", "↺ Restart", () => this.train(false, true)),
        btn("pg-step", "Step", () => this.step()), E.gran, E.runState, E.stepInfo, E.accuracy, h("div", { class: "spacer" }),
        btn("save-spec", "Save", () => this.download(new Blob([JSON.stringify(this.spec, null, 2)], { type: "application/json" }), "gradviz-spec.json")),
        btn("load-spec", "Load", () => E.file.click()), E.file, btn("share", "Share link", () => this.shareLink()),
        btn("download-weights", "⤓ Weights", () => this.weights())),
      E.specErr,
      h("div", { class: "pg-col pg-left" },
        card("Data", field("Dataset", "dataset.name", E.dataset), E.unavail,
          h("div", { class: "pg-grid2" }, field("Points", "dataset.n", E.n), field("Noise", "dataset.noise", E.noise), field("Test split", "dataset.test_split", E.split), field("Classes", "dataset.classes", E.classes))),
        card("Training", h("div", { class: "pg-grid2" }, field("Loss", "loss", E.loss), field("Optimizer", "optimizer.type", E.opt), field("Learning rate", "optimizer.lr", E.lr),
          (E.optFields.momentum = field("Momentum", "optimizer.momentum", E.momentum)), (E.optFields.alpha = field("Alpha", "optimizer.alpha", E.alpha)),
          (E.optFields.weight_decay = field("Weight decay", "optimizer.weight_decay", E.wd)), field("Batch size", "batch_size", E.bs), field("Epochs", "epochs", E.epochs)))),
      h("div", { class: "pg-col pg-mid" },
        card("Model", E.layers, h("div", { class: "pg-row" }, E.addType, btn("add-layer", "+ Add layer", () => this.addLayer()), h("div", { class: "spacer" }), E.summary)),
        h("section", { class: "pg-card pg-results" }, h("h3", {}, "Training"), h("div", { class: "pg-results-body" }, h("div", { class: "pg-chart-box" }, E.chart,
          h("div", { class: "pg-legend small" }, h("span", { class: "lg-loss" }, "loss (log)"), h("span", { class: "lg-acc" }, "test accuracy"))), E.viz))),
      h("div", { class: "pg-col pg-right" }, h("section", { class: "pg-card pg-code-card" }, tabs, ...Object.values(this.panes), E.share))));
    E.file.addEventListener("change", () => this.loadFile());
    // a number box holding text ("1e") fires no change event: leaving it counts as a change
    const on = (el, fn) => { el.addEventListener("change", () => { fn(el.value); this.changed(); }); blurBad(el, () => { fn(""); this.changed(); }); };
    const numv = (v) => (v === "" ? null : Number(v));
    E.dataset.addEventListener("change", () => this.setDataset(E.dataset.value));
    on(E.n, (v) => { this.spec.dataset.n = numv(v); });
    on(E.noise, (v) => { this.spec.dataset.noise = numv(v); });
    on(E.split, (v) => { this.spec.dataset.test_split = numv(v); });
    on(E.classes, (v) => { this.spec.dataset.classes = numv(v); this.fixLast(); this.renderLayers(); });
    on(E.loss, (v) => { this.spec.loss = v; });
    on(E.opt, (v) => { this.spec.optimizer = { type: v, lr: this.spec.optimizer.lr ?? 0.01 }; this.renderTraining(); });
    on(E.lr, (v) => { this.spec.optimizer.lr = numv(v); });
    for (const [k, el] of [["momentum", E.momentum], ["alpha", E.alpha], ["weight_decay", E.wd]]) {
      on(el, (v) => { if (v === "") delete this.spec.optimizer[k]; else this.spec.optimizer[k] = Number(v); });
    }
    on(E.bs, (v) => { this.spec.batch_size = numv(v); });
    on(E.epochs, (v) => { this.spec.epochs = numv(v); });
    new ResizeObserver(() => this.draw()).observe(E.chart.parentElement);
    // The graph may have been laid out while the Debugger was hidden (we switched its
    // session from here): fit it when it is shown again, unless the user moved it.
    document.querySelector("[data-testid=tab-debugger]")?.addEventListener("click", () =>
      requestAnimationFrame(() => { const v = this.app.view; if (v && !v.userMoved && this.session) v.fit(); }));
  }

  tab(k) {
    for (const [name, pane] of Object.entries(this.panes)) pane.hidden = name !== k;
    for (const b of this.root.querySelectorAll(".pg-tab")) b.classList.toggle("active", b.dataset.testid === `pg-tab-${k}`);
    if (k === "json") this.el.json.value = JSON.stringify(this.spec, null, 2);
  }

  // ---- rendering the spec --------------------------------------------------------------
  renderAll() {
    const E = this.el, ds = this.spec.dataset || {};
    E.dataset.replaceChildren(...this.datasets.map((d) => h("option", { value: d.name, disabled: !d.available, title: d.reason || "" }, d.available ? d.label : `${d.label} — unavailable`)));
    E.dataset.value = typeof ds === "string" ? ds : ds.name;
    const off = this.datasets.filter((d) => !d.available);
    // one line each; the reason (which files, where to put them) one click away
    E.unavail.replaceChildren(...off.map((d) => h("details", { "data-name": d.name },
      h("summary", { title: d.reason || "" }, h("strong", {}, d.label), " unavailable (why?)"),
      h("div", { class: "reason" }, d.reason))));
    this.renderData(); this.renderTraining(); this.renderLayers(); this.changed();
  }

  renderData() {
    const E = this.el, ds = this.spec.dataset, toy = KIND[ds.name] === "2d";
    E.n.value = ds.n ?? ""; E.noise.value = ds.noise ?? ""; E.split.value = ds.test_split ?? 0.2; E.classes.value = ds.classes ?? 2;
    E.n.placeholder = toy ? "" : "all";
    E.noise.closest(".pg-field").hidden = !toy;
    E.classes.closest(".pg-field").hidden = ds.name !== "spiral";
  }

  renderTraining() {
    const E = this.el, o = this.spec.optimizer || {};
    E.loss.value = this.spec.loss || "cross_entropy"; E.opt.value = o.type || "SGD"; E.lr.value = o.lr ?? "";
    E.momentum.value = o.momentum ?? ""; E.alpha.value = o.alpha ?? ""; E.wd.value = o.weight_decay ?? "";
    for (const [k, f] of Object.entries(E.optFields)) f.hidden = !(OPT_FIELDS[o.type] || []).includes(k);
    E.bs.value = this.spec.batch_size ?? ""; E.bs.placeholder = KIND[this.spec.dataset?.name] === "2d" ? "all" : "64";
    E.epochs.value = this.spec.epochs ?? "";
  }

  renderLayers() {
    const rows = (this.spec.layers || []).map((layer, i) => {
      const type = h("select", { "data-testid": "layer-type", "aria-label": `layer ${i + 1} type`, title: layer.type }, ...TYPES.map((t) => h("option", { value: t }, t)));
      type.value = TYPES.includes(layer.type) ? layer.type : (() => { type.prepend(h("option", { value: layer.type }, layer.type)); return layer.type; })();
      type.addEventListener("change", () => { this.spec.layers[i] = { type: type.value, ...clone(PARAMS[type.value] || {}) }; this.renderLayers(); this.changed(); });
      const params = Object.keys({ ...(PARAMS[layer.type] || {}) }).map((k) => {
        const inp = h("input", { type: "number", step: FRACTIONS.has(k) ? "0.05" : "1", value: layer[k] ?? "", "data-param": k, "aria-label": k, title: k });
        inp.addEventListener("change", () => { layer[k] = inp.value === "" ? null : Number(inp.value); this.changed(); });
        blurBad(inp, () => { layer[k] = null; this.changed(); });
        return h("label", { class: "pg-param" }, h("span", {}, PARAM_LABELS[k] ?? k), inp);
      });
      const mv = (d) => () => { const L = this.spec.layers, j = i + d; if (j < 0 || j >= L.length) return; [L[i], L[j]] = [L[j], L[i]]; this.renderLayers(); this.changed(); };
      return h("div", { class: "pg-layer", "data-testid": "layer", "data-index": i, "data-type": layer.type },
        h("span", { class: "pg-idx" }, String(i + 1)), type, h("div", { class: "pg-params" }, ...params),
        h("span", { class: "pg-shape", "data-testid": "layer-shape" }),
        h("div", { class: "pg-layer-btns" },
          h("button", { class: "btn icon small", title: "move up", "data-testid": "layer-up", onclick: mv(-1) }, "↑"),
          h("button", { class: "btn icon small", title: "move down", "data-testid": "layer-down", onclick: mv(1) }, "↓"),
          h("button", { class: "btn icon small", title: "remove", "data-testid": "layer-remove", onclick: () => { this.spec.layers.splice(i, 1); this.renderLayers(); this.changed(); } }, "✕")),
        h("div", { class: "pg-err block", "data-testid": "layer-error" }));
    });
    const input = h("div", { class: "pg-layer pg-input" }, h("span", { class: "pg-idx" }, "in"), h("span", {}, `input ${this.spec.dataset?.name || ""}`), h("span", { class: "pg-shape", "data-testid": "input-shape" }));
    this.el.layers.replaceChildren(input, ...rows);
    this.showShapes();
  }

  showShapes() {
    const shapes = this.clean?.shapes, fmt = (s) => (s ? `(${s.join(", ")}${s.length === 1 ? "," : ""})` : "");
    const ins = this.el.layers.querySelector("[data-testid=input-shape]");
    if (ins) ins.textContent = shapes ? fmt(shapes[0]) : "";
    this.el.layers.querySelectorAll("[data-testid=layer]").forEach((row, i) => { row.querySelector("[data-testid=layer-shape]").textContent = shapes?.[i + 1] ? `→ ${fmt(shapes[i + 1])}` : ""; });
    this.el.summary.textContent = this.clean ? `${this.clean.params.toLocaleString()} parameters · ${this.clean.steps} steps` : "";
  }

  // ---- editing -------------------------------------------------------------------------------
  setDataset(name) {
    const old = this.spec.dataset?.name, kind = KIND[name];
    const ds = { name, test_split: this.spec.dataset?.test_split ?? 0.2 };
    if (kind === "2d") Object.assign(ds, { n: this.spec.dataset?.n || 400, noise: this.spec.dataset?.noise ?? 0.1 }, name === "spiral" ? { classes: this.spec.dataset?.classes || 2 } : {});
    this.spec.dataset = ds;
    if (KIND[old] !== kind) {
      this.spec.layers = PRESETS[kind](CLASSES[name] || 2);
      if (kind !== "2d") Object.assign(this.spec, { batch_size: 64, epochs: 10, optimizer: { type: "Adam", lr: 0.01 } });
      else Object.assign(this.spec, { batch_size: 32, epochs: 60, optimizer: { type: "Adam", lr: 0.03 } });
    }
    this.fixLast();
    this.renderData(); this.renderTraining(); this.renderLayers(); this.changed();
  }

  fixLast() {
    const L = this.spec.layers || [], c = this.spec.dataset.name === "spiral" ? this.spec.dataset.classes : CLASSES[this.spec.dataset.name];
    const last = L[L.length - 1];
    if (last?.type === "Linear" && Number.isInteger(c)) last.out_features = c;
  }

  addLayer() {
    const t = this.el.addType.value;
    this.spec.layers.push({ type: t, ...clone(PARAMS[t] || {}) });
    this.renderLayers(); this.changed();
  }

  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.validate(), 120);
  }

  async validate() {
    if (!this.spec) return;   // before the starting spec has come
    const seq = (this.vseq = (this.vseq || 0) + 1);
    const r = await this.request({ action: "code", spec: this.spec });
    if (seq !== this.vseq) return;
    this.clearErrors();
    if (r.ok) { this.clean = r.spec; this.el.code.textContent = r.code; this.showShapes(); this.renderViz(); }
    else { this.clean = null; this.showShapes(); this.specError(r.error); }
    this.root.dataset.valid = r.ok ? "1" : "0";
    this.markStale(!r.ok);
  }

  /** Mark the code view and the decision boundary (or feature maps) as out of date while the
   * spec in the builder is invalid: they still show the last valid model. */
  markStale(stale) {
    const E = this.el, had = E.code.textContent !== "";
    E.codeStale.textContent = had ? "Out of date: showing the last valid model. Fix the errors to update it." : "Fix the errors to see the model's code.";
    E.vizStale.textContent = "Out of date: showing the last valid model. Fix the errors to update it.";
    E.codeStale.hidden = !stale; E.vizStale.hidden = !stale;
    E.code.classList.toggle("stale", stale && had); E.viz.classList.toggle("stale", stale);
  }

  clearErrors() {
    for (const el of this.root.querySelectorAll(".pg-err")) { el.textContent = ""; delete el.dataset.code; delete el.dataset.path; }
    for (const el of this.root.querySelectorAll(".has-error")) el.classList.remove("has-error");
    this.el.specErr.hidden = true;
  }

  /** Show a structured error next to what caused it: a layer row, a field, or the spec box. */
  specError(err) {
    if (!err) return;
    // the student reads the field's label in plain words; the code and the JSON path stay on
    // the element (data-code, data-path) and in the console. A number box holding what is not
    // a number ("abc", "1e") reads as empty to the page: plainMessage says so, not "empty".
    const text = plainMessage(err, { root: this.root, spec: this.spec, input: this.inputOf(err) });
    console.debug(`gradviz playground: ${err.code}: ${err.message}`, err.field ?? "");
    const tag = (el) => { el.dataset.code = err.code || ""; el.dataset.path = err.field ?? ""; };
    let target = null;
    if (Number.isInteger(err.layer)) {
      const row = this.el.layers.querySelectorAll("[data-testid=layer]")[err.layer];
      if (row) { row.classList.add("has-error"); target = row.querySelector("[data-testid=layer-error]"); }
    } else if (err.field) {
      target = this.root.querySelector(`[data-testid=field-error][data-for="${err.field}"]`);
      target?.closest(".pg-field")?.classList.add("has-error");
    }
    if (target && !target.closest("[hidden]")) { target.textContent = text; tag(target); }
    else { this.el.specErr.hidden = false; this.el.specErr.textContent = text; tag(this.el.specErr); }
    const je = this.root.querySelector("[data-testid=spec-json-error]");
    if (!this.panes.json.hidden) { je.textContent = text; tag(je); }
  }

  /** A request of a running model (Step, a sample's feature maps, the weights) failed: a spec
   * error by its cause, anything else once, in the page's error box and in words. The server
   * sends the same error as an `error` message too; the box keeps one of the two (it showed
   * here under the toolbar as well, in the server's raw words). */
  failed(err) {
    if (this.showsItself(err)) { this.specError(err); return; }
    console.debug(`gradviz playground: ${err?.code}: ${err?.message}`);
    this.app.showError(err);
  }

  /** Whether the server's `error` message `err` is one the builder shows itself: a spec error
   * (its payload names a `field`, maybe null) comes only from this builder's own requests (Train,
   * Step), whose answers carry the same error to specError, which shows it by its cause. The
   * page's error box then leaves it out: the student reads each problem once. */
  showsItself(err) {
    return Boolean(err) && typeof err === "object" && "field" in err;
  }

  /** The builder's input of an error's field (`optimizer.lr`, `layers[1].out_features`). */
  inputOf(err) {
    const m = /^layers\[(\d+)\]\.(\w+)$/.exec(err.field || "");
    if (m) return this.el.layers.querySelectorAll("[data-testid=layer]")[Number(m[1])]?.querySelector(`input[data-param="${m[2]}"]`) ?? null;
    return err.field ? this.root.querySelector(`.pg-field[data-field="${err.field}"] input`) : null;
  }

  applyJson() {
    const je = this.root.querySelector("[data-testid=spec-json-error]");
    je.textContent = ""; delete je.dataset.code; delete je.dataset.path;
    let spec;
    const bad = (code, message) => { je.textContent = plainMessage({ code, message }); je.dataset.code = code; je.dataset.path = ""; };
    try { spec = JSON.parse(this.el.json.value); } catch (e) { bad("BAD_JSON", e.message); return; }
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) { bad("BAD_SPEC", "a spec is a JSON object"); return; }
    this.setSpec(spec);
  }

  setSpec(spec) {
    if (typeof spec.dataset === "string") spec.dataset = { name: spec.dataset };
    spec.dataset = spec.dataset && typeof spec.dataset === "object" ? spec.dataset : { name: "spiral" };
    spec.optimizer = spec.optimizer && typeof spec.optimizer === "object" ? spec.optimizer : { type: "SGD", lr: 0.1 };
    spec.layers = Array.isArray(spec.layers) ? spec.layers : [];
    if (!("steps" in spec)) for (const k of ["loss", "batch_size", "epochs"]) if (!(k in spec)) spec[k] = this.defaults[k] ?? null;
    if (KIND[spec.dataset.name] === "2d") spec.dataset = { n: 400, noise: 0.1, ...(spec.dataset.name === "spiral" ? { classes: 2 } : {}), test_split: 0.2, ...spec.dataset };
    this.spec = spec;
    this.renderAll();
  }

  // ---- training ----------------------------------------------------------------------------
  /** A session of this spec that can go on from where it stopped (paused, or not started). */
  resumable() {
    return Boolean(this.session) && this.sessionSpec === JSON.stringify(this.spec) &&
      ["paused", "starting", "running"].includes(this.el.runState.dataset.state);
  }

  /** Train: go on with this spec's paused session, else start the spec in a new one. */
  async train(paused = false, restart = false) {
    if (!paused && !restart && this.resumable()) {
      this.clearErrors();
      this.command("run");
      this.setRun("running");
      return this.session;
    }
    this.clearErrors();
    this.keepSpec = false;
    const r = await this.request({ spec: this.spec, paused });
    if (!r.ok) { this.specError(r.error); return null; }
    this.follow(r.session);
    this.sessionSpec = JSON.stringify(this.spec);
    this.setRun(paused ? "starting" : "running");   // the gate's `paused` event says when it stops
    return r.session;
  }

  /** Show `session` here (the page switched to it): its spec in the builder, its loss, accuracy
   * and boundary as its events arrive, and Train / Step / Pause drive it when this server's job
   * still runs it. A session that no builder spec started leaves the builder as it is. */
  async adopt(session) {
    if (session === this.session) return;
    this.clear(session);
    await this.ready;
    const r = await this.request({ action: "session", session });
    if (this.session !== session) return;   // the page moved on meanwhile
    if (!r.ok || !r.spec || this.keepSpec) { this.clear(null); this.setRun("idle", null, "not started"); return; }
    this.setSpec(clone(r.spec));
    this.sessionSpec = r.drivable ? JSON.stringify(this.spec) : null;   // ended: Train starts anew
    this.setRun(r.status || "paused");
  }

  clear(session) {
    this.session = session; this.reset(); if (this.spec) this.renderViz();
    this.el.accuracy.textContent = "test accuracy —"; this.el.accuracy.dataset.value = ""; this.el.stepInfo.textContent = "";
    this.el.fmaps.replaceChildren();
    this.root.dataset.session = session || "";
  }

  follow(session, source = "playground") {
    this.clear(session);
    const sel = document.querySelector("[data-testid=session]");
    if (sel) {
      if (![...sel.options].some((o) => o.value === session)) sel.append(h("option", { value: session }, `${session} · ${source}`));
      sel.value = session;
      sel.dispatchEvent(new Event("change"));
    }
    if (this.app.conn.session !== session) this.app.conn.setSession(session);
  }

  command(action) {
    if (!this.session) return;
    this.socket.emit("command", { session: this.session, action }, (r) => { if (r?.state) this.setRun(r.state.mode); });
  }

  async step() {
    if (!this.session || this.sessionSpec !== JSON.stringify(this.spec) || ["done", "error", "stopped"].includes(this.el.runState.dataset.state)) {
      if (!(await this.train(true))) return;
    }
    const g = this.el.gran.value;
    if (g === "step") { const r = await this.request({ action: "step", session: this.session }); if (r.error) this.failed(r.error); }
    else this.command(g === "op" ? "step_forward" : "step_backward");
  }

  setRun(state, message, text) {
    const E = this.el.runState;
    E.dataset.state = state; E.textContent = text || (message ? `${state}: ${message}` : state);
  }

  onEvents(batch) {
    let dirty = false;
    for (const e of batch) {
      if (e.session !== this.session) continue;
      if (e.seq !== undefined && e.seq !== null) {   // a fetched-up batch may repeat live ones
        if (e.seq <= this.lastSeq) continue;
        this.lastSeq = e.seq;
      }
      this.events++;
      if (e.type === "scalar") {
        if (e.name === "loss") {
          this.loss.push([e.step + 1, jsonNum(e.value)]); dirty = true;
          Object.assign(this.pos, { step: e.step, next: e.step + 1, phase: "done" });
          this.el.stepInfo.textContent = this.stepText(e.step);
        }
        else if (e.name === "test_accuracy") { this.acc.push([e.step, Number(e.value)]); dirty = true; const p = (100 * e.value).toFixed(1); this.el.accuracy.textContent = `test accuracy ${p} %`; this.el.accuracy.dataset.value = String(e.value); }
      } else if (e.type === "pg_data") { this.data = e; this.renderViz(); }
      else if (e.type === "boundary") { this.boundary = e; dirty = true; }
      else if (e.type === "feature_maps") { this.fmaps = e; this.renderFmaps(); }
      else if (e.type === "paused") { this.setRun("paused"); this.pausedAt(e); }
      else if (TRACKED.has(e.type)) this.track(e);
      else if (e.type === "resumed" && this.el.runState.dataset.state === "paused") this.setRun("running");
    }
    if (dirty && !this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  /** "step N / TOTAL": `step` 0-based, numbered as the loss chart and the Debugger (1 first). */
  stepText(step) { return `step ${step + 1} / ${this.data?.steps ?? "?"}`; }

  /** Follow the engine's events within a step: its forward ops, then its backward nodes. */
  track(e) {
    const P = this.pos;
    if (e.type === "op") {
      if (P.phase !== "forward") {   // the first op of a step
        Object.assign(P, { step: P.next, next: P.next + 1, phase: "forward", ops: [], grads: [],
          count: null });
      }
      P.ops.push({ node: e.node, op: e.op });
    } else if (e.type === "backward_begin") {
      P.phase = "backward"; P.count = e.count ?? null; P.grads = [];
    }
    else if (e.type === "grad") { P.phase = "backward"; P.grads.push({ node: e.node, op: e.op }); }
    else P.phase = "done";   // backward_end, param_update: the step's next op starts the next
  }

  /** The gate paused (its info carries the step, 0-based): say where, as the Debugger's step
   * info does: "step 1 / 200 · forward: Linear (op 3)", "… · backward: Tanh (node 2 / 4)". */
  pausedAt(e) {
    const P = this.pos;
    if (e.at === "step") {   // before a step: the info keeps the last step's until it starts
      if (Number.isInteger(e.step)) P.next = e.step;
      return;
    }
    if (Number.isInteger(e.step)) { P.step = e.step; P.next = e.step + 1; }
    if (P.step === null) return;
    let where = "";
    if (e.at === "backward_end") where = "backward done";
    else if (e.phase === "backward") {
      const i = P.grads.findIndex((g) => g.node === e.node);
      const of = P.count ? ` / ${P.count}` : "";
      where = i >= 0 ? `backward: ${P.grads[i].op} (node ${i + 1}${of})` : "backward";
    } else if (e.phase === "forward") {
      const i = P.ops.findIndex((o) => o.node === e.node);
      where = i >= 0 ? `forward: ${P.ops[i].op} (op ${i + 1})` : "forward";
    }
    this.el.stepInfo.textContent = `${this.stepText(P.step)}${where ? ` · ${where}` : ""}`;
  }

  // ---- visualisations -----------------------------------------------------------------------
  renderViz() {
    const kind = this.data?.kind || (KIND[this.spec.dataset?.name] === "2d" ? "2d" : "image");
    if (kind === "2d") this.el.viz.replaceChildren(h("div", { class: "pg-viz-title" }, "Decision boundary ", h("span", { class: "muted small" }, "(filled: train, rings: test)")), this.el.vizStale, this.el.boundary);
    else this.el.viz.replaceChildren(h("div", { class: "pg-viz-title" }, "Feature maps ", h("span", { class: "muted small" }, "(pick a test sample)")), this.el.vizStale, this.el.samples, this.el.fmaps);
    if (kind !== "2d") this.renderSamples();
    this.draw();
  }

  draw() {
    const box = this.el.chart.parentElement, w = Math.max(260, (box?.clientWidth || 420) - 4);
    drawChart(this.el.chart, this.loss, this.acc, w, 170);
    this.el.chart.dataset.count = String(this.loss.length);
    this.el.chart.dataset.last = this.loss.length ? String(this.loss[this.loss.length - 1][1]) : "";
    // the first step whose loss was NaN or ±Inf (the chart marks it), numbered as the step info
    const bad = this.loss.find((p) => !Number.isFinite(p[1]));
    this.el.chart.dataset.nonfinite = bad ? String(bad[0]) : "";
    if (this.el.boundary.isConnected) {
      drawBoundary(this.el.boundary, 250, this.data, this.boundary);
      this.el.boundary.dataset.step = this.boundary ? String(this.boundary.step) : "";
    }
  }

  renderSamples() {
    const s = this.data?.samples || [];
    this.el.samples.replaceChildren(...s.map((x) => {
      const b = h("button", { class: `pg-sample${this.fmaps?.sample === x.index ? " active" : ""}`, title: `test sample ${x.index}, label ${x.label}`, "data-testid": "sample", "data-index": x.index,
        onclick: () => this.request({ action: "feature_maps", session: this.session, sample: x.index }).then((r) => r.error && this.failed(r.error)) }, heat(x.image, 3));
      return b;
    }));
    if (!s.length) this.el.samples.replaceChildren(h("span", { class: "muted small" }, "Train or step to see the samples and each conv layer's maps."));
  }

  renderFmaps() {
    const f = this.fmaps;
    this.renderSamples();
    this.el.fmaps.dataset.sample = String(f.sample);
    const head = h("div", { class: "pg-fm-head small" }, heat(f.input, 4), h("span", {}, ` sample ${f.sample} · label ${f.label} · predicted `, h("strong", { style: `color:${f.pred === f.label ? "#16a34a" : "#dc2626"}` }, String(f.pred))));
    const rows = f.layers.map((L) => {
      const side = L.maps[0]?.length || 1, scale = Math.max(1, Math.min(6, Math.floor(40 / side)));
      return h("div", { class: "pg-fm-row", "data-testid": "feature-map-layer" },
        h("div", { class: "pg-fm-label small" }, `${L.index + 1} ${L.type}`, h("br"), h("span", { class: "muted" }, L.shape.join("×"))),
        h("div", { class: "pg-fm-maps" }, ...L.maps.map((m) => heat(m, scale, L.min, L.max))));
    });
    this.el.fmaps.replaceChildren(head, ...rows);
  }

  // ---- keep and share, code mode ---------------------------------------------------------------
  download(blob, name) {
    const a = h("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  }

  async copy(text, what) {
    try { await navigator.clipboard.writeText(text); } catch (e) {
      const t = h("textarea", {}, text); document.body.append(t); t.select(); document.execCommand("copy"); t.remove();
    }
    this.toast(what);
  }

  toast(text) {
    const t = h("div", { class: "pg-toast", "data-testid": "pg-toast" }, text);
    this.root.append(t); setTimeout(() => t.remove(), 1800);
  }

  shareLink() {
    const u = new URL(location.href);
    u.searchParams.delete("token"); u.searchParams.delete("session");
    u.hash = `spec=${encodeSpec(this.spec)}`;
    this.el.share.value = u.toString();
    this.copy(u.toString(), "link copied (the token is not included)");
  }

  async loadFile() {
    const f = this.el.file.files[0];
    if (!f) return;
    try { this.setSpec(JSON.parse(await f.text())); } catch (e) { this.specError({ code: "BAD_JSON", message: `${f.name}: ${e.message}` }); }
    this.el.file.value = "";
  }

  async weights() {
    if (!this.session) { this.failed({ code: "NO_MODEL", message: "train a model first, then download its weights" }); return; }
    const r = await this.request({ action: "weights", session: this.session });
    if (!r.ok) { this.failed(r.error); return; }
    const bin = atob(r.data), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    this.download(new Blob([bytes], { type: "application/octet-stream" }), r.filename);
  }

  async runCode() {
    this.el.output.textContent = "starting…";
    this.el.output.dataset.state = "running"; delete this.el.output.dataset.code;
    const r = await this.request({ action: "run_code", code: this.el.editor.value });
    if (!r.ok) {   // in plain words; the code stays on the element (data-code)
      this.el.output.textContent = plainError(r.error);
      this.el.output.dataset.state = "error"; this.el.output.dataset.code = r.error?.code || "";
      return;
    }
    this.codeSession = r.session;
    this.el.output.textContent = `running in session ${r.session}…`;
    const t0 = Date.now();
    const poll = async () => {   // the session exists once the child has connected
      let rows = [];
      try { rows = await this.app.conn.getJSON("/api/sessions"); } catch (e) { /* retry */ }
      if (rows.some((s) => s.id === r.session)) { this.follow(r.session, "attached"); this.setRun("running", "code mode"); return; }
      if (Date.now() - t0 < 30000 && this.el.output.dataset.state === "running") setTimeout(poll, 300);
    };
    poll();
  }

  stopCode() { if (this.codeSession) this.request({ action: "stop_code", session: this.codeSession }); }

  onOutput(m) {
    if (m.session !== this.codeSession) return;
    this.el.output.textContent = `${m.output || ""}\n[${m.message}]`;
    this.el.output.dataset.state = m.rc === 0 ? "done" : "error";
    if (this.session === m.session) this.setRun(m.rc === 0 ? "done" : "error", m.rc === 0 ? "code mode" : m.message);
  }
}

// Mount once main.js has made the connection (it sets window.gradviz).
function mount() {
  const root = document.getElementById("playground-root");
  if (!root || !window.gradviz?.conn) { setTimeout(mount, 50); return; }
  window.gradviz.playground = new Playground(root, window.gradviz);
  root.dataset.ready = "1";
  if (location.hash.includes("spec=")) document.querySelector("[data-testid=tab-playground]")?.click();
}
mount();
