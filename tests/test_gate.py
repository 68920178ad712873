"""Step gate semantics (UI.md) driven from a plain thread, without the engine."""
import threading

import numpy as np
import pytest

from gradviz.errors import GradvizError
from gradviz.trace.gate import JobStopped, StepGate, make_breakpoint

FWD = [(1, "MatMul"), (2, "Add"), (3, "Tanh"), (4, "MatMul"), (5, "CrossEntropy")]


class FakeLoop:
    """A training loop shaped like the engine's calls: forward ops then backward nodes."""

    def __init__(self, gate, steps=2, values=None):
        self.gate, self.steps = gate, steps
        self.values = values or {}
        self.log = []
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            for step in range(self.steps):
                self.gate.checkpoint("step", step)
                for node, op in FWD:
                    self.log.append(("f", node))
                    self.gate.after_forward(node, op, self.values.get(("f", node), np.ones(3)))
                for node, op in reversed(FWD):
                    self.gate.before_backward(node, op, self.values.get(("b", node), np.ones(3)))
                    self.log.append(("b", node))
                self.gate.checkpoint("backward_end", step)
        except JobStopped:
            self.log.append("stopped")
        except Exception as e:  # pragma: no cover - surfaced by the test
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.gate.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()
        assert self.error is None


def make_gate(paused=True, **kw):
    events = []
    gate = StepGate(paused=paused, emit=events.append, flush=lambda: None, **kw)
    return gate, events


def paused_after(gate, action):
    n = gate.pause_count
    gate.command(action)
    p = gate.wait_paused(5, after=n)
    assert p is not None, "never paused"
    return p


def test_paused_before_first_step_then_step_forward_one_op_at_a_time():
    gate, events = make_gate()
    with FakeLoop(gate) as loop:
        p = gate.wait_paused(5)
        assert p["at"] == "step" and p["step"] == 0
        assert loop.log == []
        for k in range(1, 4):
            p = paused_after(gate, "step_forward")
            assert p["at"] == "after_forward" and p["node"] == k and p["phase"] == "forward"
            assert loop.log == [("f", n) for n in range(1, k + 1)]
    types = [e["type"] for e in events]
    assert types.count("paused") == 4 and types.count("resumed") == 3


def test_step_backward_finishes_forward_then_one_node_per_click():
    gate, _ = make_gate()
    with FakeLoop(gate) as loop:
        gate.wait_paused(5)
        p = paused_after(gate, "step_forward")
        assert p["node"] == 1
        p = paused_after(gate, "step_backward")
        # forward finished, exactly one backward node (the loss) ran
        assert [x for x in loop.log if x[0] == "f"] == [("f", n) for n in range(1, 6)]
        assert [x for x in loop.log if x[0] == "b"] == [("b", 5)]
        assert p["at"] == "before_backward" and p["node"] == 5 and p["next"] == 4
        assert p["phase"] == "backward"
        for k, expect in enumerate([4, 3, 2, 1], start=2):
            p = paused_after(gate, "step_backward")
            assert len([x for x in loop.log if x[0] == "b"]) == k
            assert p["node"] == expect
        assert p["at"] == "backward_end"


def test_continue_runs_to_end_of_current_pass():
    gate, _ = make_gate()
    with FakeLoop(gate) as loop:
        gate.wait_paused(5)
        p = paused_after(gate, "continue")
        assert p["at"] == "before_backward" and p["phase"] == "forward" and p["node"] == 5
        assert len(loop.log) == 5
        p = paused_after(gate, "continue")
        assert p["at"] == "backward_end"
        assert len(loop.log) == 10
        p = paused_after(gate, "continue")   # next step's forward
        assert p["at"] == "before_backward" and p["step"] == 1
        assert len(loop.log) == 15


def test_run_then_pause_and_run_to_completion():
    gate, events = make_gate(paused=False)
    with FakeLoop(gate, steps=3) as loop:
        loop.thread.join(10)
        assert len(loop.log) == 30
    assert not [e for e in events if e["type"] == "paused"]


def test_pause_while_running_stops_at_next_point():
    gate, _ = make_gate(paused=False)
    release = threading.Event()
    orig = gate.after_forward

    def slow_after_forward(node, op, out):
        if node == 2:
            release.wait(5)
        orig(node, op, out)

    gate.after_forward = slow_after_forward
    with FakeLoop(gate) as loop:
        gate.command("pause")
        release.set()
        p = gate.wait_paused(5)
        assert p["node"] == 2
        assert loop.log[-1] == ("f", 2)


