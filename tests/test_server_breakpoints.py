"""``breakpoints {session, breakpoints}``: every viewer of a session hears of a breakpoint
added or removed by any of them (SERVER.md), and ``phase`` reaches the gate."""
from test_server_util import FakeJob, make_app, received, sio_client


def test_a_breakpoint_change_is_sent_to_every_viewer_of_the_session(tmp_path):
    with make_app(tmp_path) as (app, server):
        s = server.manager.create("playground", sid="p")
        server.manager.create("playground", sid="q")
        job = s.job = FakeJob()
        job.status = "running"   # what a page's join reads of a job
        job.thread.start()
        one, two, other = sio_client(app), sio_client(app), sio_client(app)
        try:
            for c, sid in ((one, "p"), (two, "p"), (other, "q")):
                assert c.emit("join", {"session": sid}, callback=True)["ok"]
                c.get_received()
            r = one.emit("breakpoint", {"session": "p", "op": "Add", "phase": "forward"},
                         callback=True)
            assert r["ok"]
            bp_id = r["state"]["breakpoints"][0]["id"]
            for c in (one, two):
                msgs = received(c, "breakpoints")
                assert len(msgs) == 1 and msgs[0]["session"] == "p"
                assert [(b["id"], b["op"], b["phase"]) for b in msgs[0]["breakpoints"]] == \
                    [(bp_id, "Add", "forward")]
            assert received(other, "breakpoints") == []          # another session's page
            assert two.emit("breakpoint", {"session": "p", "remove": int(bp_id)},
                            callback=True)["ok"]
            assert received(one, "breakpoints") == [{"session": "p", "breakpoints": []}]
            assert job.gate.breakpoints == {}
            bad = two.emit("breakpoint", {"session": "p", "op": "Add", "phase": "sideways"},
                           callback=True)
            assert bad["error"]["code"] == "BAD_BREAKPOINT"
            assert received(one, "breakpoints") == []            # nothing changed
        finally:
            for c in (one, two, other):
                c.disconnect()
            job.stop()


def test_an_op_breakpoint_for_the_backward_pass_does_not_stop_forward(tmp_path):
    """The phase sent by the page reaches the gate: "Add" for backward only first stops
    before a backward node, never after a forward op."""
    with make_app(tmp_path) as (app, server):
        s = server.manager.create("playground", sid="p")
        job = s.job = FakeJob()
        job.thread.start()
        view = sio_client(app)
        try:
            view.emit("join", {"session": "p"}, callback=True)
            job.gate.wait_paused(5)
            n = job.gate.pause_count
            view.emit("breakpoint", {"session": "p", "op": "Add", "phase": "backward"},
                      callback=True)
            assert view.emit("command", {"session": "p", "action": "run"}, callback=True)["ok"]
            p = job.gate.wait_paused(5, after=n)
            assert p["at"] == "before_backward" and p["next"] == 3, p
            assert job.log == [("f", 1), ("f", 2), ("f", 3)]
        finally:
            view.disconnect()
            job.stop()
