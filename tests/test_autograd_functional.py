"""gv.autograd.functional against torch.autograd.functional: values, output structure
(tensor vs tuple, nested for jacobian/hessian), requires_grad, create_graph (differentiated
again), strict-mode and argument errors, and one run on the fake CuPy."""
import fake_cupy
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import gradviz as gv
import gradviz.autograd.functional as GF
from gradviz.errors import GradvizError

R = np.random.RandomState(0)
W1, W2 = R.randn(3, 4), R.randn(4, 2)


def elementwise(lib):
    return lambda x: x.sin() * x.exp()


def mlp(lib):
    w1, w2 = lib.tensor(W1), lib.tensor(W2)
    return lambda x: (x @ w1).tanh() @ w2


def two_in_two_out(lib):
    return lambda a, b: ((b @ a).tanh(), a.sin() * b.sum(0))


def loss_one(lib):
    return lambda x: (x.tanh() ** 3).sum()


def loss_two(lib):
    return lambda a, b: ((b @ a).tanh() ** 2).sum() + (a * a * a).sum()


# name -> (function builder, input shapes: a tuple of shapes means a tuple of inputs)
CASES = {"elementwise": (elementwise, (3,)), "mlp": (mlp, (2, 3)),
         "two_in_two_out": (two_in_two_out, ((3,), (2, 3))),
         "loss_one": (loss_one, (2, 2)), "loss_two": (loss_two, ((3,), (2, 3)))}
LOSSES = ["loss_one", "loss_two"]
V_OF_INPUTS = {"jvp": True, "hvp": True, "vhp": True, "vjp": False}


def _several(shapes):
    return bool(shapes) and isinstance(shapes[0], tuple)


def _arrays(shapes, seed):
    rs = np.random.RandomState(seed)
    if _several(shapes):
        return tuple(np.asarray(rs.randn(*s)) for s in shapes)
    return np.asarray(rs.randn(*shapes))


def _to(lib, arrays, requires_grad=False, device=None):
    kw = {"device": device} if device else {}
    if isinstance(arrays, tuple):
        return tuple(_to(lib, a, requires_grad, device) for a in arrays)
    return lib.tensor(arrays, requires_grad=requires_grad, **kw)


def _leaves(res):
    return [res] if not isinstance(res, tuple) else [x for r in res for x in _leaves(r)]


def _same(g, t, requires_grad):
    """Same nesting, shapes, values and requires_grad."""
    assert isinstance(g, tuple) == isinstance(t, tuple)
    if isinstance(t, tuple):
        assert len(g) == len(t)
        for a, b in zip(g, t):
            _same(a, b, requires_grad)
        return
    assert tuple(g.shape) == tuple(t.shape)
    assert g.requires_grad is t.requires_grad is requires_grad
    np.testing.assert_allclose(g.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-9,
                               atol=1e-12)


def _call(lib, name, case, create_graph=False, device=None, **kw):
    """Run ``name`` of lib's functional on CASES[case]; (result, the input tensors)."""
    build, shapes = CASES[case]
    func = build(lib)
    inputs = _to(lib, _arrays(shapes, 1), requires_grad=create_graph, device=device)
    if name in V_OF_INPUTS:
        like = shapes if V_OF_INPUTS[name] else _out_shapes(case)
        kw["v"] = _to(lib, _arrays(like, 2), device=device)
    fn = getattr(gv.autograd.functional if lib is gv else TF, name)
    return fn(func, inputs, create_graph=create_graph, **kw), inputs


def _out_shapes(case):
    build, shapes = CASES[case]
    inputs = _to(torch, _arrays(shapes, 1))
    out = build(torch)(*inputs) if _several(shapes) else build(torch)(inputs)
    return tuple(tuple(o.shape) for o in out) if isinstance(out, tuple) else tuple(out.shape)


PAIRS = ([(n, c) for n in ("jacobian", "vjp", "jvp") for c in CASES]
         + [(n, c) for n in ("hessian", "hvp", "vhp") for c in LOSSES])


