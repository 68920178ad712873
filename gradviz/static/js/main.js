// The page: wires connection -> store -> views, and the controls back to the server.
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { Connection } from "./connection.js";
import { Store } from "./store.js";
import { GraphView } from "./graphview.js";
import { GraphController } from "./graphctl.js";
import { Inspector } from "./inspector.js";
import { Timeline } from "./timeline.js";
import { Controls } from "./controls.js";
import { Replay } from "./replay.js";
import { exportSvg, exportPng, exportDot, exportJson, exportRecording } from "./export.js";
import { h } from "./format.js";
import { plainError } from "./playground_messages.js";

const $ = (sel) => document.querySelector(sel);
const ENDED = new Set(["done", "stopped", "error", "ended"]);   // statuses after which nothing runs
const params = new URLSearchParams(window.location.search);
const token = params.get("token") || document.body.dataset.token || "";

// ---- errors and status: always in the page, never only in the console ---------------
const errorBox = $("[data-testid=error]");
export function showError(err, key) {
  const code = err?.code || "ERROR", message = err?.message || String(err);
  if (key && errorBox.querySelector(`[data-key="${key}"]`)) return;
  // in the student's words (the Playground's labels for a spec error); the code and the
  // field's JSON path stay on the element (data-code, data-path) and in the console
  const pg = window.gradviz?.playground;
  let text = message;
  try {
    const input = err && typeof err === "object" ? pg?.inputOf?.(err) : null;
    text = plainError(err, { root: pg?.root, spec: pg?.spec, input });
  } catch (e) { console.error(e); }   // the error itself must show all the same
  console.debug(`gradviz: ${code}: ${message}`, err?.field ?? "");
  // each message once: a refused request is said by the server's `error` message and by the
  // request's answer (a refused breakpoint was listed twice)
  const same = [...errorBox.children].find((el) => el.dataset.code === code
    && el.dataset.path === String(err?.field ?? "") && el.firstChild?.textContent === text);
  if (same) { if (key && !same.dataset.key) same.dataset.key = key; return; }
  const item = h("div", { class: "error-item", "data-code": code, "data-path": err?.field ?? "",
    "data-key": key || null }, h("span", { class: "error-text" }, text),
    h("button", { class: "x", title: "dismiss", onclick: () => { item.remove(); errorBox.hidden = !errorBox.children.length; } }, "×"));
  errorBox.append(item);
  while (errorBox.children.length > 5) errorBox.firstChild.remove();
  errorBox.hidden = false;
}
function clearError(key) {
  errorBox.querySelector(`[data-key="${key}"]`)?.remove();
  errorBox.hidden = !errorBox.children.length;
}
window.addEventListener("error", (e) => showError({ code: "UI", message: e.message }));
window.addEventListener("unhandledrejection", (e) => showError({ code: "UI", message: e.reason?.message || String(e.reason) }));

const statusEl = $("[data-testid=status]");
function setStatus(text) {
  statusEl.textContent = text;
  statusEl.dataset.state = text;
  if (text === "connected") clearError("connect");
}

// ---- model and views ------------------------------------------------------------------
const store = new Store();
let graphviz = null;
try { graphviz = await Graphviz.load(); } catch (e) { showError({ code: "GRAPHVIZ", message: `Graphviz failed to load, using the simple layout: ${e.message}` }); }

const graphRoot = $("[data-testid=graph]");
let ctl = null;
const view = new GraphView(graphRoot, {
  onSelect: (key) => selectSlot(key),
  onExpand: (group) => { ctl.expand(group); schedule("view"); },
});
ctl = new GraphController(view, store, graphviz);

let conn = null;
const inspector = new Inspector($("[data-testid=inspector]"), {
  store,
  get conn() { return conn; },
  onSelectNode: (id) => selectNode(id),
  onBreak: (spec) => controls.addBreakpoint(spec),
  expandedModulesOf: (rec) => ctl.expandedModulesOf(rec),
  onCollapse: (group) => { ctl.collapseModule(group); schedule("view"); },
  fullValuesKept: () => fullValuesKept(),
});

