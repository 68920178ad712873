"""Op table rows for the torch.nn functions composed of existing ops (instance / RMS / local
response norm, adaptive max and LP pooling, pixel and channel shuffles, shrink activations,
margin losses, embedding_bag): each against torch.nn.functional, by finite differences and
(tests/test_cuda.py) on the fake CuPy. ``fns`` names the ops each composite runs."""
import math

import numpy as np
import torch.nn.functional as TF
from op_table import C, Case, OpRow, T, X, fixed, unary

import gradviz.nn.functional as F
from gradviz.engine import ops as EO
from gradviz.nn import ops as O
from gradviz.nn.ops.cross_map_lrn import CrossMapLRN2d


def _gv_cross_map(x, size, alpha=1e-4, beta=0.75, k=1.0):
    from gradviz.nn import CrossMapLRN2d as M
    return M(size, alpha, beta, k)(x)


def _th_cross_map(x, size, alpha=1e-4, beta=0.75, k=1.0):
    from torch.nn import CrossMapLRN2d as M
    return M(size, alpha, beta, k)(x)


def _both(name, fns, cases, **kw):
    return OpRow(name, fns, getattr(F, name), getattr(TF, name), cases, **kw)


def _with_indices(name):
    """F.<name>(..., return_indices=True) in both libraries: values and int64 indices."""
    return OpRow(f"{name}_indices", (EO.Getitem, EO.MaxDim),
                 lambda x, **kw: getattr(F, name)(x, return_indices=True, **kw),
                 lambda x, **kw: getattr(TF, name)(x, return_indices=True, **kw),
                 _ADAPTIVE_MAX[name])


_ADAPTIVE_MAX = {
    "adaptive_max_pool1d": fixed(Case([X((2, 3, 7), "sep")], {"output_size": 3}),
                                 Case([X((3, 4), "sep")], {"output_size": 6})),
    "adaptive_max_pool2d": fixed(Case([X((2, 3, 7, 6), "sep")], {"output_size": (3, 4)}),
                                 Case([X((1, 5, 5), "sep")], {"output_size": (None, 2)}),
                                 Case([X((1, 1, 3, 3), "sep")], {"output_size": 5})),
    "adaptive_max_pool3d": fixed(Case([X((1, 2, 4, 5, 3), "sep")], {"output_size": (2, 3, 2)})),
}
_LP = fixed(Case([X((2, 3, 7), "pos")], {"norm_type": 2, "kernel_size": 3}),
            Case([X((1, 2, 8), "pos")], {"norm_type": 1.5, "kernel_size": 2, "stride": 3,
                                         "ceil_mode": True}),
            Case([X((1, 2, 8), "pos")], {"norm_type": math.inf, "kernel_size": 2}))
_LP2 = fixed(Case([X((2, 3, 5, 6), "pos")], {"norm_type": 3, "kernel_size": (2, 3)}),
             Case([X((1, 2, 5, 5), "pos")], {"norm_type": 1.2, "kernel_size": 2, "stride": 1}))
_MARGIN = np.array([0, 3, 1, 3])
_LABELS = np.array([[0, 3, -1, 1], [2, -1, 0, 0], [1, 2, 3, 0], [-1, 1, 1, 1]])
_BAG_IDX = np.array([1, 2, 4, 5, 4, 3, 2, 6, 0, 0])


def _gv_bag(idx, weight, offsets=None, psw=None, **kw):
    return F.embedding_bag(idx, weight, offsets, per_sample_weights=psw, **kw)


def _th_bag(idx, weight, offsets=None, psw=None, **kw):
    return TF.embedding_bag(idx, weight, offsets, per_sample_weights=psw, **kw)


def _bag_cases(mode):
    cases = [Case([T(_BAG_IDX), X((7, 3)), T(np.array([0, 3, 3, 7]))], {"mode": mode}),
             Case([T(_BAG_IDX), X((7, 3)), T(np.array([0, 4, 4, 10]))],
                  {"mode": mode, "padding_idx": 4, "include_last_offset": True}),
             Case([T(_BAG_IDX.reshape(2, 5)), X((7, 3))], {"mode": mode, "padding_idx": 0})]
    if mode == "sum":
        cases.append(Case([T(_BAG_IDX), X((7, 3)), T(np.array([0, 2, 9])), X((10,))],
                          {"mode": mode, "padding_idx": 2}))
    return fixed(*cases)


