"""The SQLite WAL event store: batches, idempotent seqs, retention, restart, torn records."""
import os
import sqlite3

from gradviz.trace.store import EventStore


def evs(a, b, session="s"):
    return [{"v": 1, "type": "scalar", "session": session, "seq": i, "name": "loss",
             "value": float(i), "step": i} for i in range(a, b + 1)]


def test_append_read_in_seq_order(tmp_path):
    st = EventStore(str(tmp_path / "e.sqlite"))
    try:
        st.ensure_session("s", "attached")
        assert st.append("s", evs(1, 50)) == 50
        got = st.read("s", after=10, limit=5)
        assert [e["seq"] for e in got] == [11, 12, 13, 14, 15]
        assert st.last_seq("s") == 50
        assert [e["seq"] for e in st.tail("s", 3)] == [48, 49, 50]
        assert len(list(st.iter_raw("s", page=7))) == 50
    finally:
        st.close()


def test_resent_events_are_stored_once(tmp_path):
    st = EventStore(str(tmp_path / "e.sqlite"))
    try:
        st.ensure_session("s", "attached")
        st.append("s", evs(1, 10))
        assert st.append("s", evs(5, 15)) == 5
        rows = st.sessions()
        assert rows[0]["events"] == 15 and rows[0]["last_seq"] == 15
        assert [e["seq"] for e in st.read("s", 0, 100)] == list(range(1, 16))
    finally:
        st.close()


def test_restart_brings_sessions_back(tmp_path):
    path = str(tmp_path / "e.sqlite")
    st = EventStore(path)
    st.ensure_session("a", "playground", {"title": "A"})
    st.ensure_session("b", "replay")
    st.append("a", evs(1, 3, "a"))
    st.close()
    st = EventStore(path)
    try:
        rows = {r["id"]: r for r in st.sessions()}
        assert set(rows) == {"a", "b"}
        assert rows["a"]["meta"] == {"title": "A"} and rows["a"]["events"] == 3
        assert st.read("a")[-1]["seq"] == 3
    finally:
        st.close()


def test_retention_keeps_the_newest(tmp_path):
    st = EventStore(str(tmp_path / "e.sqlite"), retention=100)
    try:
        st.ensure_session("s", "attached")
        for k in range(10):
            st.append("s", evs(k * 50 + 1, k * 50 + 50))
        assert st.first_seq("s") == 401
        assert st.sessions()[0]["events"] == 100
        assert st.last_seq("s") == 500
    finally:
        st.close()


def test_wal_mode_and_torn_tail_tolerated(tmp_path):
    path = str(tmp_path / "e.sqlite")
    st = EventStore(path)
    st.ensure_session("s", "attached")
    st.append("s", evs(1, 20))
    # simulate a crash: copy the files as they are on disk (WAL not checkpointed)
    assert st._w.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    crash = str(tmp_path / "crash.sqlite")
    with open(path, "rb") as f:
        main = f.read()
    with open(path + "-wal", "rb") as f:
        wal = f.read()
    st.close()
    with open(crash, "wb") as f:
        f.write(main)
    with open(crash + "-wal", "wb") as f:
        f.write(wal + os.urandom(3000))   # a frame torn mid-write
    st = EventStore(crash)
    try:
        assert [e["seq"] for e in st.read("s", 0, 100)] == list(range(1, 21))
        st.append("s", evs(21, 22))
        assert st.last_seq("s") == 22
    finally:
        st.close()
    db = sqlite3.connect(crash)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
