"""Scale-out: two `gradviz serve` processes sharing sessions through a real redis-server."""
import os
import shutil
import socket
import subprocess
import threading

import pytest
import requests

from test_server_util import TOKEN, scalars, served, socket_client, stop_process, wait_for

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(not os.path.exists(REDIS),
                                reason="redis-server is not installed (apt-get install "
                                       "redis-server)")
AUTH = {"Authorization": f"token {TOKEN}"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    port = free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import redis
        r = redis.Redis(host="127.0.0.1", port=port)
        try:
            wait_for(lambda: _ping(r), 10)
        finally:
            r.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)


def _ping(r):
    try:
        return r.ping()
    except Exception:
        return False


def test_viewer_on_one_process_sees_events_produced_on_another(tmp_path, redis_url):
    mq = ["--message-queue", redis_url]
    with served(tmp_path / "a.sqlite", extra=mq) as a, served(tmp_path / "b.sqlite",
                                                              extra=mq) as b:
        got, commands = [], []
        lock = threading.Lock()
        with socket_client(b.base) as prod, socket_client(a.base) as viewer:
            prod.on("command", lambda msg: commands.append(msg))
            def on_events(batch):
                with lock:
                    got.extend(batch)
            viewer.on("events", on_events)
            assert prod.call("hello", {"session": "shared"}, timeout=10)["ok"]
            prod.call("produce", {"session": "shared", "events": scalars(1, 100)}, timeout=10)
            wait_for(lambda: any(r["id"] == "shared" for r in
                                 requests.get(f"{a.base}/api/sessions", headers=AUTH,
                                              timeout=10).json()))
            r = viewer.call("join", {"session": "shared", "after": 0}, timeout=10)
            assert r["ok"]
            prod.call("produce", {"session": "shared", "events": scalars(101, 300)}, timeout=10)
            wait_for(lambda: len(got) >= 300, 20)
            with lock:
                assert [e["seq"] for e in got] == list(range(1, 301))
            # and a debugger command from process A reaches the producer on process B
            viewer.call("command", {"session": "shared", "action": "pause"}, timeout=10)
            wait_for(lambda: commands, 20)
            assert commands[0]["action"] == "pause"
