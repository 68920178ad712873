"""PyTorch-compatibility gaps from an API audit: keyword forms, ``t == None``, integer
division by zero, empty reductions, split/chunk by zero, Module attribute order and
BatchNorm state_dict versions, bool bitwise operators, random sampling into int dtypes.
Each case runs in gradviz and in torch and compares values, dtypes, shapes, gradients or
the kind of error raised."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import DimError, GradvizError

A = np.arange(6, dtype=np.float32).reshape(2, 3)


def _same(g, t):
    """Same dtype, shape and values (tensors, or tuples of tensors)."""
    if isinstance(t, (tuple, list)):
        assert len(g) == len(t)
        for a, b in zip(g, t):
            _same(a, b)
        return
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-6)


def _both(fn):
    return fn(gv), fn(torch)


def _raises_like(fn, gv_error=GradvizError):
    """torch raises for ``fn`` and gradviz raises ``gv_error``, a subclass of torch's error
    type (so a ported ``except`` catches it); returns the two messages."""
    with pytest.raises(Exception) as t_exc:
        fn(torch)
    with pytest.raises(gv_error) as g_exc:
        fn(gv)
    assert isinstance(g_exc.value, type(t_exc.value)) or (
        isinstance(t_exc.value, NotImplementedError) and isinstance(g_exc.value, RuntimeError))
    return str(g_exc.value), str(t_exc.value)


# ---- 1. keyword forms ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["zeros", "ones"])
@pytest.mark.parametrize("size", [(2, 3), [2, 3], ()])
def test_creation_takes_size_keyword(name, size):
    _same(*_both(lambda lib: getattr(lib, name)(size=size)))


@pytest.mark.parametrize("name", ["empty", "rand", "randn"])
def test_creation_takes_size_keyword_shape(name):
    g, t = _both(lambda lib: getattr(lib, name)(size=(2, 3), dtype=lib.float64))
    assert tuple(g.shape) == tuple(t.shape) == (2, 3) and g.dtype == gv.float64


def test_full_and_randint_take_keywords():
    _same(*_both(lambda lib: lib.full(size=(2, 3), fill_value=1.5)))
    g, t = _both(lambda lib: lib.randint(high=5, size=(4,)))
    assert tuple(g.shape) == tuple(t.shape) and g.dtype == gv.int64
    assert 0 <= int(g.min()) and int(g.max()) < 5


@pytest.mark.parametrize("call", [lambda lib: lib.zeros(2, size=(2,)),
                                  lambda lib: lib.zeros(size=2)])
def test_creation_size_keyword_misuse_is_a_type_error(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(gv)


@pytest.mark.parametrize("call", [
    lambda x: x.reshape(shape=(3, 2)),
    lambda x: x.view(size=(3, 2)),
    lambda x: x.permute(dims=(1, 0)),
    lambda x: x.permute(dims=[1, 0]),
    lambda x: x.repeat(repeats=(1, 2)),
    lambda x: x[:1].expand(size=(2, 3)),
    lambda x: x.split(split_size=1),
    lambda x: x.split(split_size=[1, 2], dim=1),
])
def test_shape_methods_take_torch_keywords(call):
    g, t = _both(lambda lib: call(lib.tensor(A, requires_grad=True)))
    _same(g, t)
    gx, tx = gv.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    for x in (gx, tx):
        out = call(x)
        out = out if isinstance(out, (tuple, list)) else (out,)
        sum((o * (i + 2)).sum() for i, o in enumerate(out)).backward()
    _same(gx.grad, tx.grad)


def test_function_forms_take_torch_keywords():
    _same(*_both(lambda lib: lib.reshape(lib.tensor(A), shape=(3, 2))))
    _same(*_both(lambda lib: lib.permute(lib.tensor(A), dims=(1, 0))))
    _same(*_both(lambda lib: lib.split(lib.tensor(A), split_size_or_sections=1)))


# ---- 2. comparing with None ----------------------------------------------------------------
def test_compare_with_none_is_identity_not_error():
    for lib in (gv, torch):
        x = lib.tensor(A)
        assert (x == None) is False  # noqa: E711  (the operator itself is under test)
        assert (x != None) is True  # noqa: E711
        assert (None == x) is False  # noqa: E711
        with pytest.raises(TypeError):
            x < None  # noqa: B015


# ---- 3. integer division and remainder -------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([1, 2]) // 0,
    lambda lib: lib.tensor([1, 2]) % 0,
    lambda lib: lib.tensor([1, 2]) // lib.tensor([1, 0]),
    lambda lib: lib.tensor([1, 2]) % lib.tensor([1, 0]),
    lambda lib: 5 // lib.tensor([1, 0]),
    lambda lib: 5 % lib.tensor([1, 0]),
    lambda lib: lib.div(lib.tensor([-7, 7]), 0, rounding_mode="trunc"),
    lambda lib: lib.tensor([1, 2]).remainder(0),
    lambda lib: lib.tensor([1, 2]).floor_divide(0),
])
def test_integer_division_by_zero_raises(call):
    msg, _ = _raises_like(call)
    assert "ZeroDivisionError" in msg


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([-7, 7, 6, -6]) // lib.tensor([2, -2, 4, 4]),
    lambda lib: lib.tensor([-7, 7, 6, -6]) % lib.tensor([2, -2, 4, 4]),
    lambda lib: lib.div(lib.tensor([-7, 7, 6]), lib.tensor([2, -2, 4]), rounding_mode="trunc"),
    lambda lib: lib.tensor([2 ** 40 + 1]) // lib.tensor([1]),  # exact beyond float precision
    lambda lib: lib.tensor([7, -7], dtype=lib.int32) // 2,
    lambda lib: lib.tensor([7]) // 2.5,
    lambda lib: lib.tensor([-7, 7]) % 2.5,
    lambda lib: 5.5 % lib.tensor([2, 3]),
    lambda lib: lib.tensor([1.0, -1.0]) // 0.1,  # fmod-based, as Python: 1.0 // 0.1 == 9
    lambda lib: lib.tensor([1.0, -1.0, 0.0]) // 0,
    lambda lib: lib.tensor([1.0, -1.0, 0.0]) % 0,
    lambda lib: lib.tensor([-7.0, 7.0]) % -2,
    lambda lib: lib.remainder(lib.tensor([-7.5, 7.5]), 2),
    lambda lib: lib.floor_divide(lib.tensor([-7.5, 7.5]), 2),
])
def test_floor_division_and_remainder_match_torch(call):
    _same(*_both(call))


def test_float_division_and_remainder_match_torch_on_random_data():
    rng = np.random.RandomState(0)
    a = (rng.randn(2000) * 100).astype(np.float64)
    b = (rng.randn(2000) * 3).astype(np.float64)
    for op in (lambda x, y: x // y, lambda x, y: x % y):
        g, t = op(gv.tensor(a), gv.tensor(b)), op(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_remainder_gradients_match_torch():
    grads = []
    for lib in (gv, torch):
        a = lib.tensor([5.0, -3.0, 4.0, 0.5], requires_grad=True)
        b = lib.tensor([2.0, 2.0, -3.0, 0.25], requires_grad=True)
        out = a % b
        (out * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        grads.append((out, a.grad, b.grad))
    for g, t in zip(*grads):
        _same(g, t)


def test_bool_floor_division_raises():
    _raises_like(lambda lib: lib.tensor([True]) // lib.tensor([True]))


# ---- 4. max/min of empty tensors, logsumexp of nothing ---------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([]).max(),
    lambda lib: lib.tensor([]).min(),
    lambda lib: lib.tensor([]).amax(),
    lambda lib: lib.tensor([]).amin(),
])
def test_empty_reduction_without_dim_raises(call):
    msg, t_msg = _raises_like(call)
    assert msg == t_msg and "input.numel() == 0" in msg


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([]).max(0),
    lambda lib: lib.zeros(2, 0).min(1),
    lambda lib: lib.zeros(2, 0).amax(1),
    lambda lib: lib.zeros(0, 3).amin((0, 1)),
    lambda lib: lib.tensor([]).argmax(),
    lambda lib: lib.tensor([]).argmin(0),
])
def test_empty_reduction_along_empty_dim_raises_index_error(call):
    msg, _ = _raises_like(call, DimError)
    assert "non-zero size" in msg or "input.numel() == 0" in msg


def test_empty_reduction_along_a_nonempty_dim_still_works():
    _same(*_both(lambda lib: lib.zeros(2, 0).amax(0)))
    _same(*_both(lambda lib: tuple(lib.zeros(2, 0).max(0))))


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([]).logsumexp(0),
    lambda lib: lib.zeros(2, 0).logsumexp(1),
    lambda lib: lib.zeros(2, 0).logsumexp(1, keepdim=True),
    lambda lib: lib.tensor([]).mean(),
    lambda lib: lib.zeros(2, 0).mean(1),
])
def test_reductions_of_nothing_match_torch(call):
    _same(*_both(call))


# ---- 5. split(0) / chunk(0) ------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor(A).split(0),
    lambda lib: lib.tensor(A).split(-1),
    lambda lib: lib.tensor(A).split([-1, 3]),
    lambda lib: lib.tensor(A).chunk(0),
    lambda lib: lib.tensor(A).chunk(-1),
    lambda lib: lib.tensor(1.0).split(1),
])
def test_split_and_chunk_by_zero_raise_as_torch(call):
    msg, t_msg = _raises_like(call)
    assert msg == t_msg


def test_split_sizes_mismatch_and_bad_dim():
    msg, t_msg = _raises_like(lambda lib: lib.tensor(A).split([1, 1], 1))
    assert msg == t_msg
    _raises_like(lambda lib: lib.tensor(A).split(1, dim=5), DimError)


def test_split_and_chunk_of_a_zero_size_dim():
    _same(*_both(lambda lib: lib.zeros(0, 3).split(0)))
    _same(*_both(lambda lib: lib.zeros(0, 3).chunk(2)))


# ---- 6. nn.Module ----------------------------------------------------------------------------
def test_reassigned_parameter_keeps_its_place():
    orders = []
    for lib in (gv, torch):
        m = lib.nn.Linear(2, 2)
        m.weight = lib.nn.Parameter(lib.zeros(2, 2))
        orders.append(([n for n, _ in m.named_parameters()], list(m.state_dict())))
    assert orders[0] == orders[1] == (["weight", "bias"], ["weight", "bias"])


def test_reassigned_child_module_keeps_its_place():
    orders = []
    for lib in (gv, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU(), lib.nn.Linear(2, 2))
        setattr(m, "0", lib.nn.Linear(2, 2))
        orders.append(list(m.state_dict()))
    assert orders[0] == orders[1]


def _without_count(sd):
    return {k: v for k, v in sd.items() if "num_batches_tracked" not in k}


def _deleting(*words):
    def make(sd):
        for k in [k for k in sd if any(w in k for w in words)]:
            del sd[k]  # keeps the state_dict's format version (its ``_metadata``)
        return sd
    return make


@pytest.mark.parametrize("build", [lambda lib: lib.nn.BatchNorm1d(3),
                                   lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 3),
                                                                 lib.nn.BatchNorm1d(3))])
@pytest.mark.parametrize("edit", [_without_count, _deleting("num_batches_tracked"),
                                  _deleting("num_batches_tracked", "running_mean")])
def test_batchnorm_load_without_num_batches_tracked_reports_keys_as_torch(build, edit):
    keys = []
    for lib in (gv, torch):
        m = build(lib)
        r = m.load_state_dict(edit(m.state_dict()), strict=False)
        keys.append((list(r.missing_keys), list(r.unexpected_keys)))
    assert keys[0] == keys[1]


def test_batchnorm_plain_dict_without_count_loads_strictly_and_keeps_the_count():
    counts = []
    for lib in (gv, torch):
        m = lib.nn.BatchNorm1d(3)
        m.num_batches_tracked.fill_(5)
        m.load_state_dict(_without_count(m.state_dict()))
        counts.append(int(m.num_batches_tracked))
    assert counts == [5, 5]


# ---- 7. bool (and int) bitwise operators -----------------------------------------------------
P = [True, False, True, False]
Q = [True, True, False, False]


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor(P) ^ lib.tensor(Q),
    lambda lib: lib.tensor(P) & lib.tensor(Q),
    lambda lib: lib.tensor(P) | lib.tensor(Q),
    lambda lib: ~lib.tensor(P),
    lambda lib: lib.tensor(P) ^ True,
    lambda lib: True ^ lib.tensor(P),
    lambda lib: False | lib.tensor(P),
    lambda lib: True & lib.tensor(P),
    lambda lib: lib.tensor(P) & 1,
    lambda lib: lib.tensor([1, 2, 6]) ^ lib.tensor([3, 3, 3]),
    lambda lib: lib.tensor([3, 5], dtype=lib.int32) ^ 5,
    lambda lib: lib.tensor(P) & lib.tensor([3, 3, 3, 3], dtype=lib.int32),
    lambda lib: lib.bitwise_xor(lib.tensor(P), lib.tensor(Q)),
])
def test_bitwise_operators_match_torch(call):
    _same(*_both(call))


def test_bitwise_on_floats_raises():
    _raises_like(lambda lib: lib.tensor([1.0]) ^ lib.tensor([1.0]))
    _raises_like(lambda lib: lib.tensor([True]) ^ 1.5)
    with pytest.raises(TypeError):
        ~torch.tensor([1.0])
    with pytest.raises(TypeError, match="integer and Boolean"):
        ~gv.tensor([1.0])


# ---- 8. random sampling into non-float dtypes ------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib: lib.randn_like(lib.tensor([1, 2])),
    lambda lib: lib.rand_like(lib.tensor([1, 2])),
    lambda lib: lib.randn_like(lib.tensor([True])),
    lambda lib: lib.randn(2, dtype=lib.long),
    lambda lib: lib.rand(2, dtype=lib.int32),
    lambda lib: lib.randn_like(lib.tensor([1.0]), dtype=lib.long),
])
def test_random_sampling_into_non_float_dtypes_raises(call):
    _raises_like(call)


def test_random_like_of_int_with_float_dtype_works():
    g, t = _both(lambda lib: lib.randn_like(lib.tensor([1, 2]), dtype=lib.float64))
    assert g.dtype == gv.float64 and tuple(g.shape) == tuple(t.shape)
