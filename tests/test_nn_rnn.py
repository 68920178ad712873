"""RNN, LSTM and GRU against torch with copied weights: outputs, final states and every
gradient, for stacked, bidirectional, batch_first and unbatched use."""
import numpy as np
import pytest
import torch.nn as tnn
from nn_twin import compare, twin

import gradviz as gv
from gradviz import nn
from gradviz.errors import GradvizError

RNG = np.random.default_rng(3)
KINDS = ["RNN", "LSTM", "GRU"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [
    {},
    {"num_layers": 2, "batch_first": True},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "bias": False},
])
def test_recurrent_layers_match_torch(kind, dtype, kwargs):
    gm, tm = twin(getattr(nn, kind), getattr(tnn, kind), 3, 4, dtype=dtype, **kwargs)
    assert list(gm.state_dict()) == list(tm.state_dict())
    assert repr(gm) == repr(tm)
    compare(gm, tm, RNG.standard_normal((5, 2, 3)), dtype=dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_initial_states_get_gradients(kind):
    gm, tm = twin(getattr(nn, kind), getattr(tnn, kind), 2, 3, num_layers=2)
    x = RNG.standard_normal((4, 3, 2))
    h0 = RNG.standard_normal((2, 3, 3))

    class Wrap(tnn.Module):
        def __init__(self, m, lstm):
            super().__init__()
            self.m, self.lstm = m, lstm

        def forward(self, x, h, c=None):
            return self.m(x, (h, c) if self.lstm else h)

    class GWrap(nn.Module):
        def __init__(self, m, lstm):
            super().__init__()
            self.m, self.lstm = m, lstm

        def forward(self, x, h, c=None):
            return self.m(x, (h, c) if self.lstm else h)

    lstm = kind == "LSTM"
    args = (x, h0) + ((RNG.standard_normal((2, 3, 3)),) if lstm else ())
    compare(GWrap(gm, lstm), Wrap(tm, lstm), *args)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_and_relu_rnn(kind):
    gm, tm = twin(getattr(nn, kind), getattr(tnn, kind), 3, 2, bidirectional=True)
    compare(gm, tm, RNG.standard_normal((6, 3)))
    gm, tm = twin(nn.RNN, tnn.RNN, 2, 3, nonlinearity="relu", num_layers=2)
    compare(gm, tm, RNG.standard_normal((4, 2, 2)))


def test_parameters_init_bound_and_shapes():
    gv.manual_seed(0)
    m = nn.LSTM(10, 16)
    assert m.weight_ih_l0.shape == (64, 10) and m.weight_hh_l0.shape == (64, 16)
    bound = 1 / 4
    for p in m.parameters():
        assert np.abs(p.detach().numpy()).max() <= bound


def test_one_projection_and_one_scan_per_layer_and_direction():
    m = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    with gv.trace.record() as rec:
        m(gv.randn(7, 2, 3))
    ops = [e["op"] for e in rec.events if e["type"] == "op"]
    assert ops.count("Linear") == 4 and ops.count("GRUScan") == 4
    assert len(ops) < 20  # no per-time-step ops


def test_dropout_between_layers_only_in_training():
    m = nn.LSTM(2, 3, num_layers=2, dropout=0.5)
    x = gv.randn(4, 1, 2)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    with gv.trace.record() as rec:
        m(x)
    assert "Dropout" in [e["op"] for e in rec.events if e["type"] == "op"]


def test_errors():
    with pytest.raises(GradvizError, match="input_size"):
        nn.GRU(3, 4)(gv.zeros(2, 1, 5))
    with pytest.raises(GradvizError, match="hidden size"):
        nn.RNN(3, 4)(gv.zeros(2, 1, 3), gv.zeros(1, 2, 4))
    with pytest.raises(GradvizError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
