"""B4 (PERF.md): streaming to a running server with one headless viewer on loopback.

Reports events/s delivered to the viewer (synthetic events and a traced training
loop) and the training loop's slowdown when attached, against the same loop
captured by an in-memory recorder (B3), alternating A B A B, median of repeats.
"""
import json
import statistics
import sys
import time

from bench._serve import Served, Viewer
from bench.harness import row


def _mlp(steps):
    import gradviz as gv
    gv.manual_seed(0)
    X = gv.randn(64, 2)
    W1 = gv.randn(2, 32, requires_grad=True)
    b1 = gv.zeros(32, requires_grad=True)
    W2 = gv.randn(32, 2, requires_grad=True)
    params = [W1, b1, W2]
    t0 = time.perf_counter()
    for _ in range(steps):
        h = (X @ W1 + b1).tanh()
        loss = ((h @ W2) ** 2).mean()
        loss.backward()
        for p in params:
            p.data.numpy()[...] -= 0.01 * p.grad.numpy()
            p.grad = None
    return time.perf_counter() - t0


def _recorded(steps):
    """B3's loop: every event captured (stats + preview) into a recorder; the time
    includes summarising what is pending at the end (``rec.events`` drains)."""
    import gradviz as gv
    with gv.trace.record() as rec:
        t0 = time.perf_counter()
        _mlp(steps)
        n = len(rec.events)
        t = time.perf_counter() - t0
    return t, n


def _attached(srv, steps, session):
    """The same loop attached to the server; the time includes summarising what is
    pending at the end (as for the recorder), not waiting for the server's acks."""
    import gradviz as gv
    from gradviz.trace import TRACER
    att = gv.attach(srv.base, token="bench-token-0123456789abcdef", session=session)
    try:
        t0 = time.perf_counter()
        _mlp(steps)
        TRACER.drain()
        t = time.perf_counter() - t0
        att.flush(120)
        return t, att.acked, t0
    finally:
        att.close()


def synthetic(srv, n):
    """Events/s from one producer through the server to one viewer (scalar events)."""
    import gradviz as gv
    att = gv.attach(srv.base, token="bench-token-0123456789abcdef", session="syn")
    viewer = Viewer(srv.base, "syn", n)
    t0 = time.time()
    for i in range(n):
        gv.trace.scalar("x", float(i), i)
    att.flush(300)
    t_ack = time.time()
    att.close()
    r = viewer.result()
    done = r["done_t"] or float("nan")
    # delivered: events the viewer really received (dropped ones, announced by ``gap``,
    # are not counted), over the time from the first event produced to the last received
    return {"events": n, "produce_ack_per_s": n / (t_ack - t0),
            "received": r["n"], "dropped_announced": r["dropped"],
            "delivered_per_s": r["n"] / (done - t0), "viewer_batches": r["msgs"]}


def run(quick=False):
    """Run B4; returns a dict of figures (also printed as JSON by ``__main__``)."""
    srv = Served()
    try:
        syn = synthetic(srv, 50_000 if quick else 200_000)
        steps = 100 if quick else 400
        repeats = 5 if quick else 9
        rec_t, att_t, deliv = [], [], []
        _recorded(10)
        for k in range(repeats):
            t, n = _recorded(steps)
            rec_t.append(t)
            sess = f"mlp{k}"
            import gradviz as gv  # noqa: F401
            t2, acked, _ = _attached(srv, steps, sess)
            att_t.append(t2)
        # delivery rate of the training stream to a viewer following live
        _, acked, _ = _attached(srv, steps, "mlp-live")
        v2 = Viewer(srv.base, "mlp-live", acked)
        r = v2.result()
        deliv = acked / max(1e-9, r["done_t"] - r["first_t"]) if r["first_t"] else 0
    finally:
        srv.close()
    rec_m, att_m = statistics.median(rec_t), statistics.median(att_t)
    # each attached run is paired with the recorded run just before it: the median of the
    # per-pair ratios cancels slow drifts in machine load (a ratio of medians does not)
    paired = statistics.median(a / r for a, r in zip(att_t, rec_t))
    rows = [row("events/s delivered (synthetic)", syn["delivered_per_s"], "ev/s",
                target="≥50k", met=syn["delivered_per_s"] >= 50_000, lower_is_better=False),
            row("attached loop vs recorder", paired - 1.0, "extra", target="≤0.10",
                met=paired - 1.0 <= 0.10),
            row("MLP stream delivered (catch-up)", deliv, "ev/s", lower_is_better=False)]
    notes = [f"attached runs vs the recorded run before each: "
             f"{', '.join(f'{a / r - 1.0:+.0%}' for a, r in zip(att_t, rec_t))} "
             f"(median of pairs; {steps} steps, {n / steps:.0f} events/step)"]
    return {"bench": "B4", "rows": rows, "notes": notes, "synthetic": syn,
            "mlp_steps": steps, "events_per_step": n / steps,
            "recorder_s": rec_m, "attached_s": att_m,
            "slowdown_vs_recorder": paired - 1.0,
            "slowdown_runs": [round(a / r - 1.0, 3) for a, r in zip(att_t, rec_t)],
            "catch_up_delivered_per_s": deliv}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
