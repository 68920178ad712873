"""Server and CLI hardening from QA: no 500s, no starved viewers, clear CLI errors."""
import json
import re
import subprocess
import sys

import pytest
import requests

from gradviz.cli import _load_replay, build_parser, load_recording, main
from gradviz.errors import GradvizError
from gradviz.trace.pipeline import Fanout
from test_server_util import (ROOT, TOKEN, make_app, received, scalars, served, sio_client,
                              stop_process, wait_for)

AUTH = {"Authorization": f"token {TOKEN}"}


def produce(client, session, events):
    r = client.emit("hello", {"session": session}, callback=True)
    assert r["ok"], r
    return client.emit("produce", {"session": session, "events": events}, callback=True)


def got_events(client):
    return [e for batch in received(client, "events") for e in batch]


# ---- 1: one viewer's join must not stall the others ---------------------------------
def test_huge_join_offset_does_not_stall_other_viewers(tmp_path):
    with make_app(tmp_path) as (app, server):
        prod, bad, good = sio_client(app), sio_client(app), sio_client(app)
        produce(prod, "a", scalars(1, 10))
        r = bad.emit("join", {"session": "a", "after": 10 ** 30}, callback=True)
        assert r["ok"]
        good.emit("join", {"session": "a", "after": 0}, callback=True)
        seen = []
        wait_for(lambda: seen.extend(got_events(good)) or len(seen) >= 10)
        prod.emit("produce", {"session": "a", "events": scalars(11, 12)}, callback=True)
        wait_for(lambda: seen.extend(got_events(good)) or len(seen) >= 12)
        assert [e["seq"] for e in seen] == list(range(1, 13))
        # the clamped viewer follows live events from the end
        wait_for(lambda: [e["seq"] for e in got_events(bad)] == [11, 12])
        for after in ("x", 1.5):
            r = bad.emit("join", {"session": "a", "after": after}, callback=True)
            assert r["error"]["code"] == "BAD_MESSAGE"
        assert bad.emit("join", {"session": "a", "after": -1}, callback=True)["ok"]
        for c in (prod, bad, good):
            c.disconnect()


def test_pump_drops_only_the_feed_that_fails():
    sent = []

    def catch_up(session, after, limit):
        if session == "broken":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return [(i, json.dumps({"seq": i})) for i in range(after + 1, min(after + limit, 3) + 1)]

    fan = Fanout(lambda sid, name, payload: sent.append((sid, name, payload)),
                 lambda sid: True, catch_up)
    fan.join("b", "broken")
    fan.join("c", "ok")
    fan.pump_once(lambda s: __import__("threading").Lock(), lambda s: 3)
    assert ("c", "events", [{"seq": 1}, {"seq": 2}, {"seq": 3}]) in sent
    assert [p["code"] for sid, name, p in sent if sid == "b"] == ["FEED_FAILED"]
    assert ("b", "broken") not in fan.feeds and ("c", "ok") in fan.feeds


# ---- 2: structured errors, never a 500 -----------------------------------------------
def test_events_after_huge_offset_is_an_empty_page(tmp_path):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        produce(sc, "a", scalars(1, 3))
        r = app.test_client().get("/api/sessions/a/events?after=" + "9" * 30, headers=AUTH)
        assert r.status_code == 200 and r.json["events"] == [] and r.json["last_seq"] == 3
        sc.disconnect()


def test_deeply_nested_command_body_is_too_deep(tmp_path):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        produce(sc, "a", scalars(1, 1))
        c = app.test_client()
        for body in ("[" * 100000, json.dumps({"action": "run", "x": [[[[[[1]]]]]] * 1}),
                     '{"action": "run", "x": ' + "[" * 40 + "]" * 40 + "}"):
            r = c.post("/api/sessions/a/command", data=body, headers=AUTH,
                       content_type="application/json")
            assert r.status_code != 500, body[:50]
        r = c.post("/api/sessions/a/command", data="[" * 100000, headers=AUTH,
                   content_type="application/json")
        assert r.status_code == 413 and r.json["error"]["code"] == "TOO_DEEP"
        sc.disconnect()


