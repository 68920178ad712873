"""B1: per-op overhead of add, mul and matmul on tiny float32 tensors that require grad.

Tracing is off. gradviz, torch (CPU) and plain NumPy run the same op on the same
values, alternated A B C A B C; the figure is the median µs per forward op.
Targets (PERF.md): ≤ 1.0× torch and ≤ 3× numpy.
"""
import numpy as np

from bench.harness import alternate, median, row, torch_single_thread

SHAPES = {"1-element": (1,), "16x16": (16, 16)}
OPS = ("add", "mul", "matmul")


def _call(op, a, b):
    if op == "add":
        return lambda: a + b
    if op == "mul":
        return lambda: a * b
    return lambda: a @ b


def run(quick=False):
    """Measure every (op, shape) pair; returns the harness result dict."""
    import gradviz as gv
    from gradviz.trace.hooks import HOOKS
    torch = torch_single_thread()
    assert not HOOKS.on, "tracing must be off for B1"
    rng = np.random.default_rng(0)
    rows = []
    for label, shape in SHAPES.items():
        for op in OPS:
            if op == "matmul" and len(shape) < 2:
                shape_m = (1, 1)
            else:
                shape_m = shape
            x = rng.standard_normal(shape_m).astype(np.float32)
            y = rng.standard_normal(shape_m).astype(np.float32)
            fns = {"gradviz": _call(op, gv.tensor(x, requires_grad=True),
                                    gv.tensor(y, requires_grad=True)),
                   "numpy": _call(op, x, y)}
            if torch is not None:
                fns["torch"] = _call(op, torch.tensor(x, requires_grad=True),
                                     torch.tensor(y, requires_grad=True))
            samples = alternate(fns, repeats=5 if quick else 9,
                                target_s=0.01 if quick else 0.05)
            us = {k: median(v) * 1e6 for k, v in samples.items()}
            peers = {k: us[k] for k in ("torch", "numpy") if k in us}
            r = row(f"{op} {label if op != 'matmul' or len(shape) > 1 else '1x1'}",
                    us["gradviz"], "µs/op", peers, target="≤1.0x torch, ≤3x numpy")
            rt, rn = r["ratios"].get("torch"), r["ratios"].get("numpy")
            r["met"] = (rt is None or rt <= 1.0) and rn <= 3.0
            rows.append(r)
    notes = ["forward op only (graph node created: inputs require grad); tracing off"]
    if torch is None:
        notes.append("torch not installed: torch column missing")
    return {"id": "B1", "title": "per-op overhead (µs/op, median)", "rows": rows, "notes": notes}
