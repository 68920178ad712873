"""Models the server trains itself (the default session and the playground).

A ``Job`` runs a training loop in a worker thread, traced into one session,
with a step gate that viewers drive. The tracer is process-global, so one
server-run job traces at a time: starting a new job stops the current one
(``JOB_LOCK``). The engine, ``gv.nn``, ``gv.optim`` and ``gv.data`` are
imported only when a job starts.
"""
import math
import threading
import time

from ..errors import GradvizError
from ..trace.gate import JobStopped, StepGate, install_gate, uninstall_gate
from .spec import build_model, validate_spec

JOB_LOCK = threading.Lock()      # one traced server job per process

DEFAULT_SPEC = {
    "title": "MLP on spiral",
    # 600 points: the builder starts from this model with a fifth held out, and the arms
    # of 200 points are too sparse to tell the classes apart between them
    "dataset": {"name": "spiral", "n": 600, "noise": 0.1, "classes": 3},
    "layers": [{"type": "Linear", "out_features": 32}, {"type": "Tanh"},
               {"type": "Linear", "out_features": 3}],
    "loss": "cross_entropy",
    "optimizer": {"type": "Adam", "lr": 0.02},  # ~97 % train accuracy in 500 steps
    "batch_size": None,
    "steps": 2000,
    "seed": 0,
}


class Job:
    """One training loop run by the server, traced into ``session``."""

    def __init__(self, manager, session, spec, limits, paused=True, on_status=None):
        self.manager = manager
        self.session = session
        self.spec = validate_spec(spec, limits)
        self.limits = limits
        # told of every status change; it keeps the status on the session (the server's
        # ``announce_status`` also tells the viewers)
        self.on_status = on_status or (lambda session, status, message:
                                       session.set_status(status, message))
        self.start_paused = paused   # paused before the first step, not during set-up
        self.gate = StepGate(paused=False, keep_values=limits["keep_value_bytes"])
        self.model = None
        self.thread = None
        self.status = "ready"
        self.message = None
        self._paused_since = None

    def alive(self):
        """True while the worker thread runs."""
        return self.thread is not None and self.thread.is_alive()

    def start(self):
        """Start the worker thread (it stops any job already tracing)."""
        self.thread = threading.Thread(target=self._main, name=f"gradviz-job-{self.session.id}",
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self, wait=5.0):
        """Stop at the next gate point and wait for the thread to end."""
        self.gate.stop()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(wait)

    def _set(self, status, message=None):
        self.status, self.message = status, message
        self.on_status(self.session, status, message)

    def _main(self):
        from ..engine.backend import quiet_numpy
        from ..trace import TRACER
        quiet_numpy()  # a diverging model reports NaN as an anomaly, not as NumPy warnings
        sink = self._sink
        with JOB_LOCK:
            if self.gate.stopped:
                self._set("stopped")
                return
            install_gate(self.gate)
            TRACER.add_sink(sink, background=True)
            try:
                self._set("running")
                self._train()
                self._set("done")
            except JobStopped:
                self._set("stopped")
            except GradvizError as e:
                self._set("error", str(e))
            except Exception as e:  # the job dies, never the server
                self._set("error", f"{type(e).__name__}: {e}")
            finally:
                TRACER.remove_sink(sink, background=True)
                uninstall_gate(self.gate)

    def _sink(self, events):
        self.manager.ingest_local(self.session, events)

    def _train(self):
        import gradviz as gv
        from gradviz.nn import functional as F
        spec = self.spec
        if spec.get("seed") is not None and hasattr(gv, "manual_seed"):
            gv.manual_seed(spec["seed"])
        X, y = load_dataset(spec["dataset"])
        classes = int(y.numpy().max()) + 1  # on the array: no op event before step 0
        self.model = model = build_model(spec, X.shape[1], classes)
        opt = make_optimizer(model, spec["optimizer"])
        loss_fn = getattr(F, spec["loss"])
        n = X.shape[0]
        bs = spec.get("batch_size") or n
        started = time.monotonic()
        if self.start_paused:
            self.gate.command("pause")
        for step in range(spec["steps"]):
            self.gate.checkpoint("step", step)
            lo = (step * bs) % n
            xb, yb = (X, y) if bs >= n else (X[lo:lo + bs], y[lo:lo + bs])
            self._train_step(model, opt, loss_fn, xb, yb, step)
            self._check_time(started, self.limits["max_job_seconds"])

    def _train_step(self, model, opt, loss_fn, xb, yb, step, advice=""):
        """One traced step (forward, loss, backward, update) with the gate's checkpoints;
        a non-finite loss is reported as an anomaly and stops the job."""
        import gradviz as gv
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        self.gate.checkpoint("backward_end", step)
        opt.step()
        value = float(loss.item())
        gv.trace.scalar("loss", value, step)
        if not math.isfinite(value):
            gv.trace.emit({"type": "anomaly", "node": None, "where": "forward",
                           "what": "nan" if value != value else "inf",
                           "message": f"the loss became {value} at step {step + 1}; "
                                      f"the job was stopped{advice}"})
            # steps are shown counted from 1 (step info, charts, scrubber): name it so too
            raise GradvizError(f"non-finite loss ({value}) at step {step + 1}")
        return value

    def _check_time(self, started, limit):
        """Stop the job once its running (not paused) time passes ``limit`` seconds."""
        active = time.monotonic() - started - self.gate.paused_seconds
        if active > limit:
            raise GradvizError(f"the job reached its wall-clock limit ({limit:g} s, "
                               "max_job_seconds)")

    def tensor(self, node, what="value"):
        """The full array of a node's value or gradient, when this job kept it."""
        arr = self.gate.value(node, what)
        if arr is None and self.model is not None:
            for p in self.model.parameters():
                if getattr(p, "_node", None) == node:
                    src = p.grad if what == "grad" else p
                    arr = None if src is None else src.detach().numpy()
                    break
        return arr


def load_dataset(ds):
    """``(X, y)`` tensors of a validated dataset spec (``gv.data`` toy sets)."""
    from gradviz import data
    fn = getattr(data, ds["name"], None)
    if fn is None:
        raise GradvizError(f"gv.data has no dataset {ds['name']!r}")
    kw = {"classes": ds["classes"]} if ds.get("classes") else {}
    X, y = fn(ds["n"], noise=ds["noise"], seed=ds.get("seed", 0), **kw)
    return X, y


def make_optimizer(model, spec):
    """An optimizer from ``{"type": "SGD", "lr": ..., ...}``."""
    from gradviz import optim
    kw = {k: v for k, v in spec.items() if k != "type"}
    return getattr(optim, spec["type"])(model.parameters(), **kw)