@pytest.mark.parametrize("events", [
    [{"type": "op", "seq": 1}],
    [{"type": "op", "node": 1, "seq": 1, "inputs": 5}],
    [{"type": "op", "node": "a", "seq": 1, "inputs": []},
     {"type": "op", "node": 2, "seq": 2, "inputs": ["a", [1]]}],
    [{"type": "grad", "node": [1], "seq": 1}, {"type": "leaf", "node": 2, "seq": 2}],
    [{"type": "leaf", "node": 1, "seq": 1},
     {"type": "op", "node": 2, "seq": 2, "inputs": [1], "stats": 5, "op": "Add"}],
])
def test_graph_export_survives_malformed_producer_events(tmp_path, events):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        assert produce(sc, "m", events)["ok"]
        c = app.test_client()
        for fmt in ("svg", "dot", "json"):
            r = c.get(f"/api/sessions/m/graph.{fmt}", headers=AUTH)
            assert r.status_code in (200, 422), (fmt, r.status_code, r.data[:200])
            if r.status_code == 422:
                assert r.json["error"]["code"] == "BAD_EVENTS"
        sc.disconnect()


def test_recording_download_of_a_non_ascii_session(tmp_path):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        produce(sc, "é✓ 训练", scalars(1, 2))
        r = app.test_client().get("/api/sessions/%C3%A9%E2%9C%93%20%E8%AE%AD%E7%BB%83/recording",
                                  headers=AUTH)
        assert r.status_code == 200 and len(r.data.splitlines()) == 2
        cd = r.headers["Content-Disposition"]
        cd.encode("latin-1")   # a valid header
        assert "filename*=UTF-8''%C3%A9%E2%9C%93%20%E8%AE%AD%E7%BB%83.jsonl" in cd
        sc.disconnect()


def test_unreachable_session_ids_are_refused_at_hello(tmp_path):
    with make_app(tmp_path) as (app, server):
        sc = sio_client(app)
        for sid in ("a/b", "..", ".", "a\nb", "a\\b"):
            r = sc.emit("hello", {"session": sid}, callback=True)
            assert r["error"]["code"] == "BAD_SESSION_ID", sid
        assert server.manager.sessions == {}
        assert sc.emit("hello", {"session": "ok.1_x-é"}, callback=True)["ok"]
        sc.disconnect()


def test_command_to_an_ended_attached_session_is_409(tmp_path):
    with make_app(tmp_path) as (app, server):
        prod = sio_client(app)
        produce(prod, "att", scalars(1, 2))
        prod.disconnect()
        c = app.test_client()
        r = c.post("/api/sessions/att/command", json={"action": "run"}, headers=AUTH)
        assert r.status_code == 409 and r.json["error"]["code"] == "NOT_CONTROLLABLE"
        view = sio_client(app)
        r = view.emit("command", {"session": "att", "action": "pause"}, callback=True)
        assert r["error"]["code"] == "NOT_CONTROLLABLE"
        view.disconnect()


# ---- 5: a 0.0.0.0 bind answers to the machine's own addresses ------------------------
def test_wildcard_bind_accepts_own_ip_literals_only(tmp_path):
    with make_app(tmp_path, host="0.0.0.0") as (app, server):
        c = app.test_client()
        # 127.0.0.2 is a local address but not in the name list
        assert c.get("/api/health", headers={"Host": "127.0.0.2:5000"}).status_code == 200
        for host in ("203.0.113.7:5000", "evil.example:5000", "0.0.0.0:5000"):
            r = c.get("/api/health", headers={"Host": host})
            assert r.status_code == 403 and r.json["error"]["code"] == "BAD_HOST", host
    with make_app(tmp_path, host="127.0.0.1") as (app, server):
        r = app.test_client().get("/api/health", headers={"Host": "127.0.0.2:5000"})
        assert r.status_code == 403


