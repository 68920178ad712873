"""Complex tensors: dtypes and promotion, the Tensor API, refusals, tracing, and the LLaMA
rotary-embedding idiom, all against torch (op-level gradients: tests/op_table_complex.py)."""
import json

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError
from gradviz.trace.store import dumps as store_dumps

PAIRS = ["float16", "float32", "float64", "int64", "bool", "complex64", "complex128"]


def _gv(name):
    return {"bool": gv.bool}.get(name) or getattr(gv, name)


def _close(g, t, tol=1e-6):
    assert g.dtype.name == str(t.dtype).replace("torch.", ""), (g.dtype, t.dtype)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().resolve_conj().numpy(),
                               rtol=tol, atol=tol)


def test_dtypes_exist_with_torch_flags():
    for name in ("complex64", "complex128"):
        d, td = _gv(name), getattr(torch, name)
        assert d.is_complex == td.is_complex and d.is_floating_point == td.is_floating_point
        assert d.itemsize == td.itemsize
    assert gv.cfloat is gv.complex64 and gv.cdouble is gv.complex128
    assert not gv.float32.is_complex


@pytest.mark.parametrize("a", PAIRS)
@pytest.mark.parametrize("b", ["complex64", "complex128"])
def test_promote_types_with_complex(a, b):
    want = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert gv.promote_types(_gv(a), _gv(b)).name == str(want).replace("torch.", "")
    assert gv.can_cast(_gv(b), _gv(a)) == torch.can_cast(getattr(torch, b), getattr(torch, a))


