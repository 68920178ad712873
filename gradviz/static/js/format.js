// Number and tensor formatting shared by every view.

/** A JSON number or one of the schema's non-finite strings, as a JS number. */
export function num(v) {
  if (v === null || v === undefined) return NaN;
  if (typeof v === "number") return v;
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  return Number(v);
}

/** Short human form of a number: 4 significant digits, exponent when far from 1. */
export function fmt(v) {
  const x = num(v);
  if (v === null || v === undefined) return "—";
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Inf" : "-Inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e4 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

export function shapeText(shape) {
  if (!shape) return "?";
  return shape.length ? shape.join("×") : "scalar";
}

export function countOf(shape) {
  return (shape || []).reduce((a, b) => a * b, 1);
}

/** Flatten nested value lists (preview.values) to numbers. */
export function flatValues(values) {
  const out = [];
  (function walk(v) {
    if (Array.isArray(v)) v.forEach(walk);
    else out.push(num(v));
  })(values);
  return out;
}

/** A compact one-token summary of a tensor for formulas: values when tiny, else its norm. */
export function tensorToken(shape, stats, preview) {
  if (preview && preview.values !== undefined) {
    const flat = flatValues(preview.values);
    if (flat.length === 1) return fmt(flat[0]);
    if (flat.length <= 4) return "[" + flat.map(fmt).join(", ") + "]";
    return "[" + flat.slice(0, 3).map(fmt).join(", ") + ", …]";
  }
  if (stats) return `‖${fmt(stats.norm)}‖`;
  return "?";
}

export function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// torch-style names (modules, functionals) of the op a breakpoint means, besides its class:
// the same table as gradviz/trace/conditions.py, so the page matches as the server's gate does
const OP_ALIASES = { mm: "matmul", bmm: "matmul", dot: "matmul", mv: "matmul",
  convolution: "conv", multiply: "mul", subtract: "sub",
  divide: "div", truediv: "div", negative: "neg", power: "pow", dense: "linear",
  relu6: "clamp", hardtanh: "clamp",
  // torch's node names (grad_fn) for gradviz's ops, as grad_fn.name shows them
  addmm: "linear", binarycrossentropy: "bceloss", binarycrossentropywithlogits: "bcewithlogits",
  nativebatchnorm: "batchnorm", nativelayernorm: "layernorm", tocopy: "cast", col2im: "fold",
  im2col: "unfold", constantpadnd: "pad", linalgvectornorm: "norm", specialerfcx: "erfcx",
  speciali0e: "i0e", speciali1: "i1", speciali1e: "i1e", specialzeta: "zeta" };

/** The key two op names share when they mean the same op (conditions.py op_key): case-insensitive,
 * without underscores, a torch node's Backward0 or a 1d/2d/3d suffix, aliases resolved
 * ("ReLU" and "Relu" -> "relu", "Conv2d" -> "conv", "max_pool2d" -> "maxpool", "mm" and
 * "MmBackward0" -> "matmul"). */
export function opKey(name) {
  let k = OP_KEYS.get(name);   // asked per drawn node on every refresh: remember
  if (k === undefined) {
    k = String(name ?? "").toLowerCase().replace(/_/g, "").replace(/backward\d*$/, "")
      .replace(/[123]d$/, "");
    k = OP_ALIASES[k] ?? k;
    if (OP_KEYS.size < 10000) OP_KEYS.set(name, k);
  }
  return k;
}
const OP_KEYS = new Map();

/** Element factory: h("div", {class: "x", "data-testid": "y"}, child, "text"). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