def test_breakpoint_on_op_and_node():
    gate, _ = make_gate(paused=False)
    gate.add_breakpoint({"op": "Tanh", "phase": "forward"})
    with FakeLoop(gate):
        p = gate.wait_paused(5)
        assert p["node"] == 3 and p["reason"] == "breakpoint"
    gate, _ = make_gate(paused=False)
    gate.add_breakpoint({"node": 4, "phase": "backward"})
    with FakeLoop(gate) as loop:
        p = gate.wait_paused(5)
        assert p["at"] == "before_backward" and p["next"] == 4
        assert loop.log[-1] == ("b", 5)


def test_nan_breakpoint_emits_anomaly_pointing_at_node():
    values = {("f", 3): np.array([1.0, np.nan])}
    gate, events = make_gate(paused=False)
    gate.add_breakpoint({"when": "nonfinite"})
    with FakeLoop(gate, values=values):
        p = gate.wait_paused(5)
        assert p["node"] == 3
    anomalies = [e for e in events if e["type"] == "anomaly"]
    assert anomalies and anomalies[0]["node"] == 3 and anomalies[0]["what"] == "nan"
    assert anomalies[0]["where"] == "forward"


def test_grad_norm_breakpoint():
    values = {("b", 2): np.full(4, 10.0)}
    gate, events = make_gate(paused=False)
    gate.add_breakpoint({"when": "grad_norm", "threshold": 5.0})
    with FakeLoop(gate, values=values):
        p = gate.wait_paused(5)
        assert p["next"] == 2
    a = [e for e in events if e["type"] == "anomaly"][0]
    assert a["what"] == "grad_norm" and a["node"] == 2 and a["where"] == "backward"


def test_remove_breakpoint_and_bad_specs():
    gate, _ = make_gate(paused=False)
    i = gate.add_breakpoint({"op": "Add"})
    gate.remove_breakpoint(i)
    assert gate.breakpoints == {}
    for bad in [None, {}, {"node": "x"}, {"when": "sometimes"}, {"when": "grad_norm"},
                {"op": 3}, {"phase": "sideways", "op": "Add"}, [1]]:
        with pytest.raises(GradvizError):
            make_breakpoint(bad)
    with pytest.raises(GradvizError):
        gate.command("explode")


def test_stop_unblocks_paused_thread():
    gate, _ = make_gate()
    loop = FakeLoop(gate)
    loop.thread.start()
    gate.wait_paused(5)
    gate.stop()
    loop.thread.join(5)
    assert loop.log == ["stopped"]


def test_keep_values_bounded():
    gate, _ = make_gate(paused=False, keep_values=100)
    for node in range(10):
        gate.after_forward(node, "Add", np.zeros(4))   # 32 bytes each
    assert gate.value(9) is not None and gate.value(0) is None
    assert gate._value_bytes <= 100


@pytest.mark.parametrize("action, ran", [("step_forward", [("f", 1), ("f", 2)]),
                                        ("step_backward", [("b", 5), ("b", 4)])])
def test_a_second_step_given_while_the_first_is_stopping_is_not_lost(action, ran):
    """Two quick clicks of "step" step twice: the second command, arriving after the
    computing thread decided to stop for the first but before it paused (it was flushing
    events), used to be swallowed by that pause."""
    deciding, go = threading.Event(), threading.Event()
    armed = [False]

    def flush():   # the slow flush before a pause, where the second click lands
        if armed[0]:
            armed[0] = False
            deciding.set()
            go.wait(5)

    events = []
    gate = StepGate(paused=True, emit=events.append, flush=flush)
    with FakeLoop(gate, steps=1) as loop:
        assert gate.wait_paused(5) is not None           # before the step
        if action == "step_backward":
            paused_after(gate, "continue")               # to the end of the forward pass
        n = gate.pause_count
        armed[0] = True
        gate.command(action)
        assert deciding.wait(5)
        gate.command(action)                             # the second click
        go.set()
        p = gate.wait_paused(5, after=n)
        assert p is not None and gate.pause_count == n + 1   # one pause for two clicks
        assert [e for e in loop.log if e[0] == ran[0][0]] == ran
