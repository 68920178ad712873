"""RNNCell, LSTMCell, GRUCell: one time step (torch's parameter names, gate order, init).

A step is the layers' own two ops with one time step: a Linear for the input
projection and the recurrent scan (gradviz.nn.ops.rnn) over a sequence of length 1.
"""
import math

from ...engine import creation
from ...engine.tensor import Tensor
from ...errors import GradvizError, ShapeError
from .. import functional as F
from .. import init
from ..module import Module
from ..ops import GRUScan, LSTMScan, RNNScan
from ..parameter import Parameter


class RNNCellBase(Module):
    """weight_ih (gates*H, I), weight_hh (gates*H, H), bias_ih, bias_hh ~ U(±1/sqrt(H))."""

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        if hidden_size <= 0:
            raise GradvizError("hidden_size must be positive")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        g = self.gates * self.hidden_size
        shapes = [("weight_ih", (g, input_size)), ("weight_hh", (g, hidden_size))]
        shapes += [("bias_ih", (g,)), ("bias_hh", (g,))] if bias else []
        for name, shape in shapes:
            self.register_parameter(name, Parameter(creation.empty(*shape, dtype=dtype,
                                                                   device=device)))
        if not bias:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """torch's default: every weight and bias ~ U(±1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _step_input(self, input, hx, n_states):
        """(input as (1, B, I), states as (B, H) tensors, unbatched flag)."""
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            raise ShapeError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{getattr(input, 'ndim', type(input).__name__)}D instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                             f"expected {self.input_size}")
        unbatched = input.ndim == 1
        x = input.reshape(1, 1, -1) if unbatched else input.unsqueeze(0)
        shape = (x.shape[1], self.hidden_size)
        if hx is None:
            states = tuple(creation.zeros(*shape, dtype=x.dtype, device=x.device)
                           for _ in range(n_states))
        else:
            states = tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
            if len(states) != n_states:
                raise GradvizError(f"{type(self).__name__}: expected {n_states} state "
                                   f"tensor(s), got {len(states)}")
            states = tuple(s.unsqueeze(0) if unbatched else s for s in states)
            for s in states:
                if tuple(s.shape) != shape:
                    raise ShapeError(f"{type(self).__name__}: hidden state has shape "
                                     f"{tuple(s.shape)}, expected {shape}")
        return F.linear(x, self.weight_ih, self.bias_ih), states, unbatched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise GradvizError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        """The next hidden state."""
        xproj, (h,), unbatched = self._step_input(input, hx, 1)
        out = RNNScan.apply(xproj, h, self.weight_hh, self.bias_hh,
                            nonlinearity=self.nonlinearity)[0]
        return out[0] if unbatched else out


class LSTMCell(RNNCellBase):
    """Gates i, f, g, o (torch's order); c' = f*c + i*g, h' = o*tanh(c')."""

    gates = 4

    def forward(self, input, hx=None):
        """(h', c')."""
        xproj, (h, c), unbatched = self._step_input(input, hx, 2)
        hc = LSTMScan.apply(xproj, h, c, self.weight_hh, self.bias_hh)[0]
        H = self.hidden_size
        h1, c1 = hc[:, :H], hc[:, H:]
        return (h1[0], c1[0]) if unbatched else (h1, c1)


class GRUCell(RNNCellBase):
    """Gates r, z, n (torch's order); h' = (1-z)*n + z*h."""

    gates = 3

    def forward(self, input, hx=None):
        """The next hidden state."""
        xproj, (h,), unbatched = self._step_input(input, hx, 1)
        out = GRUScan.apply(xproj, h, self.weight_hh, self.bias_hh)[0]
        return out[0] if unbatched else out
