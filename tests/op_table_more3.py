"""Op table rows: polygamma and the regularized incomplete gamma functions (ops/math_more.py;
the other names of tensor_gaps3 are compositions, tested in test_api_gaps3.py)."""
import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SHAPES, C, Case, OpRow, X

import gradviz as gv
from gradviz.engine import ops as O


@st.composite
def _order_and_x(draw):
    """polygamma(n, x): an order 0..3 and a positive x of any shape."""
    return Case([C(draw(st.integers(0, 3))), X(draw(SHAPES), "pos")])


@st.composite
def _shape_and_x(draw):
    """igamma(a, x): a constant a (no gradient: torch has none) broadcast against x."""
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                max_side=4))
    a = draw(hnp.arrays(np.float64, bs.input_shapes[0],
                        elements=st.floats(0.5, 3.0, allow_nan=False)))
    return Case([X(bs.input_shapes[1], "pos"), C(a)])


def _gv_gamma(fn):
    return lambda x, a: fn(gv.from_numpy(np.asarray(a)).to(x.device, x.dtype), x)


def _th_gamma(fn):
    return lambda x, a: fn(torch.from_numpy(np.asarray(a)).to(x.dtype), x)


ROWS = [
    OpRow("polygamma", (O.Polygamma,), gv.polygamma, torch.polygamma, _order_and_x(),
          tol={"float32": (1e-5, 1e-4)}),
    OpRow("polygamma_method", (O.Polygamma,), lambda n, x: x.polygamma(n),
          lambda n, x: x.polygamma(n), _order_and_x(), tol={"float32": (1e-5, 1e-4)}),
    OpRow("igamma", (O.Igamma,), _gv_gamma(gv.igamma), _th_gamma(torch.igamma),
          _shape_and_x()),
    OpRow("igammac", (O.Igammac,), _gv_gamma(gv.igammac), _th_gamma(torch.igammac),
          _shape_and_x()),
]
