"""Conv padding_mode 'reflect' | 'replicate' | 'circular' against torch (F.pad with that mode,
then a convolution without padding), and F.pad's non-constant modes at their edges."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from nn_twin import compare, twin

import gradviz as gv
import gradviz.nn.functional as F
from gradviz import nn
from gradviz.errors import GradvizError

MODES = ["reflect", "replicate", "circular"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n, args, kwargs, shape", [
    (1, (3, 4, 3), {"padding": 2}, (2, 3, 7)),
    (2, (2, 4, (3, 2)), {"padding": (1, 2), "stride": 2}, (2, 2, 5, 6)),
    (2, (2, 4, 3), {"padding": "same", "dilation": 2}, (1, 2, 6, 5)),
    (2, (2, 4, (2, 4)), {"padding": "same", "bias": False}, (2, 6, 5)),
    (2, (4, 2, 3), {"padding": 1, "groups": 2}, (1, 4, 4, 4)),
    (2, (2, 2, 3), {"padding": "valid"}, (1, 2, 4, 4)),
    (3, (2, 3, 2), {"padding": 1}, (1, 2, 3, 4, 5)),
])
def test_conv_padding_modes_match_torch(n, args, kwargs, shape, mode, dtype):
    gm, tm = twin(getattr(nn, f"Conv{n}d"), getattr(tnn, f"Conv{n}d"), *args,
                  padding_mode=mode, dtype=dtype, **kwargs)
    assert repr(gm) == repr(tm)
    compare(gm, tm, np.random.default_rng(n).standard_normal(shape), dtype=dtype)


def test_padding_mode_events_are_pad_then_conv():
    m = nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
    with gv.trace.record() as rec:
        m(gv.randn(1, 1, 5, 5))
    assert [e["op"] for e in rec.events if e["type"] == "op"] == ["Getitem", "Getitem", "Conv"]


def test_padding_mode_errors():
    with pytest.raises(GradvizError, match='Only "zeros" padding mode is supported for '
                                           "ConvTranspose2d"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(GradvizError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(GradvizError, match="Padding size should be less"):
        nn.Conv1d(1, 1, 3, padding=3, padding_mode="reflect")(gv.randn(1, 1, 3))
    with pytest.raises(GradvizError, match="wrapping around more than once"):
        nn.Conv1d(1, 1, 3, padding=4, padding_mode="circular")(gv.randn(1, 1, 3))


@pytest.mark.parametrize("mode", MODES)
def test_pad_modes_match_torch_with_negative_pads(mode):
    x = np.arange(10.0).reshape(1, 2, 5)
    for lo in range(-3, 5):
        for hi in range(-3, 5):
            try:
                want = TF.pad(torch.tensor(x), (lo, hi), mode=mode).numpy()
            except RuntimeError:
                with pytest.raises(GradvizError):
                    F.pad(gv.tensor(x), (lo, hi), mode=mode)
                continue
            if want.size == 0 or (mode == "circular" and lo > 5 - max(-lo, 0) - max(-hi, 0)):
                continue  # torch's circular mode leaves such outputs (partly) uninitialised
            got = F.pad(gv.tensor(x), (lo, hi), mode=mode).numpy()
            np.testing.assert_array_equal(got, want, err_msg=f"{mode} ({lo}, {hi})")