/** Whether the server can still send a node's full values: a recording has only its
 * summaries, and an attached script's arrays go with its process. */
function fullValuesKept() {
  const row = conn?.session ? knownSessions.get(conn.session) : null;
  if (!row) return true;
  if (row.source === "replay") return false;
  if (row.source === "attached") return !controls.ended;
  return true;   // a playground job keeps its recent arrays, also once it is done
}

const timeline = new Timeline({
  chartEl: $("[data-testid=loss-chart]"), normsEl: $("[data-testid=grad-norms]"),
  scrubber: $("[data-testid=scrubber]"), scrubLabel: $("#scrub-label"), liveBtn: $("[data-testid=live]"),
  onScrub: (i, live) => { ctl.showStep(i, live); schedule("view"); },
});

function selectSlot(key) {
  ctl.selectedSlot = key;
  view.select(key);
  renderInspector();
}

function selectNode(id) {
  const step = ctl.shownStep();
  let rec = step?.nodes.get(Number(id)) || step?.nodes.get(id);
  if (!rec) {  // a node of another step: show that step
    const idx = store.steps.findIndex((s) => s.nodes.has(Number(id)));
    if (idx >= 0) { ctl.showStep(idx, false); rec = store.steps[idx].nodes.get(Number(id)); }
  }
  if (!rec) return;
  ctl.selectedSlot = rec.slot;
  schedule("view");
  requestAnimationFrame(() => view.centerOn(rec.slot));
}

function renderInspector() {
  const found = ctl.selectedSlot ? ctl.recordForSlot(ctl.shownStep(), ctl.selectedSlot) : null;
  inspector.render(found?.step || null, found?.rec || null);
}

// ---- one render per animation frame -------------------------------------------------------
let pending = new Set(), frame = 0;
function schedule(...kinds) {
  for (const k of kinds) pending.add(k);
  if (!frame) frame = requestAnimationFrame(flush);
}
function flush() {
  frame = 0;
  const changed = pending;
  pending = new Set();
  try {
    ctl.update(changed);
    // a store reset ("session": another session, or a replay rebuilt from a step's start)
    // drops the scalars too: the chart must not keep the points of the position left
    if (changed.has("scalars") || changed.has("session")) timeline.updateScalars(store.scalars.size ? store.scalars : store.rootScalars);
    const shown = ctl.shownStep();
    const nSteps = store.steps.length;
    if (changed.has("gradnorms") || changed.has("view") || changed.has("structure")) {
      timeline.updateNorms(store.gradNorms, store.current ? store.current.index + 1 : 0, shown ? shown.index : null);
    }
    timeline.updateScrubber(nSteps, shown ? store.steps.indexOf(shown) : 0, ctl.live,
                            nSteps ? store.steps[0].index : 0, shown ? shown.index : 0,
                            store.current ? store.current.index : 0);
    renderInspector();
    controls.update();
    $("#step-info").textContent = shown ? `step ${shown.index + 1} · ${shown.order.length} nodes · ${shown.phase}` : "";
    document.body.dataset.events = String(store.eventCount);
  } catch (e) {
    showError({ code: "UI", message: e.message });
    console.error(e);
  }
}
store.on((kind) => {
  if (kind === "anomaly") {
    const a = store.anomalies[store.anomalies.length - 1];
    showAnomaly(a);
  }
  if (kind === "paused" && store.paused?.reason === "breakpoint" && store.currentNode !== null) selectNode(store.currentNode);
  schedule(kind);
});

function showAnomaly(a) {
  const box = $("[data-testid=anomaly]");
  box.hidden = false;
  // an anomaly of no node (a job's non-finite loss) gets no link: "node #null" led nowhere
  const hasNode = a.node !== null && a.node !== undefined;
  box.replaceChildren(h("strong", {}, `Anomaly in ${a.where || "?"}: `), a.message || a.what || "",
    ...(hasNode ? [" ", h("a", { href: "#", "data-testid": "anomaly-node", onclick: (e) => { e.preventDefault(); selectNode(a.node); } }, `node #${a.node}`)] : []));
  // a NaN made anew every step reports every step: keep what the user has selected
  if (hasNode && (!ctl.selectedSlot || store.paused)) selectNode(a.node);
}

