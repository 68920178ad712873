"""The server interface (SERVER.md) through Flask's and Flask-SocketIO's test clients."""
import json

from test_server_util import (TOKEN, FakeJob, make_app, received, scalars, sio_client,
                              wait_for)

AUTH = {"Authorization": f"token {TOKEN}"}


def produce(client, session, events):
    r = client.emit("hello", {"session": session}, callback=True)
    assert r["ok"], r
    return client.emit("produce", {"session": session, "events": events}, callback=True)


def collect(client, name="events"):
    out = []
    for batch in received(client, name):
        out.extend(batch if name == "events" else [batch])
    return out


def test_health_and_sessions(tmp_path):
    with make_app(tmp_path) as (app, server):
        c = app.test_client()
        r = c.get("/api/health")
        assert r.status_code == 200 and r.json["ok"] is True and "version" in r.json
        assert c.get("/api/sessions", headers=AUTH).json == []
        server.manager.create("replay", sid="r1")
        rows = c.get(f"/api/sessions?token={TOKEN}").json
        assert rows[0]["id"] == "r1" and rows[0]["source"] == "replay"
        assert set(rows[0]) >= {"id", "events", "created", "source", "live"}


def test_produce_ack_then_events_page_over_http(tmp_path):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        r = produce(sc, "a", scalars(1, 30))
        assert r == {"ok": True, "last_seq": 30}
        c = app.test_client()
        page = c.get("/api/sessions/a/events?after=10&limit=5", headers=AUTH).json
        assert [e["seq"] for e in page["events"]] == [11, 12, 13, 14, 15]
        assert page["next"] == 15
        assert all(e["session"] == "a" for e in page["events"])
        bad = c.get("/api/sessions/a/events?after=x", headers=AUTH)
        assert bad.status_code == 400 and bad.json["error"]["code"] == "BAD_ARGUMENT"
        missing = c.get("/api/sessions/nope/events", headers=AUTH)
        assert missing.status_code == 404 and missing.json["error"]["code"] == "NO_SESSION"
        sc.disconnect()


def test_join_catches_up_then_follows_live_in_batches(tmp_path):
    with make_app(tmp_path) as (app, server):
        prod, view = sio_client(app), sio_client(app)
        produce(prod, "a", scalars(1, 1200))
        r = view.emit("join", {"session": "a", "after": 0}, callback=True)
        assert r["ok"] and r["session"]["last_seq"] == 1200
        got = []
        wait_for(lambda: got.extend(collect(view)) or len(got) >= 1200)
        prod.emit("produce", {"session": "a", "events": scalars(1201, 1300)}, callback=True)
        wait_for(lambda: got.extend(collect(view)) or len(got) >= 1300)
        assert [e["seq"] for e in got] == list(range(1, 1301))
        prod.disconnect()
        view.disconnect()


def test_resent_events_stored_and_delivered_once(tmp_path):
    with make_app(tmp_path) as (app, server):
        prod, view = sio_client(app), sio_client(app)
        view.emit("join", {"session": "a", "after": 0}, callback=True) if False else None
        produce(prod, "a", scalars(1, 10))
        view.emit("join", {"session": "a", "after": 0}, callback=True)
        r = prod.emit("produce", {"session": "a", "events": scalars(5, 20)}, callback=True)
        assert r["last_seq"] == 20
        got = []
        wait_for(lambda: got.extend(collect(view)) or len(got) >= 20)
        assert [e["seq"] for e in got] == list(range(1, 21))
        assert server.manager.get("a").count == 20
        prod.disconnect()
        view.disconnect()


def test_recording_and_graph_exports(tmp_path):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        events = [
            {"type": "leaf", "seq": 1, "node": 1, "name": "w", "shape": [2]},
            {"type": "leaf", "seq": 2, "node": 2, "name": None, "shape": [2]},
            {"type": "op", "seq": 3, "node": 3, "op": "Mul", "inputs": [1, 2], "shape": [2]},
            {"type": "op", "seq": 4, "node": 4, "op": "Sum", "inputs": [3], "shape": []},
            {"type": "backward_begin", "seq": 5, "root": 4, "count": 2},
        ]
        produce(sc, "g", events)
        c = app.test_client()
        rec = c.get("/api/sessions/g/recording", headers=AUTH)
        lines = [json.loads(x) for x in rec.get_data(as_text=True).splitlines()]
        assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5]
        g = c.get("/api/sessions/g/graph.json", headers=AUTH).json
        if "nodes" in g:
            assert {n["id"] for n in g["nodes"]} == {1, 2, 3, 4}
        dot = c.get("/api/sessions/g/graph.dot", headers=AUTH)
        assert dot.status_code == 200 and b"digraph" in dot.data
        svg = c.get("/api/sessions/g/graph.svg", headers=AUTH)
        assert svg.status_code == 200 and b"<svg" in svg.data
        png = c.get("/api/sessions/g/graph.png", headers=AUTH)
        assert png.status_code == 200 and png.data[:4] == b"\x89PNG"
        bad = c.get("/api/sessions/g/graph.gif", headers=AUTH)
        assert bad.status_code == 400 and bad.json["error"]["code"] == "BAD_FORMAT"
        sc.disconnect()


