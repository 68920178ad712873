"""The engine's fast paths give the general paths' results: the plain backward loop,
nn.Linear's direct call, and double backward through ops that save their output."""
import gc

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError, GradvizError


def test_double_backward_through_saved_output_after_output_is_gone():
    # exp and sigmoid save their output; the output Tensor is not kept by anyone but the graph
    x = np.array([0.3, -1.2, 2.0])
    g = gv.tensor(x, dtype=gv.float64, requires_grad=True)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    gy = (g.exp() * g.sigmoid()).sum()
    ty = (t.exp() * t.sigmoid()).sum()
    gc.collect()
    gd, = gv.autograd.grad(gy, g, create_graph=True)
    td, = torch.autograd.grad(ty, t, create_graph=True)
    np.testing.assert_allclose(gd.detach().numpy(), td.detach().numpy(), atol=1e-7)
    gd.sum().backward()
    td.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=1e-7)


def test_plain_loop_accumulates_shared_leaves_and_keeps_hooks():
    a = gv.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = a * a
    y.register_hook(lambda gr: seen.append(gr.numpy().copy()))
    y.retain_grad()
    (y + a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 5.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
    assert len(seen) == 1
    with pytest.raises(BackwardError, match="second time"):
        (y + a).sum().backward()


def test_linear_module_matches_functional_and_checks_shapes():
    m = gv.nn.Linear(3, 2)
    x = gv.randn(4, 3, requires_grad=True)
    out = m(x)
    ref = gv.nn.functional.linear(x, m.weight, m.bias)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    assert x.grad.shape == (4, 3) and m.weight.grad.shape == (2, 3)
    with pytest.raises(GradvizError, match="cannot be multiplied"):
        m(gv.randn(4, 5))
    with pytest.raises(GradvizError, match="dtype"):
        m(gv.randn(4, 3, dtype=gv.float64))
