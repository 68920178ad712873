"""Promise 8 past retention: a viewer whose offset is older than the kept events gets a
``snapshot`` that rebuilds the current state, then exactly the events after it."""
import json
import time

from test_server_util import TOKEN, make_app, received, sio_client, wait_for

from gradviz.trace.store import EventStore


def training_events(steps, per_step_ops=3):
    """Producer events of ``steps`` training steps: a parameter leaf (once), an input
    leaf per step, ops, backward, update and loss; seqs from 1."""
    out = []

    def add(**ev):
        out.append(dict(ev, seq=len(out) + 1))

    add(type="leaf", node=1, name="w", shape=[3])
    node = 100
    for step in range(steps):
        x = node = node + 1
        add(type="leaf", node=x, name=None, shape=[3])
        ops = []
        prev = x
        for k in range(per_step_ops):
            node += 1
            add(type="op", node=node, op="Mul", inputs=[prev, 1], shape=[3])
            ops.append(node)
            prev = node
        add(type="backward_begin", root=prev, count=len(ops))
        for n in reversed(ops):
            add(type="grad", node=n, grad={"norm": 1.0}, contribs=[])
        add(type="accum", node=1, grad={"norm": 1.0})
        add(type="backward_end", root=prev, count=len(ops))
        add(type="param_update", node=1, name="w", optimizer="SGD", lr=0.1, ratio=0.01)
        add(type="scalar", name="loss", value=1.0 / (step + 1), step=step)
    return out


def collect(view, into):
    """Move received snapshot/events/gap messages of ``view`` into ``into`` (in order)."""
    for m in view.get_received():
        if m["name"] in ("snapshot", "events", "gap"):
            into.append((m["name"], m["args"][0]))
    return into


def test_store_snapshot_is_the_current_step_plus_latest_per_node(tmp_path):
    st = EventStore(str(tmp_path / "e.sqlite"), retention=40)
    st.ensure_session("s", "attached")
    evs = [dict(e, session="s") for e in training_events(10)]
    st.append("s", evs)
    upto, rows = st.snapshot_raw("s")
    assert upto == len(evs) == st.last_seq("s")
    got = [json.loads(b) for _, b in rows]
    # the loss of every step still kept, once per step, first
    scal = [e for e in got if e["type"] == "scalar"]
    assert [e["step"] for e in scal] == sorted({e["step"] for e in scal})
    assert got[:len(scal)] == scal and scal[-1]["step"] == 9
    rest = got[len(scal):]
    # the last step's events come last, complete and in seq order
    last_step = [e for e in evs if e["seq"] > evs[-1]["seq"] - 13 and e["type"] != "scalar"]
    assert rest[-len(last_step):] == last_step
    # before them: the latest update of the parameter (its leaf event was trimmed)
    pre = rest[:-len(last_step)]
    assert [e["type"] for e in pre] == ["param_update"]
    assert pre[0]["seq"] < last_step[0]["seq"]
    st.close()
    big = EventStore(str(tmp_path / "f.sqlite"), retention=1000)
    big.ensure_session("s", "attached")
    evs = training_events(10)
    big.append("s", [dict(e, session="s") for e in evs])
    _, rows = big.snapshot_raw("s")
    leaves = [json.loads(b) for _, b in rows if '"type":"leaf"' in b]
    # the parameter's leaf (from step 0) and this step's input, not the older inputs
    last_input = [e for e in evs if e["type"] == "leaf"][-1]["node"]
    assert [e["node"] for e in leaves] == [1, last_input]
    big.close()


