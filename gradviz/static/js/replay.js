// Stepping a recording in the page. A replayed file has no computation behind it, so the
// debugger buttons move a cursor over its events instead, with the live semantics of
// UI.md: step forward = one more op, step backward = finish the forward pass, then one
// more backward node, continue = to the end of the pass, run / pause = play / stop.
// The store is rebuilt up to the start of the step on screen and fed event by event
// from there; the rest of that step shows as not run yet (the layout stays the same).
// The recorded gate's own `paused` / `resumed` events are history, not state: while
// stepping, where the cursor stands is the pause.

const PLAY_MS = 80;           // one node per tick while playing

export class Replay {
  constructor({ store, ctl, changed }) {
    this.store = store; this.ctl = ctl; this.changed = changed;
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
    const fresh = [];
    for (const ev of batch) {
      if (ev.seq !== undefined && ev.seq !== null) {
        if (ev.seq <= this.maxSeq) continue;
        this.maxSeq = ev.seq;
      }
      fresh.push(ev);
    }
    this.events.push(...fresh);
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
    if (action === "step_forward") this.advance((ev) => ev.type === "op");
    else if (action === "step_backward") this.advance((ev) => ev.type === "grad");
    else if (action === "continue") this.continuePass();
  }

  /** Rebuild the store up to the first event of the step on screen and stand there. */
  begin() {
    const shown = this.ctl.shownStep();
    const start = shown?.firstEvent ?? 0;
    const session = this.store.session;
    this.store.reset(session);
    this.store.ingest(this.events.slice(0, start));
    this.pos = start;
    this.ctl.showStep(null, true);
    this.mark();
  }

  /** Take events up to and including the first one `stop` accepts, and what belongs to it
   * (the leaf accumulations after a grad, an anomaly after its op). */
  advance(stop) {
    const evs = this.events;
    let i = this.pos;
    while (i < evs.length && !stop(evs[i])) i++;
    if (i < evs.length) {
      i++;
      while (i < evs.length && (evs[i].type === "accum" || evs[i].type === "anomaly")) i++;
    }
    this.feed(i);
  }

  /** `continue`: to the end of the forward pass (before the backward), or of the backward. */
  continuePass() {
    const evs = this.events;
    let i = this.pos;
    if (this.store.current?.phase !== "backward") {
      while (i < evs.length && evs[i].type !== "backward_begin" && evs[i].type !== "grad") i++;
      if (i > this.pos) { this.feed(i); return; }
    }
    while (i < evs.length && evs[i].type !== "backward_end") i++;
    this.feed(Math.min(i + 1, evs.length));
  }

  play() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.advance((ev) => ev.type === "op" || ev.type === "grad");
      if (!this.stepping) this.stop();
      this.changed();
    }, PLAY_MS);
    this.changed();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = 0;
  }

  feed(end) {
    const evs = this.events;
    let more = false;   // anything left to step through (not only trailing scalars)?
    for (let i = end; i < evs.length && !more; i++) more = evs[i].type === "op" || evs[i].type === "grad";
    if (!more) end = evs.length;
    this.store.ingest(evs.slice(this.pos, end));
    this.pos = end;
    if (!more) { this.finish(); return; }
    this.mark();
  }

  /** The recording is shown whole again: the cursor is off. */
  finish() {
    this.stop();
    this.pos = null;
    this.store.paused = null;
    this.changed();
  }

  /** Where the cursor stands, as the store's pause (the node shown as `current`). */
  mark() {
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
    this.changed();
  }
}
