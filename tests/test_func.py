"""gv.func against torch.func: grad / grad_and_value (argnums, has_aux, pytrees, nesting),
vjp, jacrev, jacfwd, hessian, functional_call (the per-model functional training step), the
errors, vmap (per-sample gradients, in_dims/out_dims trees, nesting, randomness), and one run on
the fake CuPy."""
import fake_cupy
import numpy as np
import pytest
import torch
import torch.func as TF

import gradviz as gv
import gradviz.func as GF
from gradviz.errors import GradvizError

R = np.random.RandomState(0)
A, B = R.randn(3), R.randn(3)
W1, B1, W2, B2 = R.randn(4, 3), R.randn(4), R.randn(1, 4), R.randn(1)
XB, YB = R.randn(5, 3), R.randn(5, 1)
# torch.func's jacrev/hessian script a helper on first use (torch's own warning, not ours)
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def close(g, t):
    """gradviz result g equals torch result t, structure included."""
    if isinstance(t, dict):
        assert isinstance(g, dict) and g.keys() == t.keys()
        for k in t:
            close(g[k], t[k])
    elif isinstance(t, tuple):
        assert isinstance(g, tuple) and len(g) == len(t)
        for a, b in zip(g, t):
            close(a, b)
    else:
        assert isinstance(g, gv.Tensor) and tuple(g.shape) == tuple(t.shape)
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-9,
                                   atol=1e-12)


FUNCS = {   # scalar functions of (a, b), written once for both libraries
    "elementwise": lambda a, b: (a.sin() * b.exp()).sum(),
    "poly": lambda a, b: (a ** 3 * b + a * b ** 2).sum(),
    "unused_b": lambda a, b: a.tanh().sum(),
    "reduce": lambda a, b: (a - b).pow(2).mean().sqrt(),
}


def both(*arrays):
    return [gv.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1])
def test_grad_and_value_match_torch(name, argnums):
    f = FUNCS[name]
    (ga, gb), (ta, tb) = both(A, B)
    close(GF.grad(f, argnums)(ga, gb), TF.grad(f, argnums)(ta, tb))
    close(GF.grad_and_value(f, argnums)(ga, gb), TF.grad_and_value(f, argnums)(ta, tb))
    assert ga.grad is None and gb.grad is None


def test_grad_does_not_touch_grad_and_ignores_outer_no_grad():
    x = gv.tensor(A, requires_grad=True)
    with gv.no_grad():
        g = GF.grad(lambda t: (t * t).sum())(x)
    assert x.grad is None
    np.testing.assert_allclose(g.numpy(), 2 * A)


def test_has_aux():
    def f(lib):
        return lambda a, b: ((a * b).sum(), {"sq": a ** 2, "n": [a.sum()]})
    (ga, gb), (ta, tb) = both(A, B)
    g, aux = GF.grad(f(gv), (0, 1), has_aux=True)(ga, gb)
    t, taux = TF.grad(f(torch), (0, 1), has_aux=True)(ta, tb)
    close(g, t)
    close(aux["sq"], taux["sq"])
    close(aux["n"][0], taux["n"][0])
    assert isinstance(aux["n"], list) and not aux["sq"].requires_grad
    with pytest.raises(RuntimeError, match="unsupported type"):
        GF.grad(lambda a: (a.sum(), 3), has_aux=True)(ga)
    (g, (v, aux)) = GF.grad_and_value(f(gv), has_aux=True)(ga, gb)
    (t, (tv, taux)) = TF.grad_and_value(f(torch), has_aux=True)(ta, tb)
    close((g, v), (t, tv))


@pytest.mark.parametrize("order", [2, 3])
def test_nested_grad(order):
    f = lambda x: x.sin() * x ** 3   # noqa: E731
    gf, tf = f, f
    for _ in range(order):
        gf, tf = GF.grad(gf), TF.grad(tf)
    for v in (0.3, -1.7):
        close(gf(gv.tensor(v, dtype=gv.float64)), tf(torch.tensor(v, dtype=torch.float64)))


