"""tensor_funcs.py (meshgrid, hstack ..., searchsorted, isin, block_diag, cdist, tensordot,
diag_embed, in-place forms), einsum's sublist form, flip(dims=), scatter(reduce=): values,
dtypes, gradients and errors against torch."""
import warnings

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError

R = np.random.RandomState(0)


def _same(g, t, **tol):
    """Same dtype, shape and values."""
    assert g.dtype.name == str(t.dtype).replace("torch.", ""), (g.dtype, t.dtype)
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), equal_nan=True, **tol)


def _pair(*arrays, grad=True):
    """The arrays as gradviz and torch tensors (requiring grad when float and ``grad``)."""
    arrays = [np.asarray(a) for a in arrays]
    gs = [gv.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return gs, ts


def _check(fn, *arrays, tol=1e-6, **kw):
    """fn(gv inputs) and fn(torch inputs) agree, and so do the gradients of a weighted sum."""
    gs, ts = _pair(*arrays)
    go, to = fn(gv, *gs, **kw), fn(torch, *ts, **kw)
    go = go if isinstance(go, (tuple, list)) else [go]
    to = to if isinstance(to, (tuple, list)) else [to]
    assert len(go) == len(to)
    for g, t in zip(go, to):
        _same(g, t, rtol=tol, atol=tol)
    outs = [(g, t) for g, t in zip(go, to) if t.requires_grad]
    if not outs:
        return
    w = [R.randn(*t.shape) for _, t in outs]
    sum(((g * gv.tensor(x, dtype=g.dtype)).sum() for (g, _), x in zip(outs, w))).backward()
    sum(((t * torch.tensor(x, dtype=t.dtype)).sum() for (_, t), x in zip(outs, w))).backward()
    for g, t in zip(gs, ts):
        if t.requires_grad:
            assert (g.grad is None) == (t.grad is None)
            if t.grad is not None:
                _same(g.grad, t.grad, rtol=tol, atol=tol)


def _errors(call):
    """Both libraries refuse ``call``; gradviz with a RuntimeError/ValueError/IndexError."""
    with pytest.raises(Exception):
        call(torch)
    with pytest.raises((RuntimeError, ValueError, IndexError, TypeError)):
        call(gv)


# ---- 1. grids and broadcasting -----------------------------------------------------------
@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    a, b, c = R.randn(2), R.randn(3), np.array(1.5)
    _check(lambda lib, x, y, z: lib.meshgrid(x, y, z, indexing=indexing), a, b, c)
    _check(lambda lib, x, y: lib.meshgrid([x, y], indexing=indexing), a, b)
    _check(lambda lib, x: lib.meshgrid(x, indexing=indexing), a)


def test_meshgrid_default_is_ij_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = gv.meshgrid(gv.arange(2), gv.arange(3))
    t = torch.meshgrid(torch.arange(2), torch.arange(3), indexing="ij")
    for x, y in zip(g, t):
        _same(x, y)


def test_meshgrid_errors():
    _errors(lambda lib: lib.meshgrid(lib.ones(2), lib.ones(2, dtype=lib.float64),
                                     indexing="ij"))
    _errors(lambda lib: lib.meshgrid(lib.ones(2, 2), indexing="ij"))
    _errors(lambda lib: lib.meshgrid(indexing="ij"))
    _errors(lambda lib: lib.meshgrid(lib.ones(2), indexing="yx"))


def test_broadcast_tensors_and_shapes():
    _check(lambda lib, x, y, z: lib.broadcast_tensors(x, y, z), R.randn(3, 1), R.randn(4),
           np.array(2.0))
    for shapes in [((2, 1), (3,)), (2, (3, 1)), ((), (1, 4), (5, 1, 1))]:
        g, t = gv.broadcast_shapes(*shapes), torch.broadcast_shapes(*shapes)
        assert tuple(g) == tuple(t) and isinstance(g, gv.Size)
    _errors(lambda lib: lib.broadcast_shapes((2, 3), (4, 3)))
    _errors(lambda lib: lib.broadcast_tensors(lib.ones(2, 3), lib.ones(4, 3)))


# ---- 2. stacking -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["hstack", "vstack", "row_stack", "column_stack", "dstack"])
@pytest.mark.parametrize("shapes", [[(), ()], [(3,), (3,)], [(2, 3), (2, 3)],
                                    [(2, 3, 2), (2, 3, 2)]])
def test_stacks(name, shapes):
    arrays = [R.randn(*s) for s in shapes]
    if name == "row_stack":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch may call row_stack deprecated
            _check(lambda lib, *xs: getattr(lib, name)(xs), *arrays)
        return
    _check(lambda lib, *xs: getattr(lib, name)(xs), *arrays)


def test_stacks_mixed_and_errors():
    _check(lambda lib, x, y: lib.hstack([x, y]), R.randn(2, 1), R.randn(2, 3))
    _check(lambda lib, x, y: lib.vstack([x, y]), R.randn(3), R.randn(2, 3))
    _check(lambda lib, x, y: lib.column_stack([x, y]), R.randn(3), R.randn(3, 2))
    _same(gv.hstack([gv.tensor([1, 2]), gv.tensor([1.5])]),
          torch.hstack([torch.tensor([1, 2]), torch.tensor([1.5])]))
    _errors(lambda lib: lib.hstack([]))
    _errors(lambda lib: lib.vstack([lib.ones(2), lib.ones(3)]))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_atleast(n):
    name = f"atleast_{n}d"
    for shape in [(), (3,), (2, 3), (2, 3, 4)]:
        _check(lambda lib, x: getattr(lib, name)(x), R.randn(*shape))
    _check(lambda lib, x, y: getattr(lib, name)(x, y), R.randn(), R.randn(2))
    _check(lambda lib, x, y: getattr(lib, name)((x, y)), R.randn(), R.randn(2))
    assert isinstance(getattr(gv, name)(gv.ones(2)), gv.Tensor)


# ---- 3. searchsorted and bucketize ------------------------------------------------------------
SEQ = np.array([[1.0, 2.0, 2.0, 3.0, 5.0], [0.0, 0.0, 4.0, 4.0, 9.0]])
VAL = np.array([[2.0, 0.5, 5.0, 6.0], [4.0, 0.0, -1.0, 9.0]])


@pytest.mark.parametrize("kw", [{}, {"right": True}, {"side": "right"}, {"side": "left"},
                                {"out_int32": True}])
def test_searchsorted(kw):
    for seq, val in [(SEQ[0], VAL), (SEQ, VAL), (SEQ[0], VAL[0]),
                     (SEQ[0].astype(np.int64), VAL[0]), (SEQ[:, :0], VAL)]:
        _same(gv.searchsorted(gv.tensor(seq), gv.tensor(val), **kw),
              torch.searchsorted(torch.tensor(seq), torch.tensor(val), **kw))
    _same(gv.searchsorted(gv.tensor(SEQ[0]), 2.0, **kw),
          torch.searchsorted(torch.tensor(SEQ[0]), 2.0, **kw))
    _same(gv.searchsorted(gv.tensor(SEQ[0]), gv.tensor(2.0), **kw),
          torch.searchsorted(torch.tensor(SEQ[0]), torch.tensor(2.0), **kw))


def test_searchsorted_batched_random_and_sorter():
    seq = np.sort(R.randint(0, 6, (3, 2, 7)), axis=-1).astype(float)
    val = R.randint(-1, 8, (3, 2, 5)).astype(float)
    for right in (False, True):
        _same(gv.searchsorted(gv.tensor(seq), gv.tensor(val), right=right),
              torch.searchsorted(torch.tensor(seq), torch.tensor(val), right=right))
    raw = R.randn(2, 6)
    order = np.argsort(raw, axis=-1)
    for s, o, v in [(raw, order, R.randn(2, 3)), (raw[0], order[0], R.randn(4))]:
        _same(gv.searchsorted(gv.tensor(s), gv.tensor(v), sorter=gv.tensor(o)),
              torch.searchsorted(torch.tensor(s), torch.tensor(v), sorter=torch.tensor(o)))


def test_searchsorted_errors():
    _errors(lambda lib: lib.searchsorted(lib.ones(2, 3), lib.ones(3, 3)))
    _errors(lambda lib: lib.searchsorted(lib.ones(2, 3), 1.0))
    _errors(lambda lib: lib.searchsorted(lib.tensor(1.0), lib.ones(3)))
    _errors(lambda lib: lib.searchsorted(lib.ones(3), lib.ones(3), side="left", right=True))
    _errors(lambda lib: lib.searchsorted(lib.ones(3), lib.ones(3), side="foo"))


@pytest.mark.parametrize("right", [False, True])
def test_bucketize(right):
    b = np.array([1.0, 3.0, 5.0, 7.0])
    x = np.array([[0.0, 1.0, 3.5], [5.0, 7.0, 9.0]])
    _same(gv.bucketize(gv.tensor(x), gv.tensor(b), right=right),
          torch.bucketize(torch.tensor(x), torch.tensor(b), right=right))
    _same(gv.bucketize(gv.tensor(x), gv.tensor(b), out_int32=True),
          torch.bucketize(torch.tensor(x), torch.tensor(b), out_int32=True))
    _same(gv.bucketize(3.0, gv.tensor(b), right=right),
          torch.bucketize(3.0, torch.tensor(b), right=right))
    _errors(lambda lib: lib.bucketize(lib.ones(3), lib.ones(2, 2)))


# ---- 4. isin and unique_consecutive ----------------------------------------------------------
@pytest.mark.parametrize("invert", [False, True])
def test_isin(invert):
    e, t = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[2, 6], [9, 1]])
    _same(gv.isin(gv.tensor(e), gv.tensor(t), invert=invert),
          torch.isin(torch.tensor(e), torch.tensor(t), invert=invert))
    _same(gv.isin(gv.tensor(e), 2, invert=invert), torch.isin(torch.tensor(e), 2,
                                                              invert=invert))
    _same(gv.isin(3, gv.tensor(t), invert=invert), torch.isin(3, torch.tensor(t),
                                                              invert=invert))
    _same(gv.isin(gv.tensor([1.0, 2.5]), gv.tensor([2.5])),
          torch.isin(torch.tensor([1.0, 2.5]), torch.tensor([2.5])))


