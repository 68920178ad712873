"""How an attached script that is stopped by a signal shows up on the server."""
import signal
import subprocess
import sys
import textwrap

import requests

from test_server_util import ROOT, TOKEN, served, stop_process, wait_for

AUTH = {"Authorization": f"token {TOKEN}"}


def _row(srv, sid):
    rows = requests.get(f"{srv.base}/api/sessions", headers=AUTH, timeout=10).json()
    return next((r for r in rows if r["id"] == sid), None)


def test_ctrl_c_on_an_attached_script_flushes_and_says_interrupted(tmp_path):
    """A real SIGINT (Ctrl-C) used to reach python-socketio's own handler first, which
    disconnected the client before KeyboardInterrupt: the session ended with no ``exit``
    (the page could not tell a Ctrl-C from a clean end) and unsent events were lost."""
    with served(tmp_path / "s.sqlite") as srv:
        script = textwrap.dedent(f"""
            import time
            import gradviz as gv
            gv.attach({srv.base!r}, token={TOKEN!r}, session="ctrlc")
            for i in range(300):
                gv.trace.scalar("loss", float(i), i)
            print("ready", flush=True)
            while True:
                time.sleep(0.05)
        """)
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            assert p.stdout.readline().strip() == "ready"
            p.send_signal(signal.SIGINT)
            p.wait(60)
        finally:
            stop_process(p)
        wait_for(lambda: not _row(srv, "ctrlc")["live"], timeout=20)
        row = _row(srv, "ctrlc")
        assert row["exit"] == "interrupted"
        assert row["events"] == 300


def test_a_killed_script_is_told_apart_from_a_clean_end(tmp_path):
    """SIGKILL leaves no chance to send ``bye``: the session used to end as a clean finish
    does ('process ended', no reason). It now says it ended without a goodbye; a script
    that finishes normally still ends with no message."""
    with served(tmp_path / "s.sqlite") as srv:
        ends = {}
        for sid, body in (("killed", "print('ready', flush=True)\nwhile True:\n"
                                     "    time.sleep(0.05)"),
                          ("clean", "print('ready', flush=True)")):
            script = (f"import time\nimport gradviz as gv\n"
                      f"gv.attach({srv.base!r}, token={TOKEN!r}, session={sid!r})\n"
                      f"gv.trace.scalar('loss', 1.0, 0)\n{body}\n")
            p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, cwd=ROOT)
            try:
                assert p.stdout.readline().strip() == "ready"
                if sid == "killed":
                    p.kill()
                p.wait(60)
            finally:
                stop_process(p)
            wait_for(lambda: _row(srv, sid) and not _row(srv, sid)["live"], timeout=20)
            ends[sid] = _row(srv, sid)
        assert ends["killed"]["status"] == "ended" and "exit" not in ends["killed"]
        assert "without a goodbye" in ends["killed"]["message"]
        assert ends["clean"]["exit"] == "ok" and "message" not in ends["clean"]


def test_an_error_shown_earlier_does_not_make_an_explicit_close_an_error_but_one_ending_does(
        tmp_path):
    """IPython (and pytest) pass exceptions to sys.excepthook that end nothing: a script that
    then closes its attachment itself ended cleanly. An uncaught exception that ends the
    interpreter still says so."""
    with served(tmp_path / "s.sqlite") as srv:
        for sid, tail in (("shown", "att.close()"), ("ending", "raise ValueError('boom')")):
            script = (f"import sys\nimport gradviz as gv\n"
                      f"att = gv.attach({srv.base!r}, token={TOKEN!r}, session={sid!r})\n"
                      f"gv.trace.scalar('loss', 1.0, 0)\n"
                      f"sys.excepthook(UserWarning, UserWarning('shown'), None)\n{tail}\n")
            p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               cwd=ROOT, timeout=120)
            assert "shown" in p.stderr
            wait_for(lambda: _row(srv, sid) and not _row(srv, sid)["live"], timeout=20)
        assert _row(srv, "shown")["exit"] == "ok"
        assert _row(srv, "ending")["exit"] == "error: ValueError"
