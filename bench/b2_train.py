"""B2: one training step (forward, cross-entropy, backward, SGD), float32, one thread.

Three models, the same weights and batch in every competitor:
tiny MLP 2-32-32-2 (batch 64); MNIST-shaped MLP 784-128-64-10 (batch 64);
CNN conv(1→8, 3×3, pad 1) + ReLU + maxpool 2 + linear on 28×28 (batch 32).
gradviz (``gv.nn`` + ``gv.optim.SGD``), torch (CPU, 1 thread) and a hand-written NumPy
step are alternated A B C A B C after a warm-up; the figure is the median ms per step.
Targets (PERF.md): tiny ≤ 0.5× torch, MLP ≤ 0.8× torch, CNN ≤ 1.5× torch.
Run alone with ``python -m bench --only B2`` (or ``python bench/b2_train.py``).
"""
import os

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")  # only effective if numpy is not imported yet

import numpy as np  # noqa: E402

LR = 0.01
TARGETS = {"tiny": 0.5, "mlp": 0.8, "cnn": 1.5}


# ---- the models in each library -------------------------------------------------------------
def _torch_model(kind, torch):
    nn = torch.nn
    if kind == "tiny":
        return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                             nn.Linear(32, 2))
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                             nn.Linear(64, 10))
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 14 * 14, 10))


def _gv_model(kind, gv, state):
    nn = gv.nn
    if kind == "tiny":
        m = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 2))
    elif kind == "mlp":
        m = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    else:
        m = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    m.load_state_dict({k: gv.tensor(v) for k, v in state.items()})
    return m


def _batch(kind, rng):
    if kind == "tiny":
        x = rng.standard_normal((64, 2))
        y = rng.integers(0, 2, 64)
    elif kind == "mlp":
        x = rng.random((64, 784))
        y = rng.integers(0, 10, 64)
    else:
        x = rng.random((32, 1, 28, 28))
        y = rng.integers(0, 10, 32)
    return x.astype(np.float32), y.astype(np.int64)


def _step(model, opt, loss_fn, x, y):
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


# ---- hand-written NumPy -------------------------------------------------------------------------
def _xent_grad(logits, y):
    """Mean cross-entropy and its gradient w.r.t. the logits."""
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    s = e.sum(1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(np.log(s[:, 0]).mean() - z[rows, y].mean())
    d = e / s
    d[rows, y] -= 1
    d /= len(y)
    return loss, d


class NumpyMLP:
    """Linear/ReLU stack with its backward pass and SGD written out by hand."""

    def __init__(self, state):
        names = sorted({k.split(".")[0] for k in state}, key=int)
        self.params = [[state[f"{n}.weight"].copy(), state[f"{n}.bias"].copy()] for n in names]

    def step(self, x, y):
        acts, h = [x], x
        for i, (w, b) in enumerate(self.params):
            h = h @ w.T + b
            if i < len(self.params) - 1:
                h = np.maximum(h, 0)
                acts.append(h)
        loss, d = _xent_grad(h, y)
        for i in range(len(self.params) - 1, -1, -1):
            w, b = self.params[i]
            a = acts[i]
            dw, db = d.T @ a, d.sum(0)
            if i:
                d = (d @ w) * (a > 0)
            w -= LR * dw
            b -= LR * db
        return loss


class NumpyCNN:
    """conv 3×3 (im2col by strided view + matmul) → ReLU → maxpool 2 → linear, by hand."""

    def __init__(self, state):
        self.wc = state["0.weight"].reshape(8, 9).copy()
        self.bc = state["0.bias"].copy()
        self.wl = state["4.weight"].copy()
        self.bl = state["4.bias"].copy()

    def step(self, x, y):
        n = x.shape[0]
        xp = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
        cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))
        cols = cols.reshape(n * 28 * 28, 9)
        h = (cols @ self.wc.T + self.bc).reshape(n, 28, 28, 8)      # NHWC
        h = np.maximum(h, 0)
        win = h.reshape(n, 14, 2, 14, 2, 8)
        pooled = win.max(axis=(2, 4))                                 # (n, 14, 14, 8)
        flat = pooled.transpose(0, 3, 1, 2).reshape(n, -1)           # torch's C,H,W order
        logits = flat @ self.wl.T + self.bl
        loss, d = _xent_grad(logits, y)
        dwl, dbl = d.T @ flat, d.sum(0)
        dpool = (d @ self.wl).reshape(n, 8, 14, 14).transpose(0, 2, 3, 1)
        mask = win == pooled[:, :, None, :, None, :]                  # ties only at 0 (ReLU)
        dh = (mask * dpool[:, :, None, :, None, :]).reshape(n, 28, 28, 8) * (h > 0)
        dh = dh.reshape(-1, 8)
        dwc, dbc = dh.T @ cols, dh.sum(0)
        self.wc -= LR * dwc
        self.bc -= LR * dbc
        self.wl -= LR * dwl
        self.bl -= LR * dbl
        return loss


