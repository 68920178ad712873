"""Integer and bool results never join the graph, as torch: a cast to an integer dtype, or a
custom Function returning indices, gives a tensor without grad_fn that needs no grad."""
import pytest

import gradviz as gv

torch = pytest.importorskip("torch")

CASTS = [
    ("long", lambda t: t.sum().long()),
    ("int", lambda t: t.int()),
    ("bool", lambda t: t.bool()),
    ("short", lambda t: t.short()),
    ("to int64", lambda t, m=None: t.to((gv if isinstance(t, gv.Tensor) else torch).int64)),
    ("long then float", lambda t: t.long().float()),
    ("type int32", lambda t: t.type((gv if isinstance(t, gv.Tensor) else torch).int32)),
    ("float64 stays", lambda t: t.double()),
    ("float16 stays", lambda t: t.half()),
]


@pytest.mark.parametrize("name,op", CASTS, ids=[c[0] for c in CASTS])
def test_casts_keep_grad_only_for_floating_results(name, op):
    ours = op(gv.tensor([0.5, -1.5, 2.0], requires_grad=True))
    ref = op(torch.tensor([0.5, -1.5, 2.0], requires_grad=True))
    assert ours.requires_grad == ref.requires_grad
    assert (ours.grad_fn is None) == (ref.grad_fn is None)


def _indices_function(lib):
    class Positive(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x > 0).long()

        @staticmethod
        def backward(ctx, g):
            return g
    return Positive


def test_custom_function_integer_output_has_no_grad_fn():
    ours = _indices_function(gv).apply(gv.tensor([1.0, -1.0], requires_grad=True))
    ref = _indices_function(torch).apply(torch.tensor([1.0, -1.0], requires_grad=True))
    assert ref.requires_grad is False and ref.grad_fn is None
    assert ours.requires_grad is False and ours.grad_fn is None
    assert ours.tolist() == ref.tolist()


def test_integer_result_cannot_be_made_to_require_grad():
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(gv.GradvizError, match="floating point"):
        x.long().requires_grad_()


def test_float_cast_still_differentiates():
    x = gv.tensor([1.0, 2.0], dtype=gv.float64, requires_grad=True)
    (x.float() * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
