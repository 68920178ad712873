"""Debugger fixes (QA area `debugger`): break_on with gv.attach, re-entrant conditions,
NaN/Inf sent into leaves, torch-style op names, NaN breakpoints at the origin only."""
import threading

import numpy as np
import pytest

import gradviz as gv
import gradviz.nn.functional as F
from gradviz.trace import HOOKS
from gradviz.trace.gate import StepGate, install_gate, uninstall_gate
from test_server_util import TOKEN, served


@pytest.fixture(autouse=True)
def _clean():
    yield
    gv.debug.clear()
    assert HOOKS.gate is None


def make_gate(**kw):
    events = []
    return StepGate(emit=events.append, flush=lambda: None, **kw), events


# ---- 1: break_on before gv.attach ---------------------------------------------------------
def test_break_on_set_before_attach_survives_attach_and_close(tmp_path):
    bp = gv.debug.break_on(op="Log", when="nan")
    local = HOOKS.gate
    with served(tmp_path / "s.sqlite") as srv:
        att = gv.attach(srv.base, token=TOKEN, session="bp-first")
        try:
            assert HOOKS.gate is local and local.inner is att.gate   # both gates run
        finally:
            att.close()
    assert HOOKS.gate is local and local.inner is None   # the breakpoint stays, alone
    with pytest.raises(gv.debug.BreakpointHit):
        gv.tensor([-1.0]).log()
    bp.remove()
    assert HOOKS.gate is None


def test_gates_compose_in_either_order_and_close_restores_the_other():
    step, _ = make_gate()
    install_gate(step)                      # attach first, then break_on
    gv.debug.break_on(op="Exp")
    assert HOOKS.gate.inner is step
    uninstall_gate(step)
    assert HOOKS.gate.inner is None and HOOKS.gate.breakpoints
    gv.debug.clear()
    gv.debug.break_on(op="Exp")             # break_on first, then attach
    install_gate(step)
    assert HOOKS.gate.inner is step
    gv.debug.clear()
    assert HOOKS.gate is step               # the attached gate stays when breakpoints go
    uninstall_gate(step)


# ---- 2: a callable condition made of tensor ops ----------------------------------------------
def test_callable_condition_with_tensor_ops_does_not_recurse():
    gv.debug.break_on(when=lambda t: bool((t.abs() > 5).any()))
    a = gv.tensor([1.0, 2.0])
    assert (a * 2).tolist() == [2.0, 4.0]
    with pytest.raises(gv.debug.BreakpointHit) as hit:
        a * 10
    assert hit.value.info["op"] == "Mul"


def test_callable_action_with_tensor_ops_is_not_checked_itself():
    seen = []
    gv.debug.break_on(op="Exp", action=lambda info: seen.append((info["tensor"].exp() * 1)
                                                                 .tolist()))
    gv.tensor([0.0]).exp()
    assert len(seen) == 1   # the action's own Exp did not hit the breakpoint again


# ---- 3: NaN/Inf a backward node sends into a leaf --------------------------------------------
def test_step_gate_stops_where_a_backward_node_sends_inf_to_a_leaf():
    gate, events = make_gate()
    gate.add_breakpoint({"when": "nonfinite"})

    def run():
        gate.after_forward(1, "Sqrt", np.array([0.0, 1.0]))
        gate.after_forward(2, "Sum", np.array(1.0))
        gate.before_backward(2, "Sum", np.array(1.0))
        gate.after_backward(2, "Sum", (np.ones(2),))
        gate.before_backward(1, "Sqrt", np.ones(2))
        gate.after_backward(1, "Sqrt", (np.array([np.inf, 0.5]),))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    p = gate.wait_paused(5)
    assert p is not None and p["at"] == "after_backward" and p["node"] == 1
    assert [e for e in events if e["type"] == "anomaly"][0]["node"] == 1
    gate.command("run")
    t.join(5)
    assert not t.is_alive()