# ---- the benchmark -----------------------------------------------------------------------------
def _competitors(kind, gv, torch, rng):
    x, y = _batch(kind, rng)
    tmodel = _torch_model(kind, torch)
    state = {k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()}
    gmodel = _gv_model(kind, gv, state)
    npmodel = (NumpyCNN if kind == "cnn" else NumpyMLP)(state)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    gx, gy = gv.tensor(x), gv.tensor(y)
    fns = {
        "gradviz": _step(gmodel, gv.optim.SGD(gmodel.parameters(), lr=LR),
                         gv.nn.functional.cross_entropy, gx, gy),
        "torch": _step(tmodel, torch.optim.SGD(tmodel.parameters(), lr=LR),
                       torch.nn.functional.cross_entropy, tx, ty),
        "numpy": lambda: npmodel.step(x, y),
    }
    # same start, same first loss: the three steps compute the same thing
    losses = {k: float(_value(fn())) for k, fn in fns.items()}
    ref = losses["torch"]
    for k, v in losses.items():
        if abs(v - ref) > 1e-4 * max(1.0, abs(ref)):
            raise AssertionError(f"B2 {kind}: first-step loss of {k} is {v}, torch says {ref}")
    return fns


def _value(loss):
    return loss.item() if hasattr(loss, "item") else loss


TITLES = {"tiny": "tiny MLP 2-32-32-2 b64", "mlp": "MLP 784-128-64-10 b64",
          "cnn": "CNN conv8+pool+linear 28x28 b32"}


def run(quick=False):
    """Time a training step of each model in gradviz, torch and NumPy; the harness dict."""
    import gradviz as gv
    from bench.harness import alternate, median, row, thread_note, torch_single_thread
    from gradviz.trace.hooks import HOOKS
    torch = torch_single_thread()
    if torch is None:
        return {"id": "B2", "title": "training step", "skipped": "torch is not installed"}
    torch.set_num_threads(1)
    assert not HOOKS.on, "tracing must be off for B2"
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    rows = []
    for kind in ("tiny", "mlp", "cnn"):
        fns = _competitors(kind, gv, torch, rng)
        samples = alternate(fns, repeats=5 if quick else 9, target_s=0.03 if quick else 0.15)
        ms = {k: median(v) * 1e3 for k, v in samples.items()}
        r = row(TITLES[kind], ms["gradviz"], "ms/step",
                {"torch": ms["torch"], "numpy": ms["numpy"]},
                target=f"≤{TARGETS[kind]}x torch")
        r["met"] = r["ratios"]["torch"] <= TARGETS[kind]
        rows.append(r)
    notes = [f"threads: {thread_note()}, torch {torch.get_num_threads()} thread(s)",
             "step = zero_grad, forward, cross_entropy (mean), backward, SGD(lr=0.01); "
             "the three start from the same weights and agree on the first loss"]
    return {"id": "B2", "title": "training step (ms/step, median)", "rows": rows,
            "notes": notes}


if __name__ == "__main__":
    import json
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    res = run(quick="--quick" in sys.argv)
    from bench.__main__ import table
    res["seconds"], res["module"] = 0, "b2_train"
    print(table([res]))
    print(json.dumps(res, indent=1, default=str))
