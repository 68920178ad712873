"""More torch.nn layers against their torch twins: instance / RMS / local response norms,
channel and alpha dropout, adaptive max and LP pooling, pixel and channel shuffles, shrink
and randomised activations (and the in-place F.*_ forms), margin losses, gumbel_softmax and
EmbeddingBag: values, input and parameter gradients, running statistics, reprs, state_dict
keys and errors. Random layers are checked with the mask gv drew (replayed from the seed)
and statistically; a few run on the fake CuPy."""
import math

import fake_cupy
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import compare

import gradviz as gv
import gradviz.nn.functional as F
from gradviz.errors import GradvizError

F64 = {"dtype": gv.float64}
RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.standard_normal(shape)


def _twin(name, *args, **kw):
    """The same module in both libraries, in float64."""
    return getattr(gv.nn, name)(*args, **kw).to(gv.float64), \
        getattr(torch.nn, name)(*args, **kw).double()


def _same_repr_and_state(gm, tm):
    assert repr(gm) == repr(tm)
    assert list(gm.state_dict()) == list(tm.state_dict())


# ---- norms ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (3, 4, 6)), ("InstanceNorm1d", (4, 6)),
                                         ("InstanceNorm2d", (2, 4, 3, 5)),
                                         ("InstanceNorm2d", (4, 3, 5)),
                                         ("InstanceNorm3d", (2, 4, 2, 3, 2))])
@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (True, True),
                                           (False, True)])
def test_instance_norm_layers_match_torch_in_training_and_eval(name, shape, affine, track):
    gm, tm = _twin(name, 4, affine=affine, track_running_stats=track, momentum=0.3)
    _same_repr_and_state(gm, tm)
    if affine:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_x(4)))
            tm.bias.copy_(torch.tensor(_x(4)))
    for _ in range(2):   # twice: the running statistics move as torch's do
        compare(gm, tm, _x(*shape) * 3 + 1)
        for key, value in tm.state_dict().items():
            np.testing.assert_allclose(gm.state_dict()[key].numpy(), value.numpy(),
                                       rtol=1e-12, atol=1e-12, err_msg=key)
    gm.eval()
    tm.eval()
    compare(gm, tm, _x(*shape), load=False)


def test_instance_norm_bias_false_errors_and_warning():
    gm, tm = _twin("InstanceNorm2d", 3, affine=True, bias=False)
    _same_repr_and_state(gm, tm)
    compare(gm, tm, _x(2, 3, 4, 4))
    with pytest.raises(ValueError, match="match num_features"):
        gv.nn.InstanceNorm1d(3, affine=True)(gv.ones(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        gv.nn.InstanceNorm1d(3)(gv.ones(2, 4, 5))
    for call, match in ((lambda: gv.nn.InstanceNorm2d(3)(gv.ones(2, 3)), "expected 3D or 4D"),
                        (lambda: F.instance_norm(gv.ones(2, 3, 1)), "more than 1 spatial"),
                        (lambda: F.instance_norm(gv.ones(2, 3, 4), use_input_stats=False),
                         "running_mean and running_var")):
        with pytest.raises(GradvizError, match=match):
            call()


@pytest.mark.parametrize("shape, normalized, kw", [((3, 4), 4, {}), ((2, 3, 4), (3, 4), {}),
                                                   ((2, 5), [5], {"eps": 1e-2}),
                                                   ((2, 3, 4), (4,),
                                                    {"elementwise_affine": False})])
def test_rms_norm_matches_torch(shape, normalized, kw):
    gm, tm = _twin("RMSNorm", normalized, **kw)
    _same_repr_and_state(gm, tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_x(*tm.weight.shape)))
    compare(gm, tm, _x(*shape) * 1e-4)   # small values: the default eps matters


def test_rms_norm_default_eps_is_the_float_types_epsilon():
    x = _x(2, 3).astype(np.float32) * 1e-4
    got = F.rms_norm(gv.tensor(x), (3,)).numpy()
    want = TF.rms_norm(torch.tensor(x), (3,)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5)
    with pytest.raises(GradvizError, match="same shape as normalized_shape"):
        F.rms_norm(gv.ones(2, 3), (3,), gv.ones(2))
    with pytest.raises(GradvizError, match="normalized_shape"):
        F.rms_norm(gv.ones(2, 3), (2,))


@pytest.mark.parametrize("shape, args", [((2, 6, 5), (3,)), ((2, 5, 3, 4), (4, 0.3, 0.6, 2.0)),
                                         ((1, 4, 2, 3, 2), (2,))])
def test_local_response_norm_matches_torch(shape, args):
    gm, tm = gv.nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args)
    assert repr(gm) == repr(tm)
    compare(gm, tm, _x(*shape))
    with pytest.raises(ValueError, match="3D or higher"):
        gm(gv.ones(2, 3))