@pytest.mark.parametrize("name, case", PAIRS)
def test_matches_torch(name, case):
    g, _ = _call(gv, name, case)
    t, _ = _call(torch, name, case)
    _same(g, t, requires_grad=False)


@pytest.mark.parametrize("name, case", PAIRS)
def test_create_graph_differentiates_again(name, case):
    (g, g_in), (t, t_in) = _call(gv, name, case, True), _call(torch, name, case, True)
    _same(g, t, requires_grad=True)
    weights = [np.random.RandomState(3 + i).randn(*x.shape) for i, x in enumerate(_leaves(t))]
    g_loss = sum((x * gv.tensor(w)).sum() for x, w in zip(_leaves(g), weights))
    t_loss = sum((x * torch.tensor(w)).sum() for x, w in zip(_leaves(t), weights))
    g_in, t_in = _leaves(g_in), _leaves(t_in)
    _same(gv.autograd.grad(g_loss, g_in, allow_unused=True),
          tuple(torch.autograd.grad(t_loss, t_in, allow_unused=True)), requires_grad=False)


@pytest.mark.parametrize("strategy, vectorize", [("reverse-mode", True),
                                                 ("forward-mode", True)])
def test_vectorize_and_forward_mode_give_the_reverse_mode_result(strategy, vectorize):
    g, _ = _call(gv, "jacobian", "two_in_two_out", strategy=strategy, vectorize=vectorize)
    t, _ = _call(torch, "jacobian", "two_in_two_out")
    _same(g, t, requires_grad=False)
    g, _ = _call(gv, "hessian", "loss_two", outer_jacobian_strategy=strategy,
                 vectorize=vectorize)
    _same(g, _call(torch, "hessian", "loss_two")[0], requires_grad=False)


def _both_raise(call, match):
    """call(lib, F) raises in torch and (as a GradvizError) in gradviz, both matching."""
    with pytest.raises(Exception, match=match):
        call(torch, TF)
    with pytest.raises(GradvizError, match=match):
        call(gv, gv.autograd.functional)


def _ones(lib, *shape):
    return lib.ones(*shape, dtype=lib.float64)


STRICT = {
    "jacobian": (lambda lib, F: F.jacobian(lambda a, b: a * 2, (_ones(lib, 2), _ones(lib, 2)),
                                           strict=True), "Output 0 .* independent of input 1"),
    "vjp": (lambda lib, F: F.vjp(lambda a, b: a.sum(), (_ones(lib, 2), _ones(lib, 2)),
                                 strict=True), "independent of input 1"),
    "jvp": (lambda lib, F: F.jvp(lambda a: _ones(lib, 2), _ones(lib, 2), _ones(lib, 2),
                                 strict=True), "Output 0 .* does not require gradients"),
    "hessian_linear": (lambda lib, F: F.hessian(lambda a: (a * 3).sum(), _ones(lib, 2),
                                                strict=True), "jacobian .* is independent"),
    "vhp_linear": (lambda lib, F: F.vhp(lambda a: (a * 3).sum(), _ones(lib, 2), _ones(lib, 2),
                                        strict=True), "jacobian .* is independent"),
    "hvp_linear": (lambda lib, F: F.hvp(lambda a: (a * 3).sum(), _ones(lib, 2), _ones(lib, 2),
                                        strict=True), "jacobian .* is independent"),
    "jacobian_create_graph": (lambda lib, F: F.jacobian(
        lambda a: a * 3, _ones(lib, 2), strict=True, create_graph=True),
        "jacobian .* independent of input 0. .* when create_graph=True"),
}
ERRORS = {
    "hessian_not_scalar": (lambda lib, F: F.hessian(lambda a: a * a, _ones(lib, 2)),
                           "should contain a single element"),
    "hessian_tuple_out": (lambda lib, F: F.hessian(lambda a: (a.sum(), a.sum()),
                                                   _ones(lib, 2)), "return a single Tensor"),
    "hvp_not_scalar": (lambda lib, F: F.hvp(lambda a: a * a, _ones(lib, 2), _ones(lib, 2)),
                       "should contain a single element"),
    "v_shape": (lambda lib, F: F.vjp(lambda a: a * a, _ones(lib, 2), _ones(lib, 3)),
                "v has invalid size"),
    "v_entry_shape": (lambda lib, F: F.jvp(lambda a, b: a * b, (_ones(lib, 2), _ones(lib, 2)),
                                           (_ones(lib, 2), _ones(lib, 3))),
                      "Entry 1 in v has invalid size"),
    "v_length": (lambda lib, F: F.vhp(lambda a, b: (a * b).sum(),
                                      (_ones(lib, 2), _ones(lib, 2)), (_ones(lib, 2),)),
                 "v is a tuple of invalid length: should be 2 but got 1"),
    "v_none": (lambda lib, F: F.vjp(lambda a: a * a, _ones(lib, 2)),
               "v can only be None if the user-provided function returns a single Tensor"),
    "v_none_input": (lambda lib, F: F.jvp(lambda a: a.sum(), _ones(lib, 2)),
                     "v can only be None if the input to the user-provided function"),
    "forward_needs_vectorize": (lambda lib, F: F.jacobian(lambda a: a * a, _ones(lib, 2),
                                                          strategy="forward-mode"),
                                "only implemented for `vectorize=True`"),
    "vectorize_strict": (lambda lib, F: F.jacobian(lambda a: a * a, _ones(lib, 2),
                                                   strict=True, vectorize=True),
                         "`strict=True` and `vectorized=True` are not supported together"),
    "forward_create_graph": (lambda lib, F: F.jacobian(
        lambda a: a * a, _ones(lib, 2), create_graph=True, vectorize=True,
        strategy="forward-mode"), "`create_graph=True` and `strategy=\"forward-mode\"`"),
}


