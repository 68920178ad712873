"""The "debug my own script" path: a real script subprocess calling
``gv.attach(url, token=..., paused=True)`` and a viewer on a real ``gradviz serve``.

Continue from inside backward stops at the end of backward (UI.md: "run to the end of the
current pass"), as the playground does; a NaN breakpoint's message names the user's line;
SIGTERM is recorded as exit "terminated"."""
import signal
import subprocess
import sys
import textwrap

import requests

from test_server_util import ROOT, TOKEN, served, socket_client, stop_process, wait_for

AUTH = {"Authorization": f"token {TOKEN}"}


def _events(srv, sid):
    """Every stored event of session ``sid`` (none while the session does not exist)."""
    out, after = [], 0
    while True:
        r = requests.get(f"{srv.base}/api/sessions/{sid}/events",
                         params={"after": after, "limit": 1000}, headers=AUTH, timeout=10)
        if r.status_code == 404:
            return out
        page = r.json()
        out += page["events"]
        if not page["events"]:
            return out
        after = page["next"]


def _row(srv, sid):
    rows = requests.get(f"{srv.base}/api/sessions", headers=AUTH, timeout=10).json()
    return next((r for r in rows if r["id"] == sid), None)


def _script(srv, sid, body, paused=True):
    head = f"""
        import gradviz as gv
        from gradviz import nn
        gv.manual_seed(0)
        gv.attach({srv.base!r}, token={TOKEN!r}, session={sid!r}, paused={paused!r})
    """
    return textwrap.dedent(head) + textwrap.dedent(body)


TRAIN = """
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    opt = gv.optim.SGD(model.parameters(), lr=0.1)
    x = gv.randn(5, 3)
    y = gv.tensor([0, 1, 0, 1, 1])
    for step in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        print("step", step, flush=True)
"""


def _start(code):
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _pauses(srv, sid):
    return [e for e in _events(srv, sid) if e["type"] == "paused"]


def _command(viewer, sid, action, srv, n_before):
    """Send ``action`` and return the next ``paused`` event (the ``n_before``+1-th)."""
    r = viewer.call("command", {"session": sid, "action": action}, timeout=10)
    assert r["ok"], r
    return wait_for(lambda: (lambda p: p[n_before] if len(p) > n_before else None)(
        _pauses(srv, sid)), timeout=30)


def test_continue_during_backward_stops_at_the_end_of_backward(tmp_path):
    """Continue pressed while paused inside backward ran on through opt.step() and paused
    after the next step's first forward op; it stops at the end of backward (at
    ``backward_end``, before the update), as in the playground."""
    with served(tmp_path / "s.sqlite") as srv:
        p = _start(_script(srv, "cont", TRAIN))
        try:
            first = wait_for(lambda: _pauses(srv, "cont"), timeout=60)[0]
            assert first["at"] == "after_forward"
            with socket_client(srv.base) as viewer:
                viewer.call("join", {"session": "cont", "after": 0}, timeout=10)
                bw = _command(viewer, "cont", "step_backward", srv, 1)
                assert bw["at"] == "before_backward" and bw["phase"] == "backward"
                end = _command(viewer, "cont", "continue", srv, 2)
                evs = _events(srv, "cont")
                kinds = [e["type"] for e in evs]
                assert end["at"] == "backward_end", end        # was after_forward (step 2)
                assert "backward_end" in kinds
                assert "param_update" not in kinds             # opt.step() has not run
                assert kinds.count("backward_begin") == 1
                # Continue again: the next pass is the next step's forward, to its end
                nxt = _command(viewer, "cont", "continue", srv, 3)
                assert nxt["at"] == "before_backward" and nxt["phase"] == "forward"
                kinds = [e["type"] for e in _events(srv, "cont")]
                assert kinds.count("backward_begin") == 2 and kinds.count("backward_end") == 1
                viewer.call("command", {"session": "cont", "action": "run"}, timeout=10)
            p.wait(60)
            assert p.returncode == 0
        finally:
            stop_process(p)


def test_step_backward_past_the_last_node_stops_at_the_end_of_backward(tmp_path):
    """Step-backward on the last backward node stops at the end of the pass, not after the
    next step's first op."""
    with served(tmp_path / "s.sqlite") as srv:
        p = _start(_script(srv, "sb", TRAIN))
        try:
            wait_for(lambda: _pauses(srv, "sb"), timeout=60)
            with socket_client(srv.base) as viewer:
                n = 1
                while True:
                    ev = _command(viewer, "sb", "step_backward", srv, n)
                    n += 1
                    if ev["at"] != "before_backward":
                        break
                    assert n < 50
                assert ev["at"] == "backward_end"
                kinds = [e["type"] for e in _events(srv, "sb")]
                assert "param_update" not in kinds and kinds.count("backward_begin") == 1
                viewer.call("command", {"session": "sb", "action": "run"}, timeout=10)
            p.wait(60)
            assert p.returncode == 0
        finally:
            stop_process(p)


