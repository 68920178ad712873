"""Gaps found by porting vision training scripts (UNet, ResNet, conv VAE, DCGAN/WGAN-GP,
spatial transformer + augmentation) with ``import gradviz as torch``: memory formats
(``x.to(memory_format=torch.channels_last)``, ``model.to(memory_format=...)``) and
grid_sample's grid gradient for points exactly on the border (an identity spatial
transformer samples pixel centres, so every edge pixel sits there)."""

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError, ShapeError

R = np.random.default_rng(0)
FORMATS = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


def _np(t):
    return np.asarray(t.detach().tolist())


# ---- 1. memory formats ------------------------------------------------------------------
@pytest.mark.parametrize("name", FORMATS)
def test_memory_format_objects_mirror_torch(name):
    fmt = getattr(gv, name)
    assert isinstance(fmt, gv.memory_format)
    assert repr(fmt) == repr(getattr(torch, name)).replace("torch.", "gradviz.")


LAYOUT_CALLS = [
    ("to_cl", lambda L, x: x.to(memory_format=L.channels_last)),
    ("to_dtype_cl", lambda L, x: x.to(L.float64, memory_format=L.channels_last)),
    ("contiguous_cl", lambda L, x: x.contiguous(memory_format=L.channels_last)),
    ("clone_cl", lambda L, x: x.clone(memory_format=L.channels_last)),
    ("fn_clone_cl", lambda L, x: L.clone(x, memory_format=L.channels_last)),
    ("cl_back_to_c", lambda L, x: x.to(memory_format=L.channels_last).contiguous()),
    ("cl_clone_c", lambda L, x: x.to(memory_format=L.channels_last).clone(
        memory_format=L.contiguous_format)),
    ("cl_to_preserve", lambda L, x: x.to(memory_format=L.channels_last).to(
        memory_format=L.preserve_format)),
    ("cl_then_op", lambda L, x: x.to(memory_format=L.channels_last) * 2 + 1),
    ("cl_clone", lambda L, x: x.to(memory_format=L.channels_last).clone()),   # preserve_format
    ("permuted_clone", lambda L, x: x.permute(0, 2, 1, 3).clone()),
    ("sliced_cl_clone", lambda L, x: x.to(memory_format=L.channels_last)[..., ::2].clone()),
    ("cl_permute", lambda L, x: x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)),
    ("cl3d", lambda L, x: x.reshape(2, 3, 2, 2, 5).to(memory_format=L.channels_last_3d)),
]


@pytest.mark.parametrize("name,call", LAYOUT_CALLS, ids=[c[0] for c in LAYOUT_CALLS])
def test_memory_format_layout_values_and_grads_match_torch(name, call):
    a = R.standard_normal((2, 3, 4, 5)).astype(np.float32)
    w = R.standard_normal((2, 3, 4, 5))
    outs = {}
    for L in (torch, gv):
        x = L.tensor(a, requires_grad=True)
        y = call(L, x)
        (y * L.tensor(np.resize(w, y.shape), dtype=y.dtype)).sum().backward()
        outs[L] = y, x.grad
    (gy, ggrad), (ty, tgrad) = outs[gv], outs[torch]
    np.testing.assert_allclose(_np(gy), _np(ty), rtol=1e-6)
    np.testing.assert_allclose(_np(ggrad), _np(tgrad), rtol=1e-6)
    assert gy.stride() == ty.stride()
    for fmt in ("contiguous_format", "channels_last", "channels_last_3d"):
        want = ty.is_contiguous(memory_format=getattr(torch, fmt))
        assert gy.is_contiguous(memory_format=getattr(gv, fmt)) == want, fmt
    assert gy.is_contiguous() == ty.is_contiguous()


def test_to_memory_format_returns_self_when_already_laid_out_and_clone_copies():
    for L in (torch, gv):
        x = L.zeros(2, 3, 4, 4).to(memory_format=L.channels_last)
        assert x.to(memory_format=L.channels_last) is x
        assert x.contiguous(memory_format=L.channels_last) is x
        c = x.clone(memory_format=L.channels_last)
        c.add_(1)   # a copy: x keeps its values
        assert float(x.abs().max()) == 0.0 and float(c.min()) == 1.0


def test_channels_last_needs_rank_4():
    with pytest.raises(RuntimeError, match="required rank 4"):
        torch.randn(2, 3, 4).to(memory_format=torch.channels_last)
    with pytest.raises(ShapeError, match="required rank 4"):
        gv.randn(2, 3, 4).to(memory_format=gv.channels_last)


