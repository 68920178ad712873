"""Shared by B4/B5: a `gradviz serve` subprocess and a headless viewer subprocess."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "bench-token-0123456789abcdef"

VIEWER = r"""
import json, sys, time, socketio
base, token, session, target, delay = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
raw, deadline_s = sys.argv[6] == "raw", float(sys.argv[7])
# skip websocket-client's pure-Python UTF-8 check (a few hundred ns per byte without
# wsaccel); the text is still decoded, and so checked, as UTF-8 in C
c = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
state = {"n": 0, "last": 0, "first_t": None, "done_t": None, "lat": [], "dropped": 0, "msgs": 0}
def on_events(batch):
    if isinstance(batch, str):
        batch = json.loads(batch)     # raw join: one JSON text per batch
    now = time.time()
    if state["first_t"] is None:
        state["first_t"] = now
    state["n"] += len(batch); state["msgs"] += 1
    state["last"] = batch[-1]["seq"]
    v = batch[-1].get("value")
    if isinstance(v, float) and v > 1e9:
        state["lat"].append(now - v)
    if state["last"] >= target and state["done_t"] is None:
        state["done_t"] = now
    if delay:
        time.sleep(delay)
def on_gap(g):
    state["dropped"] += g.get("dropped", 0)
c.on("events", on_events); c.on("gap", on_gap)
c.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
c.call("join", {"session": session, "after": 0, "raw": raw}, timeout=10)
print("joined", flush=True)
deadline = time.time() + deadline_s
while state["done_t"] is None and time.time() < deadline:
    time.sleep(0.01)
c.disconnect()
print(json.dumps({k: v for k, v in state.items() if k != "lat"} | {"lat": state["lat"]}), flush=True)
"""


class Served:
    """``gradviz serve`` on a free port with a temporary store."""

    def __init__(self, extra=()):
        self.dir = tempfile.TemporaryDirectory()
        cmd = [sys.executable, "-m", "gradviz.cli", "serve", "--port", "0", "--no-browser",
               "--no-default", "--token", TOKEN, "--store",
               os.path.join(self.dir.name, "b.sqlite"), *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
        line = self.proc.stdout.readline()
        self.base = line.split("serving at ")[1].split("/?")[0]

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def close(self):
        self.proc.terminate()
        self.proc.communicate(timeout=20)
        self.dir.cleanup()


class Viewer:
    """A headless Socket.IO viewer in its own process (``delay`` s per batch read).

    ``raw``: join with ``raw: true`` (batches arrive as JSON text and are decoded
    here, as the browser does); ``deadline``: seconds it waits for seq ``target``.
    """

    def __init__(self, base, session, target, delay=0.0, raw=True, deadline=120.0):
        self.proc = subprocess.Popen([sys.executable, "-c", VIEWER, base, TOKEN, session,
                                      str(target), str(delay), "raw" if raw else "list",
                                      str(deadline)], stdout=subprocess.PIPE,
                                     text=True, cwd=ROOT)
        assert self.proc.stdout.readline().strip() == "joined"

    def result(self, timeout=600):
        out, _ = self.proc.communicate(timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])
