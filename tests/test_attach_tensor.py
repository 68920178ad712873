"""Full values of an attached session's nodes: the server asks the producer (gv.attach)
over its socket and relays the answer, within the size limit, or a structured error."""
import numpy as np
import requests
from test_server_util import TOKEN, served, socket_client, wait_for

import gradviz as gv
from gradviz.remote import attach
from gradviz.remote_tensor import answer
from gradviz.trace.gate import StepGate

AUTH = {"Authorization": f"token {TOKEN}"}


def events_of(srv, sid):
    return requests.get(f"{srv.base}/api/sessions/{sid}/events", params={"limit": 5000},
                        headers=AUTH, timeout=10).json()["events"]


def test_tensor_of_an_attached_session_comes_from_the_producer(tmp_path):
    with served(tmp_path / "s.sqlite") as srv:
        att = attach(srv.base, token=TOKEN, session="tv")
        try:
            w = gv.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), requires_grad=True)
            y = (w * 3.0).tanh()
            loss = y.sum()
            loss.backward()
            assert att.flush(30)
            evs = events_of(srv, "tv")
            mul = next(e for e in evs if e["type"] == "op" and e["op"] == "Mul")
            leaf = next(e for e in evs if e["type"] == "leaf")
            with socket_client(srv.base) as viewer:
                got = []
                viewer.on("tensor", got.append)
                r = viewer.call("tensor", {"session": "tv", "node": mul["node"],
                                           "what": "value"}, timeout=20)
                assert r["shape"] == [3, 4] and r["what"] == "value"
                np.testing.assert_allclose(r["values"], w.detach().numpy() * 3.0)
                wait_for(lambda: got)
                assert got[0]["node"] == mul["node"]
                g = viewer.call("tensor", {"session": "tv", "node": mul["node"], "what": "grad"},
                                timeout=20)
                np.testing.assert_allclose(g["values"], 1 - np.tanh(w.detach().numpy() * 3) ** 2,
                                           rtol=1e-4, atol=1e-6)
                # a leaf (the parameter) the gate never saw: its live Tensor answers
                lv = viewer.call("tensor", {"session": "tv", "node": leaf["node"]}, timeout=20)
                np.testing.assert_allclose(lv["values"], w.detach().numpy())
                lg = viewer.call("tensor", {"session": "tv", "node": leaf["node"],
                                            "what": "grad"}, timeout=20)
                np.testing.assert_allclose(lg["values"], w.grad.numpy(), rtol=1e-4, atol=1e-6)
                gone = viewer.call("tensor", {"session": "tv", "node": 10 ** 9}, timeout=20)
                assert gone["error"]["code"] == "NOT_AVAILABLE"
                assert "no longer keeps" in gone["error"]["message"]
                att.close()
                wait_for(lambda: not viewer.call("tensor", {"session": "tv",
                                                            "node": mul["node"]},
                                                 timeout=20).get("values"))
                r = viewer.call("tensor", {"session": "tv", "node": mul["node"]}, timeout=20)
                assert r["error"]["code"] == "NOT_AVAILABLE"
                assert "no connected producer" in r["error"]["message"]
        finally:
            att.close()


def test_producer_answer_respects_the_limits_and_keeps_a_bounded_window():
    gate = StepGate(emit=lambda ev: None, flush=lambda: None, keep_values=1000)
    for node in range(1, 6):
        gate.after_forward(node, "Add", np.full(50, float(node)))   # 400 bytes each
    assert answer(gate, {"node": 1})["error"]["code"] == "NOT_AVAILABLE"   # dropped
    ok = answer(gate, {"node": 5, "what": "value"})
    assert ok["ok"] and ok["shape"] == [50] and ok["values"][0] == 5.0
    big = answer(gate, {"node": 5, "max_elements": 10})
    assert big["error"]["code"] == "TENSOR_TOO_LARGE"
    big = answer(gate, {"node": 5, "max_bytes": 20})
    assert big["error"]["code"] == "TENSOR_TOO_LARGE"
    assert answer(gate, {"node": "x"})["error"]["code"] == "BAD_MESSAGE"
    assert answer(gate, None)["error"]["code"] == "BAD_MESSAGE"
