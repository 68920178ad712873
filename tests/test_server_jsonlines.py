"""The fast check of a producer's JSON lines gives what the line-by-line check gives, and
`produce {lines}` may come as UTF-8 bytes (a binary attachment)."""
import json
import random

import pytest

from gradviz.web import jsonlines
from gradviz.web.jsonlines import fast_rows, json_text_depth_ok
from gradviz.web.limits import DEFAULT_LIMITS, ApiError
from gradviz.web.sessions import SessionManager
from test_server_util import make_app, sio_client


def depth(v):
    if isinstance(v, dict):
        return 1 + max(map(depth, v.values()), default=0)
    if isinstance(v, list):
        return 1 + max(map(depth, v), default=0)
    return 0


def random_value(rng, d=0):
    r = rng.random()
    if d > 10 or r < 0.3:
        return rng.choice([1, 2.5, None, True, "", "s[", '{"', "\\", "\\\\\"]", "é{[", "\u2028]"])
    if r < 0.65:
        return [random_value(rng, d + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b[", '"{', "\\\\", "]"]): random_value(rng, d + 1)
            for _ in range(rng.randint(0, 3))}


def test_depth_check_is_exact_on_valid_json():
    rng = random.Random(7)
    for _ in range(3000):
        values = [random_value(rng) for _ in range(rng.randint(1, 3))]
        text = "\n".join(json.dumps(v, ensure_ascii=rng.random() < 0.5) for v in values)
        deepest = max(map(depth, values))
        for limit in (0, 1, 2, 3, 5, 8):
            assert json_text_depth_ok(text, limit) == (deepest <= limit), (text, limit)
            assert json_text_depth_ok(text.encode(), limit) == (deepest <= limit)


def line(**ev):
    return json.dumps({"v": 1, "type": "scalar", "session": "a", **ev}, separators=(",", ":"))


CASES = [
    [line(seq=1), line(seq=2, value=0.5)],
    [line(seq=3)],
    [line(seq=1), line(seq=1)],                              # not increasing
    [line(seq=0)],
    [line(seq=True)],
    [line(seq=1.0)],
    [line(seq=1, type="")],
    [line(seq=1, type="x" * 65)],
    [line(seq=1, type=3)],
    [line(seq=1, session="b")],                              # completed by the server
    ['{"type":"x","seq":1,"session":"a"}'],                  # no v: completed
    ['{"v":1,"type":"x","seq":1,"session":"a","x":NaN}'],
    ['{"v":1,"type":"x","seq":1,"session":"a"} '],           # whitespace around
    ['{"v":1,"type":"x","seq":1,"session":"a"}{}'],
    ['[1]'], ['"s"'], [''], ['{'],
    ['{"v":1,"type":"x","seq":1,"session":"a","n":123456789012345678901234567890}'],
    ['{"v":1,"type":"x","seq":1,"session":"a","s":"\\ud800"}'],
    ['{"v":1,"type":"x","seq":1,"session":"a","f":1e400}'],
    ['{"v":1,"type":"x","seq":1,"seq":2,"session":"a"}'],
    ['{"v":1,"type":"é","seq":1,"session":"a"}'],
]


@pytest.mark.parametrize("use_orjson", [True, False])
def test_fast_rows_agree_with_the_line_by_line_check(monkeypatch, use_orjson):
    if not use_orjson:
        monkeypatch.setattr(jsonlines, "_orjson", None)
    elif jsonlines._orjson is None:
        pytest.skip("orjson is not installed")
    mgr = SessionManager.__new__(SessionManager)
    for lines in CASES:
        try:
            slow = mgr._check_lines("a", lines, DEFAULT_LIMITS["max_event_bytes"])
        except ApiError:
            slow = None
        fast = fast_rows(lines, "a")
        # the fast path takes only lines stored exactly as sent, and stores them the same
        assert fast is None or fast == slow, lines
    for lines in (CASES[0], CASES[1], CASES[-1]):    # the common case takes the fast path
        assert fast_rows(lines, "a") == mgr._check_lines("a", lines, 1 << 20)


def test_lines_may_come_as_bytes(tmp_path):
    with make_app(tmp_path) as (app, server):
        p = sio_client(app)
        r = p.emit("hello", {"session": "a"}, callback=True)
        assert r["ok"] and r["lines_bytes"] is True
        text = "\n".join(line(seq=i, name="é", value=i / 3) for i in range(1, 201))
        r = p.emit("produce", {"session": "a", "lines": text.encode()}, callback=True)
        assert r == {"ok": True, "last_seq": 200}
        assert [b for _, b in server.store.read_raw("a", 0, 1000)] == text.split("\n")
        r = p.emit("produce", {"session": "a", "lines": b'{"seq":201,"type":"\xff"}'},
                   callback=True)
        assert r["error"]["code"] == "BAD_MESSAGE"
        deep = line(seq=201, d=json.loads("[" * 40 + "1" + "]" * 40))
        r = p.emit("produce", {"session": "a", "lines": deep.encode()}, callback=True)
        assert r["error"]["code"] == "TOO_DEEP"
        p.disconnect()
