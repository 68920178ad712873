// The store: schema events (EVENTS.md) in, a graph model per training step out.
//
// A "step" is one forward pass and the backward pass that follows it. Op node ids
// are new every step; parameters keep theirs, so each step holds its own copy of
// the leaf records it uses. Views never read events, only this model, and are told
// what changed through `onChange(kind)` callbacks: "structure" (nodes or edges were
// added), "state" (states, stats or grads changed), "scalars", "session".

const MAX_STEPS = 300;        // full per-step graphs kept in the browser

/** Slot key: what a node is called across steps, so a layout can be reused. */
function slotKey(step, rec) {
  if (rec.kind === "leaf") return rec.name ? `p:${rec.name}` : `l:${step.leafCount++}`;
  return `o:${step.opCount++}`;
}

export function moduleOf(rec) {
  if (rec.module) return rec.module;
  if (rec.kind === "leaf" && rec.name && rec.name.includes(".")) {
    return rec.name.slice(0, rec.name.lastIndexOf("."));
  }
  return null;
}

class Step {
  constructor(index) {
    this.index = index;          // 0-based position among recorded steps
    this.number = null;          // the `step` of this step's scalars, when logged
    this.nodes = new Map();      // node id -> record
    this.order = [];             // node ids in order of appearance
    this.phase = "forward";      // forward | backward | done
    this.backwardOrder = [];     // node ids in the order their grad events came
    this.leafCount = 0;
    this.opCount = 0;
    this.updates = new Map();    // param node id -> param_update event
    this.anomalies = [];
    this.root = null;
  }
  /** Structural signature of the graph so far: same string => same layout. */
  signature() {
    const parts = [];
    for (const id of this.order) {
      const r = this.nodes.get(id);
      if (r.kind === "op") {
        parts.push(`${r.op}(${r.inputs.map((i) => this.nodes.get(i)?.slot ?? "?").join(",")})`);
      } else parts.push(r.slot);
    }
    return parts.join(";");
  }
}

export class Store {
  constructor() {
    this.reset(null);
    this.listeners = [];
  }

  reset(session) {
    this.session = session;
    this.lastSeq = -1;
    this.steps = [];
    this.leafBase = new Map();   // leaf node id -> the leaf event (parameters persist)
    this.lastUpdate = new Map(); // param node id -> its latest param_update (any step)
    this.scalars = new Map();    // name -> {x: [] (1-based page step numbers), y: [], steps: []}
    // the value of each step's backward root when it is a scalar: the loss curve of a
    // script that logs no scalars of its own (`rootScalars` is shown instead of `scalars`)
    this.rootScalars = new Map();
    this.paused = null;          // {node, phase} while the engine waits
    this.gaps = [];
    this.anomalies = [];
    this.gradNorms = new Map();  // param name -> Map(step index -> grad norm)
    this.eventCount = 0;
    this.fromSnapshot = false;   // rebuilt from a snapshot (its step numbers start anew)
    this.emit?.("session");
  }

  on(fn) { this.listeners.push(fn); }
  emit(kind) { for (const fn of this.listeners || []) fn(kind); }

  get current() { return this.steps[this.steps.length - 1] || null; }

  /** Take a batch of events; duplicates (seq already seen) and events of another session
   * (seqs count per session: one of theirs would hide ours as "seen") are ignored. */
  ingest(batch) {
    const changed = new Set();
    for (const ev of batch) {
      if (ev.session && this.session && ev.session !== this.session) continue;
      if (ev.seq !== undefined && ev.seq !== null) {
        if (ev.seq <= this.lastSeq) continue;
        this.lastSeq = ev.seq;
      }
      this.eventCount++;
      this.apply(ev, changed);
    }
    for (const kind of changed) this.emit(kind);
    return changed;
  }

  /**
   * A server `snapshot {upto_seq, events}`: forget this session's state, apply the listed
   * events in the order given (not seq order: scalars, parameter updates and leaves come
   * before the current step), then continue after `upto_seq`.
   */
  loadSnapshot(snap) {
    const gaps = this.gaps;
    this.reset(this.session);
    this.gaps = gaps;
    this.snapshots = (this.snapshots || 0) + 1;
    this.fromSnapshot = true;
    const changed = new Set(["structure", "state", "scalars"]);
    for (const ev of snap.events || []) {
      this.eventCount++;
      this.apply(ev, changed);
    }
    this.lastSeq = Math.max(this.lastSeq, snap.upto_seq ?? -1);
    for (const kind of changed) this.emit(kind);
    return changed;
  }

  stepFor(kind) {
    let st = this.current;
    if (!st || (kind === "forward" && st.phase !== "forward")) {
      st = new Step(st ? st.index + 1 : 0);
      st.firstEvent = this.eventCount - 1;   // its first event's position (replay.js)
      this.steps.push(st);
      if (this.steps.length > MAX_STEPS) this.steps.shift();
    }
    return st;
  }

  /** Put a leaf into a step (cloned from its first announcement for later steps). */
  useLeaf(step, id) {
    if (step.nodes.has(id)) return step.nodes.get(id);
    const base = this.leafBase.get(id);
    if (!base) return null;
    const rec = { kind: "leaf", id, name: base.name, shape: base.shape, dtype: base.dtype,
      device: base.device, requiresGrad: base.requires_grad, stats: base.stats,
      preview: base.preview, module: null, fanIn: [], users: [],
      update: this.lastUpdate.get(id) ?? null };  // until this step's own update arrives
    rec.module = moduleOf(rec);
    rec.slot = slotKey(step, rec);
    step.nodes.set(id, rec);
    step.order.push(id);
    return rec;
  }

