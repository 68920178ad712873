"""affine_grid, grid_sample, pdist and the deprecated upsample aliases against torch: a
spatial transformer whose theta learns through grid_sample, torch's warnings and errors."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradviz as gv
import gradviz.nn.functional as F

RNG = np.random.default_rng(7)


def _x(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape)


@pytest.mark.parametrize("mode, pad", [("bilinear", "zeros"), ("bilinear", "border"),
                                       ("bilinear", "reflection"), ("bicubic", "zeros"),
                                       ("nearest", "reflection")])
@pytest.mark.parametrize("align_corners", [False, True])
def test_spatial_transformer_gradients_reach_theta_and_input(mode, pad, align_corners):
    x = _x(2, 3, 5, 6)
    theta = np.array([[1.1, 0.2, 0.1], [-0.3, 0.9, -0.2]]) + _x(2, 2, 3, low=-0.2, high=0.2)
    w = _x(2, 3, 4, 7)
    results = []
    for lib, fn in ((gv, F), (torch, TF)):
        xi, th = lib.tensor(x, requires_grad=True), lib.tensor(theta, requires_grad=True)
        grid = fn.affine_grid(th, (2, 3, 4, 7), align_corners=align_corners)
        out = fn.grid_sample(xi, grid, mode=mode, padding_mode=pad,
                             align_corners=align_corners)
        ((out * lib.tensor(w)).sum() ** 2).backward()
        results.append([out.detach().numpy(), xi.grad.numpy(), th.grad.numpy()])
    for g, t in zip(*results):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-10)
    if mode == "nearest":
        assert not np.any(results[0][2])   # torch: a zero gradient for the grid


def test_grid_sample_on_a_5d_input_matches_torch():
    x, g = _x(1, 2, 3, 4, 5), _x(1, 2, 3, 4, 3, low=-1.2, high=1.2)
    gx, gg = gv.tensor(x, requires_grad=True), gv.tensor(g, requires_grad=True)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    go = F.grid_sample(gx, gg, padding_mode="border", align_corners=False)
    to = TF.grid_sample(tx, tg, padding_mode="border", align_corners=False)
    go.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gg.grad.numpy(), tg.grad.numpy(), atol=1e-12)


def test_the_graph_shows_the_gather_and_the_weights():
    x, g = gv.tensor(_x(1, 1, 3, 3)), gv.tensor(_x(1, 2, 2, 2), requires_grad=True)
    with gv.trace.record() as rec:
        F.grid_sample(x, g, align_corners=True)
    ops = {e["op"] for e in rec.events if e["type"] == "op"}
    assert {"Gather", "Mul", "Sum"} <= ops


def test_align_corners_none_warns_as_torch_and_means_false():
    theta = _x(1, 2, 3)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        g = F.affine_grid(gv.tensor(theta), (1, 1, 3, 4))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        t = TF.affine_grid(torch.tensor(theta), (1, 1, 3, 4))
    np.testing.assert_allclose(g.numpy(), t.numpy(), atol=1e-12)
    x = _x(1, 1, 3, 4)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        out = F.grid_sample(gv.tensor(x), g)
    ref = TF.grid_sample(torch.tensor(x), t, align_corners=False)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(gv.tensor(theta), (1, 1, 1, 4), align_corners=True)


def test_errors_are_torchs():
    z = gv.zeros
    with pytest.raises(NotImplementedError, match="only supports 4D and 5D"):
        F.affine_grid(z(1, 2, 3), (1, 1, 2), align_corners=False)
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(z(1, 3, 4), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="floating point"):
        F.affine_grid(gv.zeros(1, 2, 3, dtype=gv.int64), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="non-zero, positive"):
        F.affine_grid(z(1, 2, 3), (1, 1, 0, 2), align_corners=False)
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(z(1, 1, 2, 2), z(1, 2, 2, 2), mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(z(1, 1, 2, 2), z(1, 2, 2, 2), padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="size 2 in last dimension"):
        F.grid_sample(z(1, 1, 2, 2), z(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(z(2, 1, 2, 2), z(1, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D"):
        F.grid_sample(z(1, 1, 2, 2, 2), z(1, 2, 2, 2, 3), mode="bicubic", align_corners=False)
    with pytest.raises(RuntimeError, match="only supports 2D tensors, got: 1D"):
        F.pdist(z(3))
    with pytest.raises(RuntimeError, match="non-negative p"):
        F.pdist(z(3, 2), -1)


@pytest.mark.parametrize("p", [1, 2, math.inf, 0.5])
def test_pdist_is_the_upper_triangle_of_cdist(p):
    x = _x(5, 3)
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go, to = F.pdist(g, p), TF.pdist(t, p)
    (go * go).sum().backward()
    (to * to).sum().backward()
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kw", [("upsample", {"scale_factor": 2, "mode": "bilinear",
                                                    "align_corners": False}),
                                      ("upsample", {"size": (3, 5)}),
                                      ("upsample_nearest", {"size": 5}),
                                      ("upsample_bilinear", {"scale_factor": 1.5})])
def test_deprecated_upsample_aliases_warn_and_interpolate(name, kw):
    x = _x(1, 2, 3, 4)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        g = getattr(F, name)(gv.tensor(x), **kw)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        t = getattr(TF, name)(torch.tensor(x), **kw)
    np.testing.assert_allclose(g.numpy(), t.numpy(), atol=1e-12)
