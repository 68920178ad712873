"""Double backward (create_graph=True, then the gradient of gradients) through convolutions
and pooling, against torch in float64: first-order grads keep a graph, and second-order
grads with respect to every input (input, weight, bias) match torch's."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradviz as gv
import gradviz.nn.functional as F
from gradviz import nn

_IDX = np.array([[[[0, 3], [9, 15]]]])

CASES = [
    ("conv2d", F.conv2d, TF.conv2d, [(2, 3, 5, 6), (4, 3, 3, 2), (4,)], {"padding": 1}),
    ("conv2d_groups", F.conv2d, TF.conv2d, [(2, 4, 7, 6), (6, 2, 3, 2)],
     {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2}),
    ("conv2d_same_even", F.conv2d, TF.conv2d, [(1, 2, 5, 6), (3, 2, 3, 3)],
     {"padding": "same", "dilation": 2}),
    ("conv1d_stride", F.conv1d, TF.conv1d, [(2, 3, 10), (4, 3, 2)], {"stride": 3}),
    ("conv3d", F.conv3d, TF.conv3d, [(1, 2, 4, 5, 4), (3, 2, 2, 3, 2)],
     {"stride": (1, 2, 1), "padding": (1, 0, 1)}),
    ("conv_transpose2d", F.conv_transpose2d, TF.conv_transpose2d,
     [(2, 4, 5, 4), (4, 3, 3, 2), (6,)],
     {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": (1, 2)}),
    ("conv_transpose2d_dilation", F.conv_transpose2d, TF.conv_transpose2d,
     [(1, 2, 4, 4), (2, 2, 2, 2)], {"dilation": 3, "output_padding": 2}),
    ("conv_transpose1d", F.conv_transpose1d, TF.conv_transpose1d, [(2, 3, 5), (3, 2, 3)],
     {"stride": 3, "padding": 2}),
    ("max_pool2d", F.max_pool2d, TF.max_pool2d, [(2, 3, 7, 6)],
     {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("max_pool2d_overlap", F.max_pool2d, TF.max_pool2d, [(2, 3, 7, 6)],
     {"kernel_size": (3, 2), "stride": 1, "dilation": (2, 1), "ceil_mode": True}),
    ("max_pool1d", F.max_pool1d, TF.max_pool1d, [(2, 3, 9)], {"kernel_size": 2}),
    ("max_pool3d", F.max_pool3d, TF.max_pool3d, [(1, 2, 4, 4, 3)],
     {"kernel_size": 2, "stride": 1}),
    ("avg_pool2d", F.avg_pool2d, TF.avg_pool2d, [(2, 3, 7, 6)],
     {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool2d_ceil", F.avg_pool2d, TF.avg_pool2d, [(2, 3, 7, 6)],
     {"kernel_size": (3, 2), "stride": (2, 1), "ceil_mode": True, "padding": (1, 0)}),
    ("avg_pool2d_divisor", F.avg_pool2d, TF.avg_pool2d, [(1, 2, 4, 4)],
     {"kernel_size": 2, "divisor_override": 3}),
    ("avg_pool1d", F.avg_pool1d, TF.avg_pool1d, [(2, 3, 9)],
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("avg_pool3d", F.avg_pool3d, TF.avg_pool3d, [(1, 2, 5, 4, 3)],
     {"kernel_size": 2, "ceil_mode": True}),
    ("sum_pool2d", F.sum_pool2d, lambda x, *a, **k: TF.avg_pool2d(x, *a, divisor_override=1,
                                                                  **k),
     [(2, 3, 7, 6)], {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("adaptive_avg_pool2d", F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, [(2, 3, 7, 6)],
     {"output_size": (3, 4)}),
    ("max_unpool2d", lambda x, **k: F.max_unpool2d(x, gv.tensor(_IDX), **k),
     lambda x, **k: TF.max_unpool2d(x, torch.tensor(_IDX), **k), [(1, 1, 2, 2)],
     {"kernel_size": 2}),
]


def _second_order(fn, arrays, w, vs, lib):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*xs)
    seed = lib.tensor(w)
    loss = (y * seed).sum() ** 2
    if lib is torch:
        first = torch.autograd.grad(loss, xs, create_graph=True)
    else:
        first = gv.autograd.grad(loss, xs, create_graph=True)
    assert all(g.requires_grad for g in first)
    total = sum((g * lib.tensor(v)).sum() for g, v in zip(first, vs))
    if lib is torch:
        second = torch.autograd.grad(total, xs, allow_unused=True)
    else:
        second = gv.autograd.grad(total, xs, allow_unused=True)
    return ([g.detach().numpy() for g in first],
            [None if g is None else g.detach().numpy() for g in second])


@pytest.mark.parametrize("name, gvf, thf, shapes, kw", CASES, ids=[c[0] for c in CASES])
def test_double_backward_matches_torch(name, gvf, thf, shapes, kw):
    rng = np.random.default_rng(len(name))
    arrays = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    out_shape = tuple(thf(*[torch.tensor(a) for a in arrays], **kw).shape)
    w = rng.standard_normal(out_shape)
    g1, g2 = _second_order(lambda *xs: gvf(*xs, **kw), arrays, w, vs, gv)
    t1, t2 = _second_order(lambda *xs: thf(*xs, **kw), arrays, w, vs, torch)
    for a, b in zip(g1, t1):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    for i, (a, b) in enumerate(zip(g2, t2)):
        if b is None:
            assert a is None or not np.any(a), f"input {i}"
            continue
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=f"{name} input {i}")


def test_gradient_penalty_through_a_conv_net_matches_torch():
    # WGAN-GP style: the input gradient's norm, backpropagated to the weights
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                             torch.nn.Tanh(), torch.nn.AvgPool2d(2),
                             torch.nn.Conv2d(3, 2, 2), torch.nn.MaxPool2d(2)).double()
    gm = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), nn.Tanh(),
                       nn.AvgPool2d(2), nn.Conv2d(3, 2, 2), nn.MaxPool2d(2)).to(gv.float64)
    gm.load_state_dict({k: gv.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 2, 8, 8))
    for m, lib in ((tm, torch), (gm, gv)):
        xi = lib.tensor(x, requires_grad=True)
        (g,) = (torch if lib is torch else gv).autograd.grad(m(xi).sum(), [xi],
                                                             create_graph=True)
        ((g ** 2).sum() ** 0.5).backward()
    for (name, p), (_, tp) in zip(gm.named_parameters(), tm.named_parameters()):
        if p.grad is None:  # the last bias does not reach the input gradient: torch's zeros
            assert not np.any(tp.grad.numpy()), name
            continue
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=name)