@pytest.mark.parametrize("value", [
    np.array([1.0, 1.0, 2.0, 2.0, np.nan, np.nan, 3.0, 1.0]), np.array([[1, 1], [2, 2]]),
    np.array(5), np.array([], dtype=np.float32), np.array([[1, 2], [1, 2], [3, 4], [1, 2]])])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_unique_consecutive(value, dim):
    if dim is not None and value.ndim == 0:
        _errors(lambda lib: lib.unique_consecutive(lib.tensor(value), dim=dim))
        return
    for inv in (False, True):
        for counts in (False, True):
            kw = {"return_inverse": inv, "return_counts": counts, "dim": dim}
            g = gv.unique_consecutive(gv.tensor(value), **kw)
            t = torch.unique_consecutive(torch.tensor(value), **kw)
            g, t = (g, t) if isinstance(t, tuple) else ((g,), (t,))
            assert len(g) == len(t)
            for a, b in zip(g, t):
                _same(a, b)
    _same(gv.tensor(value).unique_consecutive(), torch.tensor(value).unique_consecutive())


# ---- 5. building blocks and products --------------------------------------------------------
def test_block_diag():
    _check(lambda lib, a, b, c: lib.block_diag(a, b, c), R.randn(2, 3), R.randn(), R.randn(4))
    _check(lambda lib, a: lib.block_diag(a), R.randn(2, 0))
    _same(gv.block_diag(), torch.block_diag())
    _same(gv.block_diag(gv.tensor([1, 2]), gv.tensor(2.5)),
          torch.block_diag(torch.tensor([1, 2]), torch.tensor(2.5)))
    _errors(lambda lib: lib.block_diag(lib.ones(2, 2, 2)))


