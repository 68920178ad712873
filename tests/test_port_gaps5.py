"""Gaps found by porting RL (actor-critic / REINFORCE), GNN message passing, DDPM, ViT and
GRU seq2seq scripts with ``import gradviz as torch``: numpy argument names (``axis=``,
``keepdims=``), torch.distributions.utils, and the ``torch._foreach_*`` list ops EMA
code calls."""

import numpy as np
import pytest
import torch
import torch.distributions.utils as tdu

import gradviz as gv
import gradviz.distributions.utils as gdu
from gradviz.engine import foreach

R = np.random.default_rng(0)


def _np(t):
    return np.asarray(t.detach().tolist())


def _same(g, t, rtol=1e-6, atol=1e-7):
    if isinstance(t, (tuple, list)):
        assert len(g) == len(t)
        for a, b in zip(g, t):
            _same(a, b, rtol, atol)
        return
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(g), _np(t), rtol=rtol, atol=atol)


# ---- 1. axis= / keepdims= (torch.cumprod(alphas, axis=0) in DDPM schedules) ---------------
AXIS_CALLS = [
    ("sum", lambda L, x: L.sum(x, axis=1)),
    ("sum_kd", lambda L, x: x.sum(axis=0, keepdims=True)),
    ("mean", lambda L, x: L.mean(x, axis=-1, keepdims=True)),
    ("cumsum", lambda L, x: x.cumsum(axis=1)), ("cumprod", lambda L, x: L.cumprod(x, axis=0)),
    ("prod", lambda L, x: x.prod(axis=1)), ("max", lambda L, x: L.max(x, axis=1).values),
    ("amax", lambda L, x: x.amax(axis=(0, 1), keepdims=True)),
    ("argmax", lambda L, x: x.argmax(axis=-1, keepdims=True)),
    ("std", lambda L, x: L.std(x, axis=0, keepdims=True)), ("var", lambda L, x: x.var(axis=1)),
    ("logsumexp", lambda L, x: L.logsumexp(x, axis=1)),
    ("softmax", lambda L, x: L.softmax(x, axis=-1)), ("any", lambda L, x: (x > 0).any(axis=0)),
    ("median", lambda L, x: x.median(axis=1).values), ("sort", lambda L, x: L.sort(x, axis=0)[0]),
    ("topk", lambda L, x: L.topk(x, 2, axis=1).values),
    ("squeeze", lambda L, x: x[:1].squeeze(axis=0)),
    ("unsqueeze", lambda L, x: L.unsqueeze(x, axis=1)),
    ("cat", lambda L, x: L.cat([x, x], axis=1)),
    ("stack", lambda L, x: L.stack([x, x], axis=2)), ("diff", lambda L, x: L.diff(x, axis=0)),
    ("nansum", lambda L, x: L.nansum(x, axis=1, keepdims=True)),
    ("count_nonzero", lambda L, x: L.count_nonzero(x, axis=0)),
]


@pytest.mark.parametrize("name,call", AXIS_CALLS, ids=[c[0] for c in AXIS_CALLS])
def test_numpy_argument_names_match_torch(name, call):
    a = R.standard_normal((3, 4))
    _same(call(gv, gv.tensor(a)), call(torch, torch.tensor(a)))


def test_numpy_argument_names_carry_gradients():
    a = R.standard_normal((3, 4))
    grads = []
    for lib in (torch, gv):
        x = lib.tensor(a, requires_grad=True)
        (lib.cumprod(x, axis=0).sum(axis=1, keepdims=True) ** 2).mean(axis=0).sum().backward()
        grads.append(x.grad)
    _same(grads[1], grads[0], rtol=1e-10)


def test_axis_and_dim_together_is_a_type_error_as_in_torch():
    for lib in (torch, gv):
        with pytest.raises(TypeError):
            lib.ones(2, 2).sum(axis=0, dim=0)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        gv.sum(gv.ones(2, 2), axis=0, dim=0)


def test_wrapping_keeps_signatures_and_docs():
    import inspect
    assert list(inspect.signature(gv.Tensor.sum).parameters)[:3] == ["self", "dim", "keepdim"]
    assert gv.Tensor.sum.__doc__ and gv.cat.__doc__


