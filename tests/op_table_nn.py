"""Op table rows for gv.nn's Function classes (linear, activations, conv, pooling, norms,
dropout, embedding, padding, recurrences), each against torch.nn.functional."""
import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st
from op_table import SHAPES, C, Case, OpRow, T, X, fixed, unary

import gradviz as gv
import gradviz.nn.functional as F
from gradviz.engine import ops as EO
from gradviz.nn import ops as O
from gradviz.nn.layers.rnn import run_layers


def _act(name, cls, gvf, thf, domain="nonzero", **kw):
    return OpRow(name, (cls,), lambda x, **k: gvf(x, **k), lambda x, **k: thf(x, **k),
                 unary(domain, **kw))


# ---- dropout: gv's generator, replayed on the torch side ------------------------------------
def _gv_dropout(x, p):
    gv.manual_seed(7)
    return F.dropout(x, p)


def _th_dropout(x, p):
    keep = np.asarray(np.random.default_rng(7).random(tuple(x.shape)) >= p)
    return x * torch.from_numpy(np.asarray(keep / (1 - p))).to(x.dtype)


# ---- batch norm in eval mode: fixed running statistics in the input's dtype ---------------------
_RM, _RV = np.array([0.3, -0.2, 0.1]), np.array([0.5, 1.5, 2.0])


def _gv_bn_eval(x, w, b):
    return F.batch_norm(x, gv.tensor(_RM, dtype=x.dtype), gv.tensor(_RV, dtype=x.dtype), w, b,
                        training=False, eps=1e-3)


def _th_bn_eval(x, w, b):
    return TF.batch_norm(x, torch.tensor(_RM, dtype=x.dtype), torch.tensor(_RV, dtype=x.dtype),
                         w, b, training=False, eps=1e-3)


# ---- recurrences: gv's stacked layers against torch's fused kernels -------------------------------
_TORCH_RNN = {"RNN_TANH": torch.rnn_tanh, "RNN_RELU": torch.rnn_relu, "GRU": torch.gru,
              "LSTM": torch.lstm}


def _rnn_case(mode, T_, B, I, H, layers, dirs, bias=True):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * H
    args = [X((T_, B, I)), X((layers * dirs, B, H), "unit")]
    if mode == "LSTM":
        args.append(X((layers * dirs, B, H), "unit"))
    for layer in range(layers):
        size_in = I if layer == 0 else H * dirs
        for _ in range(dirs):
            args += [X((gates, size_in), "unit"), X((gates, H), "unit")]
            if bias:
                args += [X((gates,), "unit"), X((gates,), "unit")]
    return Case(args, {"layers": layers, "dirs": dirs, "bias": bias})


def _gv_rnn(mode):
    def f(x, *rest, layers, dirs, bias):
        n_states = 2 if mode == "LSTM" else 1
        states, params = rest[:n_states], list(rest[n_states:])
        per = 4 if bias else 2
        weights = []
        for i in range(0, len(params), per):
            w = params[i:i + per]
            weights.append(tuple(w) if bias else (w[0], w[1], None, None))
        out, finals = run_layers(mode, x, states, weights, layers, dirs)
        return (out,) + finals
    return f


def _th_rnn(mode):
    def f(x, *rest, layers, dirs, bias):
        n_states = 2 if mode == "LSTM" else 1
        states, params = rest[:n_states], list(rest[n_states:])
        hx = tuple(states) if mode == "LSTM" else states[0]
        return tuple(_TORCH_RNN[mode](x, hx, params, bias, layers, 0.0, False, dirs == 2,
                                      False))
    return f


def _rnn_row(mode, cls):
    cases = fixed(_rnn_case(mode, 4, 2, 3, 3, 1, 1), _rnn_case(mode, 3, 2, 2, 3, 2, 2),
                  _rnn_case(mode, 1, 1, 2, 2, 1, 2, bias=False),
                  _rnn_case(mode, 5, 3, 2, 2, 2, 1, bias=False))
    return OpRow(f"rnn_{mode.lower()}", (O.Linear, cls), _gv_rnn(mode), _th_rnn(mode), cases)


