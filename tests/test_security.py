"""SECURITY.md promises 1-10, one or more tests each (each fails without its guard)."""
import os
import re
import signal
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradviz.trace.pipeline import Feed
from test_server_util import (ROOT, TOKEN, FakeJob, make_app, received, scalars, served,
                              sio_client, socket_client, wait_for)

AUTH = {"Authorization": f"token {TOKEN}"}


# 1. loopback by default; elsewhere only with a token ------------------------------------
def test_1_loopback_default_and_refusal_without_token(capsys):
    from gradviz.cli import build_parser, main
    from gradviz.web import make_config
    assert make_config()["host"] == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert main(["serve", "--host", "0.0.0.0", "--no-token", "--no-browser"]) == 2
    assert "refusing" in capsys.readouterr().err


# 2. token on HTTP and Socket.IO, random, constant-time ------------------------------------
def test_2_token_required_on_http_and_socketio(tmp_path, monkeypatch):
    from gradviz.web import make_config, security
    calls = []
    real = security.hmac.compare_digest
    monkeypatch.setattr(security.hmac, "compare_digest",
                        lambda a, b: calls.append(1) or real(a, b))
    t1, t2 = make_config()["token"], make_config()["token"]
    assert t1 != t2 and len(bytes.fromhex(t1)) * 8 >= 128
    with make_app(tmp_path) as (app, server):
        c = app.test_client()
        for path in ("/", "/api/sessions", "/api/sessions/x/events", "/api/sessions/x/graph.svg"):
            assert c.get(path).status_code == 401
            assert c.get(path + "?token=wrong").status_code == 401
        assert c.get("/api/sessions", headers=AUTH).status_code == 200
        assert c.get("/api/health").status_code == 200
        assert calls, "tokens must be compared with hmac.compare_digest"
        assert not sio_client(app, token=None).is_connected()
        assert not sio_client(app, token="wrong").is_connected()
        ok = sio_client(app)
        assert ok.is_connected()
        ok.disconnect()


def test_2_producer_token_cannot_view(tmp_path):
    with make_app(tmp_path, producer_token="p" * 40) as (app, server):
        prod = sio_client(app, token="p" * 40)
        assert prod.emit("hello", {"session": "a"}, callback=True)["ok"]
        r = prod.emit("join", {"session": "a"}, callback=True)
        assert r["error"]["code"] == "FORBIDDEN"
        prod.disconnect()


# 3. Host allow-list, same origin, more than a cookie ---------------------------------------
def test_3_host_and_origin_checks_on_http(tmp_path):
    with make_app(tmp_path) as (app, server):
        c = app.test_client()
        r = c.get("/api/health", headers={"Host": "evil.example:5000"})
        assert r.status_code == 403 and r.json["error"]["code"] == "BAD_HOST"
        r = c.get("/socket.io/?EIO=4&transport=polling", headers={"Host": "evil.example"})
        assert r.status_code == 403
        r = c.get("/api/sessions", headers=dict(AUTH, Origin="http://evil.example"))
        assert r.status_code == 403 and r.json["error"]["code"] == "BAD_ORIGIN"
        r = c.get("/api/sessions", headers=dict(AUTH, Origin="http://localhost"))
        assert r.status_code == 200
        assert server.socketio.server.eio.cors_allowed_origins != "*"


def test_3_state_change_needs_more_than_cookie(tmp_path):
    with make_app(tmp_path) as (app, server):
        server.manager.create("replay", sid="r")
        c = app.test_client()
        c.set_cookie("gradviz_token", TOKEN)
        assert c.get("/api/sessions").status_code == 200
        r = c.post("/api/sessions/r/command", json={"action": "run"})
        assert r.status_code == 401
        r = c.post("/api/sessions/r/command", json={"action": "run"}, headers=AUTH)
        assert r.status_code == 409   # authorised; a replay just cannot be commanded


