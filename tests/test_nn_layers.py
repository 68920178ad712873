"""gv.nn layers against their torch twins: a torch state_dict loads into the gradviz module
and gives the same outputs and gradients (weights, biases and inputs)."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
from nn_twin import compare, load_from_torch, twin

import gradviz as gv
from gradviz import nn
from gradviz.errors import GradvizError

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("Linear", (5, 3), {}, (4, 5)),
    ("Linear", (5, 3), {"bias": False}, (2, 6, 5)),
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("Conv2d", (4, 6, 3), {"padding": "same", "dilation": 2, "groups": 2}, (2, 4, 6, 5)),
    ("Conv2d", (3, 2, (2, 3)), {"stride": (2, 1), "padding": (1, 0), "bias": False},
     (2, 3, 7, 6)),
    ("Conv2d", (1, 8, 3), {"padding": 1}, (3, 1, 12, 12)),
    ("Conv3d", (2, 3, 2), {"padding": "valid"}, (1, 2, 4, 5, 3)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                    "groups": 2}, (2, 4, 4, 5)),
    ("ConvTranspose1d", (3, 2, 4), {"stride": 3, "dilation": 2}, (2, 3, 5)),
    ("LayerNorm", ((3, 4),), {}, (2, 3, 4)),
    ("LayerNorm", (4,), {"elementwise_affine": False}, (2, 4)),
    ("Embedding", (6, 3), {"padding_idx": 2}, None),
])
def test_parametrised_layers_match_torch(name, args, kwargs, shape, dtype):
    gm, tm = twin(getattr(nn, name), getattr(tnn, name), *args, dtype=dtype, **kwargs)
    assert [k for k, _ in gm.named_parameters()] == [k for k, _ in tm.named_parameters()]
    assert list(gm.state_dict()) == list(tm.state_dict())
    if name == "Embedding":
        compare(gm, tm, np.array([[0, 2, 5], [2, 1, 1]]), dtype=dtype)
    else:
        compare(gm, tm, _x(*shape), dtype=dtype)


def test_bilinear_matches_torch():
    gm, tm = twin(nn.Bilinear, tnn.Bilinear, 3, 2, 4)
    compare(gm, tm, _x(5, 3), _x(5, 2))


@pytest.mark.parametrize("name, kwargs, shape", [
    ("MaxPool2d", {"kernel_size": 2}, (2, 3, 8, 8)),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 7, 6)),
    ("MaxPool1d", {"kernel_size": 3, "dilation": 2}, (2, 3, 9)),
    ("MaxPool3d", {"kernel_size": 2}, (1, 2, 4, 4, 6)),
    ("AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
     (2, 3, 7, 6)),
    ("AvgPool1d", {"kernel_size": 2}, (2, 3, 7)),
    ("AvgPool3d", {"kernel_size": 2, "ceil_mode": True}, (1, 2, 5, 4, 3)),
    ("AdaptiveAvgPool2d", {"output_size": (3, 2)}, (2, 3, 7, 6)),
    ("AdaptiveAvgPool2d", {"output_size": 1}, (2, 3, 5, 5)),
    ("AdaptiveAvgPool1d", {"output_size": 4}, (2, 3, 9)),
    ("ReLU", {}, (3, 4)), ("LeakyReLU", {"negative_slope": 0.2}, (3, 4)),
    ("ELU", {"alpha": 0.5}, (3, 4)), ("GELU", {}, (3, 4)), ("GELU", {"approximate": "tanh"},
                                                            (3, 4)),
    ("SiLU", {}, (3, 4)), ("Sigmoid", {}, (3, 4)), ("Tanh", {}, (3, 4)),
    ("Softmax", {"dim": 1}, (3, 4)), ("LogSoftmax", {"dim": -1}, (2, 3, 4)),
    ("Softplus", {"beta": 2, "threshold": 1}, (3, 4)),
    ("Hardtanh", {"min_val": -0.5, "max_val": 0.7}, (3, 4)),
    ("Flatten", {}, (2, 3, 4)), ("Flatten", {"start_dim": 0, "end_dim": 1}, (2, 3, 4)),
    ("Unflatten", {"dim": 1, "unflattened_size": (2, 3)}, (4, 6)),
    ("Identity", {}, (2, 2)),
])
def test_stateless_layers_match_torch(name, kwargs, shape):
    gm, tm = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    assert repr(gm) == repr(tm)
    compare(gm, tm, _x(*shape), load=False)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_sum_pool_is_avg_pool_times_window(n):
    x = _x(2, 3, *([6] * n))
    k = 2
    g = getattr(nn, f"SumPool{n}d")(k, stride=1)(gv.tensor(x))
    t = getattr(tnn, f"AvgPool{n}d")(k, stride=1)(torch.tensor(x)) * k ** n
    np.testing.assert_allclose(g.numpy(), t.numpy(), atol=1e-12)


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (4, 3, 5, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_over_steps_then_eval(cls, shape, momentum):
    gm, tm = twin(getattr(nn, cls), getattr(tnn, cls), 3, momentum=momentum)
    with torch.no_grad():
        tm.weight.uniform_(0.5, 1.5)
        tm.bias.uniform_(-0.5, 0.5)
    load_from_torch(gm, tm)
    for step in range(4):
        x = _x(*shape) * (step + 1) + step
        for p in list(gm.parameters()):
            p.grad = None
        tm.zero_grad()
        compare(gm, tm, x, load=False, seed=step)
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(gm, key).numpy(), getattr(tm, key).numpy(),
                                       atol=1e-10, rtol=1e-10)
    assert gm.num_batches_tracked.item() == tm.num_batches_tracked.item() == 4
    assert gm.state_dict()["num_batches_tracked"].dtype == gv.int64
    gm.eval()
    tm.eval()
    compare(gm, tm, _x(*shape), load=False)


def test_batchnorm_without_running_stats_and_affine():
    gm, tm = twin(nn.BatchNorm2d, tnn.BatchNorm2d, 2, affine=False, track_running_stats=False)
    assert list(gm.state_dict()) == list(tm.state_dict()) == []
    gm.eval()
    tm.eval()
    compare(gm, tm, _x(3, 2, 2, 2))


def test_dropout_train_statistics_and_eval_identity():
    gv.manual_seed(0)
    d = nn.Dropout(0.25)
    x = gv.ones(200, 100, requires_grad=True)
    y = d(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())
    gv.manual_seed(0)
    again = nn.Dropout(0.25)(gv.ones(200, 100))
    np.testing.assert_array_equal(again.numpy(), y.detach().numpy())
    d.eval()
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(GradvizError):
        nn.Dropout(1.5)


@pytest.mark.parametrize("cls, args, fan_in", [(nn.Linear, (50, 40), 50),
                                               (nn.Conv2d, (4, 30, 3), 36),
                                               (nn.Conv1d, (6, 20, 5), 30)])
def test_default_init_follows_torch_bounds(cls, args, fan_in):
    gv.manual_seed(1)
    m = cls(*args)
    bound = 1 / math.sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    gv.manual_seed(1)
    np.testing.assert_array_equal(cls(*args).weight.detach().numpy(), w)


def test_init_functions_fans_and_gains():
    w = gv.empty(64, 32, 3, 3)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / (64 * 9))) < 0.01
    nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"))
    a = 5 / 3 * math.sqrt(6 / (32 * 9 + 64 * 9))
    assert np.abs(w.numpy()).max() <= a and w.numpy().max() > 0.9 * a
    nn.init.constant_(w, 0.5)
    assert np.all(w.numpy() == 0.5)
    q = gv.empty(5, 8)
    nn.init.orthogonal_(q)
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, np.eye(5), atol=1e-5)
    nn.init.zeros_(q)
    assert not q.numpy().any()
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))
    p = nn.Parameter(gv.zeros(3, 3))
    nn.init.normal_(p)  # in place on a parameter: no graph, no error
    assert p.is_leaf and p.grad_fn is None


def test_conv_same_padding_even_kernel_matches_torch():
    gm, tm = twin(nn.Conv2d, tnn.Conv2d, 2, 3, (2, 4), padding="same")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that it pads a copy
        compare(gm, tm, _x(2, 2, 5, 6))


def test_unbatched_inputs_match_torch():
    gm, tm = twin(nn.Conv2d, tnn.Conv2d, 2, 3, 3)
    compare(gm, tm, _x(2, 5, 5))
    compare(nn.MaxPool2d(2), tnn.MaxPool2d(2), _x(3, 4, 4), load=False)


def test_layer_errors_are_gradviz_errors():
    with pytest.raises(GradvizError, match="channels"):
        nn.Conv2d(3, 4, 3)(gv.zeros(1, 2, 5, 5))
    with pytest.raises(GradvizError, match="Kernel size"):
        nn.Conv2d(1, 1, 5)(gv.zeros(1, 1, 3, 3))
    with pytest.raises(GradvizError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(GradvizError, match="mat1 and mat2"):
        nn.Linear(3, 2)(gv.zeros(4, 5))
    with pytest.raises(GradvizError, match="divisible"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(GradvizError, match="dtype"):
        nn.Linear(3, 2)(gv.zeros(4, 3, dtype=gv.float64))
    with pytest.raises(IndexError):
        nn.Embedding(3, 2)(gv.tensor([3]))
    with pytest.raises(GradvizError, match="normalized_shape"):
        nn.LayerNorm(4)(gv.zeros(2, 3))
    with pytest.raises(GradvizError, match="more than 1 value"):
        nn.BatchNorm1d(3)(gv.zeros(1, 3))


def test_conv_pool_are_single_ops_in_events():
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2))
    with gv.trace.record() as rec:
        m(gv.randn(1, 1, 6, 6))
    ops = [e["op"] for e in rec.events if e["type"] == "op"]
    assert ops == ["Conv", "MaxPool"]
