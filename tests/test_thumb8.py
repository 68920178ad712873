"""8-bit thumbnails (``preview.thumb8``): block means quantised to one byte a cell."""
import base64
import json
import math

import numpy as np
import pytest

import gradviz as gv
from gradviz import remote
from gradviz.trace.summary import preview, thumb8, thumbnail


def decode(t):
    """The values a thumb8 stands for (NaN/±Inf where listed non-finite)."""
    q = np.frombuffer(base64.b64decode(t["b64"]), np.uint8).reshape(t["rows"], t["cols"])
    if math.isfinite(t["hi"] - t["lo"]):
        out = t["lo"] + q * ((t["hi"] - t["lo"]) / 255)
    else:   # a range beyond the largest double: interpolate
        out = t["lo"] * (1 - q / 255) + t["hi"] * (q / 255)
    for (r, c), v in nonfinite_cells(t).items():
        assert q[r, c] == 0   # nothing reserved in 0..255: a non-finite cell's byte is 0
        out[r, c] = float(v)
    return out


def nonfinite_cells(t):
    """{(row, col): "nan"|"inf"|"-inf"} from a thumb8's ``nonfinite`` mask."""
    if "nonfinite" not in t:
        return {}
    m = np.frombuffer(base64.b64decode(t["nonfinite"]), np.uint8).reshape(t["rows"], t["cols"])
    assert m.max() <= 3
    names = {1: "nan", 2: "inf", 3: "-inf"}
    return {(r, c): names[int(m[r, c])] for r, c in zip(*np.nonzero(m))}


def block_means(a, H, W):
    h, w = a.shape
    sh, sw = h // H, w // W
    return a[:H * sh, :W * sw].astype(np.float64).reshape(H, sh, W, sw).mean(axis=(1, 3))


def assert_round_trip(t, ref):
    tol = (t["hi"] / 510 - t["lo"] / 510) * (1 + 1e-9) + 1e-300
    got = decode(t)
    fin = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(got), fin)
    np.testing.assert_array_equal(got[~fin], ref[~fin])   # nan == nan here, inf keeps its sign
    if fin.any():
        assert np.abs(got[fin] - ref[fin]).max() <= tol
        assert (t["lo"], t["hi"]) == pytest.approx((ref[fin].min(), ref[fin].max()), rel=1e-12)


@pytest.mark.parametrize("shape, grid", [((64, 96), (32, 32)), ((784, 128), (31, 32)),
                                          ((40, 50), (20, 25)), ((1, 200), (1, 28)),
                                          ((200, 1), (28, 1)), ((5, 7), (5, 7))])
def test_round_trip_is_within_half_a_level_of_the_block_means(shape, grid):
    a = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32) * 3 + 1
    t = thumbnail(a)
    assert (t["rows"], t["cols"]) == grid and len(base64.b64decode(t["b64"])) == grid[0] * grid[1]
    assert "nonfinite" not in t
    assert_round_trip(t, block_means(a, *grid))
    q = np.frombuffer(base64.b64decode(t["b64"]), np.uint8)
    assert q.min() == 0 and q.max() == 255   # lo and hi are cells of the picture


def test_equal_block_means_give_all_zero_bytes():
    t = thumbnail(np.full((40, 40), 2.5, dtype=np.float32))
    assert t["lo"] == t["hi"] == 2.5 and set(base64.b64decode(t["b64"])) == {0}
    assert np.all(decode(t) == 2.5)


def test_non_finite_cells_are_listed_and_the_rest_quantised_over_the_finite_range():
    a = np.random.default_rng(3).standard_normal((64, 64))
    a[0, 0], a[10, 11], a[40, 2], a[63, 63] = np.nan, np.inf, -np.inf, np.nan
    a[20, 20], a[21, 21] = np.inf, -np.inf     # one block: inf + -inf is nan
    t = thumbnail(a)
    assert nonfinite_cells(t) == {(0, 0): "nan", (5, 5): "inf", (10, 10): "nan",
                                  (20, 1): "-inf", (31, 31): "nan"}
    assert_round_trip(t, block_means(a, 32, 32))
    json.dumps(t, allow_nan=False)


def test_all_non_finite_and_extreme_ranges_stay_json_safe():
    t = thumbnail(np.full((3, 3), np.nan))
    assert (t["lo"], t["hi"]) == (0.0, 0.0) and len(nonfinite_cells(t)) == 9
    blown = thumbnail(np.full((64, 64), np.inf))          # every cell: the mask stays one
    assert len(blown["nonfinite"]) == len(blown["b64"])   # byte a cell, like the picture
    json.dumps(t, allow_nan=False)
    huge = thumb8(np.array([[-1e308, 0.0, 1e308]]))   # hi - lo overflows a double
    assert_round_trip(huge, np.array([[-1e308, 0.0, 1e308]]))
    tiny = thumb8(np.array([[0.0, 5e-324]]))          # 255 / (hi - lo) overflows
    assert base64.b64decode(tiny["b64"]) == bytes([0, 255])


@pytest.mark.parametrize("shape", [(3, 40, 50), (2, 3, 40, 50)])
def test_image_like_arrays_use_their_first_map(shape):
    a = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    first = a.reshape(-1, 40, 50)[0]
    t = preview(a)["thumb8"]
    assert t == thumbnail(first) and (t["rows"], t["cols"]) == (20, 25)
    assert_round_trip(t, block_means(first, 20, 25))


def test_integer_arrays_are_thumbnailed_and_bool_and_small_ones_are_not():
    ints = np.arange(100 * 3).reshape(100, 3)
    assert_round_trip(thumbnail(ints), block_means(ints, 25, 3))
    assert "thumb8" not in preview(np.ones((10, 10), dtype=bool))
    small = preview(np.ones((8, 8), dtype=np.float32))
    assert "values" in small and "thumb8" not in small
    assert "thumb8" not in preview(np.ones(1000)) and thumbnail(np.ones((0, 5))) is None


def test_thumbnail_does_not_touch_its_input():
    a = np.random.default_rng(2).standard_normal((8, 9))
    b = a.copy()
    thumbnail(a)
    np.testing.assert_array_equal(a, b)


def test_recorded_events_carry_thumb8_and_stay_strict_json():
    x = gv.tensor(np.random.default_rng(4).standard_normal((40, 50)).astype(np.float32),
                  requires_grad=True)
    with gv.trace.record() as rec:
        (x.log() * 2).sum().backward()      # log of negatives: NaN cells in the picture
    big = [e for e in rec.events if e["type"] in ("op", "leaf") and e["shape"] == [40, 50]]
    assert big and all("thumb8" in e["preview"] and "thumb" not in e["preview"] for e in big)
    log = next(e for e in big if e.get("op") == "Log")
    assert log["preview"]["thumb8"].get("nonfinite")
    for e in rec.events:
        text = json.dumps(e, allow_nan=False)
        assert json.loads(remote._encode_event(e)) == json.loads(text)
    leaf = next(e for e in big if e["type"] == "leaf")
    assert len(json.dumps(leaf, separators=(",", ":"), allow_nan=False)) < 1500   # 20×25 bytes