def test_3_socketio_refuses_foreign_origin_and_host(tmp_path):
    import socketio
    with served(tmp_path / "s.sqlite") as srv:
        c = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            c.connect(srv.base, auth={"token": TOKEN}, headers={"Origin": "http://evil.example"},
                      transports=["websocket"], wait_timeout=5)
        c.shutdown()
        with socket_client(srv.base) as ok:
            assert ok.connected


# 4. limits before allocation, structured errors ----------------------------------------------
def test_4_limits_give_structured_errors_and_server_stays_up(tmp_path):
    limits = {"max_request_bytes": 2000, "max_batch_events": 100, "max_event_bytes": 500,
              "max_json_depth": 8, "max_tensor_bytes": 64}
    with make_app(tmp_path, limits=limits) as (app, server):
        assert server.socketio.server.eio.max_http_buffer_size == \
            server.limits["max_message_bytes"]
        c = app.test_client()
        server.manager.create("replay", sid="r")
        r = c.post("/api/sessions/r/command", data="x" * 5000, headers=AUTH,
                   content_type="application/json")
        assert r.status_code == 413
        assert r.json["error"]["code"] == "REQUEST_TOO_LARGE"
        assert r.json["error"]["limit"]["value"] == 2000
        r = c.get("/api/sessions/r/events?limit=100000", headers=AUTH)
        assert r.status_code == 413 and r.json["error"]["code"] == "PAGE_TOO_LARGE"
        p = sio_client(app)
        p.emit("hello", {"session": "a"}, callback=True)
        r = p.emit("produce", {"session": "a", "events": scalars(1, 101)}, callback=True)
        assert r["error"]["code"] == "TOO_MANY_EVENTS" and r["error"]["limit"]["value"] == 100
        big = [{"type": "scalar", "seq": 1, "name": "x" * 1000}]
        r = p.emit("produce", {"session": "a", "events": big}, callback=True)
        assert r["error"]["code"] == "EVENT_TOO_LARGE"
        deep = {"session": "a", "events": [{"type": "x", "seq": 1, "d": [[[[[[[[[[1]]]]]]]]]]}]}
        assert p.emit("produce", deep, callback=True)["error"]["code"] == "TOO_DEEP"
        s = server.manager.create("playground", sid="p")
        job = s.job = FakeJob(values={1: np.zeros(100)})
        job.thread.start()
        try:
            job.gate.command("run")
            wait_for(lambda: job.gate.value(1) is not None)
            r = p.emit("tensor", {"session": "p", "node": 1}, callback=True)
            assert r["error"]["code"] == "TENSOR_TOO_LARGE"
        finally:
            job.stop()
        assert p.emit("produce", {"session": "a", "events": scalars(1, 3)},
                      callback=True)["last_seq"] == 3
        p.disconnect()


# 5. malformed input never crashes or drops other clients -------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                              max_size=4),
    max_leaves=20)
payloads = json_values | st.fixed_dictionaries(
    {"session": st.one_of(st.text(max_size=5), st.integers(), st.just("a")),
     "after": json_values, "action": json_values, "events": json_values, "spec": json_values,
     "node": json_values, "what": json_values, "when": json_values, "threshold": json_values})
EVENT_NAMES = ["join", "leave", "command", "breakpoint", "tensor", "playground", "hello",
               "produce", "nonsense"]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    with make_app(tmp_path_factory.mktemp("fuzz")) as (app, server):
        s = server.manager.create("playground", sid="p")
        s.job = FakeJob()
        s.job.thread.start()
        try:
            yield app, server
        finally:
            s.job.stop()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(EVENT_NAMES), data=payloads, extra=st.booleans())