// ---- controls ------------------------------------------------------------------------------
const replay = new Replay({ store, ctl, changed: () => schedule("state", "view"),
  breakpoints: () => controls.list.map((b) => b.spec),
  onBreak: (node) => { if (node !== null) selectNode(node); } });
let recording = false;   // the session is a replayed file: the controls step `replay`
const controls = new Controls({ store, ctl, replay, get conn() { return conn; }, onChange: () => schedule("view"), showError,
  reopen: () => reopen(false, "This run has ended: its session is open again as a recording, which the debugger buttons step through.") });

$("[data-testid=search]").addEventListener("input", (e) => {
  const n = view.search(e.target.value);
  $("#search-count").textContent = e.target.value ? `${n} match${n === 1 ? "" : "es"}` : "";
});
$("[data-testid=search]").addEventListener("keydown", (e) => {
  if (e.key === "Enter") { const key = view.nextMatch(); if (key) selectSlot(key); }
});
$("[data-testid=zoom-fit]").addEventListener("click", () => { view.userMoved = false; view.fit(); });
$("[data-testid=zoom-in]").addEventListener("click", () => { const r = graphRoot.getBoundingClientRect(); view.zoomAt(1.25, r.width / 2, r.height / 2); });
$("[data-testid=zoom-out]").addEventListener("click", () => { const r = graphRoot.getBoundingClientRect(); view.zoomAt(0.8, r.width / 2, r.height / 2); });
$("[data-testid=collapse]").addEventListener("click", () => { ctl.toggleCollapse(); schedule("view"); });

const exportName = () => `gradviz-${conn?.session || "graph"}-step${(ctl.shownStep()?.index ?? 0) + 1}`;
const guard = (fn) => async () => { try { await fn(); } catch (e) { showError({ code: e.code || "EXPORT", message: e.message }); } };
$("[data-testid=export-svg]").addEventListener("click", guard(() => exportSvg(view, exportName())));
$("[data-testid=export-png]").addEventListener("click", guard(() => exportPng(view, exportName())));
$("[data-testid=export-dot]").addEventListener("click", guard(() => exportDot(view, exportName())));
$("[data-testid=export-json]").addEventListener("click", guard(() => exportJson(view, exportName(), { session: conn?.session, step: ctl.shownStep()?.index })));
$("[data-testid=export-recording]").addEventListener("click", guard(() => exportRecording(conn, conn.session)));

// Tabs: Debugger / Playground (issue 6 fills the playground panel), Inspector / Breakpoints.
for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => {
    const group = tab.closest("[data-tabs]");
    for (const t of group.querySelectorAll("[data-tab]")) t.classList.toggle("active", t === tab);
    for (const p of document.querySelectorAll(`[data-panel-group="${group.dataset.tabs}"]`)) p.hidden = p.dataset.panel !== tab.dataset.tab;
    if (tab.dataset.tab === "debugger") schedule("view");
  });
}

// ---- connection and session --------------------------------------------------------------
const sessionSelect = $("[data-testid=session]");
/** Open the session on screen again, as a recording (its process ended while we watched:
 * the debugger buttons then step through its events, fetched once more) or live again
 * (a process attached to it anew). */
function reopen(live, notice) {
  const id = conn.session, row = knownSessions.get(id);
  if (!id || !row) return;
  row.live = live;
  conn.session = null;
  switchSession(id);
  if (notice) {
    const note = $("[data-testid=notice]");
    note.textContent = notice;
    note.hidden = false;
  }
}