# ---- dropout ---------------------------------------------------------------------------------
def _replayed(seed, shape):
    """The U[0, 1) draws gv's generator makes after gv.manual_seed(seed)."""
    return np.random.default_rng(seed).random(shape)


@pytest.mark.parametrize("fn, shape, mask_shape", [
    ("dropout1d", (3, 5, 4), (3, 5, 1)), ("dropout1d", (5, 4), (1, 5, 1)),
    ("dropout2d", (3, 5, 2, 4), (3, 5, 1, 1)), ("dropout3d", (2, 5, 2, 2, 3), (2, 5, 1, 1, 1)),
    ("dropout3d", (5, 2, 2, 3), (1, 5, 1, 1, 1))])
def test_channel_dropout_drops_whole_channels_with_gvs_generator(fn, shape, mask_shape):
    x = _x(*shape)
    g = gv.tensor(x, requires_grad=True)
    gv.manual_seed(11)
    out = getattr(F, fn)(g, 0.4)
    keep = (_replayed(11, mask_shape) >= 0.4) / 0.6
    want = (x.reshape((-1,) + shape[-len(mask_shape) + 1:]) * keep).reshape(shape)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), np.broadcast_to(keep.reshape(
        (-1,) + mask_shape[-len(shape) + 1:]), shape), rtol=1e-12)
    assert getattr(F, fn)(g, 0.4, training=False) is g


def test_channel_dropout_statistics_modules_and_eval_identity():
    x = gv.ones(400, 50, 3)
    out = gv.nn.Dropout1d(0.3)(x).numpy()
    per_channel = out.reshape(-1, 3)
    assert np.all(per_channel.min(1) == per_channel.max(1))          # whole channels
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    assert abs((per_channel[:, 0] == 0).mean() - 0.3) < 0.02
    for name, shape in (("Dropout1d", (2, 3, 4)), ("Dropout2d", (2, 3, 4, 5)),
                        ("Dropout3d", (2, 3, 4, 5, 2)), ("AlphaDropout", (3,)),
                        ("FeatureAlphaDropout", (2, 3, 4))):
        gm, tm = getattr(gv.nn, name)(0.2), getattr(torch.nn, name)(0.2)
        assert repr(gm) == repr(tm) and repr(getattr(gv.nn, name)(inplace=True)) == repr(
            getattr(torch.nn, name)(inplace=True))
        gm.eval()
        y = gv.ones(*shape)
        assert gm(y) is y
        with pytest.raises(ValueError, match="between 0 and 1"):
            getattr(gv.nn, name)(1.5)