def test_break_on_inf_fires_for_a_gradient_sent_to_a_leaf():
    gv.debug.break_on(when="inf", phase="backward")
    with pytest.raises(gv.debug.BreakpointHit) as hit:
        HOOKS.gate.before_backward(7, "Sqrt", np.ones(2))
        HOOKS.gate.after_backward(7, "Sqrt", (np.array([np.inf, 0.5]),))
    assert hit.value.info["op"] == "Sqrt" and hit.value.info["sent"]


def test_break_on_inf_end_to_end_into_x_grad():
    gv.debug.break_on(when="nonfinite", phase="backward")
    x = gv.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(gv.debug.BreakpointHit) as hit:
        x.sqrt().sum().backward()
    assert hit.value.info["op"] == "Sqrt"


# ---- 4: torch-style op names -----------------------------------------------------------------
@pytest.mark.parametrize("name, expect", [("Conv2d", "Conv"), ("conv2d", "Conv"),
                                          ("ReLU", "Relu"), ("MaxPool2d", "MaxPool"),
                                          ("max_pool2d", "MaxPool")])
def test_break_on_torch_style_op_names(name, expect):
    hits = []
    gv.debug.break_on(op=name, action=hits.append)
    x = gv.randn(1, 1, 6, 6)
    w = gv.randn(2, 1, 3, 3)
    F.max_pool2d(F.relu(F.conv2d(x, w)), 2)
    assert [h["op"] for h in hits] == [expect]


def test_break_on_unknown_op_name_lists_close_matches():
    with pytest.raises(gv.GradvizError, match="Conv"):
        gv.debug.break_on(op="Convv2d")
    assert HOOKS.gate is None


def test_step_gate_op_breakpoint_with_torch_style_name():
    gate, _ = make_gate()
    gate.add_breakpoint({"op": "ReLU"})
    t = threading.Thread(target=lambda: (gate.after_forward(1, "Conv", np.ones(2)),
                                         gate.after_forward(2, "Relu", np.ones(2))), daemon=True)
    t.start()
    p = gate.wait_paused(5)
    assert p is not None and p["node"] == 2
    gate.command("run")
    t.join(5)


# ---- 11: NaN anywhere stops where NaN starts, not downstream ------------------------------
def test_nan_breakpoint_fires_only_at_the_origin_when_recording():
    hits = []
    gv.debug.break_on(when="nan", action=hits.append)
    with gv.trace.record():
        x = gv.tensor([-1.0, 2.0])
        y = x.log()
        z = (y * 2 + 1).exp()
        w = gv.tensor([0.0]) / gv.tensor([0.0])   # a second, independent origin
    assert [h["op"] for h in hits] == ["Log", "Div"]
    assert np.isnan(z.numpy()[0]) and np.isnan(w.numpy()[0])


def test_step_gate_nan_anywhere_pauses_once_per_origin():
    gate, _ = make_gate()
    gate.add_breakpoint({"when": "nonfinite"})
    done = []

    def run():
        with gv.trace.record(), np.errstate(all="ignore"):   # NumPy's state is per thread
            y = gv.tensor([-1.0]).log()
            (y * 2 + 1).exp()
        done.append(True)

    install_gate(gate)
    try:
        t = threading.Thread(target=run, daemon=True)
        t.start()
        p = gate.wait_paused(5)
        assert p is not None
        gate.command("run")
        t.join(5)
        assert done and gate.pause_count == 1
    finally:
        uninstall_gate(gate)


# ---- 9: a wrong token is not "cannot reach the server" ------------------------------------
def test_wrong_token_says_the_server_refused_it(tmp_path, capsys):
    with served(tmp_path / "s.sqlite") as srv:
        att = gv.attach(srv.base, token="wrong", session="bad-token")
        err = capsys.readouterr().err
    assert not att.active
    assert "refused the token" in err and "cannot reach" not in err