function switchSession(id) {
  if (!id || id === conn.session) return;
  waitingFor = null;   // shown now, or another one picked instead
  store.reset(id);
  ctl.reset();
  const row = knownSessions.get(id);
  ctl.sessionLive = row?.live ?? true;   // a recording does not grow: lay it out whole
  // nothing runs an ended session any more: its events are a recording, stepped in the page
  controls.ended = row?.source !== "replay" && row?.live === false;
  recording = row?.source === "replay" || controls.ended;
  replay.reset();
  controls.setRecording(timeline.recording = recording);
  timeline.ended = controls.ended;
  $("[data-testid=anomaly]").hidden = true;
  const badge = $("[data-testid=job-status]");   // the last session's job or process state
  badge.hidden = true; badge.textContent = ""; badge.dataset.state = ""; badge.title = "";
  delete document.body.dataset.job;
  $("[data-testid=notice]").hidden = true;
  delete $("[data-testid=notice]").dataset.waiting;
  controls.setSession(id);
  sessionSelect.value = id;   // the list may have been drawn before any session was picked
  const u = new URL(window.location.href);
  u.searchParams.set("session", id);
  history.replaceState(null, "", u);
  conn.setSession(id);
  window.gradviz?.playground?.adopt(id);   // the Playground tab shows the same session
  schedule("view", "scalars", "structure");
}
sessionSelect.addEventListener("change", () => switchSession(sessionSelect.value));

const knownSessions = new Map();   // id -> the server's row ({live, source, …})
// The session a link asked for (`?session=ID`) before the server has it: e.g. the page
// opened just before `gradviz run --session ID`. Nothing else is shown meanwhile (a quiet
// fallback looked like the wanted run) and the URL keeps the id, so a reload still asks.
let waitingFor = null;
function waitFor(id) {
  waitingFor = id;
  const note = $("[data-testid=notice]");
  note.textContent = `waiting for session ${id}…`;
  note.dataset.waiting = id;
  note.hidden = false;
  view.setEmpty(`Waiting for session ${id}: it appears here once it starts (e.g. gradviz run --session ${id} script.py). Pick another session above to stop waiting.`);
}

/** The process on screen has ended and a process attached (the script restarted, say): say
 * so, with a button to follow it; the ended run stays on screen until then. */
async function offerNewRun(id) {
  await refreshSessions(false);
  if (!controls.ended || conn.session === id) return;
  const row = knownSessions.get(id);
  const note = $("[data-testid=notice]");
  note.replaceChildren(`A new run is live: ${id}${row?.title ? ` (${row.title})` : ""} `,
    h("button", { class: "btn small", "data-testid": "open-new-run", onclick: () => switchSession(id) }, "open it"));
  note.hidden = false;
}

async function refreshSessions(pick) {
  let sessions = [];
  try { sessions = await conn.getJSON("/api/sessions"); } catch (e) { showError(e, "sessions"); return null; }
  clearError("sessions");
  for (const s of sessions) knownSessions.set(s.id, s);
  // a live session's count would be stale at once: say "live" instead
  // with the title a script gave (gv.attach(title=...)): several runs of one script tell apart
  const label = (s) => `${s.id}${s.title ? ` (${s.title})` : ""} · ${s.source} · ${s.live ? "live" : `${s.events} event${s.events === 1 ? "" : "s"}`}`;
  sessionSelect.replaceChildren(...sessions.map((s) => h("option", { value: s.id }, label(s))));
  const arrived = waitingFor && sessions.some((s) => s.id === waitingFor);
  if (waitingFor && !arrived && !conn.session) {
    sessionSelect.append(h("option", { value: waitingFor, disabled: true }, `${waitingFor} · waiting…`));
  }
  if (conn.session) sessionSelect.value = conn.session;
  else if (waitingFor) sessionSelect.value = waitingFor;
  if (arrived && !conn.session) {   // the session the link asked for has started: show it
    const id = waitingFor;
    if (!pick) switchSession(id);
    return id;
  }
  if (!pick) return null;
  const want = params.get("session") || document.body.dataset.session;
  if (want && sessions.some((s) => s.id === want)) return want;
  if (want && !conn.session) { waitFor(want); return null; }
  const live = sessions.filter((s) => s.live);
  const best = live.find((s) => s.source === "playground") || live[live.length - 1] || sessions[sessions.length - 1];
  return best ? best.id : null;
}

