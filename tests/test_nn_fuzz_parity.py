"""Corner cases of gradviz.nn.functional found by differential fuzzing against torch: pooling
whose output would be empty, poisson_nll_loss(full=True) gradients into the target,
F.normalize with p=inf and at a zero vector, one_hot of an empty tensor, F.pad's non-constant
modes on unsupported ranks, gaussian_nll_loss's var-shape rule."""
import numpy as np
import pytest
import torch

import gradviz as gv

RNG = np.random.default_rng(0)


def _run(lib, fn, arrays):
    """fn(lib, *leaves) on float64 leaves; returns (output, grads of a weighted sum)."""
    leaves = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(lib, *leaves)
    w = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
    grads = lib.autograd.grad((out * w).sum(), leaves)
    return out.detach().numpy(), [g.numpy() for g in grads]


def _same_as_torch(fn, *arrays):
    got, got_g = _run(gv, fn, arrays)
    want, want_g = _run(torch, fn, arrays)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for g, t in zip(got_g, want_g):
        np.testing.assert_allclose(g, t, rtol=1e-8, atol=1e-10)


def _both_raise(fn, *args, match=None):
    """torch raises; so must gradviz, with torch's message (or ``match`` where torch's kernels
    word it differently per rank)."""
    with pytest.raises(Exception) as t_err:
        fn(torch, *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    with pytest.raises(gv.errors.GradvizError) as g_err:
        fn(gv, *[gv.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    if match is None:
        assert str(t_err.value).splitlines()[0] == str(g_err.value).splitlines()[0]
    else:
        assert match in str(g_err.value)


@pytest.mark.parametrize("name, shape", [("max_pool1d", (1, 2, 3)), ("max_pool2d", (1, 2, 3, 3)),
                                         ("max_pool3d", (2, 3, 3, 3)),
                                         ("avg_pool1d", (2, 3)), ("avg_pool2d", (1, 2, 3, 3)),
                                         ("avg_pool3d", (1, 2, 2, 2, 2))])
def test_pool_output_too_small_raises(name, shape):
    _both_raise(lambda L, x: getattr(L.nn.functional, name)(x, 4), np.zeros(shape),
                match="Output size is too small")
    # a ceil_mode window that starts in the left padding still counts
    _same_as_torch(lambda L, x: getattr(L.nn.functional, name)(x, 2, 2, 1, ceil_mode=True),
                   RNG.standard_normal(shape))


@pytest.mark.parametrize("log_input", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_poisson_nll_full_grad_into_target(log_input, reduction):
    x = np.abs(RNG.standard_normal((4, 3))) + 0.1
    target = np.abs(RNG.standard_normal((4, 3))) * 3     # some above 1, some below
    _same_as_torch(lambda L, a, t: L.nn.functional.poisson_nll_loss(
        a, t, log_input=log_input, full=True, reduction=reduction).reshape(-1), x, target)


@pytest.mark.parametrize("p", [float("inf"), float("-inf")])
def test_normalize_p_norms(p):
    _same_as_torch(lambda L, x: L.nn.functional.normalize(x, p, 1),
                   RNG.standard_normal((3, 4)))
    for finite in (1, 2, 3, 0.5, -1.0):   # the finite p keep working
        _same_as_torch(lambda L, x: L.nn.functional.normalize(x, finite, 0),
                       RNG.standard_normal((3, 4)))


def test_normalize_zero_vector_grad_is_finite():
    # torch: the norm's gradient is 0 at a zero vector, so d(x / eps) = 1 / eps
    _same_as_torch(lambda L, x: L.nn.functional.normalize(x, 2, 1, 1e-3),
                   np.vstack([np.zeros((1, 3)), RNG.standard_normal((1, 3))]))


def test_avg_pool3d_input_smaller_than_kernel_raises():
    # torch's 3-D average pooling compares the unpadded input with the kernel (2-D does not)
    for shape, args in [((1, 1, 3, 3, 3), (4, 4, 1)), ((1, 1, 2, 5, 5), (3, 1, 1)),
                        ((1, 2, 5, 5), (3, 1, 1))]:
        _both_raise(lambda L, x: L.nn.functional.avg_pool3d(x, *args), np.ones(shape))
    _same_as_torch(lambda L, x: L.nn.functional.avg_pool3d(x, 3, 1, 1, True, False),
                   RNG.standard_normal((1, 1, 3, 4, 5)))


def test_one_hot_empty_needs_num_classes():
    for n in (-1, 0, -2):
        _both_raise(lambda L, i: L.nn.functional.one_hot(i, n), np.zeros(0, dtype=np.int64))
    out = gv.nn.functional.one_hot(gv.zeros(0, dtype=gv.int64), 3)
    assert tuple(out.shape) == (0, 3) and out.dtype == gv.int64


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [((1, 2, 3, 4), (1, 1)), ((2, 3, 4), (0, 0, 0, 0, 1, 1)),
                                        ((3,), (1, 1)), ((1, 1, 2, 2, 2, 2), (1, 1))])
def test_pad_non_constant_rank_rule(mode, shape, pad):
    _both_raise(lambda L, x: L.nn.functional.pad(x, pad, mode), np.ones(shape))
    # the supported ranks (batched or not, 1-3 padded dims, negative pads) keep working
    for ok_shape, ok_pad in [((2, 4), (1, 2)), ((1, 2, 4), (2, -1)), ((2, 3, 4), (1, 0, 1, 1)),
                             ((1, 2, 3, 4), (1, 1, 0, 2)), ((2, 3, 3, 4), (1, 1, 0, 2, 1, 0)),
                             ((1, 2, 3, 3, 4), (1, 1, 0, 2, 1, 0))]:
        _same_as_torch(lambda L, x: L.nn.functional.pad(x, ok_pad, mode),
                       RNG.standard_normal(ok_shape))


@pytest.mark.parametrize("var_shape", [(1,), (3, 2), (1, 1, 2), (4, 1, 1), (2, 3, 2)])
def test_gaussian_nll_var_shape_rejected(var_shape):
    with pytest.raises(ValueError, match="var is of incorrect size"):
        torch.nn.functional.gaussian_nll_loss(torch.zeros(4, 3, 2), torch.zeros(4, 3, 2),
                                              torch.ones(var_shape))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        gv.nn.functional.gaussian_nll_loss(gv.zeros(4, 3, 2), gv.zeros(4, 3, 2),
                                           gv.ones(*var_shape))
    # the shapes torch takes: equal, one axis short, or exactly one size-1 axis broadcasting
    for ok in [(4, 3, 2), (4, 3), (4, 1, 2), (4, 3, 1), (1, 3, 2)]:
        _same_as_torch(lambda L, a, t, v: L.nn.functional.gaussian_nll_loss(a, t, v, full=True),
                       RNG.standard_normal((4, 3, 2)), RNG.standard_normal((4, 3, 2)),
                       np.abs(RNG.standard_normal(ok)) + 0.1)


def test_gaussian_nll_float_var():
    x, t = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    want = torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(t), 0.7)
    got = gv.nn.functional.gaussian_nll_loss(gv.tensor(x), gv.tensor(t), 0.7)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_implicit_dim_warns(name):
    x = RNG.standard_normal((2, 3, 4))
    msg = f"Implicit dimension choice for {name} has been deprecated"
    with pytest.warns(UserWarning, match=msg):
        want = getattr(torch.nn.functional, name)(torch.tensor(x))
    with pytest.warns(UserWarning, match=msg):
        got = getattr(gv.nn.functional, name)(gv.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    module = {"softmax": "Softmax", "log_softmax": "LogSoftmax", "softmin": "Softmin"}[name]
    with pytest.warns(UserWarning, match=msg):
        getattr(gv.nn, module)()(gv.tensor(x))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_rnn_dropout_one_layer_warns(cls):
    msg = "non-zero dropout expects num_layers greater than 1"
    with pytest.warns(UserWarning, match=msg):
        getattr(torch.nn, cls)(3, 4, dropout=0.5)
    with pytest.warns(UserWarning, match=msg):
        getattr(gv.nn, cls)(3, 4, dropout=0.5)