def test_a_loop_that_also_says_backward_end_stops_there_once():
    """The playground's loop calls ``checkpoint("backward_end")`` after ``loss.backward()``
    itself; now that the engine stops there too, Continue still stops once per pass."""
    import threading

    import gradviz as gv
    from gradviz import nn
    from gradviz.trace.gate import JobStopped, StepGate, install_gate, uninstall_gate

    gate = StepGate(paused=True, emit=lambda ev: None, flush=lambda: None)
    gv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x, y = gv.randn(5, 3), gv.tensor([0, 1, 0, 1, 1])
    log = []

    def loop():
        try:
            for step in range(3):
                gate.checkpoint("step", step)
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
                log.append(("backward done", step))
                gate.checkpoint("backward_end", step)
        except JobStopped:
            pass

    install_gate(gate)
    t = threading.Thread(target=loop, daemon=True)
    try:
        t.start()
        seen = []
        assert gate.wait_paused(10)["at"] == "step"
        for action in ("step_backward", "continue", "continue", "continue", "continue"):
            n = gate.pause_count
            gate.command(action)
            p = gate.wait_paused(10, after=n)
            seen.append((p["at"], p["phase"], p["step"], len(log)))
        # the backward_end pauses are the engine's own: inside loss.backward(), before
        # the loop's line after it (the loop's own checkpoint there does not stop again)
        assert seen == [("before_backward", "backward", 0, 0),
                        ("backward_end", "backward", 0, 0),
                        ("before_backward", "forward", 1, 1),
                        ("backward_end", "backward", 1, 1),
                        ("before_backward", "forward", 2, 2)]
        assert log == [("backward done", 0), ("backward done", 1)]
    finally:
        gate.stop()
        t.join(10)
        uninstall_gate(gate)
    assert not t.is_alive()


NAN_SCRIPT = """
    x = gv.tensor([-1.0, 2.0], requires_grad=True)
    h = x * 2
    out = h.log()   # the NaN starts here
    out.sum().backward()
"""


BACKWARD_NAN_SCRIPT = """
    x = gv.tensor([0.0, 1.0], requires_grad=True)
    r = x.sqrt()   # finite; its backward sends 0 * inf = NaN
    (r * 0).sum().backward()
"""


def _nan_anomaly(srv, sid, tmp_path, breakpoint, script=NAN_SCRIPT, op="Log",
                 marker="out = h.log()   # the NaN starts here"):
    path = tmp_path / f"{sid}.py"
    path.write_text(_script(srv, sid, script, paused=breakpoint))
    line = path.read_text().splitlines().index(marker) + 1
    p = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        if breakpoint:
            wait_for(lambda: _pauses(srv, sid), timeout=60)
            with socket_client(srv.base) as viewer:
                r = viewer.call("breakpoint", {"session": sid, "when": "nan"}, timeout=10)
                assert r["ok"], r
                r = viewer.call("command", {"session": sid, "action": "run"}, timeout=10)
                assert r["ok"], r
                wait_for(lambda: len(_pauses(srv, sid)) > 1, timeout=30)
                r = viewer.call("command", {"session": sid, "action": "run"}, timeout=10)
        p.wait(60)
        assert p.returncode == 0, p.stderr.read()
    finally:
        stop_process(p)
    evs = _events(srv, sid)
    log = next(e for e in evs if e["type"] == "op" and e["op"] == op)
    assert log["src"] == f"{path}:{line}"
    return log, [e for e in evs if e["type"] == "anomaly" and e["node"] == log["node"]]


def test_nan_breakpoint_message_names_the_users_line_as_the_nan_report_does(tmp_path):
    """With the NaN breakpoint the banner read "NAN in the value of Log (node 38)" with no
    source line; without it "Log produced nan values (called at train.py:43)"."""
    with served(tmp_path / "s.sqlite") as srv:
        log, plain = _nan_anomaly(srv, "plain", tmp_path, breakpoint=False)
        assert [a["message"] for a in plain] == [f"Log produced nan values (called at "
                                                 f"{log['src']})"]
        log, hit = _nan_anomaly(srv, "bp", tmp_path, breakpoint=True)
        assert [a["message"] for a in hit] == [f"NAN in the value of Log (node {log['node']})"
                                               f" (called at {log['src']})"]
        assert _pauses(srv, "bp")[-1]["reason"] == "breakpoint"