conn = new Connection(token, {
  events: (batch) => {
    if (recording) replay.take(batch); else store.ingest(batch);
    window.gradviz.playground?.onEvents(batch);   // its loss, accuracy and boundary views
  },
  status: (s) => { setStatus(s); if (s === "connected") refreshSessions(false); },
  // a spec error is the answer to one of the Playground's own requests, which shows it by its
  // cause (a field, a layer or the spec line): the box does not say it a second time
  error: (e, key) => { if (!window.gradviz?.playground?.showsItself(e)) showError(e, key); },
  gap: (e) => {   // the connection dropped events; conn fetched them again before this
    store.ingest([{ type: "gap", ...e }]);
    const note = $("[data-testid=notice]");
    note.textContent = `slow connection: re-fetched ${e.refetched} missed events (${e.from_seq}–${e.to_seq})`;
    note.hidden = false;
    document.body.dataset.gaps = String(store.gaps.length);
  },
  snapshot: (snap) => {   // our offset was older than the server keeps: a reset to its state
    store.loadSnapshot(snap);
    ctl.reset();
    const note = $("[data-testid=notice]");
    note.textContent = `reconnected past the server's retention: showing a snapshot up to event ${snap.upto_seq}`;
    note.hidden = false;
    document.body.dataset.snapshots = String(store.snapshots);
    schedule("view", "scalars", "structure");
  },
  tensor: (msg) => inspector.onTensor(msg),
  breakpoints: (msg) => {   // another tab (or this one) added or removed one: show the server's
    // a recording's breakpoints live in this page only (replay.js honours them)
    if (!Array.isArray(msg?.breakpoints) || (recording && msg.session === conn.session)) return;
    controls.loadServer(msg.session, msg.breakpoints);
  },
  joined: ({ session: row, state }) => {   // a job or process that ended before this page joined
    if (Array.isArray(state?.breakpoints)) controls.loadServer(row.id, state.breakpoints);
    if (ENDED.has(row?.status)) {
      conn.handlers.jobStatus({ session: row.id, status: row.status, message: row.message || null });
    }
  },
  jobStatus: (msg) => {   // `status {session, status, message}`: a server-run job, or a producer
    // the session list says "live" of a running session (any of them): say what it is now
    if (ENDED.has(msg?.status) || msg?.status === "attached") refreshSessions(false);
    if (msg?.status === "attached" && msg.session !== conn.session && controls.ended) offerNewRun(msg.session);
    if (msg?.session !== conn.session) return;
    document.body.dataset.job = msg.status || "";
    if (ENDED.has(msg.status) || msg.status === "attached" || msg.status === "running") {
      if (!ENDED.has(msg.status) && recording) reopen(true);   // attached again: follow it live
      controls.ended = timeline.ended = ENDED.has(msg.status);
      // nothing runs any more: no node is where execution stands (a run killed while
      // paused kept its last node "current")
      if (controls.ended && !recording) store.paused = null;
      schedule("state");
    }
    const el = $("[data-testid=job-status]");
    const who = ["attached", "ended"].includes(msg.status) ? "process" : "job";
    el.textContent = `${who} ${msg.status || "?"}${msg.message ? ": " + msg.message : ""}`;
    el.dataset.state = msg.status || "";
    el.title = msg.message || "";
    el.hidden = false;
    if (msg.status === "error") showError({ code: "JOB", message: msg.message || "the training job failed" });
  },
});
conn.after = () => (recording ? replay.maxSeq : store.lastSeq);
// for debugging from the console and for tests; the Playground shows its failed requests
// through showError (one box for every error with no field of its own)
window.gradviz = { store, ctl, view, conn, showError };

const first = await refreshSessions(true);
if (first) switchSession(first);
else {
  if (!waitingFor) view.setEmpty("No session yet. Start one with `gradviz run script.py`, attach with gv.attach, or open the Playground.");
  // a new session's `status` news switches at once; this poll covers sessions without one
  setInterval(async () => { if (!conn.session) { const s = await refreshSessions(true); if (s) switchSession(s); } }, 2000);
}
document.body.dataset.ready = "1";