def test_cartesian_prod_and_combinations():
    _check(lambda lib, a, b, c: lib.cartesian_prod(a, b, c), R.randn(2), R.randn(3),
           R.randn(2))
    _check(lambda lib, a: lib.cartesian_prod(a), R.randn(3))
    for r in (0, 1, 2, 3, 5):
        for rep in (False, True):
            _check(lambda lib, a: lib.combinations(a, r=r, with_replacement=rep), R.randn(4))
    _same(gv.combinations(gv.arange(3)), torch.combinations(torch.arange(3)))
    _errors(lambda lib: lib.combinations(lib.ones(2, 2)))
    _errors(lambda lib: lib.combinations(lib.ones(2), r=-1))
    _errors(lambda lib: lib.cartesian_prod(lib.ones(2, 2)))


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 0.5, float("inf")])
def test_cdist(p):
    tol = 1e-5
    _check(lambda lib, a, b: lib.cdist(a, b, p=p), R.randn(4, 3), R.randn(5, 3), tol=tol)
    _check(lambda lib, a, b: lib.cdist(a, b, p=p), R.randn(2, 1, 4, 3), R.randn(3, 5, 3),
           tol=tol)
    x = R.randn(3, 2)   # zero distances: gradient 0 there, as torch
    _check(lambda lib, a, b: lib.cdist(a, b, p=p), x, np.concatenate([x, R.randn(1, 2)]),
           tol=tol)


