"""tensor_extra.py and tensor_pieces.py against torch where the op table does not reach:
errors, layout (stride, is_contiguous), special values, ties, and the gv.* function forms."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.engine import tensor_extra
from gradviz.errors import BackwardError, GradvizError

NAN, INF = float("nan"), float("inf")
A = np.random.RandomState(0).randn(2, 3, 4)


def _same(g, t, **tol):
    """Same dtype, shape and values (NaN where torch has NaN)."""
    assert g.dtype.name == str(t.dtype).replace("torch.", "")
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), equal_nan=True, **tol)


def test_every_name_has_a_torch_twin_and_a_function_form():
    for name in tensor_extra.NAMES:
        assert callable(getattr(gv, name)) and hasattr(torch, name), name
    for name in tensor_extra._METHODS:
        assert hasattr(torch.Tensor, name), name


@pytest.mark.parametrize("view", [
    lambda x: x, lambda x: x[0].t(), lambda x: x.transpose(0, 2), lambda x: x.permute(2, 0, 1),
    lambda x: x.expand(2, 2, 3, 4), lambda x: x[:, ::2], lambda x: x[0], lambda x: x[..., :0],
    lambda x: x.unsqueeze(1), lambda x: x.reshape(6, 4)[1:4], lambda x: x.sum(),
    lambda x: x[:, 1:2, None], lambda x: x[None, :, None], lambda x: x[:, :1]])
def test_stride_and_is_contiguous_match_torch(view):
    g, t = view(gv.tensor(A)), view(torch.tensor(A))
    assert g.stride() == t.stride() and g.is_contiguous() == t.is_contiguous()
    if g.ndim:
        assert g.stride(-1) == t.stride(-1) and g.stride(0) == t.stride(0)


def test_aliases_with_keywords():
    a, b = np.array([5.0, -7.0, 3.5]), np.array([2.0, 2.0, -1.5])
    for name, kw in [("divide", {"rounding_mode": "floor"}),
                     ("divide", {"rounding_mode": "trunc"}),
                     ("subtract", {"alpha": 3}), ("true_divide", {})]:
        _same(getattr(gv, name)(gv.tensor(a), gv.tensor(b), **kw),
              getattr(torch, name)(torch.tensor(a), torch.tensor(b), **kw))
    assert gv.tensor(A).ndimension() == 3


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([1.0, 2.0]).dot(lib.tensor([1.0, 2.0], dtype=lib.float64)),
    lambda lib: lib.ones(2, 2).dot(lib.ones(2, 2)),
    lambda lib: lib.ones(3).dot(lib.ones(4)),
    lambda lib: lib.ones(2, 3).mv(lib.ones(4)),
    lambda lib: lib.ones(3).mv(lib.ones(3)),
    lambda lib: lib.inner(lib.ones(2, 3), lib.ones(2, 4)),
    lambda lib: lib.cross(lib.ones(2, 4), lib.ones(2, 4), dim=1),
    lambda lib: lib.cross(lib.ones(2, 3), lib.ones(3), dim=-1),
    lambda lib: lib.addmm(lib.ones(3, 3), lib.ones(2, 2), lib.ones(2, 2)),
    lambda lib: lib.diff(lib.ones(3), n=-1),
    lambda lib: lib.diff(lib.tensor(1.0)),
    lambda lib: lib.diff(lib.ones(3), prepend=lib.tensor(0.0)),
    lambda lib: lib.tensor_split(lib.ones(4), 0),
    lambda lib: lib.tensor_split(lib.tensor(1.0), 1),
    lambda lib: lib.hsplit(lib.ones(2, 4), 3),
    lambda lib: lib.vsplit(lib.ones(4), 2),
    lambda lib: lib.take_along_dim(lib.ones(2, 3), lib.tensor([0]), dim=1),
    lambda lib: lib.rot90(lib.ones(2, 2), 1, (0, 0)),
    lambda lib: lib.rot90(lib.ones(2), 1),
    lambda lib: lib.ones(3).unfold(0, 4, 1),
    lambda lib: lib.ones(3).unfold(0, 2, 0),
    lambda lib: lib.quantile(lib.tensor([1, 2]), 0.5),
    lambda lib: lib.quantile(lib.ones(3), 1.5),
    lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.5], dtype=lib.float64)),
    lambda lib: lib.quantile(lib.ones(3), lib.tensor([[0.5]])),
    lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.5, 2.0])),
    lambda lib: lib.quantile(lib.ones(3), 0.5, interpolation="cubic"),
    lambda lib: lib.nanquantile(lib.ones(0), 0.5),
    lambda lib: lib.heaviside(lib.ones(2), lib.tensor(0.5, dtype=lib.float64)),
    lambda lib: lib.fmod(lib.tensor([5, 3]), 0),
    lambda lib: lib.logaddexp(lib.tensor([1, 2]), lib.tensor([1, 2])),
    lambda lib: lib.hypot(lib.tensor([3]), lib.tensor([4])),
])
def test_misuse_raises_a_runtime_error_as_torch(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(GradvizError):
        call(gv)


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3).select(1, 3), lambda lib: lib.ones(2).select(0, -3),
    lambda lib: lib.take(lib.ones(2), lib.tensor([2])),
    lambda lib: lib.take(lib.ones(2), lib.tensor([-3])), lambda lib: lib.mode(lib.ones(2, 0), 1)])
def test_out_of_range_indices_are_index_errors_as_torch(call):
    with pytest.raises(IndexError):
        call(torch)
    with pytest.raises(GradvizError) as e:
        call(gv)
    assert isinstance(e.value, IndexError)


def test_heaviside_output_requires_grad_but_has_no_gradient_as_torch():
    for lib, error in ((torch, RuntimeError), (gv, BackwardError)):
        x = lib.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        y = lib.heaviside(x, lib.tensor(0.5))
        assert y.requires_grad
        with pytest.raises(error):
            y.sum().backward()


def test_addmm_with_beta_zero_ignores_nan_in_input():
    for lib in (gv, torch):
        out = lib.addmm(lib.full((2, 2), NAN), lib.ones(2, 3), lib.ones(3, 2), beta=0, alpha=2)
        assert out.tolist() == [[6.0, 6.0], [6.0, 6.0]]


def test_cross_without_dim_takes_the_first_dim_of_size_3():
    a, b = np.random.RandomState(1).randn(2, 3, 3), np.random.RandomState(2).randn(2, 3, 3)
    _same(gv.cross(gv.tensor(a), gv.tensor(b)), torch.cross(torch.tensor(a), torch.tensor(b),
                                                             dim=1))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_to_num_default_fills_are_the_dtype_extremes(dtype):
    s = np.array([NAN, INF, -INF, 1.5])
    _same(gv.tensor(s, dtype=getattr(gv, dtype)).nan_to_num(),
          torch.tensor(s, dtype=getattr(torch, dtype)).nan_to_num())


def test_int_and_bool_inputs_follow_torch_dtypes():
    i, b = np.array([3, -2, 0]), np.array([True, False, True])
    for call in (lambda lib, x: lib.xlogy(2, x), lambda lib, x: x.xlogy(3),
                 lambda lib, x: x.sinc(),
                 lambda lib, x: x.logit(), lambda lib, x: x.float_power(2),
                 lambda lib, x: lib.lgamma(x), lambda lib, x: x.digamma(),
                 lambda lib, x: x.fmax(x.flip(0)), lambda lib, x: x.kron(x),
                 lambda lib, x: x.dot(x), lambda lib, x: x.nan_to_num()):
        _same(call(gv, gv.tensor(i)), call(torch, torch.tensor(i)), rtol=1e-6)
    for call in (lambda lib, x: x.diff(), lambda lib, x: x.signbit(), lambda lib, x: x.msort(),
                 lambda lib, x: x.nonzero(), lambda lib, x: x.heaviside(x)):
        _same(call(gv, gv.tensor(b)), call(torch, torch.tensor(b)))


def test_gamma_family_matches_torch_over_a_wide_range():
    x = np.concatenate([np.linspace(-9.9, 60, 2000), [1e-8, 0.5, 1.0, 2.0, 1e5, -0.5 - 1e-9]])
    x = x[np.abs(x - np.round(x)) > 1e-3]   # off the poles
    for name in ("lgamma", "digamma"):
        _same(getattr(gv.tensor(x), name)(), getattr(torch.tensor(x), name)(),
              rtol=1e-10, atol=1e-10)
    xt = torch.tensor(x, requires_grad=True)
    xt.digamma().sum().backward()
    xg = gv.tensor(x, requires_grad=True)
    xg.digamma().sum().backward()
    _same(xg.grad, xt.grad, rtol=1e-9)
    _same(gv.tensor(x[:50], dtype=gv.float32).lgamma(),
          torch.tensor(x[:50], dtype=torch.float32).lgamma(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", range(6))
def test_mode_picks_torchs_value_and_index_at_ties(seed):
    x = np.random.RandomState(seed).randint(0, 4, size=(5, 9))
    for dim in (0, 1):
        g, t = gv.tensor(x).mode(dim), torch.tensor(x).mode(dim)
        assert g.values.tolist() == t.values.tolist()
        assert g.indices.tolist() == t.indices.tolist()


@pytest.mark.parametrize("mode", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_with_ties_and_nan_matches_torch(mode):
    x = np.random.RandomState(3).randint(0, 5, size=(4, 7)).astype(np.float64)
    x[1, 2] = x[3, :] = NAN
    q = [0.0, 0.2, 0.5, 0.55, 1.0]
    for name in ("quantile", "nanquantile"):
        for dim in (None, 0, 1):
            kw = {"dim": dim, "keepdim": dim == 1, "interpolation": mode}
            _same(getattr(gv.tensor(x), name)(gv.tensor(q, dtype=gv.float64), **kw),
                  getattr(torch.tensor(x), name)(torch.tensor(q, dtype=torch.float64), **kw))
            _same(getattr(gv, name)(gv.tensor(x), 0.3, **kw),
                  getattr(torch, name)(torch.tensor(x), 0.3, **kw))


def test_nanmedian_of_nan_only_is_nan():
    x = np.array([[NAN, NAN, NAN, NAN], [1.0, NAN, 3.0, 2.0]])
    _same(gv.tensor(x).nanmedian(1).values, torch.tensor(x).nanmedian(1).values)
    _same(gv.tensor(x[0]).nanmedian(), torch.tensor(x[0]).nanmedian())


def test_nonzero_of_a_0d_tensor():
    for v in (0.0, 2.0):
        assert gv.tensor(v).nonzero().shape == torch.tensor(v).nonzero().shape
        assert [t.tolist() for t in gv.tensor(v).nonzero(as_tuple=True)] == \
            [t.tolist() for t in torch.tensor(v).nonzero(as_tuple=True)]
        assert gv.argwhere(gv.tensor(v)).shape == torch.argwhere(torch.tensor(v)).shape


def test_unfold_gradient_adds_up_where_windows_overlap():
    grads = []
    for lib in (gv, torch):
        x = lib.tensor(A, requires_grad=True)
        (x.unfold(2, 3, 1) * lib.tensor(np.arange(3.0))).sum().backward()
        grads.append(x.grad)
    _same(*grads)


def test_tensor_split_by_an_int_tensor():
    x = np.arange(14.0).reshape(2, 7)
    for cut in (3, [2, 9], [-3, 1]):
        gs = gv.tensor(x).tensor_split(gv.tensor(cut), dim=1)
        ts = torch.tensor(x).tensor_split(torch.tensor(cut), dim=1)
        assert [g.tolist() for g in gs] == [t.tolist() for t in ts]
