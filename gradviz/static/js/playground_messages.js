// The Playground's error messages in the student's words: the server's structured errors
// ({code, message, field, layer}) name JSON paths ("optimizer.lr") and codes ("BAD_SPEC");
// the page names the label shown next to the field ("Learning rate") in plain words. The
// code and path stay on the element (data-code, data-field) and in the console.
import { PARAM_LABELS } from "./playground_spec.js";

// the builder's labels (the page's own, next to each box, win) and those of fields the builder
// has no box for (set through Spec JSON or a shared link)
const EXTRA = { "dataset.name": "Dataset", "dataset.n": "Points", "dataset.noise": "Noise",
  "dataset.test_split": "Test split", "dataset.classes": "Classes", loss: "Loss", "optimizer.type": "Optimizer",
  "optimizer.lr": "Learning rate", "optimizer.momentum": "Momentum", "optimizer.alpha": "Alpha",
  "optimizer.weight_decay": "Weight decay", batch_size: "Batch size", epochs: "Epochs", layers: "Layers", dataset: "Dataset", "dataset.seed": "Dataset seed", steps: "Steps", seed: "Seed",
  max_seconds: "Time limit (seconds)", boundary_every: "Boundary every", eval_every: "Evaluate every",
  "optimizer.betas": "Betas", "optimizer.eps": "Epsilon", "optimizer.nesterov": "Nesterov",
  "optimizer.dampening": "Dampening", "optimizer.rho": "Rho" };

const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);
// Python's 10.0 / 1e-08 as a person writes them
const numText = (t) => { const v = Number(t); return Number.isFinite(v) ? String(v) : t; };

/** The label a student sees for `field` ("optimizer.lr" → "Learning rate"; a layer's setting
 * → "Layer 2 (Linear): out"); `root` is the Playground panel holding the builder. */
export function labelOf(field, root, spec) {
  if (!field) return "";
  const m = /^layers\[(\d+)\](?:\.(\w+))?$/.exec(field);
  if (m) {
    const i = Number(m[1]), type = spec?.layers?.[i]?.type;
    const row = `Layer ${i + 1}${typeof type === "string" ? ` (${type})` : ""}`;
    if (!m[2]) return row;
    return m[2] === "type" ? `${row} type` : `${row}: ${PARAM_LABELS[m[2]] ?? m[2]}`;
  }
  const shown = root?.querySelector(`.pg-field[data-field="${field}"] > span`)?.textContent;
  if (shown) return shown;
  if (EXTRA[field]) return EXTRA[field];
  return cap(field.replace(/^optimizer\./, "").replace(/\./g, " ").replace(/_/g, " "));
}

/** What the student gave, from the server's "(empty)" / "(got 'x')" and the box itself. */
function gotText(got, input) {
  if (input?.validity?.badInput) return "what was typed is not a number";
  if (got === "empty") return "the box is empty";
  const g = /^got (.*)$/.exec(got || "");
  if (!g) return got || "";
  return /^(list|dict)$/.test(g[1]) ? `got a ${g[1] === "dict" ? "JSON object" : "list"}` : `you entered ${g[1].replace(/^'(.*)'$/, "“$1”")}`;
}

/** The plain-words text of structured error `err`, as shown in the page. `ctx`: {root, spec,
 * input} (input: the box the error is about, to tell "not a number" from "empty"). */
export function plainMessage(err, ctx = {}) {
  if (!err) return "";
  const msg = String(err.message ?? ""), label = labelOf(err.field, ctx.root, ctx.spec);
  let m;
  // a number out of range: "<path> must be a number between lo and hi (got x)"
  if ((m = /must be (an integer|a number) between (\S+) and (\S+) \((.*)\)$/.exec(msg))) {
    const lo = Number(m[2]), hi = numText(m[3]), kind = m[1] === "an integer" ? "a whole number" : "a number";
    const range = lo > 0 && lo < 1e-6 ? `above 0 and at most ${hi}` : `from ${numText(m[2])} to ${hi}`;
    return `${label || "This value"} must be ${kind} ${range} (${gotText(m[4], ctx.input)})`;
  }
  if ((m = /must be true or false \((.*)\)$/.exec(msg))) return `${label} must be true or false (${gotText(m[1])})`;
  if (err.limit) {   // "<what> is v, over the server's limit of L (name)"
    const v = (/ is (\S+), over/.exec(msg) || [])[1];
    const what = msg.split(/ is \S+, over/)[0];
    const where = what === err.field || /^layers\[\d+\]\.\w+$/.test(err.field || "") ? label : cap(what);
    return `${where} is ${v ?? "too large"}, more than this server allows (at most ${err.limit.value})`;
  }
  switch (err.code) {
    case "BAD_JSON": return `That is not valid JSON: ${msg}`;
    case "BAD_SHARE_URL": return "The model in this link could not be read; the page shows the default model instead";
    case "NO_MODEL": return "Train a model first, then download its weights";
    default: break;
  }
  if (err.field === "layers" && /non-empty list/.test(msg)) return "Add at least one layer";
  if ((m = /^layer (\d+) must be an object with a 'type'/.exec(msg))) return `Layer ${m[1]} needs a layer type`;
  if ((m = /^layer (\d+): unknown layer type (.*?); known/.exec(msg))) {
    return `Layer ${m[1]}: ${m[2].replace(/^'(.*)'$/, "“$1”")} is not a known layer type; pick one from the list`;
  }
  if ((m = /must be one of .*?(?: \(got (.*)\))?$/.exec(msg)) && label) {
    return `${label}: pick one from the list${m[1] && m[1] !== "None" ? ` (${m[1].replace(/^'(.*)'$/, "“$1”")} is not one)` : ""}`;
  }
  if ((m = /^optimizer (\w+) has no setting '(\w+)' \(it has (.*)\)$/.exec(msg))) {
    return `The ${m[1]} optimizer has no setting “${m[2]}” (it has ${m[3]})`;
  }
  if ((m = /^unknown spec field '(.*)'$/.exec(msg))) return `The spec has a setting the Playground does not know: “${m[1]}”`;
  if (/nesterov needs a momentum above 0/.test(msg)) return "Momentum must be above 0 for SGD with Nesterov";
  if (/betas must be two numbers/.test(msg)) return "Betas must be two numbers";
  if (/^a (model )?spec is a JSON object/.test(msg)) return "A model spec must be a JSON object { … }";
  if (/^dataset must be an object/.test(msg)) return "Dataset must be a dataset name or an object {name, n, …}";
  // anything else (shape mismatches and the like): already words; name no internal paths
  let text = msg;
  if (err.field && label) text = text.split(err.field).join(label);
  return cap(text);
}