  apply(ev, changed) {
    switch (ev.type) {
      case "leaf": {
        this.leafBase.set(ev.node, ev);
        const st = this.stepFor("forward");
        const had = st.nodes.get(ev.node);
        if (had) { had.stats = ev.stats; had.preview = ev.preview; }
        else this.useLeaf(st, ev.node);
        changed.add("structure");
        break;
      }
      case "op": {
        const st = this.stepFor("forward");
        for (const i of ev.inputs || []) this.useLeaf(st, i);
        const rec = { kind: "op", id: ev.node, op: ev.op, inputs: ev.inputs || [], attrs: ev.attrs,
          shape: ev.shape, dtype: ev.dtype, device: ev.device, stats: ev.stats, preview: ev.preview,
          module: ev.module ?? null, src: ev.src ?? null, fanIn: [], users: [] };
        rec.slot = slotKey(st, rec);
        st.nodes.set(ev.node, rec);
        st.order.push(ev.node);
        for (const i of rec.inputs) st.nodes.get(i)?.users.push(ev.node);
        changed.add("structure");
        break;
      }
      case "grad": {
        const st = this.current;
        if (!st) break;
        if (st.phase === "forward") st.phase = "backward";
        const rec = st.nodes.get(ev.node);
        if (rec) {
          rec.grad = ev.grad; rec.contribs = ev.contribs || []; rec.rule = ev.rule;
          rec.backwardIndex = st.backwardOrder.length;
        }
        st.backwardOrder.push(ev.node);
        for (const c of ev.contribs || []) {
          st.nodes.get(c.to)?.fanIn.push({ from: ev.node, stats: c.stats });
        }
        changed.add("state");
        break;
      }
      case "accum": {
        const st = this.current;
        const rec = st?.nodes.get(ev.node);
        if (rec) {
          rec.accum = ev.grad;
          if (rec.name) {
            if (!this.gradNorms.has(rec.name)) this.gradNorms.set(rec.name, new Map());
            this.gradNorms.get(rec.name).set(st.index, ev.grad?.norm);
            changed.add("gradnorms");
          }
        }
        changed.add("state");
        break;
      }
      case "backward_begin": {
        const st = this.current;
        if (st) { st.phase = "backward"; st.root = ev.root; }
        const root = st?.nodes.get(ev.root);
        if (root?.kind === "op" && root.shape?.length === 0 && root.stats?.mean !== undefined) {
          if (!this.rootScalars.has("loss")) this.rootScalars.set("loss", { x: [], y: [], steps: [] });
          const s = this.rootScalars.get("loss");
          s.x.push(st.index + 1); s.y.push(root.stats.mean); s.steps.push(st.index);
          if (!this.scalars.size) changed.add("scalars");
        }
        changed.add("state"); changed.add("passend");
        break;
      }
      case "backward_end": {
        const st = this.current;
        if (st) st.phase = "done";
        if (this.paused && this.paused.phase === "backward") this.paused = null;
        changed.add("state");
        break;
      }
      case "param_update": {
        this.lastUpdate.set(ev.node, ev);
        const st = this.current;
        if (st) {
          st.phase = "done";
          st.updates.set(ev.node, ev);
          const rec = st.nodes.get(ev.node);
          if (rec) rec.update = ev;
        }
        changed.add("state");
        break;
      }
      case "scalar": {
        if (!this.scalars.has(ev.name)) this.scalars.set(ev.name, { x: [], y: [], steps: [] });
        const s = this.scalars.get(ev.name);
        // x: the page's number of the step it was logged in ("step 1" is the first, as the
        // step info and the scrubber say; a job logs its loss with the 0-based loop index
        // and its accuracy with the count of steps done, both in the step they follow).
        // Before any graph, and after a snapshot (its scalars come first and its graph steps
        // count anew): the logged step, 1-based, so the chart goes on where it was.
        const logged = (ev.step ?? s.x.length) + 1;
        s.x.push(this.current && !this.fromSnapshot ? this.current.index + 1 : logged);
        s.y.push(ev.value);
        s.steps.push(this.current ? this.current.index : 0);
        if (this.current && this.current.number === null && ev.step !== undefined) this.current.number = ev.step;
        changed.add("scalars");
        break;
      }
      case "anomaly": {
        const a = { ...ev, step: this.current ? this.current.index : 0 };
        this.anomalies.push(a);
        const rec = this.current?.nodes.get(ev.node);
        if (rec) rec.anomaly = a;
        this.current?.anomalies.push(a);
        changed.add("state"); changed.add("anomaly");
        break;
      }
      case "paused":
        // Paused before a training step: whatever comes next belongs to a new step.
        if (ev.at === "step" && this.current && this.current.order.length) this.current.phase = "done";
        this.paused = { node: ev.node, phase: ev.phase, at: ev.at, next: ev.next ?? null, reason: ev.reason };
        changed.add("state"); changed.add("paused");
        break;
      case "resumed":
        this.paused = null;
        changed.add("state");
        break;
      case "gap":
        this.gaps.push(ev);
        changed.add("gap");
        break;
      default:
        break;
    }
  }

  /** The node execution stands at (the one shown as `current`). */
  get currentNode() {
    const p = this.paused;
    if (!p) return null;
    if (p.at === "before_backward") return p.next;
    // after_backward: the node whose backward sent NaN/Inf; step / backward_end: between nodes
    return p.at === "after_forward" || p.at === "after_backward" || p.at === undefined ? p.node : null;
  }

  /** The state a node shows in `step` (data-state): anomaly > current > backward > forward. */
  stateOf(step, rec) {
    if (!rec) return "pending";
    if (rec.anomaly) return "anomaly";
    // Paused before a backward node: that node (next) is where execution stands.
    if (this.paused && step === this.current && this.currentNode === rec.id) return "current";
    if (rec.grad) return "backward";
    return "forward";
  }
}