def test_dropout_rank_errors_and_warnings_as_torch():
    with pytest.raises(GradvizError, match="Expected 2D or 3D input"):
        F.dropout1d(gv.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        F.dropout2d(gv.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        F.dropout3d(gv.ones(2, 3), training=False)
    with pytest.raises(GradvizError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(gv.ones(3), 0.5, True)
    for fn in (F.dropout, F.dropout1d, F.alpha_dropout, F.feature_alpha_dropout):
        with pytest.raises(ValueError, match="between 0 and 1"):
            fn(gv.ones(2, 3), -0.1)


@pytest.mark.parametrize("fn, feature", [("alpha_dropout", False),
                                         ("feature_alpha_dropout", True)])
def test_alpha_dropout_is_torchs_affine_map_of_the_drawn_mask(fn, feature):
    x = _x(4, 3, 5)
    g = gv.tensor(x, requires_grad=True)
    p, alpha = 0.3, 1.7580993408473766
    assert getattr(F, fn)(g, p) is g                 # training=False by default, as torch
    gv.manual_seed(5)
    out = getattr(F, fn)(g, p, training=True)
    keep = (_replayed(5, (4, 3, 1) if feature else x.shape) >= p).astype(float)
    a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    want = x * keep * a + (keep - 1) * alpha * a + alpha * a * p
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12, atol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), np.broadcast_to(keep * a, x.shape))
    assert not getattr(F, fn)(g, 1.0, training=True).detach().numpy().any()   # p = 1: zeros


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    gv.manual_seed(0)
    y = gv.nn.AlphaDropout(0.2)(gv.randn(200_000, dtype=gv.float64)).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    z = gv.nn.FeatureAlphaDropout(0.2)(gv.randn(2000, 100, 2, dtype=gv.float64)).numpy()
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02


# ---- pooling ---------------------------------------------------------------------------------
def _sep(*shape):
    """Distinct values: no ties for max pooling."""
    return RNG.permutation(math.prod(shape)).reshape(shape) * 0.5 - 7.0


@pytest.mark.parametrize("name, size, shape", [("AdaptiveMaxPool1d", 4, (2, 3, 9)),
                                               ("AdaptiveMaxPool2d", (3, None), (2, 3, 7, 5)),
                                               ("AdaptiveMaxPool2d", 4, (3, 3, 2)),
                                               ("AdaptiveMaxPool3d", (2, 3, 1), (1, 2, 3, 5, 4))])
@pytest.mark.parametrize("return_indices", [False, True])
def test_adaptive_max_pool_layers_match_torch(name, size, shape, return_indices):
    gm = getattr(gv.nn, name)(size, return_indices)
    tm = getattr(torch.nn, name)(size, return_indices)
    assert repr(gm) == repr(tm)
    gout, tout = compare(gm, tm, _sep(*shape))
    if return_indices:
        assert gout[1].dtype == gv.int64
        np.testing.assert_array_equal(gout[1].numpy(), tout[1].numpy())


def test_max_pool_with_indices_functions_match_torch():
    x = _sep(2, 3, 6, 7)
    for n, arr in ((1, x[0]), (2, x), (3, x[None])):
        fn = f"max_pool{n}d_with_indices"
        g = getattr(F, fn)(gv.tensor(arr), 2, padding=1)
        t = getattr(TF, fn)(torch.tensor(arr), 2, padding=1)
        for a, b in zip(g, t):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        g = getattr(F, f"adaptive_max_pool{n}d_with_indices")(gv.tensor(arr), 3)
        t = getattr(TF, f"adaptive_max_pool{n}d_with_indices")(torch.tensor(arr), 3)
        for a, b in zip(g, t):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(GradvizError, match="Expected 3D or 4D"):
        F.adaptive_max_pool2d(gv.ones(2, 3), 2)
    with pytest.raises(GradvizError, match="non-zero size"):
        F.adaptive_max_pool2d(gv.ones(2, 0, 4), 2)


@pytest.mark.parametrize("name, args, shape", [
    ("LPPool1d", (2, 3), (2, 3, 8)), ("LPPool1d", (1.5, 2, 3, True), (2, 3, 8)),
    ("LPPool2d", (3, (2, 3)), (2, 3, 5, 7)), ("LPPool2d", (2, 2, 1, True), (1, 2, 5, 5)),
    ("LPPool3d", (2, 2), (1, 2, 4, 4, 5)), ("LPPool2d", (math.inf, 2), (1, 2, 4, 4))])
def test_lp_pool_layers_match_torch(name, args, shape):
    gm, tm = getattr(gv.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(gm) == repr(tm)
    compare(gm, tm, np.abs(_sep(*shape)) + 0.5)


def test_lp_pool_window_of_zeros_has_zero_gradient_as_torch():
    grads = []
    for lib in (gv, torch):
        x = lib.tensor([[[0.0, 0.0, 1.0, 2.0]]], requires_grad=True)
        lib.nn.functional.lp_pool1d(x, 1.5, 2).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])
    assert grads[0][0, 0, :2].tolist() == [0.0, 0.0]


