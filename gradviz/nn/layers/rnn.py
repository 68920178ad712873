"""RNN, LSTM, GRU (torch's parameter names, shapes, gate order and init; batch_first,
bidirectional, stacked layers, optional initial states).

Each layer and direction is one Linear op (the input projection of every time
step at once) followed by one fused scan op (gradviz.nn.ops.rnn). A PackedSequence is
unpacked to a padded batch; its reverse direction scans each sequence's real steps reversed
in place (one Getitem each way), so no sequence starts on padding.

An LSTM with ``proj_size`` runs the scan one step at a time, each step's h projected by
weight_hr (torch's LSTMP) before it feeds the next step.
"""
import math
import warnings

import numpy as np

from ...engine import creation
from ...engine.backend import xp_of
from ...engine.functional import cat, stack
from ...engine.tensor import Tensor
from ...errors import ArgumentError, GradvizError, ShapeError
from .. import functional as F
from .. import init
from ..module import Module
from ..ops import GRUScan, LSTMScan, RNNScan
from ..ops.rnn import _unstack
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, lengths_of, pack_rows, unpack_rows

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _ragged(x, lengths):
    """Index tuples into (T, B, ...) for sequences of ``lengths`` (host ints) real steps: each
    one's last real step, and its real steps reversed in place (padding stays after them)."""
    xp = xp_of(x._data)
    t = np.arange(x.shape[0])[:, None]
    batch = Tensor._wrap(xp.asarray(np.arange(x.shape[1])))
    flip = np.where(t < lengths, lengths - 1 - t, t)
    return ((Tensor._wrap(xp.asarray(lengths - 1)), batch),
            (Tensor._wrap(xp.asarray(flip)), batch))


def _lstm_projected(xproj, h0, c0, w_hh, b_hh, w_hr, reverse):
    """LSTM with projections over (T, B, 4H) -> (T, B, P + H): [h_t, c_t], LSTMScan's layout.

    Each step is made of ops (gates i, f, g, o as torch; h_t = (o * tanh(c_t)) @ W_hr^T):
    LSTMScan's fused step assumes h and c have one size, and the projection sits inside the
    recurrence. Ops per step also give create_graph for free.
    """
    H = w_hr.shape[1]
    steps = _unstack(xproj if b_hh is None else xproj + b_hh)
    hs, cs = [None] * len(steps), [None] * len(steps)
    h, c = h0, c0
    w_hh_t, w_hr_t = w_hh.t(), w_hr.t()
    for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
        a = steps[t] + h @ w_hh_t
        s = a.sigmoid()
        c = s[:, H:2 * H] * c + s[:, :H] * a[:, 2 * H:3 * H].tanh()
        h = (s[:, 3 * H:] * c.tanh()) @ w_hr_t
        hs[t], cs[t] = h, c
    return cat([stack(hs, 0), stack(cs, 0)], -1)


def run_layers(mode, x, states, weights, num_layers, dirs, dropout=0.0, lengths=None):
    """Stacked recurrent layers on x (T, B, F): (output (T, B, D*H), final states (L*D, B, H)).

    ``weights`` lists (w_ih, w_hh, b_ih, b_hh[, w_hr]) per layer and direction (biases may be
    None; w_hr, an LSTM's projection, may be None or left out); ``states`` holds h0 (and c0
    for LSTM) as (L*D, B, H) tensors (h0's H is proj_size when projected). ``lengths`` (host
    ints, for a packed batch): sequence b has only its first lengths[b] steps; its final
    state is the one after them, and its reverse direction starts from its last real step.
    """
    finals = [[] for _ in states]
    last, flip = ((-1,), None) if lengths is None else _ragged(x, lengths)
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            w_ih, w_hh, b_ih, b_hh, *w_hr = weights[layer * dirs + d]
            w_hr = w_hr[0] if w_hr else None
            k = layer * dirs + d
            H = w_hh.shape[1]                        # h's size: proj_size when projected
            xproj = F.linear(x, w_ih, b_ih)
            flipped = bool(d) and flip is not None   # scan the flipped steps forwards
            if flipped:
                xproj = xproj[flip]
            reverse = bool(d) and not flipped
            if mode == "LSTM" and w_hr is not None:
                out = _lstm_projected(xproj, states[0][k], states[1][k], w_hh, b_hh, w_hr,
                                      reverse)
            elif mode == "LSTM":
                out = LSTMScan.apply(xproj, states[0][k], states[1][k], w_hh, b_hh,
                                     reverse=reverse)
            elif mode == "GRU":
                out = GRUScan.apply(xproj, states[0][k], w_hh, b_hh, reverse=reverse)
            else:
                out = RNNScan.apply(xproj, states[0][k], w_hh, b_hh,
                                    nonlinearity="tanh" if mode == "RNN_TANH" else "relu",
                                    reverse=reverse)
            if flipped:
                out = out[flip]
            at = (0,) if d else last                 # where this direction's scan ended
            if mode == "LSTM":                       # out is [h_t, c_t]
                finals[1].append(out[at + (Ellipsis, slice(H, None))])
                out = out[..., :H]
            finals[0].append(out[at])
            outs.append(out)
        x = outs[0] if dirs == 1 else cat(outs, dim=-1)
        if dropout and layer < num_layers - 1:
            x = F.dropout(x, dropout, True)
    return x, tuple(stack(f, 0) for f in finals)


