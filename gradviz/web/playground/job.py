"""The playground's training job: epochs of shuffled mini-batches, traced into a session.

Besides the engine's events it emits ``scalar`` events (``loss`` every step,
``train_accuracy`` / ``test_accuracy`` when it evaluates) and three event types
of its own (EVENTS.md allows more):
``pg_data`` (once: the dataset's points or sample images, shapes, parameter count),
``boundary`` (2-D sets: the predicted class and confidence on a coarse grid) and
``feature_maps`` (image sets: each conv/pool output for one chosen test sample).
Evaluation runs untraced, so it never shows up in the graph or stops at the gate.
"""
import base64
import io
import threading
import time
from contextlib import contextmanager

import numpy as np

from ...errors import GradvizError
from ..runner import Job, make_optimizer
from .build import build_model, load_arrays, loss_function
from .spec import TOY, limit_of

LEGACY = {"dataset": {"name": "spiral", "n": 8}, "layers": [{"type": "Linear", "out_features": 2}],
          "steps": 1}
MAX_POINTS = 1500
MAX_MAPS = 12


@contextmanager
def untraced():
    """Run engine code without events or gate stops (this job owns the tracer)."""
    from ...trace import HOOKS
    prev = HOOKS.on
    HOOKS.on = False
    try:
        yield
    finally:
        HOOKS.on = prev
        HOOKS.refresh()


