"""B9: a 1024×1024 float32 matmul through gradviz vs the same NumPy call (GFLOP/s).

Target (PERF.md): ≥ 0.9× numpy.
"""
import numpy as np

from bench.harness import alternate, median, row

N = 1024


def run(quick=False):
    """Measure gradviz ``a @ b`` (inputs require grad) against ``np.matmul``."""
    import gradviz as gv
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, N)).astype(np.float32)
    y = rng.standard_normal((N, N)).astype(np.float32)
    a, b = gv.tensor(x, requires_grad=True), gv.tensor(y, requires_grad=True)
    fns = {"gradviz": lambda: a @ b, "numpy": lambda: x @ y}
    samples = alternate(fns, repeats=5 if quick else 9, number=2 if quick else 5)
    flops = 2.0 * N ** 3
    gf = {k: flops / median(v) / 1e9 for k, v in samples.items()}
    r = row(f"matmul {N}x{N} float32", gf["gradviz"], "GFLOP/s", {"numpy": gf["numpy"]},
            target="≥0.9x numpy", lower_is_better=False)
    r["met"] = r["ratios"]["numpy"] >= 0.9
    return {"id": "B9", "title": "large matmul (GFLOP/s, median)", "rows": [r],
            "notes": ["forward only; inputs require grad (the backward graph is built)"]}
