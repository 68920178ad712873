"""torch's Tensor methods ported scripts call (tensor_aliases.py): the in-place form of each
elementwise method and comparison, in-place shape changes, dtype shortcuts, aminmax, addr,
sum_to_size, diagflat, H/mH, random fills and small queries, against torch."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError

X = np.array([[0.5, -1.5, 2.0], [3.0, 0.0, -0.25]])

CASES = {
    "log1p_": lambda L, t: t.abs().log1p_(),
    "eq_": lambda L, t: t.eq_(0.5),
    "clip_": lambda L, t: t.clip_(-1, 1),
    "lt_ with a tensor": lambda L, t: t.lt_(L.zeros(3, dtype=t.dtype)),
    "logical_not_": lambda L, t: t.logical_not_(),
    "cumsum_": lambda L, t: t.cumsum_(1),
    "nan_to_num_": lambda L, t: (t / 0).nan_to_num_(posinf=7.0),
    "rsqrt_": lambda L, t: t.abs().add(1).rsqrt_(),
    "fmod_": lambda L, t: t.fmod_(0.7),
    "remainder_": lambda L, t: t.remainder_(0.7),
    "hypot_": lambda L, t: t.hypot_(L.ones(3, dtype=t.dtype)),
    "floor_divide_": lambda L, t: t.floor_divide_(0.3),
    "aminmax over a dim": lambda L, t: t.aminmax(dim=1),
    "aminmax": lambda L, t: t.aminmax(),
    "byte short char": lambda L, t: [t.abs().byte(), t.short(), t.char()],
    "squeeze_": lambda L, t: t[:1].squeeze_(0),
    "unsqueeze_": lambda L, t: t.unsqueeze_(1),
    "t_": lambda L, t: t.t_(),
    "transpose_": lambda L, t: t.transpose_(0, 1),
    "asinh acosh atanh": lambda L, t: [t.asinh(), (t.abs() + 1).acosh(), (t / 4).atanh()],
    "addr": lambda L, t: t.addr(L.ones(2, dtype=t.dtype), L.arange(3.0).to(t.dtype), beta=2,
                                alpha=3),
    "sum_to_size": lambda L, t: t.sum_to_size(1, 3),
    "sum_to_size leading": lambda L, t: t.sum_to_size(3),
    "sum_to_size keep": lambda L, t: t.sum_to_size(2, 1),
    "diagflat": lambda L, t: t[0].diagflat(1),
    "H mH": lambda L, t: [t.H, t.mH],
    "storage_offset": lambda L, t: t[1:].storage_offset(),
    "dim_order": lambda L, t: t.T.dim_order(),
    "nbytes itemsize": lambda L, t: [t.nbytes, t.itemsize],
}


def _plain(r):
    if isinstance(r, (tuple, list)):
        return [_plain(a) for a in r]
    return r.tolist() if hasattr(r, "tolist") else r


@pytest.mark.parametrize("name", list(CASES))
def test_methods_match_torch(name):
    got, want = (_plain(CASES[name](lib, lib.tensor(X.copy()))) for lib in (gv, torch))
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=1e-12)
    assert np.asarray(got).shape == np.asarray(want).shape


def test_in_place_forms_write_into_the_tensor_and_join_the_graph():
    t = gv.tensor(X.copy())
    same = t.abs_()
    assert same is t and t.tolist() == np.abs(X).tolist()
    grads = []
    for lib in (gv, torch):
        x = lib.tensor(X, requires_grad=True)
        y1, y2, y3, y4 = x * 1, x * 3, x * 2, x * 4
        y1.expm1_()
        y2.clip_(-0.5, 5.0)
        y3.atan_()
        y4.ge_(1.0)       # no gradient through a comparison
        (y1.sum() + (y2 * y2).sum() + y3.sum() + y4.sum()).backward()
        grads.append((x.grad.tolist(), y4.tolist()))
    assert grads[0] == pytest.approx(grads[1], rel=1e-12)
    assert gv.tensor([1, 2]).eq_(1).tolist() == [1, 0]
    with pytest.raises(RuntimeError, match="can't be cast"):
        gv.tensor([1, 4]).sqrt_()          # as torch: a float result into an int tensor


def test_shape_changes_in_place_keep_the_memory_and_refuse_a_graph():
    t = gv.zeros(1, 3)
    alias = t.view(3)
    t.squeeze_(0)
    t.add_(1)
    assert tuple(t.shape) == (3,) and alias.tolist() == [1.0, 1.0, 1.0]
    x = gv.ones(1, 3, requires_grad=True) * 2
    with pytest.raises(BackwardError, match="squeeze_"):
        x.squeeze_(0)


def test_random_fills_and_elementwise_callables():
    gv.manual_seed(0)
    r = gv.zeros(1000).random_(3, 7)
    assert set(r.tolist()) == {3.0, 4.0, 5.0, 6.0}
    assert set(gv.zeros(500, dtype=gv.int64).random_(4).tolist()) == {0, 1, 2, 3}
    assert (gv.zeros(100).geometric_(0.5) >= 1).all()
    assert (gv.zeros(100).log_normal_() > 0).all()
    assert gv.zeros(10).cauchy_().isfinite().all()
    with pytest.raises(RuntimeError, match="from=5 >= to=2"):
        gv.zeros(3).random_(5, 2)
    t = gv.tensor([1.0, 2.0, 3.0])
    assert t.apply_(lambda v: v * 10).tolist() == [10.0, 20.0, 30.0]
    tt = torch.tensor([1.0, 2.0, 3.0])
    assert t.map_(gv.tensor([1.0, 1.0, 2.0]), lambda a, b: a - b).tolist() == \
        tt.apply_(lambda v: v * 10).map_(torch.tensor([1.0, 1.0, 2.0]), lambda a, b: a - b).tolist()
    assert gv.tensor([1.0]).pin_memory().is_pinned() is False