def test_join_older_than_retention_gets_a_snapshot_then_live_events(tmp_path):
    with make_app(tmp_path, retention=40) as (app, _):
        prod, view = sio_client(app), sio_client(app)
        prod.emit("hello", {"session": "r"}, callback=True)
        evs = training_events(10)
        n = len(evs)
        prod.emit("produce", {"session": "r", "events": evs}, callback=True)
        view.emit("join", {"session": "r", "after": 0}, callback=True)
        msgs = []
        wait_for(lambda: collect(view, msgs) and msgs[0][0] == "snapshot")
        _, snap = msgs[0]
        assert snap["session"] == "r" and snap["from_seq"] == 1 and snap["upto_seq"] == n
        assert snap["events"][-1]["seq"] == n - 1 and snap["events"][-1]["type"] == \
            "param_update"
        assert not any(m[0] == "gap" for m in msgs)
        more = training_events(12)[n:]
        prod.emit("produce", {"session": "r", "events": more}, callback=True)
        wait_for(lambda: collect(view, msgs) and
                 [e["seq"] for m in msgs[1:] if m[0] == "events" for e in m[1]] ==
                 list(range(n + 1, n + len(more) + 1)))
        assert all(m[0] == "events" for m in msgs[1:])
        prod.disconnect()
        view.disconnect()


def test_reconnect_within_retention_still_gets_exact_events(tmp_path):
    with make_app(tmp_path, retention=1000) as (app, _):
        prod, view = sio_client(app), sio_client(app)
        prod.emit("hello", {"session": "k"}, callback=True)
        evs = training_events(20)
        prod.emit("produce", {"session": "k", "events": evs[:100]}, callback=True)
        prod.emit("produce", {"session": "k", "events": evs[100:]}, callback=True)
        view.emit("join", {"session": "k", "after": 100}, callback=True)
        msgs = []
        wait_for(lambda: collect(view, msgs) and sum(len(m[1]) for m in msgs) >= len(evs) - 100)
        time.sleep(0.1)
        collect(view, msgs)
        assert [m[0] for m in msgs] == ["events"] * len(msgs)
        assert [e["seq"] for m in msgs for e in m[1]] == list(range(101, len(evs) + 1))
        prod.disconnect()
        view.disconnect()


def test_reconnect_after_trim_gets_a_snapshot_not_a_gap(tmp_path):
    with make_app(tmp_path, retention=40) as (app, _):
        prod, view = sio_client(app), sio_client(app)
        prod.emit("hello", {"session": "t"}, callback=True)
        evs = training_events(30)
        prod.emit("produce", {"session": "t", "events": evs[:30]}, callback=True)
        view.emit("join", {"session": "t", "after": 0}, callback=True)
        msgs = []
        wait_for(lambda: collect(view, msgs) and
                 sum(len(m[1]) for m in msgs if m[0] == "events") >= 30)
        assert [m[0] for m in msgs] == ["events"] * len(msgs)   # nothing trimmed yet
        view.disconnect()
        prod.emit("produce", {"session": "t", "events": evs[30:]}, callback=True)
        view = sio_client(app)
        view.emit("join", {"session": "t", "after": 30}, callback=True)
        msgs = []
        wait_for(lambda: collect(view, msgs))
        assert msgs[0][0] == "snapshot" and msgs[0][1]["upto_seq"] == len(evs)
        assert {e["seq"] for e in msgs[0][1]["events"]} <= set(range(len(evs) - 39, len(evs) + 1))
        assert not received(view, "gap") and "gap" not in [m[0] for m in msgs]
        prod.disconnect()
        view.disconnect()


def test_http_snapshot_route(tmp_path):
    with make_app(tmp_path, retention=40) as (app, _):
        prod = sio_client(app)
        prod.emit("hello", {"session": "h"}, callback=True)
        evs = training_events(10)
        prod.emit("produce", {"session": "h", "events": evs}, callback=True)
        http = app.test_client()
        r = http.get("/api/sessions/h/snapshot", headers={"Authorization": f"token {TOKEN}"})
        body = r.get_json()
        assert r.status_code == 200 and body["upto_seq"] == len(evs)
        assert body["first_seq"] == len(evs) - 39
        assert body["events"][-1]["type"] == "param_update"
        assert http.get("/api/sessions/h/snapshot").status_code == 401
        prod.disconnect()