def test_5_malformed_messages_never_crash(fuzz_app, name, data, extra):
    app, server = fuzz_app
    bad = sio_client(app)
    try:
        args = (data, data) if extra else (data,)
        r = bad.emit(name, *args, callback=True)
        assert r in (None, []) or isinstance(r, dict)   # unknown events get no ack
        if isinstance(r, dict) and "error" in r:
            assert set(r["error"]) >= {"code", "message"}
        assert bad.is_connected()
    finally:
        bad.disconnect()
    good = sio_client(app)
    assert good.emit("hello", {"session": "fuzz-ok"}, callback=True)["ok"]
    good.disconnect()


def test_5_unknown_message_type_gets_a_structured_error(fuzz_app):
    app, server = fuzz_app
    client = sio_client(app)
    try:
        r = client.emit("frobnicate", {"x": 1}, callback=True)
        assert r["error"]["code"] == "UNKNOWN_EVENT"
        assert "frobnicate" in r["error"]["message"]
        errors = [m for m in client.get_received() if m["name"] == "error"]
        assert errors and errors[-1]["args"][0]["code"] == "UNKNOWN_EVENT"
        assert client.is_connected()
    finally:
        client.disconnect()


# 6. nothing unpickles ------------------------------------------------------------------
def test_6_no_pickle_in_the_package():
    bad = re.compile(r"^\s*(import pickle|from pickle|import cPickle)|pickle\.loads?\(|"
                     r"allow_pickle\s*=\s*True|marshal\.loads|shelve\.open", re.M)
    hits = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, "gradviz")):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8") as fh:
                    if bad.search(fh.read()):
                        hits.append(path)
    assert hits == []


# 7. bounded per-client queues with gaps --------------------------------------------------
def test_7_feed_is_bounded_and_announces_the_gap():
    feed = Feed("sid", "s", after=0, max_events=100)
    feed.live = True
    for k in range(100):
        feed.push([{"seq": k * 100 + i + 1} for i in range(100)])
    assert len(feed) == 100
    gap, batch = feed.take(1000)
    assert gap == {"session": "s", "from_seq": 1, "to_seq": 9900, "dropped": 9900}
    assert [e["seq"] for e in batch] == list(range(9901, 10001))


def test_7_stuck_viewer_does_not_grow_the_server(tmp_path, monkeypatch):
    with make_app(tmp_path, feed_max_events=500) as (app, server):
        prod, view = sio_client(app), sio_client(app)
        prod.emit("hello", {"session": "a"}, callback=True)
        view.emit("join", {"session": "a"}, callback=True)
        wait_for(lambda: all(f["live"] for f in server.fanout.stats()))
        monkeypatch.setattr(server, "_can_send", lambda sid: False)   # the viewer stopped reading
        monkeypatch.setattr(server.fanout, "can_send", lambda sid: False)
        for k in range(40):
            prod.emit("produce", {"session": "a", "events": scalars(k * 500 + 1, k * 500 + 500)},
                      callback=True)
            assert all(f["queued"] <= 500 for f in server.fanout.stats())
        monkeypatch.setattr(server.fanout, "can_send", lambda sid: True)
        gaps, got = [], []
        wait_for(lambda: (gaps.extend(received_keep(view, "gap", got)) or
                          (got and got[-1]["seq"] == 20000)))
        assert gaps and gaps[0]["dropped"] > 0
        assert gaps[0]["to_seq"] + 1 == got[0]["seq"] or got[0]["seq"] == 1
        prod.disconnect()
        view.disconnect()


def received_keep(client, name, events):
    """Gap payloads; events batches are appended to ``events``."""
    out = []
    for m in client.get_received():
        if m["name"] == name:
            out.append(m["args"][0])
        elif m["name"] == "events":
            events.extend(m["args"][0])
    return out


