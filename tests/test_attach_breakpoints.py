"""Breakpoints set from a page on an attached process: the server answers with the
process's gate state, so a page learns their ids (to remove them) and, on join, which are
set."""
from test_server_util import socket_client, wait_for


def test_breakpoint_acks_carry_the_attached_process_gate_state(attached):
    srv, att = attached("bp")
    with socket_client(srv.base) as viewer:
        r = viewer.call("breakpoint", {"session": "bp", "op": "Exp"}, timeout=10)
        assert r["ok"]
        bps = r["state"]["breakpoints"]          # was None: the id never came back
        assert [b["op"] for b in bps] == ["Exp"] and bps[0]["id"]
        assert list(att.gate.breakpoints) == [bps[0]["id"]]
        joined = viewer.call("join", {"session": "bp", "after": 0}, timeout=10)
        assert joined["state"]["breakpoints"] == bps   # a reloaded page sees it
        r = viewer.call("breakpoint", {"session": "bp", "remove": int(bps[0]["id"])}, timeout=10)
        assert r["state"]["breakpoints"] == []
        wait_for(lambda: not att.gate.breakpoints)
        bad = viewer.call("breakpoint", {"session": "bp", "when": "sometimes"}, timeout=10)
        assert bad["error"]["code"] == "BAD_BREAKPOINT"   # said to the page, not lost
        r = viewer.call("command", {"session": "bp", "action": "pause"}, timeout=10)
        assert r["ok"] and r["state"]["breakpoints"] == []
