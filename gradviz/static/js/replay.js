// Stepping a recording in the page. A replayed file has no computation behind it, so the
// debugger buttons move a cursor over its events instead, with the live semantics of
// UI.md: step forward = one more op, step backward = finish the forward pass, then one
// more backward node, continue = to the end of the pass, run / pause = play / stop.
// The store is rebuilt up to the start of the step on screen and fed event by event
// from there; the rest of that step shows as not run yet (the layout stays the same).
// The recorded gate's own `paused` / `resumed` events are history, not state: while
// stepping, where the cursor stands is the pause.

import { opKey } from "./format.js";

const PLAY_MS = 80;           // one node per tick while playing
const STEPPABLE = new Set(["op", "grad"]);
const TAKE = "take", BEFORE = "before";   // where a goal stops: after or before its event

export class Replay {
  /** ``breakpoints()``: the specs to honour while running or continuing; ``onBreak(node)``
   * when one fires (the page selects the node). */
  constructor({ store, ctl, changed, breakpoints, onBreak }) {
    this.store = store; this.ctl = ctl; this.changed = changed;
    this.breakpoints = breakpoints; this.onBreak = onBreak;
    this.reset();
  }

  reset() {
    this.stop();
    this.events = [];         // every event of the recording, in seq order
    this.maxSeq = -1;
    this.pos = null;          // events[0:pos] are in the store while stepping; null: all are
  }

  get stepping() { return this.pos !== null; }
  get playing() { return !!this.timer; }

  /** Events of the recording as they arrive: shown at once unless the cursor is in use. */
  take(batch) {
    const fresh = [], session = this.store.session;
    for (const ev of batch) {
      if (ev.session && session && ev.session !== session) continue;   // another session's
      if (ev.seq !== undefined && ev.seq !== null) {
        if (ev.seq <= this.maxSeq) continue;
        this.maxSeq = ev.seq;
      }
      fresh.push(ev);
      this.events.push(ev);   // one by one: a spread of a huge batch overflows the stack
    }
    if (!this.stepping) {
      this.store.ingest(fresh);
      this.store.paused = null;   // a recording is not paused anywhere
    }
  }

  /** A debugger button on a recording. */
  command(action) {
    if (action === "pause") { this.stop(); this.changed(); return; }
    if (!this.events.length) return;
    if (!this.stepping || !this.ctl.live) this.begin();   // the step on screen, from its start
    if (action === "run") { this.play(); return; }
    this.stop();
    if (action === "step_forward") this.runTo((ev) => ev.type === "op" && TAKE, false);
    else if (action === "step_backward") this.runTo((ev) => ev.type === "grad" && TAKE, false);
    else if (action === "continue") this.runTo(this.endOfPass(), true);
  }

  /** Rebuild the store up to the first event of the step on screen and stand there. */
  begin() {
    const shown = this.ctl.shownStep();
    const start = shown?.firstEvent ?? 0;
    this.store.reset(this.store.session);
    this.store.ingest(this.events.slice(0, start));
    this.pos = start;
    this.resumeAt = null;
    this.ctl.showStep(null, true);
    this.mark(null);
  }

  /** `continue`'s goal: the end of the forward pass (before the backward) while ops of it
   * remain, else the end of the backward pass. */
  endOfPass() {
    const evs = this.events;
    let i = this.pos;
    while (i < evs.length && !STEPPABLE.has(evs[i].type) && evs[i].type !== "backward_begin") i++;
    if (i < evs.length && evs[i].type === "op") {
      return (ev) => (ev.type === "backward_begin" || ev.type === "grad") && BEFORE;
    }
    return (ev) => ev.type === "backward_end" && TAKE;
  }