def test_backward_nan_breakpoint_names_the_line_of_the_forward(tmp_path):
    """A NaN made in backward (Sqrt's gradient at 0 times 0) paused with "the backward of
    Sqrt (node N) sent NAN gradients" and no line: now it names where Sqrt was called."""
    with served(tmp_path / "s.sqlite") as srv:
        sqrt, hit = _nan_anomaly(srv, "bw", tmp_path, breakpoint=True,
                                 script=BACKWARD_NAN_SCRIPT, op="Sqrt",
                                 marker="r = x.sqrt()   # finite; its backward sends 0 * inf = NaN")
        assert [a["message"] for a in hit] == [
            f"the backward of Sqrt (node {sqrt['node']}) sent NAN gradients (from a finite "
            f"incoming gradient) (its forward called at {sqrt['src']})"]
        assert _pauses(srv, "bw")[-1]["reason"] == "breakpoint"


def _sigterm_run(srv, sid, body, paused=False, wait_paused=False):
    p = _start(_script(srv, sid, body, paused=paused))
    try:
        if wait_paused:
            wait_for(lambda: _pauses(srv, sid), timeout=60)
        else:
            assert p.stdout.readline().strip() == "ready"
        p.send_signal(signal.SIGTERM)
        p.wait(60)
    finally:
        rc, out, err = stop_process(p)
    wait_for(lambda: _row(srv, sid) and not _row(srv, sid)["live"], timeout=20)
    return rc, out, err, _row(srv, sid)


LOOP = """
    import time
    for i in range(5000):
        gv.trace.scalar("loss", float(i), i)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
"""


def test_sigterm_sends_the_unsent_events_and_says_terminated(tmp_path):
    """SIGTERM ended the process at once: the session read "process ended" as after a
    clean finish, with no ``exit`` and events lost. Now: every event, exit "terminated",
    and the process still ends as SIGTERM ends it (status 143 in a shell)."""
    with served(tmp_path / "s.sqlite") as srv:
        rc, _, err, row = _sigterm_run(srv, "term", LOOP)
        assert rc == -signal.SIGTERM, err
        assert row["exit"] == "terminated"
        assert row["events"] == 5000 and row["last_seq"] == 5000


def test_sigterm_while_paused_in_the_debugger_says_terminated(tmp_path):
    with served(tmp_path / "s.sqlite") as srv:
        rc, _, err, row = _sigterm_run(srv, "termp", TRAIN, paused=True, wait_paused=True)
        assert rc == -signal.SIGTERM, err
        assert row["exit"] == "terminated"
        assert [e["type"] for e in _events(srv, "termp")].count("paused") == 1


def test_sigterm_chains_to_the_scripts_own_handler(tmp_path):
    """A handler the script set before ``gv.attach`` still runs (it decides how the process
    ends); what was traced before and after it reaches the server, and the exit says
    "terminated"."""
    body = """
        import signal, sys, time
        stop = []
        def on_term(signum, frame):
            print("own handler", signum, flush=True)
            stop.append(1)
        signal.signal(signal.SIGTERM, on_term)
    """
    with served(tmp_path / "s.sqlite") as srv:
        code = textwrap.dedent(body) + _script(srv, "chain", """
            for i in range(5000):
                gv.trace.scalar("loss", float(i), i)
            print("ready", flush=True)
            while not stop:
                time.sleep(0.05)
            gv.trace.scalar("after", 1.0, 0)   # the script's own shutdown work, still sent
            sys.exit(3)
        """, paused=False)
        p = _start(code)
        try:
            assert p.stdout.readline().strip() == "ready"
            p.send_signal(signal.SIGTERM)
            p.wait(60)
        finally:
            rc, out, err = stop_process(p)
        assert rc == 3, err
        assert f"own handler {int(signal.SIGTERM)}" in out
        wait_for(lambda: not _row(srv, "chain")["live"], timeout=20)
        row = _row(srv, "chain")
        assert row["exit"] == "terminated" and row["events"] == 5001


def test_sigterm_handler_only_from_the_main_thread_and_restored_on_close(tmp_path):
    import threading

    import gradviz as gv

    with served(tmp_path / "s.sqlite") as srv:
        before = signal.getsignal(signal.SIGTERM)
        att = gv.attach(srv.base, token=TOKEN, session="main")
        try:
            assert signal.getsignal(signal.SIGTERM) == att._on_sigterm
        finally:
            att.close()
        assert signal.getsignal(signal.SIGTERM) == before
        box = []
        t = threading.Thread(target=lambda: box.append(
            gv.attach(srv.base, token=TOKEN, session="thread")))
        t.start()
        t.join(30)
        try:
            assert box and box[0].active
            assert signal.getsignal(signal.SIGTERM) == before   # not from another thread
        finally:
            box[0].close()
