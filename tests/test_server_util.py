"""Helpers shared by the server tests (no tests here): apps, served processes, clients."""
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from gradviz.trace.gate import StepGate

TOKEN = "test-token-0123456789abcdef0123456789"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wait_for(pred, timeout=10.0, interval=0.01):
    """Poll ``pred`` until true (returns its value) or fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


@contextlib.contextmanager
def make_app(tmp_path, **config):
    """A started app on a fresh store (no default job); stopped afterwards."""
    from gradviz.web import create_app
    cfg = {"store": str(tmp_path / "events.sqlite"), "token": TOKEN, "default_session": False}
    cfg.update(config)
    app = create_app(cfg)
    server = app.extensions["gradviz"].start()
    try:
        yield app, server
    finally:
        server.stop()


def sio_client(app, token=TOKEN, **kw):
    """A Flask-SocketIO test client with the token."""
    from gradviz.web import socketio
    return socketio.test_client(app, auth={"token": token} if token is not None else None, **kw)


def received(client, name):
    """Payloads of every ``name`` message received so far (consumes the client's queue)."""
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def scalars(a, b):
    """Producer events with seqs a..b."""
    return [{"type": "scalar", "seq": i, "name": "loss", "value": float(i), "step": i}
            for i in range(a, b + 1)]


class FakeJob:
    """What a playground session needs from a job, driven by a plain thread."""

    def __init__(self, values=None):
        self.gate = StepGate(paused=True, emit=lambda ev: None, flush=lambda: None,
                             keep_values=1 << 20)
        self.values = values or {}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.log = []

    def _run(self):
        from gradviz.trace.gate import JobStopped
        try:
            for step in range(3):
                self.gate.checkpoint("step", step)
                for node in (1, 2, 3):
                    self.gate.after_forward(node, "Add", self.values.get(node, np.ones(3)))
                    self.log.append(("f", node))
                for node in (3, 2, 1):
                    self.gate.before_backward(node, "Add", np.ones(3))
                    self.log.append(("b", node))
                self.gate.checkpoint("backward_end", step)
        except JobStopped:
            pass

    def alive(self):
        return self.thread.is_alive()

    def tensor(self, node, what="value"):
        return self.gate.value(node, what)

    def stop(self):
        self.gate.stop()
        self.thread.join(5)


class Served:
    """A running ``gradviz serve`` subprocess."""

    def __init__(self, proc, url, port, token):
        self.proc, self.url, self.port, self.token = proc, url, port, token
        self.base = f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def served(store, token=TOKEN, extra=(), default=False, env=None):
    """Start ``gradviz serve --port 0`` on ``store``; always stopped (SIGTERM, then kill)."""
    cmd = [sys.executable, "-m", "gradviz.cli", "serve", "--port", "0", "--no-browser",
           "--store", str(store)]
    cmd += ["--token", token] if token else ["--no-token"]
    if not default:
        cmd.append("--no-default")
    cmd += list(extra)
    e = dict(os.environ, PYTHONPATH=ROOT, **(env or {}))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=e)
    try:
        line = proc.stdout.readline()
        if "serving at" not in line:
            proc.kill()
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"server did not start: {line!r} {err[-2000:]}")
        url = line.split("serving at ", 1)[1].strip()
        port = int(url.split(":")[2].split("/")[0])
        yield Served(proc, url, port, token)
    finally:
        stop_process(proc)


def stop_process(proc, sig=signal.SIGTERM):
    """Stop a subprocess and close its pipes (no ResourceWarning)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


@contextlib.contextmanager
def socket_client(base, token=TOKEN, **kw):
    """A python-socketio client connected to ``base``; disconnected afterwards."""
    import socketio
    c = socketio.Client(reconnection=False)
    try:
        c.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10, **kw)
        yield c
    finally:
        c.disconnect()
        c.shutdown() if hasattr(c, "shutdown") else None
