// Graph controller: which step is shown, how it maps onto a layout, and when to lay out.
//
// Layouts are cached by the view's structure, so later steps of the same model reuse the
// first step's layout (their nodes are matched by slot: `o:3` is the 4th op of a step,
// `p:fc1.weight` a parameter). A view first seen whole (a replay, a page opened mid-run,
// modules collapsed or expanded) gets a full Graphviz layout. While a live session's graph
// grows (the first forward pass, stepped or run), new nodes are placed around the old ones
// and nothing that is on screen ever moves; that layout is kept after the pass ends, so
// stepping backward and later steps show the very same picture (no jump at the pass end).
import { buildView, layoutView, placeNew, COLLAPSE_ABOVE } from "./layout.js";
import { shapeText, fmt, opKey } from "./format.js";

const LAYOUT_CACHE = 8;

function labelOf(r) {
  if (r.kind === "op") return [r.attrs?.inplace ? `${r.op} (in place)` : r.op, shapeText(r.shape)];
  return [r.name || "input", shapeText(r.shape)];
}

function signature(view) {
  return view.nodes.map((n) => n.key).join(",") + "|" + view.edges.map((e) => e.from + ">" + e.to).join(",");
}

export class GraphController {
  constructor(view, store, graphviz) {
    this.view = view; this.store = store; this.graphviz = graphviz;
    this.live = true; this.shownIndex = null;
    this.template = null;          // records of the last step whose forward pass ended
    this.layouts = new Map();      // signature -> layout
    this.layoutSig = null; this.layout = null; this.layoutMode = null;
    this.sessionLive = true;       // false for recordings: no growing graph to keep still
    this.collapsed = null;         // null: decide from size on first sight
    this.expanded = new Set();
    this.selectedSlot = null;
    this.breakpoints = { nodes: new Set(), ops: new Set() };
    this.fullLayouts = 0;
    this.renderedStep = null;
  }

  reset() {
    this.live = true; this.shownIndex = null; this.template = null;
    this.layouts.clear(); this.layoutSig = null; this.layout = null; this.layoutMode = null;
    this.collapsed = null; this.userCollapse = false; this.expanded.clear(); this.selectedSlot = null; this.renderedStep = null;
    this.view.select(null);   // another session: its nodes are not the one picked before
  }

  shownStep() {
    const steps = this.store.steps;
    if (this.live || this.shownIndex === null) return steps[steps.length - 1] || null;
    return steps[Math.min(this.shownIndex, steps.length - 1)] || null;
  }

  /** Show step `i` (index into the kept steps), or follow the live step. */
  showStep(i, live) {
    this.live = !!live || i === null || i >= this.store.steps.length - 1;
    this.shownIndex = this.live ? null : Math.max(0, i);
  }

  /** Records to draw: the template's slots (real where this step has them, else ghosts), then new ones. */
  records(step) {
    const out = [], used = new Set();
    const bySlot = this.bySlot(step);
    const real = (r) => {
      if (!r.inSlots) r.inSlots = (r.inputs || []).map((i) => step.nodes.get(i)?.slot).filter(Boolean);
      return r;
    };
    if (this.template && this.template.step !== step && this.fitsTemplate(step, bySlot)) {
      for (const t of this.template.records) {
        const r = bySlot.get(t.slot);
        if (r) { out.push(real(r)); used.add(r.slot); } else out.push({ ...t, ghost: true });
      }
    }
    for (const id of step.order) {
      const r = step.nodes.get(id);
      if (!used.has(r.slot)) out.push(real(r));
    }
    return out;
  }

  /** Whether ``step`` so far is the template's graph: the same op in every slot it has
   * filled. Another graph (an evaluation pass after training steps, a branch taken
   * differently) is drawn as itself, not on the template's ghosts. */
  fitsTemplate(step, bySlot) {
    const tpl = this.template;
    if (tpl.opBySlot === undefined) tpl.opBySlot = new Map(tpl.records.map((t) => [t.slot, t.op]));
    if (step._fits?.size === step.order.length && step._fits.tpl === tpl) return step._fits.ok;
    let ok = true;
    for (const [slot, r] of bySlot) {
      if (r.kind === "op" && tpl.opBySlot.get(slot) !== r.op) { ok = false; break; }
    }
    step._fits = { size: step.order.length, tpl, ok };
    return ok;
  }

  bySlot(step) {
    if (step._bySlotSize !== step.order.length) {
      step._bySlot = new Map();
      for (const id of step.order) { const r = step.nodes.get(id); step._bySlot.set(r.slot, r); }
      step._bySlotSize = step.order.length;
    }
    return step._bySlot;
  }

  recordForSlot(step, slot) {
    const r = step && this.bySlot(step).get(slot);
    if (r) return { step, rec: r };
    const t = this.template?.records.find((x) => x.slot === slot);
    return t ? { step: this.template.step, rec: t, ghost: true } : null;
  }

  /** The previous step's graph becomes the template once its forward pass is over. */
  noteTemplate() {
    const steps = this.store.steps;
    for (let i = steps.length - 1; i >= 0; i--) {
      const st = steps[i];
      if (st.phase !== "forward" && st.order.length) {
        if (this.template?.step !== st) {
          const recs = st.order.map((id) => st.nodes.get(id));
          for (const r of recs) if (!r.inSlots) r.inSlots = (r.inputs || []).map((j) => st.nodes.get(j)?.slot).filter(Boolean);
          this.template = { step: st, records: recs };
        }
        return;
      }
    }
  }

