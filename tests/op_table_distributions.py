"""Op table rows for the Function classes of gv.distributions: GammaSample (a standard gamma
draw as a function of its concentration) against torch's reparameterised gamma on the same
draws, and StandardGammaGrad (its gradient factor under create_graph, no gradient of its own)
against torch._standard_gamma_grad. No finite differences: the draw's value does not move
with alpha (the gradient is implicit, through the draw's quantile); torch's own gradient is
an approximation good to about 5e-4, hence the tolerance."""
import numpy as np
import torch
from op_table import Case, OpRow, T, X, fixed

from gradviz.distributions.gamma_grad import GammaSample, StandardGammaGrad

_DRAWS = np.array([[0.3, 1.2, 2.5], [0.05, 0.8, 4.0]])


def _gv(alpha, x):
    return GammaSample.apply(alpha, x.to(alpha.dtype))


def _th(alpha, x):
    x = x.to(alpha.dtype)
    return x + (alpha - alpha.detach()) * torch._standard_gamma_grad(alpha.detach(), x)


ROWS = [
    OpRow("gamma_sample", (GammaSample,), _gv, _th, fixed(
        Case([X((2, 3), "pos"), T(_DRAWS)]),
        Case([X((3,), "pos"), T(_DRAWS[1])])), fd=False,
        tol={"float32": (1e-4, 3e-3), "float64": (1e-6, 3e-3)}),
    OpRow("standard_gamma_grad", (StandardGammaGrad,),
          lambda alpha, x: StandardGammaGrad.apply(alpha, x.to(alpha.dtype)),
          lambda alpha, x: torch._standard_gamma_grad(alpha, x.to(alpha.dtype)), fixed(
              Case([X((2, 3), "pos"), T(_DRAWS)]),
              Case([X((3,), "pos"), T(_DRAWS[1])])), grad=False,
          tol={"float32": (1e-4, 3e-3), "float64": (1e-6, 3e-3)}),
]
