"""The cheaper summaries and encoding behind B3/B4: same events, smaller and faster."""
import json
import math

import numpy as np
import pytest

import gradviz as gv
from gradviz import remote
from gradviz.trace.summary import PREVIEW_DIGITS, round_sig, thumbnail


def test_round_sig_keeps_four_digits_of_the_largest_value():
    x = np.array([0.12345678, -12.3456, 0.00012344, 0.0, 9.99951])
    assert round_sig(x).tolist() == [0.12, -12.35, 0.0, 0.0, 10.0]
    small = np.array([1.234567e-7, -3.3333e-8])
    assert round_sig(small).tolist() == [1.235e-7, -3.33e-8]
    big = np.array([123456789.0])
    assert round_sig(big).tolist() == [123500000.0]


def test_round_sig_passes_non_finite_zero_and_extreme_values():
    x = np.array([np.nan, np.inf, -np.inf, 1.23456])
    out = round_sig(x)
    assert math.isnan(out[0]) and out[1] == np.inf and out[2] == -np.inf and out[3] == 1.235
    assert round_sig(np.zeros(3)).tolist() == [0.0] * 3
    tiny = np.array([1.23456e-30])
    assert round_sig(tiny).tolist() == tiny.tolist()   # beyond exact powers of ten: as is


def test_thumbnail_is_the_block_mean_to_preview_precision():
    a = np.random.default_rng(0).standard_normal((64, 96)).astype(np.float32)
    t = np.array(thumbnail(a))
    ref = a.astype(np.float64).reshape(32, 2, 32, 3).mean(axis=(1, 3))
    step = 10.0 ** (math.floor(math.log10(np.abs(ref).max())) - PREVIEW_DIGITS + 1)
    np.testing.assert_allclose(t, ref, rtol=0, atol=step / 2 + 1e-12)
    assert all(len(repr(v)) <= 9 for v in t.ravel().tolist())   # short in JSON


def test_thumbnail_with_non_finite_values_stays_json_safe():
    a = np.ones((4, 4))
    a[0, 0], a[1, 1] = np.nan, np.inf
    t = thumbnail(a)
    json.dumps(t, allow_nan=False)
    assert t[0][0] == "nan" and t[1][1] == "inf" and t[2][2] == 1.0


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
