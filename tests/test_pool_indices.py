"""Max pooling's ``return_indices`` and max unpooling against torch: the indices must be
torch's exactly (int64, flat per input plane), ties, NaN, -inf, padding, dilation and
ceil_mode included; unpooling puts values back where torch does."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from nn_twin import compare

import gradviz as gv
import gradviz.nn.functional as F
from gradviz import nn
from gradviz.errors import GradvizError


def _cases(count, seed=0):
    """Random pooling geometries torch accepts, over inputs full of ties."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n = int(rng.integers(1, 4))
        k = tuple(int(v) for v in rng.integers(1, 4, n))
        d = tuple(int(v) for v in rng.integers(1, 3, n))
        s = tuple(int(v) for v in rng.integers(1, 4, n))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        shape = (int(rng.integers(1, 3)), 2) + tuple(int(v) for v in rng.integers(1, 7, n))
        if any(sz + 2 * pp < dd * (kk - 1) + 1 for sz, pp, dd, kk in zip(shape[2:], p, d, k)):
            continue
        x = rng.integers(-2, 3, shape).astype(np.float64)   # small integers: many ties
        kw = {"kernel_size": k, "stride": s, "padding": p, "dilation": d,
              "ceil_mode": bool(rng.integers(0, 2))}
        to, _ = getattr(TF, f"max_pool{n}d")(torch.tensor(x), return_indices=True, **kw)
        if np.isinf(to.numpy()).any():
            continue  # a window wholly in the padding: torch's index there is not meaningful
        out.append((n, x, kw, rng.standard_normal(tuple(to.shape))))
    return out


@pytest.mark.parametrize("grad", [False, True])
def test_indices_and_grads_equal_torch_with_ties(grad):
    for n, x, kw, w in _cases(300, seed=int(grad)):
        tx = torch.tensor(x, requires_grad=grad)
        gx = gv.tensor(x, requires_grad=grad)
        to, ti = getattr(TF, f"max_pool{n}d")(tx, return_indices=True, **kw)
        go, gi = getattr(F, f"max_pool{n}d")(gx, return_indices=True, **kw)
        assert gi.dtype == gv.int64 and not gi.requires_grad
        np.testing.assert_array_equal(gi.numpy(), ti.numpy(), err_msg=str(kw))
        np.testing.assert_array_equal(go.detach().numpy(), to.detach().numpy())
        if grad:
            (to * torch.tensor(w)).sum().backward()
            (go * gv.tensor(w)).sum().backward()
            np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=str(kw))


def test_nan_and_minus_inf_pick_torch_indices():
    rng = np.random.default_rng(5)
    for _ in range(50):
        x = rng.integers(-1, 2, (2, 3, 7, 6)).astype(np.float64)
        x[rng.random(x.shape) < 0.15] = np.nan
        x[rng.random(x.shape) < 0.3] = -np.inf
        kw = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
        to, ti = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        go, gi = F.max_pool2d(gv.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(gi.numpy(), ti.numpy())
        np.testing.assert_array_equal(go.numpy(), to.numpy())


def test_unbatched_and_no_grad():
    x = np.random.default_rng(1).standard_normal((3, 5, 6))
    to, ti = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    with gv.no_grad():
        go, gi = F.max_pool2d(gv.tensor(x, requires_grad=True), 2, return_indices=True)
    assert tuple(gi.shape) == (3, 2, 3)
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    np.testing.assert_array_equal(go.numpy(), to.numpy())


class _PoolUnpool(torch.nn.Module):
    def __init__(self, pool, unpool):
        super().__init__()
        self.pool, self.unpool, self.n = pool, unpool, len(unpool.kernel_size)

    def forward(self, x):
        y, idx = self.pool(x)
        return y, idx, self.unpool(y, idx, output_size=x.shape[-self.n:])


class _GvPoolUnpool(nn.Module):
    def __init__(self, pool, unpool):
        super().__init__()
        self.pool, self.unpool, self.n = pool, unpool, len(unpool.kernel_size)

    def forward(self, x):
        y, idx = self.pool(x)
        return y, idx, self.unpool(y, idx, output_size=x.shape[-self.n:])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n, kw, shape", [
    (1, {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 9)),
    (2, {"kernel_size": 2}, (2, 3, 6, 7)),
    (2, {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}, (3, 7, 6)),
    (3, {"kernel_size": 2, "stride": 2}, (1, 2, 4, 5, 4)),
])
def test_layers_pool_then_unpool_match_torch(n, kw, shape, dtype):
    unpool_kw = {k: v for k, v in kw.items() if k in ("kernel_size", "stride", "padding")}
    tm = _PoolUnpool(getattr(tnn, f"MaxPool{n}d")(return_indices=True, **kw),
                     getattr(tnn, f"MaxUnpool{n}d")(**unpool_kw))
    gm = _GvPoolUnpool(getattr(nn, f"MaxPool{n}d")(return_indices=True, **kw),
                       getattr(nn, f"MaxUnpool{n}d")(**unpool_kw))
    assert repr(gm.unpool) == repr(tm.unpool)
    compare(gm, tm, np.random.default_rng(2).standard_normal(shape), dtype=dtype, load=False)


def test_unpool_repeated_indices_last_write_wins_as_torch():
    # overlapping windows pick the same input twice: torch keeps the last value written
    x = np.random.default_rng(3).standard_normal((1, 2, 6, 6))
    y, idx = TF.max_pool2d(torch.tensor(x), 3, stride=1, return_indices=True)
    vals = torch.arange(y.numel(), dtype=torch.float64).reshape(y.shape)
    t = TF.max_unpool2d(vals, idx, 3, stride=1)
    g = F.max_unpool2d(gv.tensor(vals.numpy()), gv.tensor(idx.numpy()), 3, stride=1)
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_unpool_default_size_and_events():
    x = gv.randn(2, 3, 6, 6, requires_grad=True)
    with gv.trace.record() as rec:
        y, idx = nn.MaxPool2d(2, return_indices=True)(x)
        out = nn.MaxUnpool2d(2)(y, idx)
    assert [e["op"] for e in rec.events if e["type"] == "op"] == ["MaxPool", "MaxUnpool"]
    assert tuple(out.shape) == (2, 3, 6, 6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().sum(axis=(2, 3)), np.full((2, 3), 9.0))


def test_unpool_errors():
    y, idx = F.max_pool2d(gv.randn(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(GradvizError, match="invalid output_size"):
        F.max_unpool2d(y, idx, 2, output_size=(6, 6))
    with pytest.raises(GradvizError, match="2 or 4 elements"):
        F.max_unpool2d(y, idx, 2, output_size=(4,))
    with pytest.raises(GradvizError, match="invalid max index"):
        F.max_unpool2d(y, idx + 16, 2)
    with pytest.raises(GradvizError, match="int64"):
        F.max_unpool2d(y, idx.float(), 2)
    with pytest.raises(GradvizError, match="shape of indices"):
        F.max_unpool2d(y, idx[..., :1], 2)
    with pytest.raises(GradvizError, match="half of kernel size"):
        F.max_pool2d(gv.randn(1, 1, 9, 9), 3, dilation=2, padding=2, return_indices=True)