def test_cdist_errors_and_dist():
    _errors(lambda lib: lib.cdist(lib.ones(3), lib.ones(3, 3)))
    _errors(lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(3, 4)))
    _errors(lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(3, 3), p=-1))
    _errors(lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.int64),
                                  lib.ones(3, 3, dtype=lib.int64)))
    a, b = R.randn(3, 4), R.randn(4)   # torch's dist(p=0) has no working backward
    _same(gv.dist(gv.tensor(a), gv.tensor(b), 0), torch.dist(torch.tensor(a), torch.tensor(b), 0))
    for p in (1, 2, 3.5, float("inf")):
        _check(lambda lib, a, b: lib.dist(a, b, p=p), R.randn(3, 4), R.randn(4))
        _check(lambda lib, a, b: a.dist(b, p), R.randn(3, 4), R.randn(3, 4))


@pytest.mark.parametrize("shapes,dims", [
    (((2, 3, 4), (3, 4, 5)), 2), (((2, 3), (3, 4)), 1), (((2, 3), (4, 5)), 0),
    (((2, 3, 4), (4, 2, 5)), ([0, 2], [1, 0])), (((2, 3), (4, 3)), ([1], [1])),
(((3,), (3,)), 1)])
def test_tensordot(shapes, dims):
    _check(lambda lib, a, b: lib.tensordot(a, b, dims=dims), *(R.randn(*s) for s in shapes),
           tol=1e-5)


def test_tensordot_errors():
    _errors(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(4, 3), dims=([1], [0])))
    _errors(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(4, 3), dims=-1))
    _errors(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 3, dtype=lib.float64),
                                      dims=1))


@pytest.mark.parametrize("kw", [{}, {"offset": 1}, {"offset": -2}, {"dim1": 0, "dim2": 2},
                                {"dim1": -1, "dim2": 0, "offset": 1}])
def test_diag_embed(kw):
    _check(lambda lib, a: lib.diag_embed(a, **kw), R.randn(2, 3))
    _check(lambda lib, a: a.diag_embed(**kw), R.randn(4, 2, 3))
    if "dim1" not in kw:
        _check(lambda lib, a: lib.diag_embed(a, **kw), R.randn(3))
    _same(gv.diag_embed(gv.tensor([1, 2])), torch.diag_embed(torch.tensor([1, 2])))
    _errors(lambda lib: lib.diag_embed(lib.tensor(1.0)))
    _errors(lambda lib: lib.diag_embed(lib.ones(2), dim1=0, dim2=-2))


# ---- 6. erfinv, clone -----------------------------------------------------------------------
def test_erfinv_and_clone():
    x = R.uniform(-0.9, 0.9, (3, 4))
    _check(lambda lib, a: lib.erfinv(a), x, tol=1e-5)
    _check(lambda lib, a: a.erfinv(), x, tol=1e-5)
    _same(gv.erfinv(gv.tensor([0, 1])), torch.erfinv(torch.tensor([0, 1])))
    _check(lambda lib, a: lib.clone(a) * 2, x)
    c = gv.clone(gv.ones(2))
    assert isinstance(c, gv.Tensor) and c.tolist() == [1.0, 1.0]


