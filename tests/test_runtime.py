"""The process-wide switches torch scripts set at the top (threads, determinism, default
device, anomaly mode, typename) and the top-level function forms of F and of in-place
Tensor methods (torch.conv2d, torch.dropout, torch.exp_ ...), against torch."""
import numpy as np
import pytest
import torch

import gradviz as gv

R = np.random.default_rng(0)


def test_top_level_functional_forms_match_torch():
    x, w = R.standard_normal((1, 2, 6, 6)), R.standard_normal((3, 2, 3, 3))
    p = R.standard_normal((1, 4, 2, 2))
    calls = [
        lambda L: L.conv2d(L.tensor(x), L.tensor(w), padding=1),
        lambda L: L.max_pool2d(L.tensor(x), 2),
        lambda L: L.dropout(L.tensor(x), 0.5, False),
        lambda L: L.layer_norm(L.tensor(x), (6,)),
        lambda L: L.pixel_shuffle(L.tensor(p), 2),
        lambda L: L.cosine_similarity(L.tensor(x[0, 0]), L.tensor(x[0, 1])),
        lambda L: L.selu(L.tensor(x)),
        lambda L: L.exp_(L.tensor(x)),
        lambda L: L.clamp_(L.tensor(x), -0.5, 0.5),
        lambda L: L.detach(L.tensor(x, requires_grad=True)),
    ]
    for call in calls:
        np.testing.assert_allclose(call(gv).numpy(), call(torch).numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert gv.is_floating_point(gv.ones(2)) and not gv.is_floating_point(gv.ones(2).long())


def test_switches_keep_their_settings_as_torch_reports_them():
    gv.set_num_threads(3)
    gv.set_num_interop_threads(2)
    assert gv.get_num_threads() == 3 and gv.get_num_interop_threads() == 2
    with pytest.raises(ValueError, match="positive"):
        gv.set_num_threads(0)
    gv.use_deterministic_algorithms(True, warn_only=True)
    assert gv.are_deterministic_algorithms_enabled()
    assert gv.get_deterministic_debug_mode() == 1
    gv.set_deterministic_debug_mode("error")
    assert gv.get_deterministic_debug_mode() == 2 == (torch.set_deterministic_debug_mode(
        "error") or torch.get_deterministic_debug_mode())
    torch.set_deterministic_debug_mode(0)
    gv.use_deterministic_algorithms(False)
    assert gv.get_deterministic_debug_mode() == 0
    assert str(gv.get_default_device()) == "cpu"
    gv.set_default_device("cpu")
    with pytest.raises(RuntimeError, match="device='cuda'"):
        gv.set_default_device("cuda")
    gv.set_warn_always(True)
    assert gv.is_warn_always_enabled()
    gv.set_warn_always(False)
    assert gv.set_flush_denormal(True) is False
    assert gv.typename(gv.ones(2)) == "gradviz.FloatTensor"
    assert torch.typename(torch.ones(2)) == "torch.FloatTensor"
    assert gv.typename(gv.ones(2).long()).endswith("LongTensor") and gv.typename(3) == "int"


def test_set_detect_anomaly_acts_when_called_as_torch():
    gv.set_anomaly_enabled(True)
    assert gv.is_anomaly_enabled()
    x = gv.tensor([0.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="nan"):
        (x.sqrt() * 0).sum().backward()
    gv.set_anomaly_enabled(False)
    assert not gv.is_anomaly_enabled()
    gv.autograd.set_detect_anomaly(True)       # a call, as torch: on until turned off
    assert gv.is_anomaly_enabled()
    gv.autograd.set_detect_anomaly(False)
    with gv.autograd.set_detect_anomaly(True):
        assert gv.is_anomaly_enabled()
    assert not gv.is_anomaly_enabled()
