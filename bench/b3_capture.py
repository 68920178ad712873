"""B3: capture tax: an MLP training step with every forward op and backward grad recorded.

MNIST-shaped MLP 784-128-64-10, batch 64, float32: forward, cross-entropy
(log_softmax + gather + mean), backward and an SGD update. gradviz runs it
untraced and inside ``gv.trace.record()`` (stats + previews); the computing
thread's cost is measured with the recorder attached but not drained (records
are summarised lazily at drain time, normally on a background thread), and the
drain is timed separately. torch runs the same step untraced and under a
``TorchDispatchMode`` recorder that keeps op name, input shapes and a stats
summary (min, max, mean, norm) of each output. Targets (PERF.md): ≤ 1.25×
traced/untraced, ≤ 2 µs per event on the computing thread, below torch's recorder.
"""
import time

import numpy as np

from bench.harness import alternate, median, row, time_loop, torch_single_thread

SIZES = (784, 128, 64, 10)
BATCH = 64
LR = 0.01


def _init(rng):
    params = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        bound = 1.0 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32)
        b = rng.uniform(-bound, bound, (n_out,)).astype(np.float32)
        params.append((f"{2 * i}.weight", w))
        params.append((f"{2 * i}.bias", b))
    return params


def _has_nn(gv):
    nn = gv.nn
    return all(hasattr(nn, k) for k in ("Sequential", "Linear", "ReLU")) and \
        hasattr(getattr(nn, "functional", None), "cross_entropy")