  /** Feed events from the cursor until ``goal(ev)`` says TAKE (that event and what belongs
   * to it: the leaf accumulations after a grad, an anomaly after its op) or BEFORE, or, when
   * ``watch``, a breakpoint fires: after the op it names, before the backward node. */
  runTo(goal, watch) {
    const evs = this.events;
    let i = this.pos, hit = null;
    for (; i < evs.length; i++) {
      const ev = evs[i];
      if (watch && STEPPABLE.has(ev.type) && i !== this.resumeAt && (hit = this.hit(ev))) {
        if (ev.type === "op") i = this.after(i);
        break;
      }
      const how = goal(ev);
      if (how === BEFORE) break;
      if (how === TAKE) { i = this.after(i); break; }
    }
    this.resumeAt = hit ? i : null;   // resuming does not fire the same breakpoint again
    this.feed(i, hit);
    return hit;
  }

  after(i) {
    const evs = this.events;
    i++;
    while (i < evs.length && (evs[i].type === "accum" || evs[i].type === "anomaly")) i++;
    return i;
  }

  /** The breakpoint (a spec of the Breakpoints tab) this op or grad event fires, if any. */
  hit(ev) {
    const stats = ev.type === "op" ? ev.stats : ev.grad;
    for (const b of this.breakpoints()) {
      if (b.node !== undefined && b.node === ev.node) return b;
      // "ReLU" is Relu; an op breakpoint fires after the op (before its backward node with
      // phase "backward": a grad event names no op, its forward record does)
      if (b.op && b.phase !== "backward" && ev.type === "op" && opKey(ev.op) === opKey(b.op)) return b;
      if (b.op && b.phase === "backward" && ev.type === "grad") {
        const op = this.store.current?.nodes.get(ev.node)?.op;
        if (op && opKey(op) === opKey(b.op)) return b;
      }
      if (b.when === "nonfinite" && stats && (stats.nan > 0 || stats.inf > 0)) return b;
      if (b.when === "grad_norm" && ev.type === "grad" && (Number(stats?.norm) > b.threshold || stats?.norm === "inf")) return b;
    }
    return null;
  }

  play() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const hit = this.runTo((ev) => STEPPABLE.has(ev.type) && TAKE, true);
      if (hit || !this.stepping) this.stop();
      this.changed();
    }, PLAY_MS);
    this.changed();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = 0;
  }

  feed(end, hit) {
    const evs = this.events;
    let more = !!hit;   // anything left to step through (not only trailing scalars)?
    for (let i = end; i < evs.length && !more; i++) more = STEPPABLE.has(evs[i].type);
    if (!more) end = evs.length;
    this.store.ingest(evs.slice(this.pos, end));
    this.pos = end;
    if (!more) { this.finish(); return; }
    this.mark(hit);
  }

  /** The recording is shown whole again: the cursor is off. */
  finish() {
    this.stop();
    this.pos = null;
    this.store.paused = null;
    this.changed();
  }

  /** Where the cursor stands, as the store's pause (the node shown as `current`); ``hit``:
   * the breakpoint that stopped it there. */
  mark(hit) {
    const evs = this.events, store = this.store, step = store.current;
    if (!step || step.phase === "done") {
      store.paused = { at: "step", phase: "forward", node: null };
    } else if (step.phase === "forward") {
      let op = null;   // the last op the cursor passed
      for (let i = this.pos - 1; i >= 0 && !op; i--) if (evs[i].type === "op") op = evs[i];
      store.paused = { at: "after_forward", phase: "forward", node: op?.node ?? null };
    } else {
      let next = null;   // the backward node that runs next
      for (let i = this.pos; i < evs.length && next === null; i++) {
        if (evs[i].type === "grad") next = evs[i].node;
        else if (evs[i].type === "backward_end") break;
      }
      store.paused = next === null ? { at: "backward_end", phase: "backward", node: null }
        : { at: "before_backward", phase: "backward", node: null, next };
    }
    if (hit) {
      store.paused.reason = "breakpoint";
      this.onBreak(store.currentNode);
    }
    this.changed();
  }
}
