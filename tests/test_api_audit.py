"""Regressions found by porting-a-torch-script audits of API.md: each case runs in gradviz
and in torch and compares values, dtypes, shapes, gradients or the raised error."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError

A = np.random.RandomState(0).randn(2, 3, 4).astype(np.float32)


def _np(t):
    return t.detach().numpy()


def _same(g, t):
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(g), _np(t), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "logsumexp", "max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (-1, True)])
def test_reduce_zero_dim_tensor_accepts_dim_0_and_minus_1(op, dim, keepdim):
    outs = []
    for lib in (gv, torch):
        x = lib.tensor(1.5, requires_grad=True)
        y = getattr(x, op)(dim, keepdim=keepdim)
        y = y[0] if op in ("max", "min") else y
        (y * 3).sum().backward()
        outs.append((y, x.grad))
    _same(outs[0][0], outs[1][0])
    _same(outs[0][1], outs[1][1])


@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("dim", [(), []])
def test_empty_dim_list_reduces_everything(op, dim):
    g = getattr(gv.tensor(A), op)(dim=dim)
    t = getattr(torch.tensor(A), op)(dim=dim)
    _same(g, t)


def test_duplicate_dims_raise():
    with pytest.raises(RuntimeError):
        torch.tensor(A).sum((0, 0))
    with pytest.raises(GradvizError, match="multiple times"):
        gv.tensor(A).sum((0, -3))


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [3, -4])
def test_max_min_dim_out_of_range_raises(op, dim):
    with pytest.raises(IndexError):
        getattr(torch.tensor(A), op)(dim)
    with pytest.raises(GradvizError, match="out of range") as e:   # an IndexError, as torch's
        getattr(gv.tensor(A), op)(dim)
    assert isinstance(e.value, IndexError)


@pytest.mark.parametrize("call", [lambda x: x.sum(3), lambda x: x.mean(-4), lambda x: x.amax((0, 5))])
def test_reduce_dim_out_of_range_is_an_index_error_as_torch(call):
    with pytest.raises(IndexError):
        call(torch.tensor(A))
    with pytest.raises(IndexError, match="out of range"):
        call(gv.tensor(A))


def test_max_dim_tuple_raises():
    with pytest.raises(TypeError):
        torch.tensor(A).max((0, 1))
    with pytest.raises(GradvizError, match="one int"):
        gv.tensor(A).max((0, 1))


def test_cumsum_zero_dim_keeps_shape():
    outs = []
    for lib in (gv, torch):
        x = lib.tensor(1.5, requires_grad=True)
        y = x.cumsum(0)
        (y * 2).backward()
        outs.append((y, x.grad))
    _same(outs[0][0], outs[1][0])
    _same(outs[0][1], outs[1][1])


def test_prod_dtype():
    x = np.array([[1, 2, 3], [4, 5, 6]])
    _same(gv.tensor(x).prod(1, dtype=gv.float32), torch.tensor(x).prod(1, dtype=torch.float32))


@pytest.mark.parametrize("lo, hi", [(0.5, 4), (None, 2.5), (0.5, None)])
def test_clamp_int_tensor_float_bound_gives_float32(lo, hi):
    x = np.array([[1, -2, 3], [4, 5, -6]])
    _same(gv.tensor(x).clamp(lo, hi), torch.tensor(x).clamp(lo, hi))


@pytest.mark.parametrize("exponent", [0.0, "tensor"])
def test_pow_grad_of_zero_exponent_at_zero_base(exponent):
    grads = []
    for lib in (gv, torch):
        x = lib.tensor([0.0, 1.0, 2.0], requires_grad=True)
        p = lib.tensor([0.0, 0.0, 2.0]) if exponent == "tensor" else exponent
        (x ** p).sum().backward()
        grads.append(x.grad)
    _same(*grads)


def test_where_method_and_one_argument_form():
    a, b = A[0], -A[0]
    _same(gv.tensor(a).where(gv.tensor(a) > 0, gv.tensor(b)),
          torch.tensor(a).where(torch.tensor(a) > 0, torch.tensor(b)))
    g = gv.where(gv.tensor(a) > 0)
    t = torch.where(torch.tensor(a) > 0)
    assert len(g) == len(t)
    for x, y in zip(g, t):
        _same(x, y)


@pytest.mark.parametrize("call", [lambda x: x.flatten(0, 3), lambda x: x.flatten(-4),
                                  lambda x: x.squeeze(3), lambda x: x.squeeze(-4)])
def test_shape_ops_dim_out_of_range_raise(call):
    with pytest.raises(IndexError):
        call(torch.tensor(A))
    with pytest.raises(GradvizError, match="out of range") as e:
        call(gv.tensor(A))
    assert isinstance(e.value, IndexError)


def test_gather_negative_index_raises():
    idx = np.array([[0, -1, 1]])
    with pytest.raises(RuntimeError):
        torch.tensor(A[0]).gather(1, torch.tensor(idx))
    with pytest.raises(GradvizError, match="out of bounds"):
        gv.tensor(A[0]).gather(1, gv.tensor(idx))


def test_cat_zero_dim_raises_clearly():
    with pytest.raises(RuntimeError):
        torch.cat([torch.tensor(1.0), torch.tensor(2.0)])
    with pytest.raises(GradvizError, match="zero-dimensional"):
        gv.cat([gv.tensor(1.0), gv.tensor(2.0)])


def test_setitem_of_value_that_requires_grad_does_not_lose_the_gradient_silently():
    t = torch.zeros(3)
    w = torch.ones(1, requires_grad=True)
    t[0] = w * 2
    t.sum().backward()
    g = gv.zeros(3)
    v = gv.ones(1, requires_grad=True)
    g[0] = v * 2   # joins the graph, as torch's
    assert g.requires_grad and not g.is_leaf
    g.sum().backward()
    assert v.grad.tolist() == w.grad.tolist() == [2.0]
    g = gv.zeros(3)
    with gv.no_grad():
        g[0] = gv.ones(1, requires_grad=True) * 2  # no graph wanted: allowed, as torch
    g[1] = (gv.ones(1, requires_grad=True) * 3).detach()
    assert g.tolist() == [2.0, 3.0, 0.0]


def test_custom_function_with_two_outputs_raises_clearly():
    def make(lib):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2, a + 1

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 * 2 + g2
        return Two
    p, s = make(torch).apply(torch.ones(2, requires_grad=True))
    assert p.shape == s.shape == (2,)
    with pytest.raises(GradvizError, match="several outputs"):
        make(gv).apply(gv.ones(2, requires_grad=True))


@pytest.mark.parametrize("mode", ["no_grad", "enable_grad"])
def test_grad_mode_as_bare_decorator(mode):
    results = []
    for lib in (gv, torch):
        @getattr(lib, mode)
        def f(x):
            return x * 2
        with lib.set_grad_enabled(mode == "no_grad"):
            results.append(f(lib.ones(2, requires_grad=True)).requires_grad)
        assert lib.is_grad_enabled()
    assert results[0] == results[1] == (mode == "enable_grad")


@pytest.mark.parametrize("value", [[2.5], [[2.5]]])
def test_setitem_one_element_tensor_into_one_slot(value):
    g, t = gv.zeros(2, 3), torch.zeros(2, 3)
    g[1, 2] = gv.tensor(value)
    t[1, 2] = torch.tensor(value)
    _same(g, t)


def test_setitem_wrong_shape_raises_runtime_error():
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3)[0] = torch.ones(2)
    with pytest.raises(GradvizError, match="shape"):
        gv.zeros(2, 3)[0] = gv.ones(2)


@pytest.mark.parametrize("call", [lambda m, a, b: a + b, lambda m, a, b: a * b,
                                  lambda m, a, b: m.maximum(a, b), lambda m, a, b: m.where(a > 0, a, b)])
def test_shapes_that_do_not_broadcast_raise_a_runtime_error_naming_the_op(call):
    with pytest.raises(RuntimeError):
        call(torch, torch.ones(2, 3), torch.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"broadcast.*\(2,3\) \(3,2\)") as e:
        call(gv, gv.ones(2, 3), gv.ones(3, 2, requires_grad=True))
    assert isinstance(e.value, GradvizError) and isinstance(e.value, ValueError)
    assert str(e.value).split(":")[0] in ("Add", "Mul", "Maximum", "Where")


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.Module()(1),                                  # no forward defined
    lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])(1),               # iterate over it instead
    lambda lib: lib.nn.ModuleDict({"a": lib.nn.ReLU()})(1),          # index it instead
    lambda lib: (lib.utils.data.Dataset() if lib is torch else lib.data.Dataset())[0],
])
def test_abstract_parts_raise_not_implemented_as_torch(call):
    """The base classes a user completes say so with NotImplementedError, as torch's do."""
    with pytest.raises(NotImplementedError):
        call(torch)
    with pytest.raises(NotImplementedError, match=r"\w"):
        call(gv)