# ---- 3: corrupt recordings ---------------------------------------------------------------
@pytest.mark.parametrize("line, why", [
    ('{"type":"op"}', "malformed op event (no 'node')"),
    ('{"type":"op","node":"x","inputs":[]}', "'node' must be an integer"),
    ('{"type":"op","node":1,"inputs":5}', "'inputs' must be a list"),
])
def test_malformed_graph_event_names_file_and_line(tmp_path, line, why, capsys):
    path = tmp_path / "r.jsonl"
    path.write_text('{"type":"leaf","node":1}\n' + line + "\ngarbage\n")
    with pytest.raises(GradvizError, match=f"r.jsonl:2: .*{re.escape(why)}"):
        load_recording(str(path))
    assert main(["export", str(path), "-o", str(tmp_path / "o.svg")]) == 1
    assert "r.jsonl:2: " in capsys.readouterr().err


def test_bare_nan_recording_loads_and_replays(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text('{"type":"op","node":1,"inputs":[],"stats":{"mean":NaN,"max":Infinity,'
                    '"min":-Infinity}}\n')
    events = load_recording(str(path))
    assert events[0]["stats"] == {"mean": "nan", "max": "inf", "min": "-inf"}
    with make_app(tmp_path) as (app, server):
        s = _load_replay(server, str(path), events)
        assert server.manager.get(s.id).count == 1


def test_recording_load_shares_the_cli_handling(tmp_path):
    import gradviz as gv
    path = tmp_path / "t.jsonl"
    path.write_text('{"type":"leaf","node":1,"seq":1}\n{"type":"op","se')
    rec = gv.trace.Recording.load(str(path))
    assert [e["node"] for e in rec.events] == [1]
    path.write_text('{"type":"op","node":1,"inputs":5}\n{"type":"leaf","node":2}\n')
    with pytest.raises(GradvizError, match="t.jsonl:1: malformed op event"):
        gv.trace.Recording.load(str(path))


# ---- 7, 4: command-line values -------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["serve", "--port", "99999"], ["serve", "--port", "-1"], ["serve", "--retention", "0"],
    ["serve", "--retention", "-5"], ["serve", "--token", ""], ["replay", "--port", "70000", "f"],
    ["serve", "--message-queue", "bogus://x"], ["export", "f", "-o", "o", "--max-nodes", "-1"],
])
def test_bad_option_values_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(argv)
    assert e.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_unreachable_message_queue_is_one_clear_line(tmp_path):
    cmd = [sys.executable, "-m", "gradviz.cli", "serve", "--port", "0", "--no-browser",
           "--no-default", "--store", str(tmp_path / "s.sqlite"),
           "--message-queue", "redis://127.0.0.1:1/0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        proc.wait(timeout=60)
    finally:
        rc, out, err = stop_process(proc)
    assert rc == 2, (out, err)
    assert "Traceback" not in err and "serving at" not in out
    assert "cannot use the message queue redis://127.0.0.1:1/0" in err


# ---- 9: export messages --------------------------------------------------------------
def test_export_node_limit_names_the_cli_option(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(ev) + "\n" for ev in [
        {"type": "leaf", "node": 1}, {"type": "leaf", "node": 2},
        {"type": "op", "node": 3, "op": "Mul", "inputs": [1, 2]},
        {"type": "op", "node": 4, "op": "Sum", "inputs": [3]}]))
    out = tmp_path / "o.svg"
    assert main(["export", str(path), "-o", str(out), "--max-nodes", "2"]) == 1
    err = capsys.readouterr().err
    assert "--max-nodes 0" in err and "max_nodes=None" not in err
    assert main(["export", str(path), "-o", str(out), "--max-nodes", "0"]) == 0
    assert out.read_bytes().lstrip().startswith(b"<")


def test_export_of_an_empty_recording_fails_clearly(tmp_path, capsys):
    path = tmp_path / "e.jsonl"
    path.write_text('{"type":"scalar","name":"loss","value":1}\n')
    out = tmp_path / "o.svg"
    assert main(["export", str(path), "-o", str(out)]) == 1
    assert "has no graph" in capsys.readouterr().err and not out.exists()