# ---- 7. in-place method forms and put ------------------------------------------------------
INPLACE = [
    ("tril_", lambda lib: (), {}), ("tril_", lambda lib: (1,), {}),
    ("triu_", lambda lib: (-1,), {}), ("triu_", lambda lib: (), {"diagonal": 1}),
    ("fill_diagonal_", lambda lib: (2.5,), {}),
    ("addcmul_", lambda lib: (lib.ones(3, 4) * 2, lib.arange(4.0)), {"value": 0.5}),
    ("addcdiv_", lambda lib: (lib.arange(4.0), lib.ones(3, 4) * 4), {"value": 2}),
    ("lerp_", lambda lib: (lib.zeros(3, 4, dtype=lib.float64), 0.25), {}),
    ("lerp_", lambda lib: (lib.zeros(3, 4, dtype=lib.float64),
                           lib.full((4,), 0.5, dtype=lib.float64)), {}),
    ("put_", lambda lib: (lib.tensor([0, 5, -1]), lib.tensor([9.0, 8.0, 7.0],
                                                             dtype=lib.float64)), {}),
    ("put_", lambda lib: (lib.tensor([1, 1, 2]), lib.tensor([9.0, 8.0, 7.0],
                                                            dtype=lib.float64)),
     {"accumulate": True}),
]