  describe(step) {
    const store = this.store, bp = this.breakpoints;
    return (n) => {
      if (n.group) {
        const states = n.members.map((id) => store.stateOf(step, step.nodes.get(id)));
        const has = (s) => states.includes(s);
        const state = has("anomaly") ? "anomaly" : has("current") ? "current"
          : states.length && states.every((s) => s === "backward") ? "backward"
            : has("forward") || has("backward") ? "forward" : "pending";
        return { state, kind: "group", title: `module ${n.group}: ${n.members.length} nodes (click to expand)` };
      }
      const r = n.rec;
      const state = r.ghost ? "pending" : store.stateOf(step, r);
      const kind = r.kind === "op" ? "op" : (r.name ? "param" : "input");
      const g = r.grad || r.accum;
      return { state, kind, id: r.id, grad: !r.ghost && !!r.accum,
        get title() {   // built only for the nodes drawn
          return `${r.kind === "op" ? r.op : (r.name || "input")} #${r.id} · ${shapeText(r.shape)} · ${state}` +
            (r.stats ? `\n‖value‖ ${fmt(r.stats.norm)}` : "") + (g && !r.ghost ? `\n‖grad‖ ${fmt(g.norm)}` : "");
        },
        breakpoint: bp.nodes.has(r.id) || (r.op && bp.ops.size > 0 && bp.ops.has(opKey(r.op))) };
    };
  }

  /** Bring the view up to date. `changed` is the set of store change kinds. */
  update(changed) {
    if (changed.has("passend") || changed.has("structure")) this.noteTemplate();
    const step = this.shownStep();
    if (!step) {
      if (this.view.view) { this.view.render({ nodes: [], edges: [] }, { nodes: new Map(), edges: new Map(), width: 0, height: 0 }, () => ({})); }
      // nothing is drawn now: the next step is drawn anew even when its layout is the one
      // drawn before (a recording rebuilt from its start shows the same template again)
      this.layoutSig = null; this.renderedStep = null;
      return;
    }
    const structural = changed.has("structure") || changed.has("passend") || changed.has("view") || step !== this.renderedStep;
    if (!structural) { this.view.refresh(this.describe(step)); return; }
    const recs = this.records(step);
    if (!this.userCollapse) this.collapsed = recs.length > COLLAPSE_ABOVE;
    const view = buildView(recs, { collapsed: !!this.collapsed, expanded: this.expanded, labelOf });
    const sig = signature(view);
    const mode = `${!!this.collapsed}|${[...this.expanded].sort().join(",")}`;
    const growing = this.sessionLive && this.live && step === this.store.current && step.phase === "forward";
    let relaid = false;
    if (sig !== this.layoutSig) {
      const cached = this.layouts.get(sig);
      if (cached) this.layout = cached;
      else if (growing && this.layout && this.layout.nodes.size && this.layoutMode === mode) {
        // The graph grows: keep every placed node where it is, place the new ones around them.
        const inc = { ...this.layout, nodes: new Map(this.layout.nodes), edges: new Map(this.layout.edges), engine: "incremental" };
        placeNew(view, inc);
        this.layout = inc;
      } else {
        this.layout = layoutView(view, this.graphviz);
        this.fullLayouts++;
        this.view.root.dataset.layouts = String(this.fullLayouts);
      }
      this.layouts.set(sig, this.layout);
      if (this.layouts.size > LAYOUT_CACHE) this.layouts.delete(this.layouts.keys().next().value);
      this.layoutMode = mode;
      const first = !this.layoutSig;
      this.layoutSig = sig;
      relaid = true;
      this.view.render(view, this.layout, this.describe(step));
      if (this.layout.engine === "incremental") {
        // Nothing moves on the page, but the view zooms out to keep the growing graph in sight
        // (unless the user has panned or zoomed), and pans to the newest node: a graph too big
        // to fit at a readable zoom grows past the pane's bottom.
        const last = view.nodes[view.nodes.length - 1];
        const refit = !this.view.userMoved && !this.view.fits();
        if (refit) this.view.fit();
        if (last && (!refit || !this.view.fits())) this.view.ensureVisible(last.key);
      } else this.maybeFit(first);
    } else {
      // Same structure and positions: only ids and states changed (e.g. a new step began).
      this.view.view = view;
      this.rebindKeys(view);
      this.view.refresh(this.describe(step));
    }
    this.renderedStep = step;
    if (this.selectedSlot) this.view.select(this.selectedSlot);
    return relaid;
  }

  rebindKeys(view) {
    // Nodes keep their element (keyed by slot); the view's node objects carry the new records.
    this.view.view = view;
  }

  maybeFit(first) {
    if (first || !this.view.userMoved) this.view.fit();
  }

  toggleCollapse() {
    this.userCollapse = true;
    this.collapsed = !this.collapsed;
    if (!this.collapsed) this.expanded.clear();
  }

  expand(group) { this.expanded.add(group); }

  /** The expanded modules holding ``rec`` while modules are collapsed, innermost first
   * (what its inspector offers to fold back into one group each); empty when none. */
  expandedModulesOf(rec) {
    if (!this.collapsed || !rec?.module) return [];
    const parts = rec.module.split("."), out = [];
    for (let k = 1; k <= parts.length; k++) {
      const prefix = parts.slice(0, k).join(".");
      if (!this.expanded.has(prefix)) break;
      out.unshift(prefix);
    }
    return out;
  }

  /** Fold an expanded module (and the modules expanded inside it) back into one group. */
  collapseModule(group) {
    for (const g of [...this.expanded]) if (g === group || g.startsWith(group + ".")) this.expanded.delete(g);
  }
}
