// Debugger controls: run / pause / step forward / step backward / continue, keyboard
// shortcuts, and breakpoints (node, op type, NaN/Inf, gradient norm above a threshold).
import { h, opKey } from "./format.js";

const ACTIONS = { run: "run", pause: "pause", "step-forward": "step_forward", "step-backward": "step_backward", continue: "continue" };
const KEYS = { f: "step-forward", b: "step-backward", c: "continue", r: "run", p: "pause" };

export class Controls {
  constructor(deps) {
    this.deps = deps;
    // active breakpoints, as sent, per session: each session's gate holds its own
    this.lists = new Map();
    this.session = null;
    this.warnedOp = null;   // the op name of the "no such op" warning on screen
    for (const [testid, action] of Object.entries(ACTIONS)) {
      document.querySelector(`[data-testid=${testid}]`).addEventListener("click", () => this.command(action));
    }
    window.addEventListener("keydown", (e) => {
      if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
      const testid = KEYS[e.key];
      if (testid) { e.preventDefault(); document.querySelector(`[data-testid=${testid}]`).click(); }
    });
    const form = document.querySelector("#bp-form");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const op = form.querySelector("[data-testid=bp-op]").value.trim();
      // forward only / backward only (the gate's `phase`); empty: both, as before
      const phase = form.querySelector("[data-testid=bp-phase]").value;
      if (op) { this.addBreakpoint(phase ? { op, phase } : { op }); this.checkOp(op); }
      form.querySelector("[data-testid=bp-op]").value = "";
    });
    form.querySelector("[data-testid=bp-op]").addEventListener("input", () => this.checkOp(null));
    document.querySelector("[data-testid=bp-nan]").addEventListener("change", (e) => {
      if (e.target.checked) this.addBreakpoint({ when: "nonfinite" });
      else this.removeWhere((b) => b.when === "nonfinite");
    });
    document.querySelector("#bp-norm-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const v = Number(document.querySelector("[data-testid=bp-grad-norm]").value);
      if (!(v > 0)) { deps.showError({ code: "BREAKPOINT", message: "the gradient norm threshold must be a positive number" }); return; }
      this.addBreakpoint({ when: "grad_norm", threshold: v });
    });
  }

  command(action) {
    const conn = this.deps.conn;
    if (!conn?.session) { this.deps.showError({ code: "NO_SESSION", message: "no session to control yet" }, "nosession"); return; }
    if (this.recording) { this.deps.replay.command(action); return; }
    if (this.ended) { this.deps.reopen(); return; }   // nothing left to command on the server
    conn.command(action);
  }

  /** The breakpoints of the session shown (``list`` reads and writes this session's). */
  get list() {
    if (!this.lists.has(this.session)) this.lists.set(this.session, []);
    return this.lists.get(this.session);
  }
  set list(v) { this.lists.set(this.session, v); }

  /** Another session is shown: show its breakpoints (a running replay honours them too). */
  setSession(session) {
    this.session = session;
    this.sync();
  }

  /** The server's word on a session's breakpoints (its gate state, in the join's answer). */
  loadServer(session, bps) {
    const spec = (b) => Object.fromEntries(Object.entries(b).filter(([k, v]) => k !== "id" && v !== null && v !== undefined));
    this.lists.set(session, bps.map((b) => ({ spec: spec(b), id: String(b.id), session })));
    if (session === this.session) this.sync();
  }

  addBreakpoint(spec) {
    const key = JSON.stringify(spec);
    if (this.list.some((b) => JSON.stringify(b.spec) === key)) return;
    const entry = { spec, id: null, session: this.session };
    this.list.push(entry);
    // a recording's breakpoints live in the page (replay.js honours them); others on the server
    if (!this.recording) this.deps.conn?.breakpoint(spec, (ack) => this.acked(entry, ack));
    this.sync();
    document.querySelector("[data-tab=breakpoints]")?.click();
  }

  /** The server answers with its state; learn the new breakpoint's id (to remove it later). */
  acked(entry, ack) {
    const list = this.lists.get(entry.session) || [];   // the page may show another one now
    if (!ack || ack.error) {
      this.lists.set(entry.session, list.filter((b) => b !== entry));
      this.sync();
      this.deps.showError(ack?.error || { code: "BREAKPOINT", message: "the server did not accept the breakpoint" }, "breakpoint");
      return;
    }
    const bps = ack.state?.breakpoints || [];
    const mine = new Set(list.map((b) => b.id).filter((i) => i !== null));
    const match = bps.filter((b) => !mine.has(String(b.id)) && (entry.spec.node === undefined || b.node === entry.spec.node)
      && (entry.spec.op === undefined || b.op === entry.spec.op) && (entry.spec.when === undefined || b.when === entry.spec.when)
      && (b.phase ?? undefined) === entry.spec.phase);
    if (match.length) entry.id = String(match[match.length - 1].id);
  }

  /** The ops of the graph on screen, of the newest step and of the step before it (the
   * newest may have run only its first ops yet), by opKey. */
  graphOps() {
    const ops = new Map();
    const { store } = this.deps;
    const before = store.steps.length > 1 ? store.steps[store.steps.length - 2] : null;
    for (const step of new Set([store.current, before, this.deps.ctl.shownStep()])) {
      if (step) for (const r of step.nodes.values()) if (r.op && !ops.has(opKey(r.op))) ops.set(opKey(r.op), r.op);
    }
    return ops;
  }

  /** Say, under the op box, when a typed op name matches no op of the current graph (a
   * warning only: the op may come later, e.g. in an evaluation pass); ``null`` clears it. */
  checkOp(op) {
    const warn = document.querySelector("[data-testid=bp-op-warning]");
    const ops = op ? this.graphOps() : null;
    this.warnedOp = null;
    if (!op || !ops.size || ops.has(opKey(op))) { warn.hidden = true; warn.textContent = ""; return; }
    this.warnedOp = op;   // update() takes the warning back once such an op has run
    const some = [...ops.values()].sort().slice(0, 8).join(", ");
    warn.textContent = `No op "${op}" in the current graph (it has ${some}${ops.size > 8 ? ", …" : ""}). ` +
      "The breakpoint stays: it fires if such an op runs later.";
    warn.hidden = false;
  }

  removeWhere(pred) {
    const gone = this.list.filter((b) => pred(b.spec));
    this.list = this.list.filter((b) => !pred(b.spec));
    for (const b of gone) if (b.id !== null && !this.recording) this.deps.conn?.breakpoint({ remove: Number(b.id) });
    this.sync();
  }

  sync() {
    const bp = this.deps.ctl.breakpoints;
    const specs = this.list.map((b) => b.spec);
    bp.nodes = new Set(specs.filter((b) => b.node !== undefined).map((b) => b.node));
    bp.ops = new Set(specs.filter((b) => b.op).map((b) => opKey(b.op)));   // as the gate matches
    // the "no such op" warning is about a breakpoint in the list: gone with it
    if (this.warnedOp && !bp.ops.has(opKey(this.warnedOp))) this.checkOp(null);
    const ul = document.querySelector("[data-testid=breakpoints]");
    ul.replaceChildren(...specs.map((b) => h("li", { class: "bp", "data-testid": "breakpoint", "data-phase": b.phase || "both" },
      h("span", {}, describe(b)),
      h("button", { class: "x", title: "remove", onclick: () => { this.removeWhere((x) => x === b); if (b.when === "nonfinite") document.querySelector("[data-testid=bp-nan]").checked = false; } }, "×"))));
    if (!this.list.length) ul.append(h("li", { class: "muted" }, "No breakpoints."));
    document.querySelector("#bp-count").textContent = this.list.length ? String(this.list.length) : "";
    document.querySelector("[data-testid=bp-nan]").checked = specs.some((b) => b.when === "nonfinite");
    this.deps.onChange();
  }

  /** A recording (a replayed file) has no computation behind it: the buttons step a
   * cursor over its events in the page instead (replay.js). */
  setRecording(recording) {
    this.recording = recording;
  }

  /** Reflect the engine's state: paused where, running, and which ops exist (for the op box). */
  update() {
    const { store } = this.deps;
    if (this.warnedOp && this.graphOps().has(opKey(this.warnedOp))) this.checkOp(null);
    const el = document.querySelector("[data-testid=run-state]");
    const p = store.paused;
    const step = store.current;
    let text = "idle", state = "idle";
    const replay = this.recording ? this.deps.replay : null;
    // an ended session's last pause or pass is history; a recording is not running either
    if (this.ended && !replay?.stepping) { text = "ended"; state = "ended"; }
    else if (replay && !replay.stepping) { text = "recording"; state = "recording"; }
    else if (replay?.playing) { text = "replay · playing"; state = "running"; }
    else if (replay && this.deps.ctl.shownStep() && this.deps.ctl.shownStep() !== step) {
      // scrubbed away from the cursor's step: its pause is not what is on screen
      text = `replay · step ${this.deps.ctl.shownStep().index + 1} · Run or Step starts here`;
      state = "recording";
    } else if (p) {
      const at = store.currentNode;
      const rec = step?.nodes.get(at);
      const where = { step: "before the next step", backward_end: "after backward",
        before_backward: "before backward of", after_backward: "after backward of" }[p.at] ?? "after forward of";
      text = `${replay ? "replay · " : ""}paused ${where}${rec ? " " + (rec.op || rec.name || "") + " #" + at : ""}`;
      state = "paused";
    } else if (step && (step.phase === "forward" || step.phase === "backward")) { text = `running · ${step.phase}`; state = "running"; }
    else if (step) { text = "between steps"; }
    if (el.textContent !== text) el.textContent = text;
    el.dataset.state = state;
    const ops = new Set();
    if (step) for (const r of step.nodes.values()) if (r.op) ops.add(r.op);
    const dl = document.querySelector("#op-list");
    if (dl.childElementCount !== ops.size) dl.replaceChildren(...[...ops].sort().map((o) => h("option", { value: o })));
  }
}

function describe(b) {
  if (b.node !== undefined) return `node #${b.node}${b.phase ? ` (${b.phase} only)` : ""}`;
  const only = b.phase ? ` (${b.phase} only)` : "";
  if (b.op) return `every ${b.op}${only}`;
  if (b.when === "nonfinite") return "NaN / Inf anywhere";
  if (b.when === "grad_norm") return `‖grad‖ > ${b.threshold}`;
  return JSON.stringify(b);
}