# ---- 2. torch.distributions.utils ----------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distributions_utils_match_torch(dtype):
    p = np.array([[0.0, 0.25, 0.75], [1.0, 1e-12, 0.5]], dtype=dtype)
    z = R.standard_normal((2, 3)).astype(dtype)
    for fn, arg in [("clamp_probs", p), ("probs_to_logits", p), ("logits_to_probs", z)]:
        for binary in (False, True):
            kw = {} if fn == "clamp_probs" else {"is_binary": binary}
            t, g = torch.tensor(arg, requires_grad=True), gv.tensor(arg, requires_grad=True)
            ot, og = getattr(tdu, fn)(t, **kw), getattr(gdu, fn)(g, **kw)
            _same(og, ot, rtol=1e-6)
            (ot * torch.tensor(z)).sum().backward()
            (og * gv.tensor(z)).sum().backward()
            _same(g.grad, t.grad, rtol=1e-5, atol=1e-6)
    assert gdu.euler_constant == tdu.euler_constant
    assert gv.distributions.utils.broadcast_all is gdu.broadcast_all


@pytest.mark.parametrize("diag", [0, 1, -1])
def test_tril_vector_packing_matches_torch(diag):
    n = {0: 6, 1: 8, -1: 3}[diag]   # entries of a 3 x 3 band
    v = R.standard_normal((2, n))
    t, g = torch.tensor(v, requires_grad=True), gv.tensor(v, requires_grad=True)
    mt, mg = tdu.vec_to_tril_matrix(t, diag), gdu.vec_to_tril_matrix(g, diag)
    _same(mg, mt)
    _same(gdu.tril_matrix_to_vec(mg, diag), tdu.tril_matrix_to_vec(mt, diag))
    w = R.standard_normal(tuple(mt.shape))
    (mt * torch.tensor(w)).sum().backward()
    (mg * gv.tensor(w)).sum().backward()
    _same(g.grad, t.grad)
    with pytest.raises(ValueError, match="cannot be expressed"):
        gdu.vec_to_tril_matrix(gv.ones(5))   # torch: the same check, the same message
    with pytest.raises(ValueError, match="outside"):
        gdu.tril_matrix_to_vec(gv.ones(2, 2), 5)


def test_distributions_utils_finite_differences():
    p = gv.tensor([0.2, 0.5, 0.9], dtype=gv.float64, requires_grad=True)
    z = gv.tensor([[0.3, -1.0, 2.0]], dtype=gv.float64, requires_grad=True)
    assert gv.autograd.gradcheck(lambda a: gdu.probs_to_logits(a, is_binary=True), (p,))
    assert gv.autograd.gradcheck(gdu.logits_to_probs, (z,))


# ---- 3. torch._foreach_* ---------------------------------------------------------------------
def _lists(lib, seed=1, positive=False):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in [(2, 3), (4,), ()]]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    return [lib.tensor(a) for a in arrays]


@pytest.mark.parametrize("name", foreach.UNARY)
@pytest.mark.parametrize("inplace", [False, True])
def test_foreach_unary_matches_torch(name, inplace):
    fn = f"_foreach_{name}" + ("_" if inplace else "")
    positive = name in ("log", "log10", "log2", "log1p", "sqrt", "rsqrt", "acos", "asin",
                        "lgamma", "reciprocal")
    ts, gs = _lists(torch, positive=positive), _lists(gv, positive=positive)
    if positive and name in ("acos", "asin"):
        ts, gs = [t / 4 for t in ts], [g / 4 for g in gs]
    rt, rg = getattr(torch, fn)(ts), getattr(gv, fn)(gs)
    if inplace:
        assert rg is gs
        _same(gs, ts, rtol=1e-12)
    else:
        assert isinstance(rg, tuple)
        _same(rg, rt, rtol=1e-12)


OTHERS = {"number": lambda lib: 1.5, "numbers": lambda lib: [0.5, -2.0, 3.0],
          "tensors": lambda lib: _lists(lib, seed=2, positive=True)}


