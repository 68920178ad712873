"""The fast streaming wire: `produce {lines}` (JSON lines), `join {raw}` (JSON text batches),
and `produce {after}` ordering for several batches in flight."""
import json

from test_server_util import TOKEN, make_app, received, sio_client, wait_for

AUTH = {"Authorization": f"token {TOKEN}"}


def lines(a, b, session="a", **extra):
    return "\n".join(json.dumps({"v": 1, "type": "scalar", "seq": i, "session": session,
                                 "name": "loss", "value": float(i), **extra})
                     for i in range(a, b + 1))


def hello(client, session="a"):
    assert client.emit("hello", {"session": session}, callback=True)["ok"]


def test_lines_are_stored_as_sent_and_acknowledged(tmp_path):
    with make_app(tmp_path) as (app, server):
        p = sio_client(app)
        hello(p)
        text = lines(1, 300)
        assert p.emit("produce", {"session": "a", "lines": text + "\n"},
                      callback=True) == {"ok": True, "last_seq": 300}
        assert [b for _, b in server.store.read_raw("a", 0, 1000)] == text.split("\n")
        # a line without this session's id (or without v) is completed by the server
        r = p.emit("produce", {"session": "a", "lines": '{"type":"scalar","seq":301,'
                                                         '"session":"other"}'}, callback=True)
        assert r["last_seq"] == 301
        ev = server.store.read("a", 300, 10)[0]
        assert ev["session"] == "a" and ev["v"] == 1
        # re-sent lines are stored once
        assert p.emit("produce", {"session": "a", "lines": lines(250, 310)},
                      callback=True)["last_seq"] == 310
        assert server.manager.get("a").count == 310
        page = app.test_client().get("/api/sessions/a/events?after=0&limit=5000",
                                     headers=AUTH).json
        assert [e["seq"] for e in page["events"]] == list(range(1, 311))
        p.disconnect()


def test_bad_lines_get_structured_errors(tmp_path):
    limits = {"max_batch_events": 50, "max_event_bytes": 400, "max_json_depth": 8}
    with make_app(tmp_path, limits=limits) as (app, server):
        p = sio_client(app)
        hello(p)
        deep = '{"type":"x","seq":1,"d":' + "[" * 7 + "1" + "]" * 7 + "}"
        for text, code in [(lines(1, 51), "TOO_MANY_EVENTS"),
                           (lines(1, 1, pad="x" * 500), "EVENT_TOO_LARGE"),
                           ('{"type":"x","seq":1,"value":NaN}', "BAD_EVENT"),
                           ('{"type":"x","seq":1} {"type":"x","seq":2}', "BAD_EVENT"),
                           ("[1, 2]", "BAD_EVENT"), ('{"type":"x"}', "BAD_SEQ"),
                           (lines(2, 2) + "\n" + lines(1, 1), "BAD_SEQ"),
                           ('{"type":"","seq":1}', "BAD_EVENT"), (deep, "TOO_DEEP"),
                           (12, "BAD_MESSAGE")]:
            r = p.emit("produce", {"session": "a", "lines": text}, callback=True)
            assert r["error"]["code"] == code, (text, r)
        # brackets inside strings do not count as nesting
        ok = '{"type":"x","seq":1,"s":"' + "[" * 20 + '"}'
        assert p.emit("produce", {"session": "a", "lines": ok}, callback=True)["ok"]
        assert server.manager.get("a").count == 1
        p.disconnect()


def test_raw_viewer_gets_json_text_batches(tmp_path):
    with make_app(tmp_path) as (app, server):
        p, raw, plain = sio_client(app), sio_client(app), sio_client(app)
        hello(p)
        p.emit("produce", {"session": "a", "lines": lines(1, 700)}, callback=True)
        raw.emit("join", {"session": "a", "after": 0, "raw": True}, callback=True)
        plain.emit("join", {"session": "a", "after": 0}, callback=True)
        wait_for(lambda: all(f["live"] for f in server.fanout.stats()))
        p.emit("produce", {"session": "a", "lines": lines(701, 900)}, callback=True)
        got_raw, got_plain = [], []

        def done():
            for batch in received(raw, "events"):
                assert isinstance(batch, str)
                got_raw.extend(json.loads(batch))
            for batch in received(plain, "events"):
                assert isinstance(batch, list)
                got_plain.extend(batch)
            return len(got_raw) >= 900 and len(got_plain) >= 900

        wait_for(done)
        assert [e["seq"] for e in got_raw] == list(range(1, 901))
        assert got_raw == got_plain
        for c in (p, raw, plain):
            c.disconnect()


def test_batches_in_flight_are_stored_in_order(tmp_path, monkeypatch):
    import gradviz.web.sessions as sessions
    monkeypatch.setattr(sessions, "ORDER_TIMEOUT", 0.3)
    with make_app(tmp_path) as (app, server):
        p = sio_client(app)
        hello(p)
        # the batch it follows never came: refused, nothing stored
        r = p.emit("produce", {"session": "a", "lines": lines(11, 20), "after": 10},
                   callback=True)
        assert r["ok"] is False and r["error"]["code"] == "OUT_OF_ORDER" and r["last_seq"] == 0
        # far ahead of anything in flight: refused at once
        r = p.emit("produce", {"session": "a", "lines": lines(10**6, 10**6), "after": 10**6 - 1},
                   callback=True)
        assert r["error"]["code"] == "OUT_OF_ORDER"
        assert p.emit("produce", {"session": "a", "lines": lines(1, 10)}, callback=True)["ok"]
        r = p.emit("produce", {"session": "a", "lines": lines(11, 20), "after": 10},
                   callback=True)
        assert r == {"ok": True, "last_seq": 20}
        bad = p.emit("produce", {"session": "a", "lines": lines(21, 21), "after": "x"},
                     callback=True)
        assert bad["error"]["code"] == "BAD_MESSAGE"
        assert [e["seq"] for e in server.store.read("a", 0, 100)] == list(range(1, 21))
        p.disconnect()