# ---- 8: `gradviz run` -------------------------------------------------------------------
def test_run_checks_the_script_before_attaching(tmp_path, monkeypatch, capsys):
    import gradviz.remote
    monkeypatch.setattr(gradviz.remote, "attach",
                        lambda *a, **k: pytest.fail("attached before checking the script"))
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n")
    assert main(["run", "--url", "http://127.0.0.1:1", str(tmp_path / "none.py")]) == 1
    assert main(["run", "--url", "http://127.0.0.1:1", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "cannot run" in err and "bad.py:1: SyntaxError" in err


def test_session_listing_says_how_an_attached_process_ended(tmp_path):
    scripts = {"ok": "import gradviz as gv\ngv.trace.scalar('loss', 1.0, 0)\n",
               "err": "import gradviz as gv\ngv.trace.scalar('loss', 1.0, 0)\n"
                      "raise ValueError('boom')\n",
               "intr": "import gradviz as gv\ngv.trace.scalar('loss', 1.0, 0)\n"
                       "raise KeyboardInterrupt\n"}
    with served(tmp_path / "s.sqlite") as srv:
        for name, text in scripts.items():
            script = tmp_path / f"{name}.py"
            script.write_text(text)
            subprocess.run([sys.executable, "-m", "gradviz.cli", "run", "--url", srv.base,
                            "--token", TOKEN, "--session", name, str(script)],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)

        def exits():
            rows = requests.get(f"{srv.base}/api/sessions", headers=AUTH, timeout=10).json()
            return {r["id"]: r.get("exit") for r in rows if not r["live"]}
        wait_for(lambda: len(exits()) == 3)
        assert exits() == {"ok": "ok", "err": "error: ValueError", "intr": "interrupted"}


def test_json_export_labels_unnamed_leaves_as_the_drawings_do():
    """graph_json (``gradviz export … .json``, the graph.json route) called unnamed leaves
    ``leaf N`` while the SVG/DOT drawings say param/input."""
    import gradviz as gv
    from gradviz import viz
    from gradviz.web.export import graph_json
    w = gv.tensor([1.0, 2.0], requires_grad=True)
    with gv.trace.record() as rec:
        (w * gv.tensor([3.0, 4.0])).sum().backward()
    labels = sorted(n["label"] for n in graph_json(rec.events)["nodes"] if n["kind"] == "leaf")
    drawn = sorted(n.label for n in viz.graph(rec).nodes.values()
                   if n.kind in ("param", "input"))
    assert labels == drawn == ["input", "param"]


def test_a_job_that_announced_its_end_is_not_live_while_its_thread_winds_down():
    """A job sends done/stopped/error from its own thread just before the thread exits; a
    page that re-lists sessions on that news saw the session as still live (a flaky label
    under load)."""
    import threading
    from gradviz.web.sessions import Session
    release = threading.Event()

    class Winding:
        status = "running"
        thread = threading.Thread(target=release.wait, daemon=True)

        def alive(self):
            return self.thread.is_alive()
    s = Session("pg-1", "playground")
    s.job = Winding()
    s.job.thread.start()
    try:
        assert s.info()["live"]
        for status in ("done", "stopped", "error"):
            s.job.status = status
            assert not s.info()["live"], status
    finally:
        release.set()
        s.job.thread.join(5)


def test_attach_keeps_its_batches_under_the_servers_message_limit(tmp_path):
    """hello announces max_message_bytes (engine.io closes a connection that sends more);
    gv.attach batches well under it, so a server with a small limit still receives every
    event of a chatty script over one connection (before: 1 MiB batches, dropped)."""
    import threading
    import gradviz as gv
    from werkzeug.serving import make_server
    from gradviz.web.app import create_app
    app = create_app({"store": str(tmp_path / "s.sqlite"), "token": TOKEN,
                      "default_session": False, "limits": {"max_message_bytes": 64 * 1024}})
    ext = app.extensions["gradviz"].start()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        att = gv.attach(f"http://127.0.0.1:{http.server_port}", token=TOKEN, session="small")
        try:
            assert att.batch_bytes == 16 * 1024
            x = gv.randn(8, 8, requires_grad=True)
            for _ in range(150):                       # ~0.5 MB of events
                (x.tanh() * 2).sum().backward()
            assert att.flush(60)
            sent = att.seq
        finally:
            att.close()
        assert sent > 1000 and ext.manager.get("small").last_seq == sent
    finally:
        ext.stop()
        http.shutdown()
        thread.join(5)