@pytest.mark.parametrize("case", list(STRICT) + list(ERRORS))
def test_errors_as_torch(case):
    _both_raise(*(STRICT.get(case) or ERRORS[case]))


def test_strict_passes_when_everything_depends_on_the_inputs():
    g, _ = _call(gv, "hessian", "loss_two", strict=True)
    _same(g, _call(torch, "hessian", "loss_two", strict=True)[0], requires_grad=False)


@pytest.mark.parametrize("inputs, match", [
    (lambda lib: (_ones(lib, 2), [1.0]), "value at index 1 has type <class 'list'>"),
    (lambda lib: 1.0, "given inputs has type <class 'float'>")])
def test_non_tensor_input_is_a_type_error(inputs, match):
    with pytest.raises(TypeError, match=match):
        TF.jacobian(lambda *a: a[0], inputs(torch))
    with pytest.raises(GradvizError, match=match) as e:
        GF.jacobian(lambda *a: a[0], inputs(gv))
    assert isinstance(e.value, TypeError)


def test_independent_input_gives_zeros_when_not_strict():
    a, b = _ones(gv, 2), _ones(gv, 3)
    jac = GF.jacobian(lambda a, b: a * 2, (a, b))
    assert tuple(jac[1].shape) == (2, 3) and not jac[1].detach().numpy().any()


def test_module_paths():
    import importlib
    assert importlib.import_module("gradviz.autograd.functional") is gv.autograd.functional
    assert gv.autograd.functional.jacobian is GF.jacobian
    assert callable(gv.autograd.grad) and gv.autograd.GradcheckError


@pytest.mark.parametrize("name, case", [("jacobian", "two_in_two_out"), ("jvp", "elementwise"),
                                        ("hvp", "loss_two"), ("hessian", "loss_two")])
def test_fake_cupy(monkeypatch, name, case):
    cpu, _ = _call(gv, name, case)
    fake_cupy.install(monkeypatch)
    dev, _ = _call(gv, name, case, device="cuda")
    for d in _leaves(dev):
        assert d.device.type == "cuda" and type(d._data) is not np.ndarray
    _same(dev, cpu, requires_grad=False)
