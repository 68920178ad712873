"""gv.debug.break_on: programmatic breakpoints in a plain script."""
import pytest

import gradviz as gv


@pytest.fixture(autouse=True)
def _clean():
    yield
    gv.debug.clear()
    assert gv.trace.HOOKS.gate is None


def test_break_on_nan_names_the_op_that_produced_it():
    gv.debug.break_on(when="nan")
    x = gv.tensor([1.0, -1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(gv.debug.BreakpointHit) as hit:
        y.log()
    assert hit.value.info["op"] == "Log" and hit.value.info["phase"] == "forward"
    assert "Log" in str(hit.value)


def test_break_on_op_in_backward_only_and_remove():
    calls = []
    bp = gv.debug.break_on(op="Tanh", phase="backward", action=calls.append)
    x = gv.tensor([0.5, 2.0], requires_grad=True)
    x.tanh().sum().backward()           # forward passes; backward of Tanh calls the handler
    assert [c["op"] for c in calls] == ["Tanh"]
    assert calls[0]["tensor"].tolist() == [1.0, 1.0]   # the incoming gradient
    bp.remove()
    x.tanh().sum().backward()
    assert len(calls) == 1


def test_callable_condition_and_bad_arguments():
    gv.debug.break_on(op="Mul", when=lambda t: t.abs().max().item() > 10)
    a = gv.tensor([1.0, 2.0])
    assert (a * 3).tolist() == [3.0, 6.0]
    with pytest.raises(gv.debug.BreakpointHit):
        a * 30
    with pytest.raises(gv.GradvizError):
        gv.debug.break_on()
    with pytest.raises(gv.GradvizError):
        gv.debug.break_on(op="Mul", when="sometimes")


def test_breakpoint_event_when_recording():
    gv.debug.break_on(op="Exp", action=lambda info: None)
    with gv.trace.record() as rec:
        gv.tensor([1.0]).exp()
    assert any(e["type"] == "paused" and e["node"] is not None for e in rec.events)


def test_break_on_names_the_user_line_and_works_as_a_context_manager():
    import inspect
    x = gv.tensor([1.0, -2.0], requires_grad=True)
    with gv.debug.break_on("Log") as bp:
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(gv.debug.BreakpointHit) as hit:
            gv.log(x)
        bp.remove()   # removing inside the block, then leaving it, is fine
    src = f"{__file__}:{line}"
    assert f"(called at {src})" in str(hit.value) and hit.value.info["src"] == src
    assert not bp.gate.breakpoints
    gv.log(x)   # the block is over: no breakpoint left to raise


def test_a_backward_nan_hit_names_the_line_of_its_forward_while_recording():
    """A backward hit had no source line; while the tracer records (gv.trace.record, an
    attached script, the server) it now names where the node's forward was called."""
    import inspect
    x = gv.tensor([0.0, 1.0], requires_grad=True)
    hits = []
    with gv.debug.break_on(when="nan", phase="backward", action=hits.append):
        with gv.trace.record():
            line = inspect.currentframe().f_lineno + 1
            r = x.sqrt()   # finite; its backward sends 0 * inf = NaN to x
            (r * 0).sum().backward()
    src = f"{__file__}:{line}"
    assert [h["op"] for h in hits] == ["Sqrt"] and hits[0]["src"] == src
