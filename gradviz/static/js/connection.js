// The connection to `gradviz serve`: Socket.IO with the page's token, join + resume from
// the last seq after a reconnect, commands, and token-carrying HTTP helpers.
import { io } from "socket.io-client";

export class Connection {
  /** `handlers`: {events(batch), status(text), error({code,message}), gap(ev) (after the missed
   * events were fetched again), snapshot({session, from_seq, upto_seq, events}) (a reset: the
   * offset was older than the server's retention), tensor(msg), jobStatus(msg),
   * joined({session: row, state}) (the join's answer: the session's row as the server has it),
   * breakpoints({session, breakpoints}) (a session's breakpoints, after any page changed them)} */
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.session = null;
    this.after = () => -1;      // the store tells us the last seq it holds
    this.socket = io({ auth: { token }, transports: ["websocket", "polling"], reconnectionDelayMax: 2000 });
    const s = this.socket;
    s.on("connect", () => { handlers.status("connected"); this.join(); });
    s.on("disconnect", () => handlers.status("disconnected"));
    s.on("connect_error", (err) => {
      handlers.status("disconnected");
      const msg = err?.message || String(err);
      handlers.error({ code: "CONNECT", message: `cannot connect to the server: ${msg}` }, "connect");
    });
    // a viewer that joins with `raw: true` gets each batch as one string, the JSON text of
    // the event array (not asked for yet)
    s.on("events", (batch) => this.deliver(typeof batch === "string" ? JSON.parse(batch)
      : Array.isArray(batch) ? batch : batch?.events || []));
    s.on("error", (e) => handlers.error(e || { code: "ERROR", message: "unknown server error" }));
    s.on("gap", (e) => this.fillGap(e));
    s.on("snapshot", (snap) => this.snapshot(snap));
    this.filling = 0;           // gap fetches in flight: live batches wait behind them
    this.held = [];
    s.on("tensor", (msg) => handlers.tensor?.(msg));
    s.on("status", (msg) => handlers.jobStatus?.(msg));
    // `breakpoints {session, breakpoints}`: a session's breakpoints changed (in any tab)
    s.on("breakpoints", (msg) => handlers.breakpoints?.(msg));
  }

  deliver(batch) {
    batch = this.mine(batch);
    if (!batch.length) return;
    if (this.filling) this.held.push(batch);
    else this.handlers.events(batch);
  }

  /** The events of the session watched now: a batch of the one just left (its replay backlog
   * or a live batch already on the way) must not reach the store of the new one. */
  mine(batch) {
    const session = this.session;
    return batch.filter((e) => e && (e.session === undefined || e.session === null || e.session === session));
  }

  /**
   * A slow viewer's feed dropped events `from_seq`..`to_seq` (`gap {session, from_seq, to_seq,
   * dropped}`): fetch them over HTTP and hand them over in order, holding the live batches
   * that come meanwhile, so nothing is lost or repeated.
   */
  async fillGap(gap) {
    const session = this.session;
    if (!gap || !session || (gap.session && gap.session !== session)) return;
    this.filling++;
    let got = 0;
    try {
      let after = Math.max(0, Math.min(gap.from_seq - 1, this.after()));
      while (after < gap.to_seq && this.session === session) {
        const r = await this.getJSON(`/api/sessions/${encodeURIComponent(session)}/events`, { after, limit: 5000 });
        const events = this.mine((r.events || []).filter((e) => e.seq <= gap.to_seq));
        if (events.length && this.session === session) { this.handlers.events(events); got += events.length; }
        if (!r.events?.length || !(r.next > after)) break;
        after = r.next;
      }
      this.handlers.gap?.({ ...gap, refetched: got });
    } catch (e) {
      this.handlers.error({ code: "GAP", message: `events ${gap.from_seq}–${gap.to_seq} were dropped for this slow connection and could not be fetched again: ${e.message}` }, "gap");
    } finally {
      if (--this.filling === 0) {
        const held = this.held;
        this.held = [];
        for (const b of held) { const ours = this.mine(b); if (ours.length) this.handlers.events(ours); }
      }
    }
  }

  /**
   * The server no longer keeps the events after our offset (older than its retention): it sent
   * `snapshot {session, from_seq, upto_seq, events}`, enough to rebuild the current state, and
   * the live events after `upto_seq` follow. Batches held behind a gap fetch are superseded.
   */
  snapshot(snap) {
    if (!snap || !this.session || snap.session !== this.session) return;
    const events = typeof snap.events === "string" ? JSON.parse(snap.events) : snap.events || [];
    this.held = [];
    if (this.handlers.snapshot) this.handlers.snapshot({ ...snap, events });
    else this.handlers.events(events);
  }

  /** Watch a session, receiving its events after the store's last seq. The server stops
   * feeding the one watched before (else its backlog and live batches keep coming). */
  setSession(session) {
    const old = this.session;
    if (old && old !== session && this.socket.connected) this.socket.emit("leave", { session: old });
    this.session = session;
    this.held = [];             // batches of the session we leave
    this.join();
  }

  join() {
    if (this.session && this.socket.connected) {
      const session = this.session;
      // seqs start at 1: "after 0" is every event (the store's -1 means none seen yet)
      this.socket.emit("join", { session, after: Math.max(0, this.after()) }, (reply) => {
        if (reply?.ok && this.session === session) this.handlers.joined?.(reply);
      });
    }
  }

  command(action, extra = {}) {
    if (!this.session) return;
    this.socket.emit("command", { session: this.session, action, ...extra });
  }

  breakpoint(spec, ack) {
    if (!this.session) return;
    this.socket.emit("breakpoint", { session: this.session, ...spec }, (reply) => ack?.(reply));
  }

  requestTensor(node, what) {
    this.socket.emit("tensor", { session: this.session, node, what });
  }

  url(path, params = {}) {
    const u = new URL(path, window.location.origin);
    if (this.token) u.searchParams.set("token", this.token);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  async getJSON(path, params) {
    const r = await fetch(this.url(path, params), { headers: this.token ? { Authorization: `token ${this.token}` } : {} });
    let body = null;
    try { body = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) {
      const err = body?.error || { code: `HTTP_${r.status}`, message: `${path}: ${r.statusText}` };
      throw Object.assign(new Error(err.message), err);
    }
    return body;
  }

  async getBlob(path) {
    const r = await fetch(this.url(path), { headers: this.token ? { Authorization: `token ${this.token}` } : {} });
    if (!r.ok) {
      let err = { code: `HTTP_${r.status}`, message: `${path}: ${r.statusText}` };
      try { err = (await r.json()).error || err; } catch (e) { /* not JSON */ }
      throw Object.assign(new Error(err.message), err);
    }
    return r.blob();
  }
}