def _r(a, nd=3):
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def _thumb(a, size=32):
    """A 2-D array downsampled (by striding) to at most ``size`` × ``size``."""
    sy, sx = max(1, -(-a.shape[0] // size)), max(1, -(-a.shape[1] // size))
    return a[::sy, ::sx]


class PlaygroundJob(Job):
    """A ``runner.Job`` whose loop follows a clean playground spec (``spec.validate``)."""

    def __init__(self, manager, session, clean, limits, paused=True, on_status=None):
        super().__init__(manager, session, LEGACY, limits, paused=paused, on_status=on_status)
        self.spec = clean
        self.step_target = None      # pause before this training step (the "step" button)
        self.fm_sample = 0
        self.fm_request = False
        self.lock = threading.Lock()  # untraced views from several threads, one at a time
        self.data = None
        if paused:   # paused from the start, so a "step" sent during set-up is not lost
            self.gate.command("pause")

    # ---- controls from the server's threads -----------------------------------------------
    def step_training(self):
        """Run until the start of the next training step, then pause."""
        self.step_target = (self.gate.step or 0) + 1
        return self.gate.command("run")

    def request_feature_maps(self, sample):
        """Feature maps for test sample ``sample``: now if paused, else at the next step."""
        if self.data is None or self.model is None:
            raise GradvizError("the model is not built yet")
        n = len(self.data[3])
        if not 0 <= sample < n:
            raise GradvizError(f"sample must be between 0 and {n - 1}")
        self.fm_sample = sample
        if self.gate.paused is not None or not self.alive():
            self._feature_maps(self.gate.step or 0)
        else:
            self.fm_request = True

    def weights(self):
        """The model's ``state_dict`` written by ``gv.save``, base64-encoded."""
        import gradviz as gv
        if self.model is None:
            raise GradvizError("the model is not built yet")
        buf = io.BytesIO()
        with self.lock:
            gv.save(self.model.state_dict(), buf)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    # ---- the loop -------------------------------------------------------------------------
    def _train(self):
        import gradviz as gv
        spec = self.spec
        gv.manual_seed(spec["seed"])
        self.data = Xtr, ytr, Xte, yte = load_arrays(spec["dataset"])
        self.model = model = build_model(spec)
        opt = make_optimizer(model, spec["optimizer"])
        loss_fn = loss_function(spec["loss"])
        self._emit_data()
        is2d = spec["dataset"]["name"] in TOY
        images = any(len(s) >= 2 for s in spec["shapes"][1:]) and not is2d
        if is2d:
            self._boundary(0)
        if images:
            self._feature_maps(0)
        n, bs = len(ytr), spec["batch_size"]
        rng = np.random.default_rng(spec["seed"])
        started = time.monotonic()
        step = 0
        for epoch in range(spec["epochs"]):
            perm = rng.permutation(n)
            for lo in range(0, n, bs):
                if step >= spec["steps"]:
                    break
                if self.step_target is not None and step >= self.step_target:
                    self.step_target = None
                    self.gate.command("pause")
                self.gate.checkpoint("step", step)
                idx = perm[lo:lo + bs]
                xb, yb = gv.tensor(Xtr[idx]), gv.tensor(ytr[idx])
                model.train()
                self._train_step(model, opt, loss_fn, xb, yb, step, " (try a smaller lr)")
                step += 1
                last = step >= spec["steps"] or lo + bs >= n
                if last or (spec["eval_every"] and step % spec["eval_every"] == 0):
                    self._evaluate(step)
                if is2d and (last or step % spec["boundary_every"] == 0):
                    self._boundary(step)
                if images and (self.fm_request or (lo + bs >= n)):
                    self.fm_request = False
                    self._feature_maps(step)
                self._check_time(started, spec["max_seconds"])
            if step >= spec["steps"]:
                break

    # ---- untraced views ---------------------------------------------------------------------
    def _predict(self, X):
        import gradviz as gv
        outs = []
        with self.lock, untraced(), gv.no_grad():
            was = self.model.training
            self.model.eval()
            try:
                for i in range(0, len(X), 1024):
                    outs.append(self.model(gv.tensor(X[i:i + 1024])).numpy())
            finally:
                self.model.train(was)
        return np.concatenate(outs) if outs else np.zeros((0, self.spec["classes"]))

    def _evaluate(self, step):
        import gradviz as gv
        Xtr, ytr, Xte, yte = self.data
        test = float((self._predict(Xte).argmax(1) == yte).mean())
        sub = slice(0, min(len(ytr), 2000))
        train = float((self._predict(Xtr[sub]).argmax(1) == ytr[sub]).mean())
        gv.trace.scalar("test_accuracy", test, step)
        gv.trace.scalar("train_accuracy", train, step)

    def _emit_data(self):
        import gradviz as gv
        Xtr, ytr, Xte, yte = self.data
        spec = self.spec
        ev = {"type": "pg_data", "dataset": spec["dataset"]["name"], "classes": spec["classes"],
              "shapes": spec["shapes"], "params": spec["params"], "layers": spec["layers"],
              "n_train": len(ytr), "n_test": len(yte), "steps": spec["steps"],
              "epochs": spec["epochs"], "title": spec["title"]}
        if spec["dataset"]["name"] in TOY:
            ev["kind"] = "2d"
            ev["train"] = [[*_r(x, 3), int(c)] for x, c in zip(Xtr[:MAX_POINTS], ytr[:MAX_POINTS])]
            ev["test"] = [[*_r(x, 3), int(c)] for x, c in zip(Xte[:MAX_POINTS // 3],
                                                              yte[:MAX_POINTS // 3])]
        else:
            ev["kind"] = "image"
            ev["samples"] = [{"index": i, "label": int(yte[i]), "image": _r(self._img(Xte[i]), 2)}
                             for i in range(min(12, len(yte)))]
        gv.trace.emit(ev)

    @staticmethod
    def _img(x):
        x = np.asarray(x)
        return _thumb(x.mean(0) if x.ndim == 3 else x)

    def _boundary(self, step):
        import gradviz as gv
        X = self.data[0]
        g = limit_of(self.limits, "max_boundary_grid")
        g = min(g, 40)
        lo, hi = X.min(0) - 0.3, X.max(0) + 0.3
        xs, ys = np.linspace(lo[0], hi[0], g), np.linspace(lo[1], hi[1], g)
        grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2).astype(np.float32)
        out = self._predict(grid)
        e = np.exp(out - out.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        gv.trace.emit({"type": "boundary", "step": step, "x": _r([lo[0], hi[0]]),
                       "y": _r([lo[1], hi[1]]), "nx": g, "ny": g,
                       "cls": p.argmax(1).astype(int).tolist(), "conf": _r(p.max(1), 2)})

    def _feature_maps(self, step):
        import gradviz as gv
        Xte, yte = self.data[2], self.data[3]
        i = self.fm_sample
        layers = []
        with self.lock, untraced(), gv.no_grad():
            was = self.model.training
            self.model.eval()
            try:
                outs = {}   # one call of the whole model (so parameters keep dotted names)
                hooks = [m.register_forward_hook(
                    lambda mod, inp, out, li=li: outs.__setitem__(li, out.numpy()[0]))
                    for li, m in enumerate(self.model)]
                try:
                    h = self.model(gv.tensor(Xte[i:i + 1]))
                finally:
                    for hk in hooks:
                        hk.remove()
                for li in range(len(self.spec["layers"])):
                    a = outs[li]
                    if a.ndim >= 2 and self.spec["layers"][li]["type"] not in ("Dropout",):
                        maps = [_r(_thumb(c if c.ndim == 2 else c[None, :]), 3)
                                for c in a[:MAX_MAPS]]
                        layers.append({"index": li, "type": self.spec["layers"][li]["type"],
                                       "shape": list(a.shape), "maps": maps,
                                       "min": float(a.min()), "max": float(a.max())})
                pred = int(h.numpy()[0].argmax())
            finally:
                self.model.train(was)
        ev = {"type": "feature_maps", "step": step, "sample": i, "label": int(yte[i]),
              "pred": pred, "input": _r(self._img(Xte[i]), 3), "layers": layers}
        if self.alive():
            gv.trace.emit(ev)
        else:
            # the loop has ended and its recorder with it (emit would drop the event, or hand
            # it to another job's session): store it in this session directly
            from ...trace.core import SCHEMA_VERSION
            self.manager.ingest_local(self.session, [dict(ev, v=SCHEMA_VERSION)])