def test_commands_drive_a_server_job_gate(tmp_path):
    with make_app(tmp_path) as (app, server):
        s = server.manager.create("playground", sid="p")
        job = s.job = FakeJob()
        job.thread.start()
        try:
            view = sio_client(app)
            view.emit("join", {"session": "p"}, callback=True)
            job.gate.wait_paused(5)
            n = job.gate.pause_count
            r = view.emit("command", {"session": "p", "action": "step_forward"}, callback=True)
            assert r["ok"]
            p = job.gate.wait_paused(5, after=n)
            assert p["node"] == 1 and p["phase"] == "forward"
            r = view.emit("breakpoint", {"session": "p", "op": "Add", "phase": "backward"},
                          callback=True)
            assert r["ok"] and r["state"]["breakpoints"][0]["op"] == "Add"
            bad = view.emit("command", {"session": "p", "action": "fly"}, callback=True)
            assert bad["error"]["code"] == "BAD_ACTION"
            t = view.emit("tensor", {"session": "p", "node": 1, "what": "value"}, callback=True)
            assert t["values"] == [1.0, 1.0, 1.0] and t["shape"] == [3]
            nope = view.emit("tensor", {"session": "p", "node": 99}, callback=True)
            assert nope["error"]["code"] == "NOT_AVAILABLE"
            # HTTP command with the token header
            c = app.test_client()
            r = c.post("/api/sessions/p/command", json={"action": "run"}, headers=AUTH)
            assert r.status_code == 200 and r.json["ok"]
            view.disconnect()
        finally:
            job.stop()


def test_command_to_attached_session_reaches_its_producer(tmp_path):
    with make_app(tmp_path) as (app, server):
        prod, view = sio_client(app), sio_client(app)
        produce(prod, "att", scalars(1, 2))
        received(prod, "command")
        r = view.emit("command", {"session": "att", "action": "pause"}, callback=True)
        assert r["ok"]
        cmds = received(prod, "command")
        assert cmds == [{"action": "pause"}]
        view.emit("breakpoint", {"session": "att", "when": "nan"}, callback=True)
        assert received(prod, "command")[0]["when"] == "nan"
        prod.disconnect()
        view.disconnect()


def test_replay_session_cannot_be_commanded(tmp_path):
    with make_app(tmp_path) as (app, server):
        server.manager.create("replay", sid="r")
        view = sio_client(app)
        r = view.emit("command", {"session": "r", "action": "run"}, callback=True)
        assert r["error"]["code"] == "NOT_CONTROLLABLE"
        assert received(view, "error")[-1]["code"] == "NOT_CONTROLLABLE"
        view.disconnect()


def test_playground_spec_errors_are_structured(tmp_path):
    with make_app(tmp_path) as (app, server):
        view = sio_client(app)
        for spec, code in [(None, "BAD_SPEC"), ({"layers": []}, "BAD_SPEC"),
                           ({"layers": [{"type": "Warp"}]}, "BAD_SPEC"),
                           ({"layers": [{"type": "Linear", "out_features": 10**6}]},
                            "LAYER_TOO_WIDE"),
                           ({"layers": [{"type": "Tanh"}] * 100}, "TOO_MANY_LAYERS"),
                           ({"layers": [{"type": "Tanh"}], "steps": 10**9}, "TOO_MANY_STEPS"),
                           ({"dataset": "imagenet", "layers": [{"type": "Tanh"}]}, "BAD_SPEC")]:
            r = view.emit("playground", {"spec": spec}, callback=True)
            assert r["error"]["code"] == code, (spec, r)
        assert server.manager.sessions == {}
        view.disconnect()


def test_restart_on_same_store_restores_sessions(tmp_path):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        produce(sc, "keep", scalars(1, 7))
        sc.disconnect()
    with make_app(tmp_path) as (app, server):
        rows = app.test_client().get("/api/sessions", headers=AUTH).json
        assert rows[0]["id"] == "keep" and rows[0]["events"] == 7 and not rows[0]["live"]
        sc = sio_client(app)
        r = sc.emit("hello", {"session": "keep"}, callback=True)
        assert r["last_seq"] == 7
        sc.disconnect()


def test_index_page_sets_cookie(tmp_path):
    with make_app(tmp_path) as (app, server):
        c = app.test_client()
        assert c.get("/").status_code == 401
        r = c.get(f"/?token={TOKEN}")
        assert r.status_code == 200
        assert "gradviz_token" in r.headers.get("Set-Cookie", "")
        assert c.get("/api/sessions").status_code == 200    # the cookie now works for GET


def test_a_producer_s_attach_and_end_reach_viewers_only_and_stay_on_the_session(tmp_path):
    with make_app(tmp_path, producer_token="p" * 40) as (app, server):
        view = sio_client(app)
        other = sio_client(app, token="p" * 40)          # may only produce: no server news
        prod = sio_client(app, token="p" * 40)
        produce(prod, "att", scalars(1, 2))
        assert collect(view, "status") == [{"session": "att", "status": "attached", "message": None}]
        assert prod.emit("bye", {"session": "att", "exit": "ok"}, callback=True)["ok"]
        prod.disconnect()
        assert collect(view, "status") == [{"session": "att", "status": "ended", "message": None}]
        assert collect(other, "status") == []
        # a producer gone without `bye` (killed): the viewers are told it said no goodbye
        produce(other, "att", scalars(3, 4))
        collect(view, "status")
        other.disconnect()
        ended, = collect(view, "status")
        assert ended["status"] == "ended" and ended["message"].startswith("without a goodbye")
        row = next(r for r in app.test_client().get("/api/sessions", headers=AUTH).json
                   if r["id"] == "att")
        assert row["status"] == "ended" and row["live"] is False
        # a viewer that joins afterwards is told in the join answer
        assert view.emit("join", {"session": "att", "after": 0}, callback=True)["session"]["status"] == "ended"
        view.disconnect()
