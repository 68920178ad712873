// The connection to `gradviz serve`: Socket.IO with the page's token, join + resume from
// the last seq after a reconnect, commands, and token-carrying HTTP helpers.
import { io } from "socket.io-client";

export class Connection {
  /** `handlers`: {events(batch), status(text), error({code,message}), gap(ev), tensor(msg)} */
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
    s.on("events", (batch) => handlers.events(Array.isArray(batch) ? batch : batch?.events || []));
    s.on("error", (e) => handlers.error(e || { code: "ERROR", message: "unknown server error" }));
    s.on("gap", (e) => handlers.gap(e));
    s.on("tensor", (msg) => handlers.tensor?.(msg));
    s.on("status", (msg) => handlers.jobStatus?.(msg));
  }

  /** Watch a session, receiving its events after the store's last seq. */
  setSession(session) {
    this.session = session;
    this.join();
  }

  join() {
    if (this.session && this.socket.connected) {
      this.socket.emit("join", { session: this.session, after: this.after() });
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