def test_grad_result_composes_with_autograd():
    x, tx = gv.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    GF.grad(lambda t: (t ** 3).sum())(x).sum().backward()
    TF.grad(lambda t: (t ** 3).sum())(tx).sum().backward()
    close(x.grad, tx.grad)


def test_vjp_matches_torch():
    def f(a, b):
        return (a.sin() * b, (a * b).sum())
    (ga, gb), (ta, tb) = both(A, B)
    out, fn = GF.vjp(f, ga, gb)
    tout, tfn = TF.vjp(f, ta, tb)
    close(out, tout)
    cts = (R.randn(3), np.float64(0.7))
    for _ in range(2):   # vjp_fn may be called again
        close(fn((gv.tensor(cts[0]), gv.tensor(cts[1]))),
              tfn((torch.tensor(cts[0]), torch.tensor(cts[1]))))
    out, fn, aux = GF.vjp(lambda a: (a.exp(), a.sum()), ga, has_aux=True)
    tout, tfn, taux = TF.vjp(lambda a: (a.exp(), a.sum()), ta, has_aux=True)
    close((out, fn(gv.ones(3, dtype=gv.float64)), aux),
          (tout, tfn(torch.ones(3, dtype=torch.float64)), taux))
    with pytest.raises(GradvizError, match="shape"):
        fn(gv.ones(2, dtype=gv.float64))


JAC_FUNCS = {
    "vector": lambda a, b: a.sin() * b.exp(),
    "matrix": lambda a, b: a.unsqueeze(1) * b.unsqueeze(0).tanh(),
    "scalar": lambda a, b: (a * b).sum(),
    "tuple_out": lambda a, b: (a * b, (a ** 2).sum()),
}


@pytest.mark.parametrize("name", JAC_FUNCS)
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacrev_jacfwd_match_torch(name, argnums):
    f = JAC_FUNCS[name]
    (ga, gb), (ta, tb) = both(A, B)
    close(GF.jacrev(f, argnums)(ga, gb), TF.jacrev(f, argnums)(ta, tb))
    close(GF.jacfwd(f, argnums)(ga, gb), TF.jacfwd(f, argnums)(ta, tb))


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_hessian_matches_torch(name, argnums):
    f = FUNCS[name]
    (ga, gb), (ta, tb) = both(A, B)
    close(GF.hessian(f, argnums)(ga, gb), TF.hessian(f, argnums)(ta, tb))


def mlp(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    with lib.no_grad():
        for p, v in zip(model.parameters(), (W1, B1, W2, B2)):
            p.copy_(lib.tensor(v, dtype=p.dtype))
    return model.double()


def test_functional_training_step_matches_torch():
    """The classic functional step: loss(params) via functional_call, grads via grad."""
    results = []
    for lib, func in ((gv, GF), (torch, TF)):
        model = mlp(lib)
        params = {k: v.detach().clone() for k, v in model.named_parameters()}

        def loss(params, x, y):
            return ((func.functional_call(model, params, (x,)) - y) ** 2).mean()

        x, y = lib.tensor(XB), lib.tensor(YB)
        for _ in range(3):
            grads, value = func.grad_and_value(loss)(params, x, y)
            params = {k: p - 0.1 * grads[k] for k, p in params.items()}
        results.append((grads, value, params))
        assert all(p.grad is None for p in model.parameters())
    close(*results)


def test_vmap_of_grad_gives_per_sample_gradients_as_torch():
    """torch.func's per-sample-gradient recipe: vmap(grad(loss), in_dims=(None, 0, 0))."""
    results = []
    for lib, func in ((gv, GF), (torch, TF)):
        model = mlp(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, x, y):
            out = func.functional_call(model, params, (x.unsqueeze(0),))
            return ((out - y.unsqueeze(0)) ** 2).mean()

        per = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, lib.tensor(XB),
                                                               lib.tensor(YB))
        results.append(per)
        assert all(g.shape[0] == len(XB) for g in per.values())
    close(*results)
    # the mean of the per-sample gradients is the batch gradient
    model = mlp(gv)
    ((model(gv.tensor(XB)) - gv.tensor(YB)) ** 2).mean().backward()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(results[0][k].mean(0).numpy(), p.grad.numpy(), rtol=1e-10)


