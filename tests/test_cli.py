"""The `gradviz` command line: --version, export, replay, serve's one line and clean stop."""
import json
import os
import signal
import subprocess
import sys

import requests

from gradviz.cli import load_recording, main
from test_server_util import ROOT, TOKEN, stop_process

AUTH = {"Authorization": f"token {TOKEN}"}
EVENTS = [
    {"v": 1, "type": "leaf", "session": "x", "seq": 1, "node": 1, "name": "w", "shape": [2]},
    {"v": 1, "type": "leaf", "session": "x", "seq": 2, "node": 2, "name": "x", "shape": [2]},
    {"v": 1, "type": "op", "session": "x", "seq": 3, "node": 3, "op": "Mul", "inputs": [1, 2],
     "shape": [2]},
    {"v": 1, "type": "op", "session": "x", "seq": 4, "node": 4, "op": "Sum", "inputs": [3],
     "shape": []},
]


def write_recording(path, torn=True):
    with open(path, "w") as f:
        for ev in EVENTS:
            f.write(json.dumps(ev) + "\n")
        if torn:
            f.write('{"v": 1, "type": "op", "se')     # a crash mid-write
    return path


def run_cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "gradviz.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


def test_version():
    p = run_cli("--version")
    assert p.returncode == 0 and p.stdout.startswith("gradviz ")


def test_load_recording_tolerates_a_torn_last_line(tmp_path):
    path = write_recording(str(tmp_path / "r.jsonl"))
    assert [e["seq"] for e in load_recording(path)] == [1, 2, 3, 4]


def test_export_formats(tmp_path):
    rec = write_recording(str(tmp_path / "r.jsonl"))
    for fmt, magic in [("svg", b"<svg"), ("dot", b"digraph"), ("png", b"\x89PNG"),
                       ("json", b"{")]:
        out = str(tmp_path / f"g.{fmt}")
        assert main(["export", rec, "-o", out]) == 0
        with open(out, "rb") as f:
            assert magic in f.read(400)
    out = str(tmp_path / "g.txt")
    assert main(["export", rec, "-o", out, "--format", "dot"]) == 0


def test_serve_prints_one_line_and_stops_cleanly_on_sigint(tmp_path):
    store = str(tmp_path / "s.sqlite")
    proc = subprocess.Popen([sys.executable, "-m", "gradviz.cli", "serve", "--port", "0",
                             "--no-browser", "--store", store, "--token", TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.startswith("gradviz serving at http://127.0.0.1:")
        assert line.strip().endswith(f"/?token={TOKEN}")
        base = line.split("serving at ")[1].split("/?")[0]
        rows = requests.get(f"{base}/api/sessions", headers=AUTH, timeout=10).json()
        assert len(rows) == 1 and rows[0]["source"] == "playground"   # the default session
        proc.send_signal(signal.SIGINT)
        code, out, err = stop_process(proc)
    finally:
        stop_process(proc)
    assert code == 0, err
    assert out == ""                                   # exactly one line in all
    assert os.path.exists(store)


def test_replay_serves_a_recording(tmp_path):
    rec = write_recording(str(tmp_path / "r.jsonl"))
    proc = subprocess.Popen([sys.executable, "-m", "gradviz.cli", "replay", rec, "--port", "0",
                             "--no-browser", "--store", str(tmp_path / "s.sqlite"),
                             "--token", TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        base = line.split("serving at ")[1].split("/?")[0]
        rows = requests.get(f"{base}/api/sessions", headers=AUTH, timeout=10).json()
        assert [r["source"] for r in rows] == ["replay"] and rows[0]["events"] == 4
        page = requests.get(f"{base}/api/sessions/{rows[0]['id']}/events", headers=AUTH,
                            timeout=10).json()
        assert [e["op"] for e in page["events"] if e["type"] == "op"] == ["Mul", "Sum"]
    finally:
        stop_process(proc)


def test_run_script_attached(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import gradviz as gv\nimport sys\n"
                      "for i in range(50):\n    gv.trace.scalar('loss', 1.0, i)\n"
                      "print('args', sys.argv[1:])\n")
    from test_server_util import served
    with served(tmp_path / "s.sqlite") as srv:
        p = run_cli("run", "--url", srv.base, "--token", TOKEN, "--session", "viarun",
                    str(script), "a", "b", timeout=120)
        assert p.returncode == 0, p.stderr
        assert "args ['a', 'b']" in p.stdout
        rows = requests.get(f"{srv.base}/api/sessions", headers=AUTH, timeout=10).json()
        assert [r["events"] for r in rows if r["id"] == "viarun"] == [50]
