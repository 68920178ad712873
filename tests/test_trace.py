"""The event stream (EVENTS.md): types, fields, JSON safety, ordering, src lines, the
no-listener fast path, custom ops and anomaly events."""
import json

import numpy as np
import pytest

import gradviz as gv
from gradviz.errors import AnomalyError
from gradviz.trace.core import Tracer

HERE = __file__


def _line_of(text):
    with open(HERE, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if text in line and "_line_of" not in line:
                return i
    raise AssertionError(text)


def _run_small_graph():
    w = gv.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    x = gv.tensor([1.0, 2.0])
    y = (w @ x * 3).tanh().sum()  # MARK-OP-LINE
    y.backward()
    return w, y


def test_event_types_fields_and_order():
    with gv.trace.record() as rec:
        _run_small_graph()
    ev = rec.events
    types = [e["type"] for e in ev]
    assert types[:2] == ["leaf", "leaf"] and "backward_begin" in types
    assert types[-1] == "backward_end" and "accum" in types
    seqs = [e["seq"] for e in ev]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for e in ev:
        assert e["v"] == 1 and e["session"] == "local" and isinstance(e["t"], int)
        json.dumps(e, allow_nan=False)
    leaves = [e for e in ev if e["type"] == "leaf"]
    assert leaves[0]["shape"] == [2, 2] and leaves[0]["requires_grad"] is True
    assert leaves[1]["requires_grad"] is False and leaves[0]["name"] is None
    for key in ("dtype", "device", "stats", "preview"):
        assert key in leaves[0]
    ops = [e for e in ev if e["type"] == "op"]
    assert [o["op"] for o in ops] == ["Matmul", "Mul", "Tanh", "Sum"]
    assert ops[0]["inputs"] == [leaves[0]["node"], leaves[1]["node"]]
    assert ops[1]["inputs"] == [ops[0]["node"]]
    line = _line_of("# MARK-OP-LINE")
    for o in ops:
        assert o["module"] is None
        assert o["src"] == f"{HERE}:{line}"
        assert set(o["stats"]) >= {"min", "max", "mean", "std", "norm", "nan", "inf", "zeros"}
    assert ops[1]["attrs"]["scalars"] == {"1": 3}  # x * 3 shows its constant
    assert ops[3]["attrs"] == {"dim": None, "keepdim": False}
    assert ops[2]["preview"]["values"] == pytest.approx(
        np.tanh(np.array([[0.5, -1.0], [2.0, 0.25]]) @ [1.0, 2.0] * 3).tolist(), rel=1e-6)
    begin = next(e for e in ev if e["type"] == "backward_begin")
    end = ev[-1]
    assert begin["root"] == ops[3]["node"] == end["root"] and begin["count"] == 4


def test_grad_events_carry_rule_and_contribs_in_engine_order():
    with gv.trace.record() as rec:
        w, _ = _run_small_graph()
    ev = rec.events
    ops = {e["node"]: e for e in ev if e["type"] == "op"}
    grads = [e for e in ev if e["type"] == "grad"]
    assert [ops[g["node"]]["op"] for g in grads] == ["Sum", "Tanh", "Mul", "Matmul"]
    tanh = grads[1]
    assert tanh["rule"] == gv.engine.ops.Tanh.rule == "dx = dy * (1 - tanh(x)^2)"
    assert tanh["grad"]["preview"]["values"] == [1.0, 1.0]
    mm = grads[3]
    leaf_w = next(e for e in ev if e["type"] == "leaf")["node"]
    assert [c["to"] for c in mm["contribs"]] == [leaf_w]  # x needs no grad: no contrib
    assert mm["contribs"][0]["stats"]["norm"] == pytest.approx(
        float(np.linalg.norm(w.grad.numpy())), rel=1e-5)
    accum = next(e for e in ev if e["type"] == "accum")
    assert accum["node"] == leaf_w
    assert np.allclose(accum["grad"]["preview"]["values"], w.grad.numpy(), rtol=1e-6)


def test_fan_in_contribs_reach_the_same_node():
    with gv.trace.record() as rec:
        a = gv.tensor([1.0, 2.0], requires_grad=True)
        (a * a).sum().backward()
    mul = next(e for e in rec.events if e["type"] == "grad" and e["op"] == "Mul")
    assert len(mul["contribs"]) == 2 and mul["contribs"][0]["to"] == mul["contribs"][1]["to"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on log(0); torch does not
def test_non_finite_values_become_strings():
    x = gv.tensor([0.0, 1.0, -1.0], requires_grad=True)
    with gv.trace.record() as rec:
        y = x.log() / x
        y.sum().backward()
    for e in rec.events:
        text = json.dumps(e, allow_nan=False)
        assert "NaN" not in text and "Infinity" not in text
    log = next(e for e in rec.events if e["type"] == "op" and e["op"] == "Log")
    assert log["stats"]["inf"] == 1 and log["stats"]["nan"] == 1
    assert log["preview"]["values"][0] == "-inf" and log["preview"]["values"][2] == "nan"


def test_big_tensors_get_histogram_previews():
    with gv.trace.record() as rec:
        gv.randn(40, 50, requires_grad=True).exp()
    op = next(e for e in rec.events if e["type"] == "op")
    assert "values" not in op["preview"] and sum(op["preview"]["hist"]["counts"]) == 2000
    thumb = op["preview"]["thumb8"]
    assert len(op["preview"]["hist"]["counts"]) == 32 and (thumb["rows"], thumb["cols"]) == (20, 25)


def test_subscribe_delivers_and_remove_stops():
    got = []
    h = gv.trace.subscribe(got.append, background=False)
    gv.ones(2, requires_grad=True).sum()
    gv.trace.flush()
    h.remove()
    n = len(got)
    assert [e["type"] for e in got] == ["leaf", "op"]
    gv.ones(2, requires_grad=True).sum()
    gv.trace.flush()
    assert len(got) == n


def test_no_listener_means_no_event_record(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the tracer was entered with nobody listening")
    for name in ("_push", "op", "grad", "accum", "leaf", "event"):
        monkeypatch.setattr(Tracer, name, boom)
    assert not gv.trace.HOOKS.listening and not gv.trace.HOOKS.on
    w = gv.randn(3, 3, requires_grad=True)
    loss = (w @ gv.randn(3)).tanh().softmax(0)[gv.tensor([0, 2])].sum() * 2
    loss.backward()
    gv.trace.emit({"type": "scalar", "name": "loss", "value": 1.0, "step": 0})
    assert w.grad is not None


def test_module_field_follows_the_module_stack():
    gv.trace.HOOKS.module_stack.append("fc1")
    try:
        with gv.trace.record() as rec:
            gv.ones(2, requires_grad=True) * 2
    finally:
        gv.trace.HOOKS.module_stack.pop()
    assert next(e for e in rec.events if e["type"] == "op")["module"] == "fc1"


def test_module_paths_through_lists_and_dicts_match_the_parameter_names():
    class Net(gv.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = gv.nn.ModuleList([gv.nn.Linear(2, 2), gv.nn.Sequential(gv.nn.Tanh())])
            self.heads = gv.nn.ModuleDict({"out": gv.nn.Linear(2, 1)})

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.heads["out"](x)
    net = Net()
    with gv.trace.record() as rec:
        net(gv.ones(1, 2))
    mods = [e["module"] for e in rec.events if e["type"] == "op"]
    assert mods == ["layers.0", "layers.1.0", "heads.out"]   # not "0", "1.0", "out"
    params = {e["name"] for e in rec.events if e["type"] == "leaf" and e.get("name")}
    assert {"layers.0.weight", "heads.out.weight"} <= params


class _UserNet(gv.nn.Module):
    """A user-defined module: its own ops are the user's lines, its layers' ops too."""

    def __init__(self):
        super().__init__()
        self.body = gv.nn.Sequential(gv.nn.Linear(3, 4), gv.nn.ReLU())
        self.head = gv.nn.Linear(4, 2)

    def forward(self, x):
        h = self.body(x)  # MARK-USER-BODY
        h = h * 2  # MARK-USER-MUL
        return self.head(h)  # MARK-USER-HEAD


def _apply_twice(layer, x):  # a helper in the user's code between two layers
    return layer(layer(x))  # MARK-USER-HELPER


def test_src_inside_modules_is_the_first_frame_outside_gradviz():
    net = _UserNet()
    seq = gv.nn.Sequential(gv.nn.Linear(3, 3), gv.nn.Tanh())
    inner = gv.nn.Linear(3, 3)
    hooked = gv.nn.Linear(3, 3)
    hooked.register_forward_hook(lambda m, a, out: inner(out) * 3)  # MARK-USER-HOOK
    x = gv.randn(2, 3)
    with gv.trace.record() as rec:
        for _ in range(2):  # the second pass reuses nothing stale from the first
            net(x)  # MARK-CALL-NET
            seq(x)  # MARK-CALL-SEQ
            _apply_twice(seq, x)
            hooked(x)  # MARK-CALL-HOOKED
            gv.nn.Sequential(_UserNet())(x)  # MARK-CALL-WRAPPED
    ops = [e for e in rec.events if e["type"] == "op"]
    got = [(o["op"], int(o["src"].rsplit(":", 1)[1])) for o in ops]
    assert all(o["src"].rsplit(":", 1)[0] == HERE for o in ops)
    body, mul, head = (_line_of(f"# MARK-USER-{k}") for k in ("BODY", "MUL", "HEAD"))
    user_net = [("Linear", body), ("Relu", body), ("Mul", mul), ("Linear", head)]
    helper = _line_of("# MARK-USER-HELPER")
    seq_line = _line_of("# MARK-CALL-SEQ")
    one = (user_net + [("Linear", seq_line), ("Tanh", seq_line)]
           + [("Linear", helper), ("Tanh", helper)] * 2
           + [("Linear", _line_of("# MARK-CALL-HOOKED")), ("Linear", _line_of("# MARK-USER-HOOK")),
              ("Mul", _line_of("# MARK-USER-HOOK"))]  # a user's frame below a known scope
           + user_net)
    assert got == one * 2


def test_src_of_ops_in_a_thread_is_the_user_s_line_never_the_thread_bootstrap():
    import threading
    from gradviz.engine.tensor_methods import mul   # gradviz's own frame as thread target
    x = gv.ones(2, requires_grad=True)

    def user_target():
        x * 2  # MARK-THREAD-USER
    with gv.trace.record() as rec:
        for target, args in ((user_target, ()), (mul, (x, 3))):
            t = threading.Thread(target=target, args=args)
            t.start()
            t.join()
    srcs = [e["src"] for e in rec.events if e["type"] == "op"]
    assert srcs == [f"{HERE}:{_line_of('# MARK-THREAD-USER')}", None]   # not threading.py


# ---- custom ops and anomalies ------------------------------------------------------------------
class Cube(gv.autograd.Function):
    """x^3 with a hand-written backward."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_matches_and_events_name_it():
    x = gv.tensor([1.0, -2.0], requires_grad=True)
    with gv.trace.record() as rec:
        y = Cube.apply(x, 2.0)
        y.sum().backward()
    assert y.tolist() == [2.0, -16.0] and x.grad.tolist() == [6.0, 24.0]
    assert y.grad_fn.name == "CubeBackward"
    assert [e["op"] for e in rec.events if e["type"] == "op"] == ["Cube", "Sum"]
    op = next(e for e in rec.events if e["type"] == "op")
    assert op["attrs"]["scalars"] == {"1": 2.0}
    grads = [e for e in rec.events if e["type"] == "grad"]
    assert [g["op"] for g in grads] == ["Sum", "Cube"] and "Cube" in grads[1]["rule"]
    assert gv.autograd.gradcheck(lambda t: Cube.apply(t, 2.0),
                                 gv.tensor([0.5, -1.5], dtype=gv.float64, requires_grad=True))


class BadCube(Cube):
    """A wrong backward that gradcheck must catch."""

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 2 * x * ctx.scale, None


def test_gradcheck_catches_a_wrong_backward():
    x = gv.tensor([0.5, -1.5], dtype=gv.float64, requires_grad=True)
    with pytest.raises(gv.autograd.GradcheckError, match="Jacobian mismatch"):
        gv.autograd.gradcheck(lambda t: BadCube.apply(t, 1.0), x)
    assert gv.autograd.gradcheck(lambda t: BadCube.apply(t, 1.0), x,
                                 raise_exception=False) is False
    a = gv.tensor([[0.3, -0.2], [1.1, 0.4]], dtype=gv.float64, requires_grad=True)
    b = gv.tensor([0.7, -0.9], dtype=gv.float64, requires_grad=True)
    assert gv.autograd.gradcheck(lambda p, q: ((p @ q).tanh(), p.softmax(0)), (a, b))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_forward_op_and_line():
    x = gv.tensor([0.0, 1.0], requires_grad=True)
    with gv.trace.record() as rec, gv.autograd.detect_anomaly():
        y = x.sqrt()  # MARK-ANOMALY
        with pytest.raises(AnomalyError) as info:
            (y * 0.5).sum().backward()
    line = _line_of("# MARK-ANOMALY")
    assert "Sqrt" in str(info.value) and f"{HERE}:{line}" in str(info.value)
    anomalies = [e for e in rec.events if e["type"] == "anomaly"]
    assert anomalies[-1]["where"] == "backward" and anomalies[-1]["what"] == "inf"
    assert "Sqrt" in anomalies[-1]["message"]
    assert not gv.trace.HOOKS.anomaly


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_reports_forward_nan():
    with gv.trace.record() as rec, gv.autograd.detect_anomaly():
        gv.tensor([-1.0], requires_grad=True).log()
    ev = next(e for e in rec.events if e["type"] == "anomaly")
    assert ev["where"] == "forward" and ev["what"] == "nan" and "Log" in ev["message"]


def _anomalies(rec):
    return [e for e in rec.events if e["type"] == "anomaly"]


def test_where_nan_and_inf_start_is_an_anomaly_without_detect_anomaly():
    """EVENTS.md: a NaN/Inf is an anomaly event. Only where it starts: an op of finite
    inputs, a backward node sending it from a finite incoming gradient, a leaf, an update;
    the ops that carry it on are not reported, and detect_anomaly's own report is not
    repeated."""
    with gv.trace.record() as rec:
        x = gv.tensor([1.0, -1.0, 2.0], requires_grad=True)
        y = x.log()  # MARK-ORIGIN
        ((y * 2).exp() + 1).sum().backward()
    (a,) = _anomalies(rec)
    ops = {e["node"]: e["op"] for e in rec.events if e["type"] == "op"}
    assert ops[a["node"]] == "Log" and a["where"] == "forward" and a["what"] == "nan"
    assert a["message"] == f"Log produced nan values (called at {HERE}:" \
        f"{_line_of('# MARK-ORIGIN')})"
    with gv.trace.record() as rec:
        w = gv.tensor([4.0, 0.0], requires_grad=True)
        w.sqrt().sum().backward()         # d sqrt(w) at 0: inf from a finite gradient
    (a,) = _anomalies(rec)
    grads = {e["node"]: e["op"] for e in rec.events if e["type"] == "grad"}
    assert grads[a["node"]] == "Sqrt" and a["where"] == "backward" and a["what"] == "inf"
    with gv.trace.record() as rec:
        gv.tensor([np.nan, 1.0]) * 2      # the input holds it: the leaf is where it starts
    (a,) = _anomalies(rec)
    assert a["where"] == "forward" and a["message"].startswith("input ")
    assert [e["type"] for e in rec.events] == ["leaf", "anomaly", "op"]


def test_an_update_that_makes_a_parameter_nan_is_where_it_starts():
    w = gv.nn.Parameter(gv.tensor([1.0, 2.0]))
    w._name = "w"
    opt = gv.optim.SGD([w], lr=1e308)
    with gv.trace.record() as rec:
        for _ in range(2):
            opt.zero_grad()
            (w * w * 1e10).sum().backward()
            opt.step()                    # inf - inf: the parameter becomes NaN
        (w * 3).sum()
    (a,) = _anomalies(rec)
    assert a["where"] == "update" and a["node"] == gv.trace.tensor_node(w)
    assert "SGD update put" in a["message"] and "w" in a["message"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_and_the_drain_report_a_node_once():
    with gv.trace.record() as rec, gv.autograd.detect_anomaly():
        gv.tensor([-1.0], requires_grad=True).log()
    assert len(_anomalies(rec)) == 1


def test_each_step_announces_parameters_again_with_their_new_values():
    w = gv.tensor([1.0, 2.0], requires_grad=True)
    with gv.trace.record() as rec:
        for _ in range(2):
            loss = (w * w).sum()
            loss.backward()
            with gv.no_grad():
                w -= 0.25 * w.grad
            w.grad = None
    leaves = [e for e in rec.events if e["type"] == "leaf" and e["node"] == w._node]
    assert len(leaves) == 2
    assert leaves[0]["preview"]["values"] == [1.0, 2.0]
    assert leaves[1]["preview"]["values"] == [0.5, 1.0]


def test_optimizer_step_keeps_pending_values_without_summarising_on_the_computing_thread(
        monkeypatch):
    from gradviz.trace.core import TRACER
    w = gv.nn.Parameter(gv.tensor([1.0, -2.0]))
    opt = gv.optim.SGD([w], lr=0.5)
    drains = []
    with gv.trace.record() as rec:
        real_drain = TRACER.drain
        monkeypatch.setattr(TRACER, "drain", lambda: drains.append(1))
        for _ in range(2):
            opt.zero_grad(set_to_none=False) if w.grad is not None else None
            (w * w).sum().backward()
            opt.step()
        assert drains == []               # nothing was summarised during training
        monkeypatch.setattr(TRACER, "drain", real_drain)
        events = rec.events
    leaves = [e["preview"]["values"] for e in events if e["type"] == "leaf" and e["node"] == w._node]
    assert leaves == [[1.0, -2.0], [0.0, 0.0]]   # w after one step: w - 0.5 * 2w
    accums = [e["grad"]["preview"]["values"] for e in events if e["type"] == "accum"]
    assert accums == [[2.0, -4.0], [0.0, 0.0]]   # the grads as they were, not as zeroed later