ROWS = [
    _both("instance_norm", (O.BatchNorm,), fixed(
        Case([X((2, 3, 5))], {"weight": None}),
        Case([X((2, 3, 4, 3)), C(None), C(None), X((3,)), X((3,))], {"eps": 1e-3}),
        Case([X((1, 2, 2, 3, 2)), C(None), C(None), X((2,))]))),
    OpRow("rms_norm", (EO.Rsqrt, EO.Mean), F.rms_norm, TF.rms_norm, fixed(
        Case([X((3, 4)), C((4,)), X((4,))]),
        Case([X((2, 3, 4)), C((3, 4)), X((3, 4))], {"eps": 1e-3}),
        Case([X((2, 5)), C([5])]))),
    _both("local_response_norm", (O.AvgPool, O.Pad, EO.Pow), fixed(
        Case([X((2, 5, 4)), C(3)]), Case([X((2, 4, 3, 2)), C(2)], {"alpha": 0.3, "k": 2.0}),
        Case([X((1, 3, 2, 2, 2)), C(5)], {"alpha": 0.5, "beta": 0.6}))),
    _both("adaptive_max_pool1d", (EO.Getitem, EO.MaxDim), _ADAPTIVE_MAX["adaptive_max_pool1d"]),
    _both("adaptive_max_pool2d", (EO.Getitem, EO.MaxDim), _ADAPTIVE_MAX["adaptive_max_pool2d"]),
    _both("adaptive_max_pool3d", (EO.Getitem, EO.MaxDim), _ADAPTIVE_MAX["adaptive_max_pool3d"]),
    _with_indices("adaptive_max_pool1d"),
    _with_indices("adaptive_max_pool2d"),
    _with_indices("adaptive_max_pool3d"),
    _both("lp_pool1d", (O.AvgPool, EO.Pow), _LP.filter(lambda c: c.kw["norm_type"] != math.inf)),
    OpRow("lp_pool1d_inf", (O.MaxPool,), F.lp_pool1d, TF.lp_pool1d,
          _LP.filter(lambda c: c.kw["norm_type"] == math.inf)),
    _both("lp_pool2d", (O.AvgPool, EO.Pow), _LP2),
    _both("pixel_shuffle", (EO.Permute,), fixed(Case([X((2, 8, 2, 3)), C(2)]),
                                               Case([X((9, 1, 2)), C(3)]),
                                               Case([X((2, 1, 4, 2, 1)), C(1)]))),
    _both("pixel_unshuffle", (EO.Permute,), fixed(Case([X((2, 2, 4, 6)), C(2)]),
                                                 Case([X((1, 3, 3)), C(3)]))),
    _both("channel_shuffle", (EO.Transpose,), fixed(Case([X((2, 6, 3)), C(3)]),
                                                   Case([X((1, 4, 2, 2)), C(2)]))),
    _both("hardshrink", (EO.Where,), unary("real", lambd=0.7)),
    _both("softshrink", (EO.Clamp,), unary("real", lambd=0.6)),
    _both("tanhshrink", (EO.Tanh,), unary("real")),
    _both("rrelu", (O.LeakyRelu,), unary("nonzero", lower=0.1, upper=0.3)),
    _both("multi_margin_loss", (EO.Gather, EO.Relu), fixed(
        Case([X((4, 5)), T(_MARGIN)]), Case([X((4, 5)), T(_MARGIN)], {"p": 2, "margin": 0.7,
                                                                        "reduction": "none"}),
        Case([X((5,)), T(np.array(2))], {"reduction": "none"}))),
    _both("multilabel_margin_loss", (EO.Gather, EO.Relu), fixed(
        Case([X((4, 4)), T(_LABELS)]), Case([X((4, 4)), T(_LABELS)], {"reduction": "none"}),
        Case([X((4,)), T(_LABELS[0])], {"reduction": "sum"}))),
    _both("triplet_margin_with_distance_loss", (EO.Norm,), fixed(
        Case([X((4, 5)), X((4, 5)), X((4, 5))]),
        Case([X((4, 5)), X((4, 5)), X((4, 5))], {"swap": True, "margin": 2.0,
                                                 "reduction": "none"}))),
    OpRow("embedding_bag_sum", (O.Embedding,), _gv_bag, _th_bag, _bag_cases("sum")),
    OpRow("embedding_bag_mean", (O.Embedding,), _gv_bag, _th_bag, _bag_cases("mean")),
    OpRow("embedding_bag_max", (O.Embedding, EO.MaxDim), _gv_bag, _th_bag, _bag_cases("max")),
    # torch's legacy backward is not the exact gradient (its own gradcheck fails): no FD
    OpRow("cross_map_lrn2d", (CrossMapLRN2d,), _gv_cross_map, _th_cross_map, fixed(
        Case([X((2, 6, 3, 3))], {"size": 3}),
        Case([X((1, 9, 2, 2))], {"size": 5, "alpha": 0.3, "beta": 0.6, "k": 2.0}),
        Case([X((1, 2, 2, 3))], {"size": 5})), fd=False),
]