# 8. reconnect with after=seq: exactly the missed events, in order ------------------------------
def test_8_reconnect_after_seq_gets_exactly_the_missed_events(tmp_path):
    with make_app(tmp_path) as (app, server):
        prod, view = sio_client(app), sio_client(app)
        prod.emit("hello", {"session": "a"}, callback=True)
        prod.emit("produce", {"session": "a", "events": scalars(1, 700)}, callback=True)
        view.emit("join", {"session": "a", "after": 0}, callback=True)
        got = []
        wait_for(lambda: got.extend(e for b in received(view, "events") for e in b)
                 or len(got) >= 700)
        last = got[-1]["seq"]
        view.disconnect()
        prod.emit("produce", {"session": "a", "events": scalars(701, 1500)}, callback=True)
        view = sio_client(app)
        view.emit("join", {"session": "a", "after": last}, callback=True)
        prod.emit("produce", {"session": "a", "events": scalars(1501, 1600)}, callback=True)
        more = []
        wait_for(lambda: more.extend(e for b in received(view, "events") for e in b)
                 or len(more) >= 900)
        time.sleep(0.1)
        more.extend(e for b in received(view, "events") for e in b)
        assert [e["seq"] for e in more] == list(range(last + 1, 1601))
        prod.disconnect()
        view.disconnect()


# 9. kill -9 loses no acknowledged event ------------------------------------------------
def test_9_sigkill_loses_no_acknowledged_event(tmp_path):
    store = tmp_path / "crash.sqlite"
    acked = 0
    with served(store) as srv:
        with socket_client(srv.base) as c:
            assert c.call("hello", {"session": "k"}, timeout=10)["ok"]
            for k in range(20):
                r = c.call("produce", {"session": "k", "events": scalars(k * 250 + 1,
                                                                         k * 250 + 250)},
                           timeout=10)
                acked = r["last_seq"]
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait(10)
    assert acked == 5000
    with open(str(store) + "-wal", "ab") as f:
        f.write(os.urandom(1500))           # and a torn record at the end
    with served(store) as srv:
        import requests
        r = requests.get(f"{srv.base}/api/sessions", headers=AUTH, timeout=10).json()
        row = [x for x in r if x["id"] == "k"][0]
        assert row["events"] == 5000 and row["last_seq"] == 5000
        seqs, after = [], 0
        while True:
            page = requests.get(f"{srv.base}/api/sessions/k/events",
                                params={"after": after, "limit": 2000}, headers=AUTH,
                                timeout=10).json()
            if not page["events"]:
                break
            seqs += [e["seq"] for e in page["events"]]
            after = page["next"]
        assert seqs == list(range(1, 5001))


# 10. NaN/Inf is an anomaly pointing at the node; it stops the job, not the server -------------
def test_10_nan_in_a_server_job_is_an_anomaly_and_stops_only_the_job(tmp_path):
    nn = pytest.importorskip("gradviz.nn")
    if not hasattr(nn, "Linear") or not hasattr(nn, "Sequential"):
        pytest.skip("gradviz.nn.Linear is not written yet")
    with make_app(tmp_path) as (app, server):
        spec = {"dataset": {"name": "spiral", "n": 50, "noise": 0.1, "classes": 3},
                "layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                           {"type": "Linear", "out_features": 3}],
                "optimizer": {"type": "SGD", "lr": 1e3}, "steps": 200}
        # paused at the start, so the breakpoint is in place before the first op (with
        # lr 1e3 a free-running job can reach NaN before a breakpoint added later)
        s = server.start_job(spec, paused=True)
        first = s.job.gate.wait_paused(60)
        assert first is not None and first.get("reason") is None
        s.job.gate.add_breakpoint({"when": "nonfinite"})
        seen = s.job.gate.pause_count
        s.job.gate.command("run")
        p = s.job.gate.wait_paused(60, after=seen)
        assert p is not None and p["reason"] == "breakpoint"
        events = server.store.read(s.id, 0, 100000)
        anomalies = [e for e in events if e["type"] == "anomaly"]
        assert anomalies and isinstance(anomalies[0]["node"], int)
        s.job.gate.clear_breakpoints()
        s.job.gate.command("run")
        wait_for(lambda: not s.job.alive(), 60)
        assert s.job.status == "error"
        assert app.test_client().get("/api/health").json["ok"]