def nn_step_fn(lib, params, x, y):
    """The step written with ``lib.nn`` (gradviz or torch): Sequential MLP + cross_entropy."""
    nn = lib.nn
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(nn.Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    with lib.no_grad():
        for (_, arr), p in zip(params, model.parameters()):
            p.copy_(lib.tensor(arr.T.copy() if arr.ndim == 2 else arr))
    ps = list(model.parameters())
    xt, yt = lib.tensor(x), lib.tensor(y)

    def step():
        loss = nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        for p in ps:  # SGD as a new array: a recorder may still hold the old one
            if hasattr(p, "_data"):
                p._data = p._data - LR * p.grad._data
            else:
                with lib.no_grad():
                    p.sub_(LR * p.grad)
            p.grad = None
        return loss
    return step


def gv_step_fn(gv, params, x, y):
    """A gradviz training step closure over hand-built parameters (names set as nn would)."""
    ps = []
    for name, arr in params:
        p = gv.tensor(arr.copy(), requires_grad=True)
        p._name = name
        ps.append(p)
    xt, yt = gv.tensor(x), gv.tensor(y)[:, None]

    def step():
        h = xt
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i < len(ps) - 2:
                h = h.relu()
        loss = -h.log_softmax(-1).gather(1, yt).mean()
        loss.backward()
        for p in ps:  # SGD as a new array: the recorder still holds the old one
            p._data = p._data - LR * p.grad._data
            p.grad = None
        return loss
    return step


def torch_step_fn(torch, params, x, y):
    """The same step in torch."""
    ps = [torch.tensor(arr.copy(), requires_grad=True) for _, arr in params]
    xt, yt = torch.tensor(x), torch.tensor(y)[:, None]

    def step():
        h = xt
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i < len(ps) - 2:
                h = h.relu()
        loss = -h.log_softmax(-1).gather(1, yt).mean()
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p.sub_(LR * p.grad)
                p.grad = None
        return loss
    return step


def torch_recorder(torch):
    """A TorchDispatchMode that records op name, input shapes and output stats."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Recorder(TorchDispatchMode):
        records = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            shapes = [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)]
            outs = out if isinstance(out, (tuple, list)) else (out,)
            summ = []
            for o in outs:
                if isinstance(o, torch.Tensor) and o.is_floating_point() and o.numel():
                    d = o.detach()
                    summ.append((d.min(), d.max(), d.mean(), d.norm()))
            self.records.append((func.__name__, shapes, summ))
            return out
    return Recorder


def _paired(traced, untraced):
    """Median ratio and median difference (seconds) of samples taken in turns."""
    return (median([t / u for t, u in zip(traced, untraced)]),
            median([t - u for t, u in zip(traced, untraced)]))


def run(quick=False):
    """Measure untraced vs traced steps for gradviz and torch; returns the result dict."""
    import gradviz as gv
    from gradviz.trace.core import TRACER
    rng = np.random.default_rng(0)
    params = _init(rng)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    use_nn = _has_nn(gv)
    step = (nn_step_fn if use_nn else gv_step_fn)(gv, params, x, y)

    # events per steady-state step
    with gv.trace.record() as rec:
        step()
        TRACER.drain()
        n0 = len(rec.events)
        step()
        per_step = len(rec.events) - n0
    number = 20 if quick else 60   # keeps the pending records far below BUFFER_MAX

    state = {"rec": None}

    def setup(name):
        rec = state["rec"]
        if name == "gv traced":
            if rec is None:
                rec = state["rec"] = gv.trace.record()
                rec.__enter__()
            TRACER.records.clear()  # untimed: drop what the last sample left pending
            rec._events.clear()
        elif rec is not None:
            rec.__exit__(None, None, None)
            rec._events.clear()
            state["rec"] = None

    fns = {"gv untraced": step, "gv traced": step}
    torch = torch_single_thread()
    if torch is not None:
        tstep = (nn_step_fn if use_nn else torch_step_fn)(torch, params, x, y)
        Recorder = torch_recorder(torch)

        def traced_torch():
            with Recorder():
                tstep()
        fns["torch untraced"] = tstep
        fns["torch traced"] = traced_torch
        Recorder.records.clear()
        traced_torch()
        torch_events = len(Recorder.records)

        def setup_all(name):
            setup(name)
            Recorder.records.clear()
    else:
        setup_all = setup
    # CPU time of this (the computing) thread: other processes on a shared machine and
    # preemption do not count; BLAS runs single-threaded in this thread (bench/__main__.py)
    samples = alternate(fns, repeats=9 if quick else 15, number=number, setup=setup_all,
                        clock=time.thread_time)
    setup("gv untraced")
    ms = {k: median(v) * 1e3 for k, v in samples.items()}

    # drain cost, off the computing thread in real use
    with gv.trace.record() as rec:
        for _ in range(number):
            step()
        pending = len(TRACER.records)
        drain_s = time_loop(TRACER.drain, 1)
    drain_us = drain_s * 1e6 / max(pending, 1)

    rows = []
    # Each traced sample is paired with the untraced one taken just before it: the
    # median of the per-pair ratios and differences cancels slow drifts in machine load,
    # which a ratio of two medians does not (a ~1 ms step on a shared machine moves by
    # more than the whole capture tax between samples).
    gv_ratio, gv_diff = _paired(samples["gv traced"], samples["gv untraced"])
    gv_ev_us = gv_diff * 1e6 / per_step
    t_ratio = t_ev_us = None
    if torch is not None:
        t_ratio, t_diff = _paired(samples["torch traced"], samples["torch untraced"])
        t_ev_us = t_diff * 1e6 / torch_events
    r = row("MLP step traced/untraced", gv_ratio, "x", {"torch recorder": t_ratio} if t_ratio
            else {}, target="≤1.25x; below torch's")
    r["met"] = gv_ratio <= 1.25 and (t_ratio is None or gv_ratio < t_ratio)
    rows.append(r)
    r = row("µs per event (computing thread)", gv_ev_us, "µs",
            {"torch recorder": t_ev_us} if t_ev_us else {}, target="≤2 µs")
    r["met"] = gv_ev_us <= 2.0
    rows.append(r)
    rows.append(row("MLP step untraced", ms["gv untraced"], "ms",
                    {"torch": ms.get("torch untraced")} if torch else {}))
    rows.append(row("MLP step traced (not drained)", ms["gv traced"], "ms",
                    {"torch recorder": ms.get("torch traced")} if torch else {}))
    rows.append(row("drain: summarise one event", drain_us, "µs"))
    notes = [f"events per step: gradviz {per_step}"
             + (f", torch recorder {torch_events} aten ops" if torch else ""),
             f"{number} steps per sample; "
             + ("nn.Sequential(Linear, ReLU, ...) + cross_entropy" if use_nn else
                "hand-built MLP with gv ops (log_softmax + gather + mean)")
             + "; SGD by hand (new arrays, so no flush before the update)",
             "times are CPU time of the computing thread (time.thread_time); ratio and "
             "µs/event are medians over traced/untraced pairs taken in turns"]
    return {"id": "B3", "title": "capture tax (MLP 784-128-64-10 b64)", "rows": rows,
            "notes": notes}