// ---- the page's error box: every code the server or the page can send, in plain words ----
const RELOAD = "The server did not accept what this page sent; reload the page (if it happens "
  + "again, it is a bug in gradviz)";
const ACCESS = "This page is not allowed to do that: open the link that `gradviz serve` printed "
  + "(it carries the token)";
const WORDS = {
  UI: (m) => `This page ran into a problem (reloading it may help): ${m}`,
  GRAPHVIZ: () => "The graph layout library did not load, so the graph uses a simpler layout",
  EXPORT: (m) => `The export did not work: ${m}`,
  EXPORT_FAILED: (m) => `The export did not work: ${m}`,
  BAD_EVENTS: () => "This session's recording has data the export cannot read",
  BAD_FORMAT: () => "That export format is not available: choose SVG, PNG, DOT or JSON",
  NO_GRAPHVIZ: () => "Exporting an SVG or PNG needs Graphviz on the server's machine; "
    + "export as DOT or JSON instead",
  JOB: (m) => `Training stopped with an error: ${m}`,
  CONNECT: () => "Cannot reach the gradviz server (is `gradviz serve` still running?); "
    + "the page keeps trying to reconnect",
  GAP: () => "Some updates were lost on this slow connection and could not be fetched again; "
    + "reload the page to see everything",
  BREAKPOINT: (m) => `The breakpoint was not set: ${m}`,
  BAD_BREAKPOINT: (m) => `The breakpoint was not set: ${m}`,
  NO_SESSION: (m) => (/to control/.test(m) ? "There is no run to control yet: press Train in the "
    + "Playground, or start a script" : "That session is not on this server any more: pick "
    + "another one from the list"),
  NOT_CONTROLLABLE: () => "This run cannot be paused or stepped: nothing is running it any more",
  NOT_AVAILABLE: (m) => `Those values are not available: ${m}`,
  TENSOR_TOO_LARGE: () => "This tensor is too large to show in full; its statistics and "
    + "preview are shown instead",
  NOT_PLAYGROUND: () => "The Playground can only drive runs it started on this server: "
    + "press Train to start one",
  PLAYGROUND: (m) => `The Playground could not do that: ${m}`,
  CODE_MODE_DISABLED: () => "Code mode is off: it runs Python on the server's machine, so it "
    + "works only when the server asks for a token (this one was started with --no-token)",
  BAD_CODE: () => "Type some Python code first, then run it",
  SYNTAX_ERROR: (m) => `Your code has a syntax error (${m}); fix it and run it again`,
  SESSION_TAKEN: () => "That session name is already used by another run; choose another name",
  FEED_FAILED: () => "The live feed of this session from another server stopped; reload the page",
  INTERNAL: () => "The server ran into a problem it could not handle; its log says more",
  BAD_TOKEN: () => ACCESS,
  FORBIDDEN: () => ACCESS,
  BAD_ACTION: (m) => (/must be one of|unknown/.test(m) ? RELOAD
    : `That command did not work: ${m}`),
  BAD_COMMAND: (m) => `The running script did not accept that command: ${m}`,
};
for (const c of ["BAD_MESSAGE", "BAD_ARGUMENT", "BAD_EVENT", "BAD_SEQ", "BAD_SOURCE",
  "BAD_SESSION_ID", "UNKNOWN_EVENT", "OUT_OF_ORDER", "NOT_PRODUCING", "TOO_DEEP"]) {
  WORDS[c] = () => RELOAD;
}

/** The plain-words text of any error the page shows in its error box (`[data-testid=error]`):
 * a spec error as the Playground's fields say it (its labels, no JSON path), every other code
 * of the server or the page as a sentence; never the bare code. `ctx`: as plainMessage's. */
export function plainError(err, ctx = {}) {
  const code = err?.code || "ERROR";
  const msg = typeof err === "string" ? err : String(err?.message ?? "");
  // a playground spec error (its payload names the field at fault): the builder's words
  if (err && typeof err === "object" && ("field" in err || Number.isInteger(err.layer)
      || code === "BAD_SPEC" || code === "SHAPE_MISMATCH")) {
    return plainMessage({ ...err, message: msg }, ctx) || "This model spec is not valid";
  }
  if (WORDS[code]) return WORDS[code](msg);
  const http = /^HTTP_(\d+)$/.exec(code);
  if (http) return `The server answered with an error (HTTP ${http[1]}); reload the page`;
  if (err?.limit) {   // a request over a server limit: say so without the limit's internal name
    return `That is more than this server allows: ${msg.replace(/ \((max_\w+)\)\s*$/, "")}`;
  }
  return msg ? cap(msg) : "Something went wrong";
}