@pytest.mark.parametrize("name,args,kw", INPLACE)
def test_inplace_no_graph(name, args, kw):
    a = R.randn(3, 4)
    g, t = gv.tensor(a), torch.tensor(a)
    assert getattr(g, name)(*args(gv), **kw) is g
    getattr(t, name)(*args(torch), **kw)
    _same(g, t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,args,kw", INPLACE)
def test_inplace_in_graph(name, args, kw):
    a, w = R.randn(3, 4), R.randn(3, 4)
    g, t = gv.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gy, ty = g * 1, t * 1
    getattr(gy, name)(*args(gv), **kw)
    getattr(ty, name)(*args(torch), **kw)
    _same(gy, ty, rtol=1e-6, atol=1e-6)
    (gy * gv.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    _same(g.grad, t.grad, rtol=1e-6, atol=1e-6)
    with pytest.raises(RuntimeError):
        getattr(gv.tensor(a, requires_grad=True), name)(*args(gv), **kw)   # a leaf


@pytest.mark.parametrize("shape,wrap", [((5, 3), False), ((5, 3), True), ((7, 3), True),
                                        ((3, 5), True), ((3, 3, 3), False), ((2, 2), True)])
def test_fill_diagonal_shapes(shape, wrap):
    g, t = gv.zeros(*shape), torch.zeros(*shape)
    g.fill_diagonal_(1.0, wrap=wrap)
    t.fill_diagonal_(1.0, wrap=wrap)
    _same(g, t)
    _errors(lambda lib: lib.ones(2, 3, 4).fill_diagonal_(1))
    _errors(lambda lib: lib.ones(2).fill_diagonal_(1))


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_out_of_place(accumulate):
    idx = np.array([[0, 3], [-1, 2]])
    _check(lambda lib, a, s: a.put(lib.tensor(idx), s, accumulate=accumulate), R.randn(2, 3),
           R.randn(2, 2))
    _check(lambda lib, a, s: lib.put(a, lib.tensor(idx), s, accumulate=accumulate),
           R.randn(2, 3), R.randn(4))
    _errors(lambda lib: lib.zeros(2, 3).put(lib.tensor([0, 10]), lib.ones(2)))
    _errors(lambda lib: lib.zeros(2, 3).put(lib.tensor([0, 1]), lib.ones(3)))
    _errors(lambda lib: lib.zeros(2, 3).put(lib.tensor([0.0, 1.0]), lib.ones(2)))
    _errors(lambda lib: lib.zeros(2, 3).put(lib.tensor([0, 1]),
                                            lib.ones(2, dtype=lib.float64)))


# ---- 8. einsum's sublist form, flip(dims=), scatter(reduce=) --------------------------------
def test_einsum_sublists():
    a, b = R.randn(2, 3, 4), R.randn(2, 4, 5)
    _check(lambda lib, x, y: lib.einsum(x, [0, 1, 2], y, [0, 2, 3], [0, 3, 1]), a, b)
    _check(lambda lib, x, y: lib.einsum(x, [0, 1, 2], y, [0, 2, 3]), a, b)
    _check(lambda lib, x: lib.einsum(x, [Ellipsis, 30, 51], [51, Ellipsis]), a)
    _errors(lambda lib: lib.einsum(lib.ones(2, 2), [0, 60]))


def test_flip_dims_keyword():
    _check(lambda lib, x: x.flip(dims=[0]), R.randn(2, 3))
    _check(lambda lib, x: lib.flip(x, dims=(0, 1)), R.randn(2, 3))
    _check(lambda lib, x: x.flip(1), R.randn(2, 3))
    _check(lambda lib, x: x.flip(0, 1), R.randn(2, 3))
    with pytest.raises(TypeError):
        gv.ones(2).flip(0, dims=[0])


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_keyword(reduce):
    a, s = R.randn(3, 4), R.randn(2, 4)
    idx = np.array([[0, 1, 2, 0], [1, 1, 0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch calls this form deprecated
        t = torch.tensor(a).scatter(0, torch.tensor(idx), torch.tensor(s), reduce=reduce)
        tv = torch.tensor(a).scatter(0, torch.tensor(idx), 2.5, reduce=reduce)
        ti = torch.tensor(a)
        ti.scatter_(1, torch.tensor(idx), torch.tensor(s), reduce=reduce)
    _same(gv.tensor(a).scatter(0, gv.tensor(idx), gv.tensor(s), reduce=reduce), t)
    _same(gv.tensor(a).scatter(0, gv.tensor(idx), 2.5, reduce=reduce), tv)
    gi = gv.tensor(a)
    gi.scatter_(1, gv.tensor(idx), gv.tensor(s), reduce=reduce)
    _same(gi, ti)
    with pytest.raises(GradvizError, match="add or multiply"):
        gv.tensor(a).scatter(0, gv.tensor(idx), gv.tensor(s), reduce="mean")


def test_every_name_has_a_torch_twin():
    from gradviz.engine import tensor_funcs
    for name in tensor_funcs.NAMES:
        assert callable(getattr(gv, name)) and hasattr(torch, name), name
    for name in tensor_funcs.METHODS:
        assert hasattr(torch.Tensor, name), name


def test_on_fake_cupy_match_cpu(monkeypatch):
    """Device-generic: every function keeps device data on the device (tests/fake_cupy.py)."""
    import fake_cupy
    calls = [
        lambda x, s, i: gv.searchsorted(s, x[:, :3]), lambda x, s, i: gv.searchsorted(s[0], x),
        lambda x, s, i: gv.bucketize(x, s[0], right=True), lambda x, s, i: gv.isin(i, i[:2]),
        lambda x, s, i: gv.unique_consecutive(i, return_inverse=True, return_counts=True),
        lambda x, s, i: gv.unique_consecutive(x, dim=1), lambda x, s, i: gv.meshgrid(s[0], s[1]),
        lambda x, s, i: gv.block_diag(x, s), lambda x, s, i: gv.combinations(s[0], 3),
        lambda x, s, i: gv.cartesian_prod(s[0], s[1]), lambda x, s, i: gv.cdist(x, s),
        lambda x, s, i: gv.tensordot(x, s, ([1], [1])), lambda x, s, i: gv.diag_embed(x, 1),
        lambda x, s, i: gv.hstack([x, s]), lambda x, s, i: gv.erfinv(x / 4),
        lambda x, s, i: x.clone().fill_diagonal_(2.0, wrap=True),
        lambda x, s, i: x.put(i[:2], s[0, :2]), lambda x, s, i: x.clone().tril_(1),
        lambda x, s, i: x.scatter(0, i.reshape(2, 2) % 2, s[:, :2], reduce="multiply"),
        lambda x, s, i: gv.einsum(x, [0, 1], s, [2, 1], [2, 0]),
    ]
    x = np.random.RandomState(1).randn(2, 4).astype(np.float32)
    s = np.sort(np.random.RandomState(2).randn(2, 4).astype(np.float32), axis=-1)
    i = np.array([1, 1, 3, 0])
    cpu = [call(gv.tensor(x), gv.tensor(s), gv.tensor(i)) for call in calls]
    fake_cupy.install(monkeypatch)
    for call, want in zip(calls, cpu):
        got = call(gv.tensor(x, device="cuda"), gv.tensor(s, device="cuda"),
                   gv.tensor(i, device="cuda"))
        for g, w in zip(got if isinstance(got, tuple) else [got],
                        want if isinstance(want, tuple) else [want]):
            assert g.device.type == "cuda" and type(g._data) is not np.ndarray
            np.testing.assert_allclose(g.cpu().numpy(), w.numpy(), rtol=1e-6)