# float16 is left out: torch gives complex32 there, a dtype gradviz does not have
@pytest.mark.parametrize("dt", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("other", [2j, "0d128", "0d64", "1d128"])
def test_result_type_with_python_and_0d_complex(dt, other):
    def make(lib):
        x = lib.ones(3, dtype=getattr(lib, dt if dt != "bool" else "bool"))
        if other == 2j:
            return x, 2j
        shape = () if other.startswith("0d") else (3,)
        c = getattr(lib, "complex128" if other.endswith("128") else "complex64")
        return x, lib.zeros(shape, dtype=c) + 1j
    gx, go = make(gv)
    tx, to = make(torch)
    assert gv.result_type(gx, go).name == str(torch.result_type(tx, to)).replace("torch.", "")
    _close(gx * go, tx * to)
    _close(go + gx, to + tx)


def test_tensor_from_python_complex_follows_the_default_dtype():
    assert gv.tensor([1 + 2j]).dtype is gv.complex64
    assert gv.tensor([1, 2j]).dtype is gv.complex64
    assert gv.tensor(np.array([1j])).dtype is gv.complex128
    for lib in (gv, torch):
        lib.set_default_dtype(lib.float64)
    try:
        assert gv.tensor([1.0, 2j]).dtype is gv.complex128
        assert str(torch.tensor([1.0, 2j]).dtype) == "torch.complex128"
        _close(gv.ones(2, dtype=gv.int64) + 1j, torch.ones(2, dtype=torch.int64) + 1j)
    finally:
        for lib in (gv, torch):
            lib.set_default_dtype(lib.float32)
    _close(gv.ones(2, dtype=gv.int64) + 1j, torch.ones(2, dtype=torch.int64) + 1j)
    with pytest.raises(TypeError):
        torch.tensor([1j], dtype=torch.float32)
    with pytest.raises(TypeError, match="complex"):
        gv.tensor([1j], dtype=gv.float32)
    assert gv.finfo(gv.complex128).eps == torch.finfo(torch.complex128).eps


def test_real_imag_conj_angle_match_torch():
    vals = [[1 + 2j, -3 - 0.5j], [0j, 2 - 1j]]
    z, tz = gv.tensor(vals), torch.tensor(vals)
    assert z.is_complex() and gv.is_complex(z) and not gv.ones(1).is_complex()
    for f in (lambda a: a.real, lambda a: a.imag, lambda a: a.conj(), lambda a: a.angle(),
              lambda a: a.abs(), lambda a: a.conj_physical(), lambda a: a.resolve_conj()):
        _close(f(z), f(tz))
    x = gv.ones(2)
    assert x.real is x and x.conj() is x
    with pytest.raises(GradvizError, match="imag is not implemented"):
        x.imag  # noqa: B018
    with pytest.raises(RuntimeError):
        torch.ones(2).imag  # noqa: B018


def test_writing_into_real_writes_into_z_as_torch():
    g, t = gv.tensor([1 + 2j, 3j]), torch.tensor([1 + 2j, 3j])
    g.real[0] = 5.0
    t.real[0] = 5.0
    g.imag[1] = -1.0
    t.imag[1] = -1.0
    _close(g, t)


def test_writing_into_real_of_a_grad_tensor_raises():
    z = gv.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(gv.GradvizError):
        z.real[0] = 5.0
    w = z * 2   # not a leaf: a write would have to go through the graph
    with pytest.raises(GradvizError, match="complex"):
        w.real[0] = 5.0


def test_backward_of_a_complex_scalar_needs_a_gradient():
    z = gv.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(gv.GradvizError, match="real scalar outputs"):
        (z * 2).sum().backward()
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        (torch.tensor([1 + 2j], requires_grad=True) * 2).sum().backward()


REFUSED = {
    "relu": lambda z: z.relu(), "max": lambda z: z.max(), "max_dim": lambda z: z.max(0),
    "sort": lambda z: z.sort(), "argsort": lambda z: z.argsort(),
    "clamp": lambda z: z.clamp(0, 1), "lt": lambda z: z < z, "gt": lambda z: z > 1,
    "maximum": lambda z: gv.maximum(z, z) if isinstance(z, gv.Tensor)
    else torch.maximum(z, z), "argmax": lambda z: z.argmax(),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_ops_without_complex_support_raise_as_torch(name):
    f = REFUSED[name]
    with pytest.raises(GradvizError, match="complex"):
        f(gv.tensor([1 + 2j, 3j]))
    with pytest.raises((RuntimeError, TypeError)):
        f(torch.tensor([1 + 2j, 3j]))


def test_unsupported_op_names_itself_and_cast_never_drops_the_imaginary_part():
    z = gv.tensor([1 + 2j, 3j], requires_grad=True)
    with pytest.raises(GradvizError, match="^Erf does not support complex"):
        z.erf()
    with pytest.raises(GradvizError, match="imaginary part"):
        z.float()
    with pytest.raises(GradvizError, match="view_as_complex"):
        gv.view_as_complex(gv.ones(3, 2, dtype=gv.int64))
    with pytest.raises(GradvizError, match="last dimension of size 2"):
        gv.view_as_complex(gv.ones(3, 3))
    with pytest.raises(GradvizError, match="pow"):
        z ** gv.ones(2)


def test_trace_summaries_of_complex_values_are_json_safe():
    xs = [np.linspace(-1, 1, n) for n in (6, 300)]
    with gv.trace.record() as rec:
        for x in xs:
            z = gv.complex(gv.tensor(x), gv.tensor(x[::-1].copy())).requires_grad_()
            loss = (z * z.conj()).real.sum() + z.abs().mean()
            loss.backward()
    text = json.dumps(rec.events, allow_nan=False)   # no complex numbers, no NaN
    assert "j)" not in text
    ops = [e for e in rec.events if e["type"] == "op" and e.get("dtype") == "complex128"]
    assert ops, "no complex op events"
    made = [e for e in ops if e["op"] == "Complex"]
    small, big = made[0], made[1]
    z = xs[0] + 1j * xs[0][::-1]
    assert small["stats"]["of"] == "abs" and small["shape"] == [6]
    np.testing.assert_allclose(small["stats"]["max"], np.abs(z).max())
    np.testing.assert_allclose(np.array(small["preview"]["complex"]),
                               np.stack([z.real, z.imag], -1))
    grads = [e for e in rec.events if e["type"] == "grad"]
    assert grads and all(store_dumps(e) for e in grads)   # the server's own encoder
    assert big["shape"] == [300]
    assert big["preview"]["of"] == "abs" and sum(big["preview"]["hist"]["counts"]) == 300


def test_summary_of_a_small_complex_array():
    from gradviz.trace.summary import preview, stats
    z = np.array([3 + 4j, 0j, -1j], dtype=np.complex64)
    s, p = stats(z), preview(z)
    assert s["of"] == "abs" and s["max"] == 5.0 and s["min"] == 0.0
    assert p["values"] == [5.0, 0.0, 1.0] and p["complex"] == [[3.0, 4.0], [0.0, 0.0],
                                                               [0.0, -1.0]]
    json.dumps([s, p], allow_nan=False)


def _rope_model(lib, xq, freqs, w):
    freqs_cis = lib.polar(lib.ones_like(freqs), freqs)
    xq_ = lib.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xq_out = lib.view_as_real(xq_ * freqs_cis).flatten(3)
    return ((xq_out @ w).tanh() ** 2).mean()


def test_llama_rotary_embedding_matches_torch():
    rng = np.random.default_rng(0)
    bsz, seq, heads, dim = 2, 5, 3, 8
    xq = rng.standard_normal((bsz, seq, heads, dim)).astype(np.float32)
    w = rng.standard_normal((dim, 4)).astype(np.float32)
    theta = 1.0 / (10000 ** (np.arange(0, dim, 2)[: dim // 2] / dim))
    freqs = np.outer(np.arange(seq), theta).astype(np.float32)[:, None, :]
    g = [gv.tensor(a, requires_grad=True) for a in (xq, freqs, w)]
    t = [torch.tensor(a, requires_grad=True) for a in (xq, freqs, w)]
    lg, lt = _rope_model(gv, *g), _rope_model(torch, *t)
    _close(lg, lt, 1e-5)
    lg.backward()
    lt.backward()
    for a, b in zip(g, t):
        _close(a.grad, b.grad, 1e-5)


def test_llama_rotary_embedding_finite_differences_float64():
    rng = np.random.default_rng(1)
    xq = rng.standard_normal((1, 3, 2, 4))
    freqs = rng.standard_normal((3, 1, 2))
    w = rng.standard_normal((4, 2))

    def f(*arrs):
        a, b, c = (gv.tensor(x) for x in arrs)
        freqs_cis = gv.polar(gv.ones_like(b), b)
        out = gv.view_as_real(gv.view_as_complex(a.reshape(1, 3, 2, -1, 2)) * freqs_cis)
        return ((out.flatten(3) @ c).tanh() ** 2).mean()
    ts = [gv.tensor(x, requires_grad=True) for x in (xq, freqs, w)]
    f_grad = f(*(t.detach().numpy() for t in ts))
    assert f_grad.dtype is gv.float64
    a, b, c = ts
    freqs_cis = gv.polar(gv.ones_like(b), b)
    out = gv.view_as_real(gv.view_as_complex(a.reshape(1, 3, 2, -1, 2)) * freqs_cis)
    ((out.flatten(3) @ c).tanh() ** 2).mean().backward()
    eps = 1e-6
    base = [xq, freqs, w]
    for k, t in enumerate(ts):
        v = rng.standard_normal(base[k].shape)
        args_p = [x + eps * v if i == k else x for i, x in enumerate(base)]
        args_m = [x - eps * v if i == k else x for i, x in enumerate(base)]
        numeric = (f(*args_p).item() - f(*args_m).item()) / (2 * eps)
        assert abs(numeric - float(np.sum(t.grad.numpy() * v))) < 1e-7


def test_complex_leaf_gradient_is_conjugate_wirtinger_by_finite_differences():
    rng = np.random.default_rng(2)
    z0 = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    c = rng.standard_normal(4) + 1j * rng.standard_normal(4)

    def loss(z):
        return ((z * gv.tensor(c)).exp() / (z + 3.0)).abs().sum() + (z ** 2).angle().sum()
    z = gv.tensor(z0, requires_grad=True)
    loss(z).backward()
    eps = 1e-6
    for k in range(4):
        for unit in (1.0, 1j):   # dL/dRe and dL/dIm of element k
            d = np.zeros(4, complex)
            d[k] = unit * eps
            num = (loss(gv.tensor(z0 + d)).item() - loss(gv.tensor(z0 - d)).item()) / (2 * eps)
            want = z.grad.numpy()[k].real if unit == 1.0 else z.grad.numpy()[k].imag
            assert abs(num - want) < 1e-6 * (1 + abs(want))
    tz = torch.tensor(z0, requires_grad=True)
    tl = ((tz * torch.tensor(c)).exp() / (tz + 3.0)).abs().sum() + (tz ** 2).angle().sum()
    tl.backward()
    _close(z.grad, tz.grad, 1e-9)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_of_complex_are_real_as_torch(name):
    """var(z) = var(Re z) + var(Im z), a real tensor of z's precision (torch's dtypes)."""
    z = np.array([[1 + 2j, -0.5j, 3 - 1j], [0.25 + 1j, 2, -1 - 1j]], dtype=np.complex64)
    a, b = getattr(gv.tensor(z), name)(dim=1), getattr(torch.tensor(z), name)(dim=1)
    assert str(a.dtype) == str(b.dtype).replace("torch", "gradviz") == "gradviz.float32"
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    with pytest.raises(GradvizError, match="floating point and complex"):
        getattr(gv.tensor([1, 2]), name)()
    with pytest.raises(RuntimeError, match="floating point and complex"):
        getattr(torch.tensor([1, 2]), name)()


@pytest.mark.parametrize("name", ["sin", "cos", "tanh", "sqrt", "rsqrt", "sigmoid", "reciprocal",
                                  "tan", "sinh", "cosh", "log2", "log10", "asin", "acos", "atan",
                                  "asinh", "acosh", "atanh", "log1p", "expm1"])
def test_complex_unary_keeps_its_real_rule_text(name):
    """The rule texts stay written for real tensors; the node is the op's own."""
    z = gv.tensor([0.5 + 1j, -1 + 0.5j], requires_grad=True)
    fn = getattr(z, name)().grad_fn
    assert "conj" not in type(fn).rule and "dy" in type(fn).rule
    assert type(fn).complex_ok is True


def test_conjugate_transposes_and_isreal_of_complex_tensors_as_torch():
    """Tensor.H / .mH were the plain transpose and isreal() all True (real-only fallbacks)
    even for complex tensors; torch conjugates and tests imag == 0."""
    z = np.array([[1 + 2j, 3 - 1j], [0.5 + 0j, -2j]], np.complex128)
    got = []
    for lib in (torch, gv):
        t = lib.tensor(z, requires_grad=True)
        w = lib.tensor(np.array([[1.0, -2.0], [0.5, 3.0]]) + 1j, dtype=lib.complex128)
        loss = (t.H * w).real.sum() + (t.mH * w).imag.sum()
        loss.backward()
        got.append([x.detach().resolve_conj().numpy() for x in (t.H, t.mH, t.isreal(),
                                                                lib.isreal(t), t.grad)])
    for a, b in zip(*got):
        np.testing.assert_allclose(b, a, rtol=1e-12)