def test_a_function_op_without_forward_says_so():
    class NoForward(gv.autograd.Function):
        pass

    with pytest.raises(NotImplementedError, match="NoForward"):
        NoForward.apply(gv.ones(2, requires_grad=True))


@pytest.mark.parametrize("call", [lambda lib: lib.ones(2, 0).median(1),
                                  lambda lib: lib.ones(2, 0).kthvalue(1, 1),
                                  lambda lib: lib.ones(2, 0).median(-1, keepdim=True)])
def test_order_statistics_refuse_an_empty_reduction_dim(call):
    with pytest.raises(IndexError, match="non-zero size"):
        call(torch)
    with pytest.raises(GradvizError, match="non-zero size") as e:   # an IndexError, as torch's
        call(gv)
    assert isinstance(e.value, IndexError)


def test_order_statistics_along_a_full_dim_of_an_empty_tensor():
    for op in ("median", "kthvalue"):
        args = (1, 1) if op == "kthvalue" else (1,)
        g, t = getattr(gv.ones(0, 3), op)(*args), getattr(torch.ones(0, 3), op)(*args)
        assert tuple(g.values.shape) == tuple(t.values.shape) == (0,)
        assert tuple(g.indices.shape) == (0,) and g.indices.dtype == gv.int64


@pytest.mark.parametrize("op, args", [("max", (1,)), ("min", (0,)), ("sort", ()), ("topk", (1,)),
                                      ("kthvalue", (1,)), ("median", (0,)), ("mode", (0,)),
                                      ("cummax", (0,)), ("cummin", (1,)), ("nanmedian", (1,))])
def test_values_indices_results_are_torchs_return_types(op, args):
    a = np.array([[1.0, 5.0], [3.0, 4.0]], dtype=np.float32)
    g, t = getattr(gv.tensor(a), op)(*args), getattr(torch.tensor(a), op)(*args)
    assert type(g).__name__ == type(t).__name__ == op and g._fields == ("values", "indices")
    _same(g.values, t.values)
    assert g.indices.tolist() == t.indices.tolist()
    assert repr(g) == repr(t).replace("torch.", "gradviz.")   # torch's layout, line by line
