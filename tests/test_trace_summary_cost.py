"""The cheaper summaries and encoding behind B3/B4: same events, smaller and faster."""
import json

import numpy as np
import pytest

import gradviz as gv
from gradviz import remote


def test_one_array_in_several_records_gives_equal_independent_stats():
    w = gv.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    with gv.trace.record() as rec:
        (w * 2.0).sum().backward()
    evs = rec.events
    accum = next(e for e in evs if e["type"] == "accum")
    mul = next(e for e in evs if e["type"] == "grad" and e["op"] == "Mul")
    contrib = mul["contribs"][0]["stats"]
    assert contrib == {k: v for k, v in accum["grad"].items() if k in contrib}
    assert contrib is not accum["grad"]
    accum["grad"]["min"] = 99
    assert contrib["min"] == 2.0


@pytest.mark.parametrize("ev", [
    {"type": "scalar", "name": "loss", "value": 0.1257, "step": 3, "t": 5, "v": 1},
    {"type": "scalar", "name": "loss", "value": 1.5, "step": None},
    {"type": "op", "node": 1, "stats": {"min": 1e-5, "max": 1e20}, "src": None, "n": 2 ** 70},
    {"type": "x", 1: "int key", "s": "é\u2028"},
])
def test_event_encoding_gives_the_standard_json_value(ev):
    assert json.loads(remote._encode_event(ev)) == json.loads(json.dumps(ev, allow_nan=False))


def test_event_encoding_still_refuses_nan_in_ready_made_events():
    with pytest.raises(ValueError):
        remote._encode_event({"type": "scalar", "value": float("nan")})
    with pytest.raises(TypeError):
        remote._encode_event({"type": "scalar", "value": object()})


def test_event_encoding_without_orjson_is_the_standard_encoder(monkeypatch):
    monkeypatch.setattr(remote, "_orjson", None)
    ev = {"type": "op", "node": 1, "value": 0.5, "s": "é"}
    assert remote._encode_event(ev) == remote._encode(ev) == json.dumps(ev, separators=(",", ":"))


@pytest.mark.parametrize("n", [1, 7, 32, 33, 500, 5000])
def test_stats_small_and_large_paths_match_numpy(n):
    from gradviz.trace.summary import stats
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(np.float32)
    a[: n // 5] = 0.0
    for bad in ([], [np.nan], [np.inf, -np.inf, np.nan]):
        b = a.copy()
        b[n - len(bad):] = bad if len(bad) <= n else b[n - len(bad):]
        s = stats(b)
        fin = b[np.isfinite(b)].astype(np.float64)
        assert (s["nan"], s["inf"]) == (int(np.isnan(b).sum()), int(np.isinf(b).sum()))
        assert s["zeros"] == int((b == 0).sum()) and s["count"] == n
        if fin.size:
            assert (s["min"], s["max"]) == (float(fin.min()), float(fin.max()))
            assert s["mean"] == pytest.approx(fin.mean(), rel=1e-12, abs=1e-15)
            assert s["std"] == pytest.approx(fin.std(), rel=1e-9, abs=1e-12)
        if not bad:
            assert s["norm"] == pytest.approx(np.linalg.norm(fin), rel=1e-12)
        json.dumps(s, allow_nan=False)


def test_recording_keeps_freed_heap_once_and_can_be_turned_off(monkeypatch):
    from gradviz.trace import core
    monkeypatch.setattr(core, "_heap_kept", [False])
    monkeypatch.setenv("GRADVIZ_MALLOC_TUNE", "0")
    assert core.keep_freed_heap() is False and core._heap_kept == [True]
    with gv.trace.record():
        gv.ones(2) * 2
    assert core.keep_freed_heap() is False  # once per process


@pytest.mark.parametrize("shape", [(3,), (5,), (40,), (60, 70)])
def test_values_near_the_largest_double_are_summarised(shape):
    """A blow-up is what a debugger is for: finite values whose squares (or sums) overflow
    still give the right stats, a histogram and a thumbnail, and no warning (the small
    path's fsum used to raise OverflowError in the drain)."""
    x = np.full(shape, 1e308)
    x.reshape(-1)[::2] = -1e308
    with gv.trace.record() as rec:
        gv.tensor(x) * 1.0
    ev = [e for e in rec.events if e["type"] == "op"][-1]
    s, unit = ev["stats"], x / 1e308
    assert (s["min"], s["max"], s["nan"], s["inf"]) == (-1e308, 1e308, 0, 0)
    assert s["mean"] == pytest.approx(unit.mean() * 1e308, rel=1e-12, abs=1e290)
    assert s["std"] == pytest.approx(unit.std() * 1e308, rel=1e-12)
    norm = np.sqrt(unit.size) * 1e308   # past the largest double from 4 values on: "inf"
    assert s["norm"] == (pytest.approx(norm, rel=1e-12) if np.isfinite(norm) else "inf")
    if x.size > 64:
        counts = ev["preview"]["hist"]["counts"]
        assert counts[0] + counts[-1] == sum(counts) and counts[0] and counts[-1]
        t = ev["preview"]["thumb8"]
        assert t["lo"] <= t["hi"] and "nonfinite" not in t
    json.dumps(ev, allow_nan=False)