VMAPS = {
    "tuple out_dims": (lambda f: f.vmap(lambda a, b: (a * b, a.sum()), in_dims=(0, None),
                                        out_dims=(1, 0)), (XB, A)),
    "negative in_dim": (lambda f: f.vmap(lambda a: a.cumsum(0), in_dims=-1), (XB,)),
    "nested": (lambda f: f.vmap(f.vmap(lambda a, b: a * b.exp())), (XB, XB)),
    "dict in_dims": (lambda f: f.vmap(lambda d: d["a"] * d["b"],
                                      in_dims=({"a": 0, "b": None},)), ({"a": XB, "b": A},)),
    "jacrev inside": (lambda f: f.vmap(f.jacrev(lambda a: a.sin() * a.sum())), (XB,)),
    "kwargs pass unmapped": (lambda f: f.vmap(lambda a, scale=1.0: a * scale), (XB,)),
    "out_dims None for an unbatched output": (
        lambda f: f.vmap(lambda a, b: (a + b, b * 2), in_dims=(0, None), out_dims=(0, None)),
        (XB, A)),
}


def _tensors(lib, tree):
    if isinstance(tree, dict):
        return {k: _tensors(lib, v) for k, v in tree.items()}
    return lib.tensor(tree, requires_grad=True)


@pytest.mark.parametrize("name", list(VMAPS))
def test_vmap_matches_torch_values_and_gradients(name):
    make, raw = VMAPS[name]
    results = []
    for lib, func in ((gv, GF), (torch, TF)):
        args = [_tensors(lib, a) for a in raw]
        out = make(func)(*args)
        outs = out if isinstance(out, tuple) else (out,)
        sum(o.sum() for o in outs).backward()
        leaves = [a for arg in args for a in (arg.values() if isinstance(arg, dict) else [arg])]
        results.append((tuple(o.detach() for o in outs), tuple(a.grad for a in leaves)))
    close(*results)


def test_vmap_randomness_modes():
    x = gv.zeros(4, 3)
    with pytest.raises(RuntimeError, match="random operation while in randomness error mode"):
        GF.vmap(lambda a: a + gv.randn(3))(x)
    gv.randn(2)   # the guard is off again
    different = GF.vmap(lambda a: a + gv.randn(3), randomness="different")(x)
    same = GF.vmap(lambda a: a + gv.randn(3), randomness="same")(x)
    assert len({tuple(r) for r in different.tolist()}) == 4
    assert len({tuple(r) for r in same.tolist()}) == 1
    with pytest.raises(ValueError, match="randomness"):
        GF.vmap(lambda a: a, randomness="sometimes")