# ---- shuffles --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, arg, shape", [("PixelShuffle", 2, (2, 8, 3, 2)),
                                              ("PixelShuffle", 3, (9, 2, 2)),
                                              ("PixelUnshuffle", 2, (2, 3, 4, 6)),
                                              ("PixelUnshuffle", 3, (1, 2, 1, 3, 6)),
                                              ("ChannelShuffle", 3, (2, 6, 2, 2)),
                                              ("ChannelShuffle", 2, (2, 4, 3))])
def test_shuffle_layers_match_torch(name, arg, shape):
    gm, tm = getattr(gv.nn, name)(arg), getattr(torch.nn, name)(arg)
    assert repr(gm) == repr(tm)
    compare(gm, tm, _x(*shape))


def test_pixel_unshuffle_inverts_pixel_shuffle_and_errors():
    x = gv.tensor(_x(2, 12, 3, 2))
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).numpy(),
                                  x.numpy())
    for call, match in ((lambda: F.pixel_shuffle(gv.ones(5, 2, 3), 2), "divisible by the square"),
                        (lambda: F.pixel_shuffle(gv.ones(4, 2), 2), "at least 3 dimensions"),
                        (lambda: F.pixel_shuffle(gv.ones(4, 2, 3), 0), "positive upscale"),
                        (lambda: F.pixel_unshuffle(gv.ones(4, 5, 4), 2), "height to be"),
                        (lambda: F.pixel_unshuffle(gv.ones(4, 4, 5), 2), "width to be"),
                        (lambda: F.channel_shuffle(gv.ones(2, 5, 3), 2), "divisible by groups"),
                        (lambda: F.channel_shuffle(gv.ones(2, 4, 3), 0), "must be positive"),
                        (lambda: gv.nn.ChannelShuffle(2)(gv.ones(2, 4)), "> 2 dims")):
        with pytest.raises(GradvizError, match=match):
            call()


# ---- activations -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, args", [("Hardshrink", ()), ("Hardshrink", (1.1,)),
                                        ("Softshrink", ()), ("Softshrink", (0.8,)),
                                        ("Tanhshrink", ()), ("RReLU", ()),
                                        ("RReLU", (0.1, 0.2)), ("Softmax2d", ())])
def test_activation_layers_match_torch(name, args):
    gm, tm = getattr(gv.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(gm) == repr(tm)
    assert repr(gv.nn.RReLU(0.1, 0.2, True)) == repr(torch.nn.RReLU(0.1, 0.2, True))
    if name == "RReLU":   # the fixed mean slope in eval mode
        gm.eval()
        tm.eval()
    compare(gm, tm, _x(2, 3, 4, 5))


def test_rrelu_in_training_draws_one_slope_per_element():
    x = -np.abs(_x(4000)) - 0.1
    g = gv.tensor(np.concatenate([x, -x]), requires_grad=True)
    gv.manual_seed(3)
    out = gv.nn.RReLU(0.1, 0.3)(g)
    slope = out.detach().numpy()[:4000] / x
    np.testing.assert_allclose(slope, 0.1 + 0.2 * _replayed(3, (8000,))[:4000], rtol=1e-12)
    assert abs(slope.mean() - 0.2) < 0.005 and slope.min() >= 0.1 and slope.max() <= 0.3
    np.testing.assert_array_equal(out.detach().numpy()[4000:], -x)   # positive part unchanged
    out.sum().backward()
    np.testing.assert_allclose(g.grad.numpy()[:4000], slope, rtol=1e-12)
    assert (g.grad.numpy()[4000:] == 1).all()
    with pytest.raises(GradvizError, match="Lower bound"):
        F.rrelu(g, 0.5, 0.1, True)


def test_shrink_and_softmax2d_errors():
    with pytest.raises(GradvizError, match="lambda must be"):
        F.softshrink(gv.ones(3), -1)
    with pytest.raises(ValueError, match="3D or 4D"):
        gv.nn.Softmax2d()(gv.ones(2, 3))


@pytest.mark.parametrize("fn, kw", [("relu_", {}), ("elu_", {"alpha": 0.5}),
                                    ("leaky_relu_", {"negative_slope": 0.2}),
                                    ("hardtanh_", {"min_val": -0.5, "max_val": 0.7}),
                                    ("selu_", {}), ("celu_", {"alpha": 2.0}),
                                    ("threshold_", {"threshold": 0.1, "value": -3.0}),
                                    ("rrelu_", {"lower": 0.1, "upper": 0.4})])
def test_in_place_activations_write_into_the_input_as_torch(fn, kw):
    x = _x(3, 4)
    g, t = gv.tensor(x), torch.tensor(x)
    assert getattr(F, fn)(g, **kw) is g
    getattr(TF, fn)(t, **kw)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)
    leaf = gv.tensor(x, requires_grad=True)   # torch's rule: not on a leaf that needs grad
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(F, fn)(leaf, **kw)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(TF, fn)(torch.tensor(x, requires_grad=True), **kw)
    with gv.no_grad():
        getattr(F, fn)(leaf, **kw)
    np.testing.assert_allclose(leaf.detach().numpy(), t.numpy(), rtol=1e-12)


