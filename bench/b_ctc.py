"""CTC loss forward + backward through gradviz vs torch (T=50, N=16, C=20, S=10, float32).

Not one of PERF.md's numbered benchmarks (``python -m bench`` skips it); run it
with ``python -m bench.b_ctc [--quick]``. No target: the figure shows what the
log-space recursion vectorised over the batch costs next to torch's C++ kernel.
"""
import sys

import numpy as np

from bench.harness import alternate, median, row, torch_single_thread

T, N, C, S = 50, 16, 20, 10


def _problem():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((T, N, C)).astype(np.float32)
    targets = rng.integers(1, C, (N, S))
    il = rng.integers(T - 10, T + 1, N)
    tl = rng.integers(S // 2, S + 1, N)
    return logits, targets, il, tl


def run(quick=False):
    """Time one forward + backward of the CTC loss (through log_softmax) in both libraries."""
    import gradviz as gv
    import gradviz.nn.functional_losses as F
    torch = torch_single_thread()
    logits, targets, il, tl = _problem()
    gx = gv.from_numpy(logits.copy()).requires_grad_()

    def gv_step():
        gx.grad = None
        F.ctc_loss(gx.log_softmax(2), targets, il, tl).backward()

    fns = {"gradviz": gv_step}
    if torch is not None:
        tx = torch.from_numpy(logits.copy()).requires_grad_()
        tt, til, ttl = torch.from_numpy(targets), torch.from_numpy(il), torch.from_numpy(tl)

        def torch_step():
            tx.grad = None
            torch.nn.functional.ctc_loss(tx.log_softmax(2), tt, til, ttl).backward()
        fns["torch"] = torch_step
    samples = alternate(fns, repeats=5 if quick else 9, target_s=0.02 if quick else 0.1)
    ms = {k: median(v) * 1e3 for k, v in samples.items()}
    peers = {"torch": ms["torch"]} if "torch" in ms else {}
    r = row(f"ctc_loss fwd+bwd T={T} N={N} C={C} S={S} float32", ms["gradviz"], "ms", peers)
    return {"id": "CTC", "title": "CTC loss forward + backward (ms per step, median)",
            "rows": [r], "notes": ["through log_softmax; reduction='mean'; 1 torch thread"]}


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    for r in res["rows"]:
        ratio = ", ".join(f"{v:.2f}x {k}" for k, v in r["ratios"].items())
        print(f"{r['name']}: {r['value']:.3f} {r['unit']} ({ratio}); peers {r['peers']}")