def test_vmap_errors_as_torch():
    x = gv.tensor(XB)
    cases = [
        (lambda: GF.vmap(lambda a: 3)(x), "must only return Tensors"),
        (lambda: GF.vmap(lambda a, b: a)(x, gv.ones(4)), "same size in the mapped dimension"),
        (lambda: GF.vmap(lambda a: a, in_dims=2)(x), "in_dim to satisfy -2 <= in_dim < 2"),
        (lambda: GF.vmap(lambda a: a, in_dims=None)(x), "at least one input"),
        (lambda: GF.vmap(lambda a, b: a, in_dims=(0,))(x, x), "not compatible"),
        (lambda: GF.vmap(lambda a, n: a, in_dims=(0, 0))(x, 3), "non-Tensor arguments"),
        (lambda: GF.vmap(lambda a: a, in_dims="0"), "in_dims must be an int"),
        (lambda: GF.vmap(lambda a: a, chunk_size=0), "chunk_size"),
        (lambda: GF.vmap(lambda a: a, out_dims=None)(x), "out_dim is None"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError if "out_dim is None" not in match else RuntimeError,
                           match=match):
            call()
    assert gv.vmap is GF.vmap


def test_functional_call_restores_and_flows():
    model = mlp(gv)
    orig = dict(model.named_parameters())
    w = gv.zeros(1, 4, dtype=gv.float64, requires_grad=True)
    out = GF.functional_call(model, {"2.weight": w}, gv.tensor(XB))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(B2, (5, 1)))
    out.sum().backward()
    assert w.grad is not None and tuple(w.grad.shape) == (1, 4)
    assert dict(model.named_parameters()) == orig

    class Boom(gv.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = gv.nn.Linear(2, 2)

        def forward(self, x):
            raise ValueError("boom")
    boom = Boom()
    before = boom.lin.weight
    with pytest.raises(ValueError, match="boom"):
        GF.functional_call(boom, {"lin.weight": gv.zeros(2, 2), "extra": gv.ones(1)}, gv.ones(2))
    assert boom.lin.weight is before and not hasattr(boom, "extra")


def test_functional_call_ties_strict_and_dict_errors():
    for lib, func in ((gv, GF), (torch, TF)):
        lin = lib.nn.Linear(2, 2, bias=False)
        model = lib.nn.Sequential(lin, lib.nn.Linear(2, 2, bias=False))
        model[1].weight = lin.weight   # tied
        w = lib.eye(2)
        x = lib.ones(1, 2)
        np.testing.assert_allclose(func.functional_call(model, {"0.weight": w}, x)
                                   .detach().numpy(), [[1.0, 1.0]])
        with lib.no_grad():
            lin.weight.copy_(2 * lib.eye(2))
        untied = func.functional_call(model, {"0.weight": w}, x, tie_weights=False)
        np.testing.assert_allclose(untied.detach().numpy(), [[2.0, 2.0]])
        with pytest.raises(ValueError, match="tied"):
            func.functional_call(model, {"0.weight": w, "1.weight": w * 2}, x)
        with pytest.raises(ValueError, match="multiple dictionaries"):
            func.functional_call(model, ({"0.weight": w}, {"0.weight": w}), x)
        with pytest.raises(RuntimeError, match="Unexpected key.*nope"):
            func.functional_call(model, {"0.weight": w, "nope": w}, x, strict=True)


def test_errors():
    x = gv.tensor(A)
    with pytest.raises(GradvizError, match="scalar Tensor, got tensor with 1 dims"):
        GF.grad(lambda t: t * 2)(x)
    with pytest.raises(GradvizError, match="scalar Tensor, got type"):
        GF.grad(lambda t: 3.0)(x)
    with pytest.raises(GradvizError, match=r"tuple: \(output, aux\)"):
        GF.grad(lambda t: t.sum(), has_aux=True)(x)
    with pytest.raises(ValueError, match="only 1 positional inputs"):
        GF.grad(lambda t: t.sum(), argnums=1)(x)
    with pytest.raises(ValueError, match="non-empty"):
        GF.grad(lambda t: t.sum(), argnums=())(x)
    with pytest.raises(GradvizError, match="must be Tensor"):
        GF.grad(lambda t: t)(2.0)
    close(GF.grad(lambda t: gv.tensor(1.0))(x), TF.grad(lambda t: torch.tensor(1.0))(
        torch.tensor(A)))


def test_fake_cupy(monkeypatch):
    fake_cupy.install(monkeypatch)
    a, b = gv.tensor(A, device="cuda"), gv.tensor(B, device="cuda")
    g = GF.grad(FUNCS["elementwise"], (0, 1))(a, b)
    h = GF.hessian(FUNCS["poly"])(a, b)
    j = GF.jacrev(JAC_FUNCS["vector"])(a, b)
    for t in (*g, h, j):
        assert t.device.type == "cuda" and type(t._data) is not np.ndarray
    ta, tb = torch.tensor(A), torch.tensor(B)
    close(tuple(t.cpu() for t in g), TF.grad(FUNCS["elementwise"], (0, 1))(ta, tb))
    close(h.cpu(), TF.hessian(FUNCS["poly"])(ta, tb))
    v = GF.vmap(GF.grad(lambda t: (t.sin() * t).sum()))(gv.tensor(XB, device="cuda"))
    assert v.device.type == "cuda" and type(v._data) is not np.ndarray
    close(v.cpu(), TF.vmap(TF.grad(lambda t: (t.sin() * t).sum()))(torch.tensor(XB)))