def _no_proj_size(cls, kwargs):
    """torch's RNN and GRU refuse proj_size (even 0) by name; any other extra keyword is a
    TypeError, as Python's own."""
    if "proj_size" in kwargs:
        raise ArgumentError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument "
                        f"'{next(iter(kwargs))}'")


class RNNBase(Module):
    """Shared parameters and layer loop of RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if not 0 <= dropout <= 1:
            raise GradvizError("dropout should be a number in range [0, 1] representing the "
                               "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if hidden_size <= 0 or num_layers <= 0:
            raise GradvizError("hidden_size and num_layers must be positive")
        if proj_size < 0:
            raise ArgumentError("proj_size should be a positive integer or zero to disable "
                                "projections")
        if proj_size >= hidden_size:
            raise ArgumentError("proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = int(proj_size)
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_hidden = proj_size or hidden_size      # the size of h (what the next layer sees)
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for d in range(dirs):
                self._all_weights.append([])
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                size_in = input_size if layer == 0 else real_hidden * dirs
                shapes = [("weight_ih", (gates, size_in)), ("weight_hh", (gates, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for name, shape in shapes:
                    self.register_parameter(name + sfx, Parameter(
                        creation.empty(*shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(name + sfx)
                    self._all_weights[-1].append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self):
        """torch's default: every weight and bias ~ U(±1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """A no-op: torch packs the weights for cuDNN here; gradviz has nothing to pack."""

    @property
    def all_weights(self):
        """The parameters as one list per layer and direction (w_ih, w_hh[, b_ih, b_hh][,
        w_hr])."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        """Every weight in ``_flat_weights_names`` order, as torch's attribute."""
        return [getattr(self, name) for name in self._flat_weights_names]

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx),
                get("bias_hh" + sfx), get("weight_hr" + sfx))

    def _check_input(self, input, dims, expected):
        if not isinstance(input, Tensor):
            raise GradvizError(f"{type(self).__name__}: input must be a Tensor")
        if input.ndim not in dims:
            raise ShapeError(f"{type(self).__name__}: Expected input to be {expected}, got "
                             f"{input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]}")

    def _prepare(self, input, hx):
        """(input as (T, B, F), initial states as (L*D, B, H) tuples, unbatched flag)."""
        self._check_input(input, (2, 3), "2D or 3D")
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first
                                                  else input)
        return x, self._states(hx, x, unbatched), unbatched

    def _states(self, hx, x, unbatched, order=None):
        """h0 (and c0) as (L*D, B, H) tensors (h0's H is proj_size when projected): zeros, or
        ``hx`` checked (its batch taken in ``order``, a packed batch's sorted_indices, when
        given)."""
        dirs = 2 if self.bidirectional else 1
        n_states = 2 if self.mode == "LSTM" else 1
        shapes = [(self.num_layers * dirs, x.shape[1], size)
                  for size in (self.proj_size or self.hidden_size, self.hidden_size)]
        if hx is None:
            states = tuple(creation.zeros(*shapes[i], dtype=x.dtype, device=x.device)
                           for i in range(n_states))
        else:
            states = hx if isinstance(hx, (tuple, list)) else (hx,)
            if len(states) != n_states:
                raise GradvizError(f"{type(self).__name__}: expected {n_states} initial "
                                   f"state tensor(s), got {len(states)}")
            states = tuple(s.unsqueeze(1) if unbatched else s for s in states)
            for s, shape in zip(states, shapes):
                if tuple(s.shape) != shape:
                    raise ShapeError(f"Expected hidden size {shape}, got {tuple(s.shape)}")
            if order is not None:
                states = tuple(s.index_select(1, order) for s in states)
        return states

    def forward(self, input, hx=None):
        """(output, h_n) — for LSTM (output, (h_n, c_n)) — with torch's shapes. A
        PackedSequence gives a PackedSequence, and each sequence's state after its last
        step (in the batch's original order)."""
        if isinstance(input, PackedSequence):
            out, finals = self._forward_packed(input, hx)
        else:
            x, states, unbatched = self._prepare(input, hx)
            out, finals = self._run(x, states)
            if unbatched:
                out = out.squeeze(1)
                finals = tuple(f.squeeze(1) for f in finals)
            elif self.batch_first:
                out = out.transpose(0, 1)
        return out, (finals if self.mode == "LSTM" else finals[0])

    def _forward_packed(self, packed, hx):
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        self._check_input(data, (2,), "2D (the data of a PackedSequence)")
        lengths = lengths_of(batch_sizes)
        x = unpack_rows(data, lengths, len(batch_sizes))
        out, finals = self._run(x, self._states(hx, x, False, sorted_indices), lengths)
        if unsorted_indices is not None:
            finals = tuple(f.index_select(1, unsorted_indices) for f in finals)
        return PackedSequence(pack_rows(out, lengths), batch_sizes, sorted_indices,
                              unsorted_indices), finals

    def _run(self, x, states, lengths=None):
        dirs = 2 if self.bidirectional else 1
        weights = [self._weights(layer, d) for layer in range(self.num_layers)
                   for d in range(dirs)]
        return run_layers(self.mode, x, states, weights, self.num_layers, dirs,
                          self.dropout if self.training else 0.0, lengths)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 **kwargs):
        _no_proj_size(type(self), kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise GradvizError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                               "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory; returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        _no_proj_size(type(self), kwargs)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)