# ---- case lists ----------------------------------------------------------------------------------
_CONV2D = fixed(
    Case([X((2, 3, 5, 6)), X((4, 3, 3, 2)), X((4,))]),
    Case([X((2, 4, 7, 6)), X((6, 2, 3, 2)), X((6,))],
         {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2}),
    Case([X((1, 2, 5, 5)), X((3, 2, 3, 3))], {"padding": "same", "dilation": 2}),
    Case([X((2, 3, 4, 4)), X((2, 3, 1, 1)), X((2,))], {"padding": "valid", "stride": 3}),
    Case([X((3, 5, 5)), X((2, 3, 3, 3)), X((2,))], {"padding": (0, 1)}),
)
_CONV1D = fixed(Case([X((2, 3, 9)), X((4, 3, 4)), X((4,))], {"stride": 2, "padding": 1}),
                Case([X((1, 4, 6)), X((4, 1, 3))], {"groups": 4, "dilation": 2}),
                Case([X((1, 2, 5)), X((3, 2, 3))], {"padding": "same"}))
_CONV3D = fixed(Case([X((1, 2, 4, 5, 4)), X((3, 2, 2, 3, 2)), X((3,))],
                     {"stride": (1, 2, 1), "padding": (1, 0, 1)}))
_CONVT2D = fixed(
    Case([X((2, 3, 4, 5)), X((3, 2, 3, 3)), X((2,))]),
    Case([X((2, 4, 5, 4)), X((4, 3, 3, 2)), X((6,))],
         {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": (1, 2)}),
    Case([X((3, 3, 3)), X((3, 1, 2, 2))], {"stride": (2, 3), "padding": (1, 0)}),
)
_CONVT1D = fixed(Case([X((2, 3, 5)), X((3, 2, 3)), X((2,))], {"stride": 3, "padding": 2}))
_POOL2D = fixed(
    Case([X((2, 3, 6, 6), "sep")], {"kernel_size": 2}),
    Case([X((1, 2, 7, 6), "sep")], {"kernel_size": 3, "stride": 2, "padding": 1}),
    Case([X((1, 2, 7, 6), "sep")], {"kernel_size": (3, 2), "stride": (2, 1), "ceil_mode": True}),
    Case([X((2, 5, 5), "sep")], {"kernel_size": 2, "stride": 1}),
)
_MAXPOOL2D_DIL = fixed(Case([X((1, 2, 7, 7), "sep")], {"kernel_size": 2, "dilation": 2}))
_AVGPOOL2D_EXTRA = fixed(
    Case([X((1, 2, 7, 6))], {"kernel_size": 3, "stride": 2, "padding": 1,
                             "count_include_pad": False}),
    Case([X((1, 2, 7, 6))], {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    Case([X((1, 2, 4, 4))], {"kernel_size": 2, "divisor_override": 3}))
_POOL1D = fixed(Case([X((2, 3, 9), "sep")], {"kernel_size": 3, "stride": 2, "padding": 1}),
                Case([X((1, 2, 8), "sep")], {"kernel_size": 2}))
_POOL3D = fixed(Case([X((1, 2, 4, 5, 4), "sep")], {"kernel_size": 2, "ceil_mode": True}),
                Case([X((1, 1, 4, 4, 4), "sep")], {"kernel_size": (2, 3, 2), "stride": 1}))
_ADAPT = fixed(Case([X((2, 3, 7, 6)), C((3, 4))]), Case([X((3, 6, 6)), C(2)]),
               Case([X((1, 2, 5, 4)), C((None, 3))]), Case([X((1, 1, 3, 3)), C(5)]))


def _with_indices(fn):
    """max_poolNd(..., return_indices=True): (values, int64 flat indices per input plane)."""
    return lambda x, **kw: fn(x, return_indices=True, **kw)


_MAXPOOL_IDX2D = fixed(
    Case([X((2, 3, 6, 6), "sep")], {"kernel_size": 2}),
    Case([X((1, 2, 7, 6), "sep")], {"kernel_size": 3, "stride": 2, "padding": 1}),
    Case([X((1, 2, 7, 6), "sep")], {"kernel_size": (3, 2), "stride": (2, 1), "ceil_mode": True,
                                   "padding": (1, 0)}),
    Case([X((1, 2, 7, 7), "sep")], {"kernel_size": 3, "dilation": 2, "padding": 1, "stride": 2}),
    Case([X((2, 5, 5), "sep")], {"kernel_size": 2, "stride": 1}))
_MAXPOOL_IDX1D = fixed(
    Case([X((2, 3, 9), "sep")], {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    Case([X((3, 8), "sep")], {"kernel_size": 2, "dilation": 3, "padding": 1}))
_MAXPOOL_IDX3D = fixed(
    Case([X((1, 2, 4, 5, 4), "sep")], {"kernel_size": 2, "ceil_mode": True, "padding": 1}),
    Case([X((1, 1, 4, 4, 4), "sep")], {"kernel_size": (2, 3, 2), "stride": 1}))


def _pool_indices(shape, kernel_size, **kw):
    """Indices torch's max pooling returns for a fixed input of ``shape`` (no repeats)."""
    n = len(shape) - 2
    x = torch.from_numpy(np.random.default_rng(3).permutation(int(np.prod(shape)))
                         .reshape(shape).astype(np.float64))
    fn = (TF.max_pool1d, TF.max_pool2d, TF.max_pool3d)[n - 1]
    return fn(x, kernel_size, return_indices=True, **kw)[1].numpy()


_UNPOOL2D = fixed(
    Case([X((2, 3, 3, 3)), T(_pool_indices((2, 3, 6, 6), 2))], {"kernel_size": 2}),
    Case([X((1, 2, 3, 3)), T(_pool_indices((1, 2, 6, 7), 2))],
         {"kernel_size": 2, "output_size": (6, 7)}),
    Case([X((2, 2, 3)), T(_pool_indices((1, 2, 4, 7), 3, padding=1)[0])],
         {"kernel_size": 3, "padding": 1, "output_size": [9, 9, 4, 7]}))
_UNPOOL1D = fixed(Case([X((2, 3, 4)), T(_pool_indices((2, 3, 9), 2))],
                       {"kernel_size": 2, "output_size": (9,)}))
_UNPOOL3D = fixed(Case([X((1, 2, 2, 2, 2)), T(_pool_indices((1, 2, 4, 4, 5), 2))],
                       {"kernel_size": 2, "output_size": (4, 4, 5)}))


def _sum_pool_th(fn, k):
    """torch's avg pooling times the window size (divisor 1 where partial windows occur)."""
    def f(x, **kw):
        if k > 1:
            return fn(x, divisor_override=1, **kw)
        kk = kw["kernel_size"]
        return fn(x, **kw) * int(np.prod(kk if isinstance(kk, tuple) else (kk,) * k))
    return f


ROWS = [
    OpRow("linear", (O.Linear,), F.linear, TF.linear, fixed(
        Case([X((3, 5)), X((4, 5)), X((4,))]), Case([X((5,)), X((4, 5)), X((4,))]),
        Case([X((2, 3, 5)), X((4, 5))]), Case([X((1, 1)), X((1, 1)), X((1,))]))),
    OpRow("bilinear", (O.Bilinear,), F.bilinear, TF.bilinear, fixed(
        Case([X((4, 3)), X((4, 2)), X((5, 3, 2)), X((5,))]),
        Case([X((2, 3, 3)), X((2, 3, 2)), X((1, 3, 2))]))),
    _act("leaky_relu", O.LeakyRelu, F.leaky_relu, TF.leaky_relu),
    _act("leaky_relu_slope", O.LeakyRelu, F.leaky_relu, TF.leaky_relu, negative_slope=0.3),
    _act("elu", O.Elu, F.elu, TF.elu),
    _act("elu_alpha", O.Elu, F.elu, TF.elu, alpha=0.5),
    _act("gelu", O.Gelu, F.gelu, TF.gelu, "real"),
    _act("gelu_tanh", O.Gelu, F.gelu, TF.gelu, "real", approximate="tanh"),
    _act("silu", O.Silu, F.silu, TF.silu, "real"),
    _act("softplus", O.Softplus, F.softplus, TF.softplus, "real"),
    _act("softplus_beta", O.Softplus, F.softplus, TF.softplus, "nonzero", beta=2.0,
         threshold=1.0),
    _act("hardtanh", O.Hardtanh, F.hardtanh, TF.hardtanh, "nonzero"),
    _act("hardtanh_bounds", O.Hardtanh, F.hardtanh, TF.hardtanh, "real", min_val=-0.5,
         max_val=1.5),
    _act("relu_fn", EO.Relu, F.relu, TF.relu),
    _act("sigmoid_F", EO.Sigmoid, F.sigmoid, torch.sigmoid, "real"),
    _act("tanh_F", EO.Tanh, F.tanh, torch.tanh, "real"),
    OpRow("softmax_F", (EO.Softmax,), F.softmax, TF.softmax,
          SHAPES.filter(lambda s: len(s) >= 1).map(lambda s: Case([X(s)], {"dim": -1}))),
    OpRow("log_softmax_F", (EO.LogSoftmax,), F.log_softmax, TF.log_softmax,
          fixed(Case([X((3, 4))], {"dim": 1}), Case([X((2, 3, 4))], {"dim": 0}))),
    OpRow("conv2d", (O.Conv,), F.conv2d, TF.conv2d, _CONV2D),
    OpRow("conv1d", (O.Conv,), F.conv1d, TF.conv1d, _CONV1D),
    OpRow("conv3d", (O.Conv,), F.conv3d, TF.conv3d, _CONV3D),
    OpRow("conv_transpose2d", (O.ConvTranspose,), F.conv_transpose2d, TF.conv_transpose2d,
          _CONVT2D),
    OpRow("conv_transpose1d", (O.ConvTranspose,), F.conv_transpose1d, TF.conv_transpose1d,
          _CONVT1D),
    OpRow("max_pool2d", (O.MaxPool,), F.max_pool2d, TF.max_pool2d, _POOL2D),
    OpRow("max_pool2d_dilation", (O.MaxPool,), F.max_pool2d, TF.max_pool2d, _MAXPOOL2D_DIL),
    OpRow("max_pool1d", (O.MaxPool,), F.max_pool1d, TF.max_pool1d, _POOL1D),
    OpRow("max_pool3d", (O.MaxPool,), F.max_pool3d, TF.max_pool3d, _POOL3D),
    OpRow("max_pool2d_indices", (O.MaxPool,), _with_indices(F.max_pool2d),
          _with_indices(TF.max_pool2d), _MAXPOOL_IDX2D),
    OpRow("max_pool1d_indices", (O.MaxPool,), _with_indices(F.max_pool1d),
          _with_indices(TF.max_pool1d), _MAXPOOL_IDX1D),
    OpRow("max_pool3d_indices", (O.MaxPool,), _with_indices(F.max_pool3d),
          _with_indices(TF.max_pool3d), _MAXPOOL_IDX3D),
    OpRow("max_unpool2d", (O.MaxUnpool,), F.max_unpool2d, TF.max_unpool2d, _UNPOOL2D),
    OpRow("max_unpool1d", (O.MaxUnpool,), F.max_unpool1d, TF.max_unpool1d, _UNPOOL1D),
    OpRow("max_unpool3d", (O.MaxUnpool,), F.max_unpool3d, TF.max_unpool3d, _UNPOOL3D),
    OpRow("avg_pool2d", (O.AvgPool,), F.avg_pool2d, TF.avg_pool2d, _POOL2D),
    OpRow("avg_pool2d_options", (O.AvgPool,), F.avg_pool2d, TF.avg_pool2d, _AVGPOOL2D_EXTRA),
    OpRow("avg_pool1d", (O.AvgPool,), F.avg_pool1d, TF.avg_pool1d, _POOL1D),
    OpRow("avg_pool3d", (O.AvgPool,), F.avg_pool3d, TF.avg_pool3d, _POOL3D),
    OpRow("sum_pool2d", (O.SumPool,), F.sum_pool2d, _sum_pool_th(TF.avg_pool2d, 2), _POOL2D),
    OpRow("sum_pool1d", (O.SumPool,), F.sum_pool1d, _sum_pool_th(TF.avg_pool1d, 1), _POOL1D),
    OpRow("sum_pool3d", (O.SumPool,), F.sum_pool3d, _sum_pool_th(TF.avg_pool3d, 3), _POOL3D),
    OpRow("adaptive_avg_pool2d", (O.AdaptiveAvgPool,), F.adaptive_avg_pool2d,
          TF.adaptive_avg_pool2d, _ADAPT),
    OpRow("adaptive_avg_pool1d", (O.AdaptiveAvgPool,), F.adaptive_avg_pool1d,
          TF.adaptive_avg_pool1d, fixed(Case([X((2, 3, 7)), C(3)]), Case([X((3, 4)), C(6)]))),
    OpRow("dropout", (O.Dropout,), _gv_dropout, _th_dropout,
          st.one_of(SHAPES.map(lambda s: Case([X(s), C(0.5)])),
                    SHAPES.map(lambda s: Case([X(s), C(0.2)])))),
    OpRow("batch_norm_train", (O.BatchNorm,),
          lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
          fixed(Case([X((4, 3)), X((3,)), X((3,))]), Case([X((2, 3, 5)), X((3,)), X((3,))]),
                Case([X((2, 3, 2, 2)), X((3,)), X((3,))]))),
    OpRow("batch_norm_no_affine", (O.BatchNorm,),
          lambda x: F.batch_norm(x, None, None, training=True, eps=1e-2),
          lambda x: TF.batch_norm(x, None, None, training=True, eps=1e-2),
          fixed(Case([X((5, 3))]), Case([X((2, 3, 3, 2))]))),
    OpRow("batch_norm_eval", (O.BatchNorm,), _gv_bn_eval, _th_bn_eval,
          fixed(Case([X((4, 3)), X((3,)), X((3,))]), Case([X((2, 3, 2, 2)), X((3,)), X((3,))]))),
    OpRow("layer_norm", (O.LayerNorm,), F.layer_norm, TF.layer_norm, fixed(
        Case([X((3, 4)), C((4,)), X((4,)), X((4,))]),
        Case([X((2, 3, 4)), C((3, 4)), X((3, 4)), X((3, 4))]),
        Case([X((2, 5)), C((5,))]), Case([X((2, 3, 4)), C([4]), X((4,))]))),
    OpRow("embedding", (O.Embedding,), F.embedding, TF.embedding, fixed(
        Case([T(np.array([[0, 2, 1], [4, 2, 2]])), X((5, 3))]),
        Case([T(np.array(2)), X((3, 4))]))),
    OpRow("embedding_padding_idx", (O.Embedding,), F.embedding, TF.embedding, fixed(
        Case([T(np.array([1, 1, 3])), X((4, 2))], {"padding_idx": 1}),
        Case([T(np.array([[0, 3], [2, 3]])), X((4, 2))], {"padding_idx": -1})), fd=False),
    OpRow("pad", (O.Pad,), F.pad, TF.pad, fixed(
        Case([X((3, 4)), C((1, 2))]), Case([X((2, 3, 4)), C((1, 0, 2, 1))], {"value": 0.5}),
        Case([X((2, 3, 4)), C((0, -1, 1, 1))]), Case([X((2, 3)), C((1, 1, 1, 1))]))),
    OpRow("pad_modes", (EO.Getitem,), F.pad, TF.pad, fixed(
        Case([X((1, 2, 4)), C((2, 1))], {"mode": "reflect"}),
        Case([X((1, 2, 3, 4)), C((1, 2, 2, 1))], {"mode": "replicate"}),
        Case([X((1, 2, 3, 4)), C((1, 2, 0, 1))], {"mode": "circular"}))),
    _rnn_row("RNN_TANH", O.RNNScan),
    _rnn_row("RNN_RELU", O.RNNScan),
    _rnn_row("LSTM", O.LSTMScan),
    _rnn_row("GRU", O.GRUScan),
]