@pytest.mark.parametrize("name", foreach.BINARY)
@pytest.mark.parametrize("kind", list(OTHERS))
@pytest.mark.parametrize("inplace", [False, True])
def test_foreach_binary_matches_torch(name, kind, inplace):
    fn = f"_foreach_{name}" + ("_" if inplace else "")
    ts, gs = _lists(torch, positive=name == "pow"), _lists(gv, positive=name == "pow")
    kw = {"alpha": 0.5} if name in ("add", "sub") and kind == "tensors" else {}
    rt = getattr(torch, fn)(ts, OTHERS[kind](torch), **kw)
    rg = getattr(gv, fn)(gs, OTHERS[kind](gv), **kw)
    _same(gs if inplace else rg, ts if inplace else rt, rtol=1e-12)


@pytest.mark.parametrize("name", foreach.TERNARY)
@pytest.mark.parametrize("inplace", [False, True])
def test_foreach_ternary_matches_torch(name, inplace):
    fn = f"_foreach_{name}" + ("_" if inplace else "")
    for last in (0.3, [0.1, 0.2, 0.3], "tensor"):
        res = []
        for lib in (torch, gv):
            a, b, c = _lists(lib, 1), _lists(lib, 2, positive=True), _lists(lib, 3, True)
            w = lib.tensor([0.1, 0.2, 0.3], dtype=lib.float64) if last == "tensor" else last
            if name == "lerp":
                w = [lib.tensor(0.25, dtype=lib.float64)] * 3 if last == "tensor" else w
                out = getattr(lib, fn)(a, b, w)
            else:
                out = getattr(lib, fn)(a, b, c, w)
            res.append(a if inplace else out)
        _same(res[1], res[0], rtol=1e-12)


def test_foreach_misc_match_torch():
    ts, gs = _lists(torch), _lists(gv)
    _same(gv._foreach_norm(gs), torch._foreach_norm(ts), rtol=1e-12)
    _same(gv._foreach_norm(gs, 1.0), torch._foreach_norm(ts, 1.0), rtol=1e-12)
    _same(gv._foreach_max(gs), torch._foreach_max(ts))
    _same(gv._foreach_pow(2.0, gs), torch._foreach_pow(2.0, ts), rtol=1e-12)
    _same(gv._foreach_clone(gs), torch._foreach_clone(ts))
    src_t, src_g = _lists(torch, 5), _lists(gv, 5)
    assert gv._foreach_copy_(gs, src_g) is gs
    torch._foreach_copy_(ts, src_t)
    _same(gs, ts)
    assert gv._foreach_zero_(gs) is gs and all(float(g.abs().sum()) == 0 for g in gs)
    with pytest.raises(ValueError, match="same number of tensors"):
        gv._foreach_add(gs, [1.0, 2.0])


def test_foreach_names_all_exist_in_torch():
    names = [n for n in dir(gv) if n.startswith("_foreach_")]
    assert len(names) == len(foreach.FUNCTIONS) > 60
    assert all(hasattr(torch, n) for n in names)


def test_foreach_out_of_place_carries_gradients_and_in_place_keeps_torch_s_leaf_rule():
    a = np.array([1.0, -2.0, 0.5])
    grads = []
    for lib in (torch, gv):
        x = lib.tensor(a, requires_grad=True)
        y, = lib._foreach_lerp(lib._foreach_mul([x], 3.0), [lib.ones(3, dtype=lib.float64)],
                               0.25)
        (y ** 2).sum().backward()
        grads.append(x.grad)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib._foreach_add_([x], 1.0)
    _same(grads[1], grads[0], rtol=1e-12)
    x = gv.tensor(a, requires_grad=True)
    assert gv.autograd.gradcheck(lambda t: gv._foreach_addcmul([t], [t], [t], 0.5)[0], (x,))


def test_foreach_ema_update_matches_torch():
    """The EMA step of timm / ema-pytorch: lerp_ inside no_grad on parameters."""
    res = []
    for lib in (torch, gv):
        ema = [lib.nn.Parameter(t) for t in _lists(lib, 1)]
        cur = _lists(lib, 2)
        with lib.no_grad():
            lib._foreach_lerp_(ema, cur, 1 - 0.99)
            lib._foreach_mul_(ema, 0.5)
            lib._foreach_add_(ema, cur, alpha=0.5)
        res.append(ema)
    _same(res[1], res[0], rtol=1e-12)