def test_module_to_channels_last_lays_out_4d_weights_as_torch():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                             torch.nn.Linear(2, 2))
    gm = gv.nn.Sequential(gv.nn.Conv2d(3, 4, 3), gv.nn.BatchNorm2d(4), gv.nn.Linear(2, 2))
    gm.load_state_dict({k: gv.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert tm.to(memory_format=torch.channels_last) is tm
    assert gm.to(memory_format=gv.channels_last) is gm
    for (name, tp), gp in zip(tm.state_dict().items(), gm.state_dict().values()):
        assert gp.stride() == tp.stride(), name
        np.testing.assert_array_equal(_np(gp), _np(tp))
    x = R.standard_normal((2, 3, 6, 6)).astype(np.float32)
    ty = tm[0](torch.tensor(x).to(memory_format=torch.channels_last))
    gy = gm[0](gv.tensor(x).to(memory_format=gv.channels_last))
    np.testing.assert_allclose(_np(gy), _np(ty), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "empty_like", "randn_like",
                                "rand_like"])
def test_like_functions_take_memory_format(fn):
    for L in (torch, gv):
        x = L.ones(2, 3, 4, 4)
        y = getattr(L, fn)(x, memory_format=L.preserve_format)
        assert tuple(y.shape) == (2, 3, 4, 4)
    gfull = gv.full_like(gv.ones(2, 2), 3.0, memory_format=gv.contiguous_format)
    tfull = torch.full_like(torch.ones(2, 2), 3.0, memory_format=torch.contiguous_format)
    np.testing.assert_array_equal(_np(gfull), _np(tfull))


# ---- 2. grid_sample: border points pass no gradient to the grid (torch's clip rule) -------
@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_identity_transform_grads_match_torch(padding_mode, align_corners, mode):
    x = R.standard_normal((2, 2, 4, 5))
    w = R.standard_normal((2, 2, 4, 5))
    theta = np.array([[[1.0, 0, 0], [0, 1, 0]], [[1.0, 0, 0.5], [0, 1, -0.5]]])
    res = {}
    for L in (torch, gv):
        F = L.nn.functional
        th = L.tensor(theta, requires_grad=True)
        xi = L.tensor(x, requires_grad=True)
        grid = F.affine_grid(th, [2, 2, 4, 5], align_corners=align_corners)
        y = F.grid_sample(xi, grid, mode=mode, padding_mode=padding_mode,
                          align_corners=align_corners)
        (y * L.tensor(w)).sum().backward()
        res[L] = y, th.grad, xi.grad
    for g, t in zip(res[gv], res[torch]):
        np.testing.assert_allclose(_np(g), _np(t), rtol=1e-7, atol=1e-9)


def test_grid_sample_3d_border_point_grads_match_torch():
    x = R.standard_normal((1, 2, 3, 4, 3))
    grid = np.array([-1.0, 1.0, 0.0, -1 / 3, 1 / 3, 1.2, -1.3])
    grid = np.stack(np.meshgrid(grid, grid[:3], grid[2:5], indexing="ij"), -1)[None]
    res = {}
    for L in (torch, gv):
        g = L.tensor(grid, requires_grad=True)
        y = L.nn.functional.grid_sample(L.tensor(x), g, padding_mode="border",
                                        align_corners=True)
        (y * y).sum().backward()
        res[L] = y, g.grad
    for a, b in zip(res[gv], res[torch]):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
def test_grid_sample_padded_grid_gradient_by_finite_differences(padding_mode):
    # random points (inside and outside the image) are off every kink almost surely
    x = gv.tensor(R.standard_normal((1, 2, 3, 4)), requires_grad=True)
    grid = gv.tensor(R.uniform(-1.6, 1.6, (1, 3, 2, 2)), requires_grad=True)

    def fn(inp, g):
        return gv.nn.functional.grid_sample(inp, g, padding_mode=padding_mode,
                                            align_corners=False)
    assert gv.autograd.gradcheck(fn, (x, grid))


LIKE_INPUTS = {"channels_last": lambda L: L.ones(2, 3, 4, 5).to(memory_format=L.channels_last),
               "transposed": lambda L: L.ones(4, 6).t(),
               "sliced_transposed": lambda L: L.ones(4, 6).t()[::2]}


@pytest.mark.parametrize("src", sorted(LIKE_INPUTS))
@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "empty_like", "randn_like",
                                "rand_like", "full_like"])
def test_like_functions_preserve_the_inputs_layout_as_torch(fn, src):
    strides = {}
    for L in (torch, gv):
        x = LIKE_INPUTS[src](L)
        args = (x, 2.0) if fn == "full_like" else (x,)
        y = getattr(L, fn)(*args)   # preserve_format is the default
        c = getattr(L, fn)(*args, memory_format=L.contiguous_format)
        strides[L] = y.stride(), c.stride(), tuple(y.shape)
    assert strides[gv] == strides[torch]


def test_empty_takes_a_memory_format_as_torch():
    for L in (torch, gv):
        assert L.empty(2, 3, 4, 5, memory_format=L.channels_last).stride() == (60, 1, 15, 3)
        assert L.empty(2, 3, 4, 5, memory_format=L.contiguous_format).is_contiguous()
    with pytest.raises(RuntimeError, match="unsupported memory format Preserve"):
        torch.empty(2, 3, memory_format=torch.preserve_format)
    with pytest.raises(GradvizError, match="unsupported memory format Preserve"):
        gv.empty(2, 3, memory_format=gv.preserve_format)
    with pytest.raises(ShapeError, match="required rank 4"):
        gv.empty(2, 3, 4, memory_format=gv.channels_last)
