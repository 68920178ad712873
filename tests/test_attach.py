"""gv.attach against real `gradviz serve` processes: batches, acks, resend, exit flush."""
import subprocess
import sys
import textwrap

import requests

from gradviz.remote import attach
from gradviz.trace import scalar
from test_server_util import ROOT, TOKEN, served, socket_client, stop_process, wait_for

AUTH = {"Authorization": f"token {TOKEN}"}


def session_row(srv, sid):
    rows = requests.get(f"{srv.base}/api/sessions", headers=AUTH, timeout=10).json()
    return next((r for r in rows if r["id"] == sid), None)


def test_attach_streams_and_flushes(attached):
    srv, att = attached("run1")
    for i in range(3000):
        scalar("loss", 1.0 / (i + 1), i)
    assert att.flush(30)
    row = session_row(srv, "run1")
    assert row["events"] == 3000 and row["source"] == "attached" and row["live"]
    att.close()
    wait_for(lambda: not session_row(srv, "run1")["live"])


def test_attach_obeys_commands_from_the_server(attached):
    srv, att = attached("cmd")
    with socket_client(srv.base) as viewer:
        r = viewer.call("breakpoint", {"session": "cmd", "op": "Mul"}, timeout=10)
        assert r["ok"]
        wait_for(lambda: att.gate.breakpoints)
        assert list(att.gate.breakpoints.values())[0]["op"] == "Mul"
        viewer.call("command", {"session": "cmd", "action": "pause"}, timeout=10)
        wait_for(lambda: att.gate._until == "pause")
        viewer.call("command", {"session": "cmd", "action": "run"}, timeout=10)
        wait_for(lambda: att.gate._until is None)


def test_unreachable_server_says_so_once_and_the_script_runs_on(tmp_path):
    script = textwrap.dedent("""
        import gradviz as gv
        a = gv.attach("http://127.0.0.1:9", token="x")
        gv.trace.scalar("loss", 1.0, 0)
        print("still running", a.active)
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert p.returncode == 0
    assert "still running False" in p.stdout
    assert p.stderr.count("cannot reach the server") == 1


def test_normal_exit_flushes_everything(tmp_path):
    with served(tmp_path / "s.sqlite") as srv:
        script = textwrap.dedent(f"""
            import gradviz as gv
            gv.attach({srv.base!r}, token={TOKEN!r}, session="atexit")
            for i in range(20000):
                gv.trace.scalar("loss", float(i), i)
        """)
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           cwd=ROOT, timeout=120)
        assert p.returncode == 0, p.stderr
        row = session_row(srv, "atexit")
        assert row["events"] == 20000 and row["last_seq"] == 20000


def test_resend_after_server_restart_stores_each_event_once(tmp_path):
    store = tmp_path / "s.sqlite"
    with served(store) as srv:
        port = srv.port
        att = attach(srv.base, token=TOKEN, session="re")
        for i in range(1000):
            scalar("loss", float(i), i)
        assert att.flush(30)
        stop_process(srv.proc, sig=9)
    try:
        for i in range(1000, 2500):
            scalar("loss", float(i), i)
        with served(store, extra=["--port", str(port)]) as srv2:
            assert att.flush(60)
            row = session_row(srv2, "re")
            assert row["events"] == 2500 and row["last_seq"] == 2500
            page = requests.get(f"{srv2.base}/api/sessions/re/events",
                                params={"after": 0, "limit": 5000}, headers=AUTH,
                                timeout=10).json()
            assert [e["seq"] for e in page["events"]] == list(range(1, 2501))
            att.close()
    finally:
        att.close()


def test_attach_sends_strings_to_a_server_that_does_not_take_bytes(attached):
    srv, att = attached("str")
    assert att.binary          # this server said lines_bytes
    att.binary = False         # as with a server from before that wire addition
    for i in range(500):
        scalar("loss", 1.0 / (i + 1), i)
    assert att.flush(30)
    assert session_row(srv, "str")["events"] == 500


def test_numpy_masking_gives_websocket_client_bytes():
    import os

    from websocket._abnf import ABNF

    from gradviz.remote import _xor_mask
    for n in (0, 1, 3, 4, 5, 1023, 1024, 1025, 70001):
        data, key = os.urandom(n), os.urandom(4)
        assert _xor_mask(key, data) == ABNF.mask(key, data)