def test_in_place_activation_of_saved_values_breaks_the_backward_that_saved_them():
    w = gv.tensor(_x(3), requires_grad=True)
    x = gv.tensor(_x(3))
    y = (w * x).sum()                      # Mul saved x for w's gradient
    F.relu_(x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    assert F.relu_.__name__ == "relu_" and F.relu_(gv.tensor([-1, 2])).tolist() == [0, 2]


# ---- losses ----------------------------------------------------------------------------------
_TARGET = np.array([0, 4, 2, 2])


@pytest.mark.parametrize("kw", [{}, {"p": 2, "margin": 0.5}, {"reduction": "sum"},
                                {"weight": [0.5, 1.0, 2.0, 0.1, 3.0], "reduction": "none"},
                                {"weight": [0.5, 1.0, 2.0, 0.1, 3.0], "p": 2}])
def test_multi_margin_loss_matches_torch(kw):
    tkw = dict(kw, **({"weight": torch.tensor(kw["weight"])} if "weight" in kw else {}))
    gkw = dict(kw, **({"weight": gv.tensor(kw["weight"])} if "weight" in kw else {}))
    gm, tm = gv.nn.MultiMarginLoss(**gkw), torch.nn.MultiMarginLoss(**tkw).double()
    _same_repr_and_state(gm, tm)
    compare(gm, tm, _x(4, 5), _TARGET)
    compare(gm, tm, _x(5), np.array(3))


def test_multilabel_margin_loss_matches_torch():
    target = np.array([[0, 4, -1, 1, 2], [1, 1, 2, 3, -1], [-1, 0, 0, 0, 0], [3, 2, 1, 0, 4]])
    for reduction in ("mean", "sum", "none"):
        gm = gv.nn.MultiLabelMarginLoss(reduction=reduction)
        tm = torch.nn.MultiLabelMarginLoss(reduction=reduction)
        assert repr(gm) == repr(tm)
        compare(gm, tm, _x(4, 5), target)
        compare(gm, tm, _x(5), target[0])
    empty = F.multilabel_margin_loss(gv.ones(0, 3), gv.ones(0, 3, dtype=gv.int64))
    assert empty.item() == 0.0      # the mean over no items is 0 (not NaN), as torch's


def test_margin_loss_errors_as_torch():
    x, y = gv.ones(2, 3), gv.tensor([0, 1])
    for call, err, match in (
            (lambda: F.multi_margin_loss(x, gv.tensor([0, 3])), GradvizError, "out of range"),
            (lambda: F.multi_margin_loss(x, gv.tensor([0])), GradvizError, "Expected target"),
            (lambda: F.multi_margin_loss(x, y, p=3), ValueError, "only p == 1 and p == 2"),
            (lambda: F.multi_margin_loss(x, y, weight=gv.ones(2)), GradvizError,
             "inconsistent weight size"),
            (lambda: F.multi_margin_loss(x, gv.tensor([0.0, 1.0])), GradvizError, "Long"),
            (lambda: F.multi_margin_loss(gv.ones(2, 3, 1), y), GradvizError, "non-empty vector"),
            (lambda: F.multilabel_margin_loss(x, gv.tensor([[0, 3, -1], [1, -1, 0]])),
             GradvizError, "out of range"),
            (lambda: F.multilabel_margin_loss(x, gv.tensor([[0, 1, -1]])), GradvizError,
             "inconsistent target size"),
            (lambda: gv.nn.MultiMarginLoss(p=3), ValueError, "only p == 1"),
            (lambda: gv.nn.TripletMarginWithDistanceLoss(margin=0), ValueError, "margin"),
            (lambda: F.triplet_margin_with_distance_loss(x, x, gv.ones(3)), GradvizError,
             "same number of dimensions")):
        with pytest.raises(err, match=match):
            call()


@pytest.mark.parametrize("kw", [{}, {"swap": True, "margin": 2.0}, {"reduction": "none"}])
def test_triplet_margin_with_distance_loss_matches_torch(kw):
    gm, tm = gv.nn.TripletMarginWithDistanceLoss(**kw), \
        torch.nn.TripletMarginWithDistanceLoss(**kw)
    _same_repr_and_state(gm, tm)
    compare(gm, tm, _x(4, 5), _x(4, 5), _x(4, 5))
    cos = {lib: (lambda a, b, lib=lib: 1 - lib.nn.functional.cosine_similarity(a, b))
           for lib in (gv, torch)}
    gm = gv.nn.TripletMarginWithDistanceLoss(distance_function=cos[gv], **kw)
    tm = torch.nn.TripletMarginWithDistanceLoss(distance_function=cos[torch], **kw)
    assert repr(gm) == repr(tm)
    compare(gm, tm, _x(4, 5), _x(4, 5), _x(4, 5))


# ---- gumbel_softmax --------------------------------------------------------------------------
def _torch_gumbel(logits, u, tau, hard, dim):
    """torch's gumbel_softmax with the noise gv drew (-log of Exp(1) = -log(-log(1 - u)))."""
    y_soft = ((logits - torch.log(-torch.log1p(-torch.tensor(u)))) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = torch.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


@pytest.mark.parametrize("tau, hard, dim", [(1, False, -1), (0.5, True, -1), (2.0, True, 0)])
def test_gumbel_softmax_matches_torchs_formula_on_the_same_noise(tau, hard, dim):
    x, w = _x(4, 6), _x(4, 6)
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gv.manual_seed(9)
    go = F.gumbel_softmax(g, tau=tau, hard=hard, dim=dim)
    to = _torch_gumbel(t, _replayed(9, x.shape), tau, hard, dim)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12,
                               atol=1e-15)
    (go * gv.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    if hard:
        assert set(np.unique(go.detach().numpy())) <= {0.0, 1.0}
        assert (go.detach().numpy().sum(dim) == 1).all()


def test_gumbel_softmax_samples_follow_the_softmax_and_eps_is_deprecated():
    logits = gv.tensor(np.log([[0.1, 0.2, 0.7]]).repeat(20000, 0))
    gv.manual_seed(1)
    picks = F.gumbel_softmax(logits, hard=True).numpy().mean(0)
    np.testing.assert_allclose(picks, [0.1, 0.2, 0.7], atol=0.015)
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(logits, eps=1e-5)


# ---- EmbeddingBag ----------------------------------------------------------------------------
_IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("inputs, kw", [
    ((_IDX, np.array([0, 3, 3, 7])), {}),
    ((_IDX, np.array([0, 4, 4, 10])), {"include_last_offset": True, "padding_idx": 4}),
    ((_IDX.reshape(2, 5),), {"padding_idx": 0}),
    ((_IDX, np.array([0, 0, 10])), {"padding_idx": -1})])
def test_embedding_bag_matches_torch(mode, inputs, kw):
    gm = gv.nn.EmbeddingBag(10, 3, mode=mode, **kw, **F64)
    tm = torch.nn.EmbeddingBag(10, 3, mode=mode, **kw).double()
    _same_repr_and_state(gm, tm)
    compare(gm, tm, *inputs)


def test_embedding_bag_per_sample_weights_get_their_gradient():
    w, psw = _x(10, 3), _x(10)
    outs = []
    for lib in (gv, torch):
        weight, p = lib.tensor(w, requires_grad=True), lib.tensor(psw, requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor(_IDX), weight, lib.tensor([0, 2, 2, 6]),
                                              mode="sum", per_sample_weights=p, padding_idx=2)
        (out * lib.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
        outs.append([out.detach().numpy(), weight.grad.numpy(), p.grad.numpy()])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    pretrained = gv.nn.EmbeddingBag.from_pretrained(gv.tensor(w), mode="max")
    assert not pretrained.weight.requires_grad and pretrained.mode == "max"


def test_embedding_bag_errors_as_torch():
    w = gv.ones(3, 2)
    for call, err, match in (
            (lambda: F.embedding_bag(gv.tensor([[0, 1]]), w, gv.tensor([0])), ValueError,
             "offsets has to be None"),
            (lambda: F.embedding_bag(gv.tensor([0, 1]), w), ValueError, "but got None"),
            (lambda: F.embedding_bag(gv.tensor([0, 1]), w, gv.tensor([1])), GradvizError,
             r"offsets\[0\] has to be 0"),
            (lambda: F.embedding_bag(gv.tensor([0, 1]), w, gv.tensor([0, 3])), GradvizError,
             "can not be greater"),
            (lambda: F.embedding_bag(gv.tensor([0, 5]), w, gv.tensor([0])), GradvizError,
             r"Index 1 of input takes value 5"),
            (lambda: F.embedding_bag(gv.tensor([0, 1]), w, gv.tensor([0]), mode="min"),
             ValueError, "mode has to be"),
            (lambda: F.embedding_bag(gv.tensor([0, 1]), w, gv.tensor([0]),
                                     per_sample_weights=gv.ones(2)), NotImplementedError,
             "only supported for mode='sum'"),
            (lambda: F.embedding_bag(gv.tensor([0, 1]), w, gv.tensor([0]), mode="sum",
                                     per_sample_weights=gv.ones(3)), ValueError, "same shape"),
            (lambda: F.embedding_bag(gv.tensor([0, 1]), w, gv.tensor([0]), padding_idx=5),
             GradvizError, "padding_idx must be within"),
            (lambda: F.embedding_bag(gv.tensor([0.0, 1.0]), w, gv.tensor([0])), GradvizError,
             "Long, Int")):
        with pytest.raises(err, match=match):
            call()


# ---- on the device (fake CuPy) -----------------------------------------------------------------
def test_random_layers_draw_and_stay_on_the_device(monkeypatch):
    fake_cupy.install(monkeypatch)
    x = gv.tensor(_x(4, 3, 5, 2).astype(np.float32), device="cuda", requires_grad=True)
    outs = [F.dropout2d(x, 0.5), F.alpha_dropout(x, 0.3, True),
            F.feature_alpha_dropout(x, 0.3, True), F.rrelu(x, training=True),
            F.gumbel_softmax(x, hard=True), F.dropout3d(x, 0.5)]
    sum(o.sum() for o in outs).backward()
    for t in outs + [x.grad]:
        assert t.device.type == "cuda" and type(t._data) is not np.ndarray
        assert t.dtype == gv.float32


def test_norms_pools_losses_and_bags_on_the_device_match_the_cpu(monkeypatch):
    fake_cupy.install(monkeypatch)
    results, arr = [], _sep(2, 3, 5, 6)
    for device in ("cpu", "cuda"):
        gv.manual_seed(0)
        layers = [gv.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
                  gv.nn.AdaptiveMaxPool2d((2, 3), return_indices=True),
                  gv.nn.EmbeddingBag(10, 4, mode="max", padding_idx=2)]
        for m in layers:
            m.to(device)
        x = gv.tensor(arr, device=device, requires_grad=True)
        norm = layers[0](x)
        pooled, indices = layers[1](norm)
        bags = layers[2](gv.tensor(_IDX, device=device), gv.tensor([0, 3, 3], device=device))
        loss = F.multi_margin_loss(pooled.reshape(2, -1), gv.tensor([1, 4], device=device)) \
            + F.multilabel_margin_loss(bags, gv.tensor([[0, 3, -1, 1]] * 3, device=device))
        loss.backward()
        for t in (loss, indices, x.grad, layers[0].running_var, layers[2].weight.grad):
            assert t.device.type == device
        results.append([t.detach().cpu().numpy() for t in (
            loss, indices, x.grad, layers[0].running_mean, layers[0].running_var,
            layers[2].weight.grad)])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
