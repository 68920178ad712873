"""Parity with torch for more cases a differential fuzzer found (one parametrized row each)."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError, GradvizError


def _check(got, want):
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(got.detach().numpy(), dtype=np.float64),
                               want.detach().numpy().astype(np.float64), rtol=1e-3,
                               equal_nan=True)


# ---- rounded division: in the graph, zero gradients (// has none at all) -----------------
ROUNDED = {
    "div_floor": lambda a, b: a.div(b, rounding_mode="floor"),
    "div_trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "div_floor_scalar": lambda a, b: a.div(0.75, rounding_mode="floor") * b,
    "div_trunc_fn": lambda a, b: gv.div(a, b, rounding_mode="trunc") if isinstance(a, gv.Tensor)
    else torch.div(a, b, rounding_mode="trunc"),
}


@pytest.mark.parametrize("name", sorted(ROUNDED))
def test_rounded_div_has_zero_gradients(name):
    a = np.array([1.5, -2.5, 3.0, 4.0])
    b = np.array([0.0, 2.0, -1.0, 0.5])   # x / 0 is inf: the gradient stays 0, not NaN
    outs, grads = [], []
    for lib in (torch, gv):
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b, requires_grad=True)
        out = ROUNDED[name](x, y)
        assert out.requires_grad
        out.sum().backward()
        outs.append(out)
        grads.append((x.grad, y.grad))
    _check(outs[1], outs[0])
    for g, t in zip(grads[1], grads[0]):
        np.testing.assert_array_equal(g.numpy(), t.numpy())


@pytest.mark.parametrize("form", ["op", "fn", "rop"])
def test_floor_divide_joins_graph_but_has_no_derivative(form):
    for lib, err in ((torch, RuntimeError), (gv, BackwardError)):
        x = lib.tensor([1.5, -2.5], requires_grad=True)
        out = {"op": lambda: x // 2.0, "fn": lambda: lib.floor_divide(x, x),
               "rop": lambda: 3.0 // x}[form]()
        assert out.requires_grad
        with pytest.raises(err, match="derivative for aten::floor_divide is not implemented"):
            out.sum().backward()


# ---- setitem with ints and advanced indices: torch's placement ---------------------------
KEYS = {
    "int_slice_tensor": lambda L: (0, slice(None), L.tensor([1, 2])),
    "tensor_slice_int": lambda L: (L.tensor([0, 1]), slice(1, 3), 2),
    "int_slice_list": lambda L: (1, slice(None), [0, 4]),
    "none_int_ellipsis_tensor": lambda L: (None, 0, Ellipsis, L.tensor([1, 2])),
    "int_mask": lambda L: (0, L.tensor([True, False, True, False])),
}


def _setitem(lib, key, grad, value_kind):
    base = lib.tensor(np.arange(60.0).reshape(3, 4, 5), requires_grad=grad)
    out = base * 1.0
    shape = tuple(out[key(lib)].shape)
    v = lib.tensor(np.arange(float(np.prod(shape))).reshape(shape) + 100, requires_grad=grad)
    out[key(lib)] = 7.0 if value_kind == "scalar" else v
    if grad:
        (out * lib.tensor(np.linspace(0, 1, 60).reshape(3, 4, 5))).sum().backward()
    return out, base, v


# the tensor-valued int_slice_* and none_int_* rows failed before the fix; scalar values,
# int_mask and tensor_slice_int (NumPy and torch agree there) guard against over-correcting
@pytest.mark.parametrize("name", sorted(KEYS))
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("value_kind", ["scalar", "tensor"])
def test_setitem_mixed_int_and_advanced_index(name, grad, value_kind):
    t_out, t_base, t_v = _setitem(torch, KEYS[name], grad, value_kind)
    g_out, g_base, g_v = _setitem(gv, KEYS[name], grad, value_kind)
    _check(g_out, t_out)
    if grad:
        np.testing.assert_array_equal(g_base.grad.numpy(), t_base.grad.numpy())
        if value_kind == "tensor":
            np.testing.assert_array_equal(g_v.grad.numpy(), t_v.grad.numpy())


# ---- what torch refuses -------------------------------------------------------------------
def _b(lib):
    return lib.tensor([True, False])


RAISES = {
    "abs_bool": lambda L: _b(L).abs(),
    "abs_fn_bool": lambda L: L.abs(_b(L)),
    "floor_bool": lambda L: _b(L).floor(),
    "ceil_bool": lambda L: _b(L).ceil(),
    "round_bool": lambda L: _b(L).round(),
    "round_decimals_bool": lambda L: _b(L).round(decimals=1),
    "trunc_bool": lambda L: _b(L).trunc(),
    "relu_bool": lambda L: _b(L).relu(),
    "relu_functional_bool": lambda L: L.nn.functional.relu(_b(L)),
    "median_bool": lambda L: _b(L).median(),
    "median_dim_bool": lambda L: _b(L).median(0),
    "nanmedian_bool": lambda L: _b(L).nanmedian(),
    "argmax_bool": lambda L: _b(L).argmax(),
    "argmin_dim_bool": lambda L: _b(L).argmin(0),
    "neg_bool": lambda L: -_b(L),
    "pow_bool_bool": lambda L: _b(L) ** _b(L),
    "rpow_pybool_bool": lambda L: True ** _b(L),
    "clamp__int_float_bounds": lambda L: L.tensor([1, 5, 9]).clamp_(2.5, 7.5),
    "clamp__int32_float_min": lambda L: L.tensor([1, 5], dtype=L.int32).clamp_(min=2.5),
    "clamp_int8_bound_overflow": lambda L: L.tensor([0, 5], dtype=L.int8).clamp(-300, 3),
    "clamp_uint8_bound_overflow": lambda L: L.tensor([0, 5], dtype=L.uint8).clamp(max=300),
}


@pytest.mark.parametrize("name", sorted(RAISES))
def test_raises_where_torch_raises(name):
    with pytest.raises((RuntimeError, NotImplementedError)) as t_err:
        RAISES[name](torch)
    with pytest.raises(GradvizError) as g_err:
        RAISES[name](gv)
    assert str(t_err.value).split("\n")[0][:40] == str(g_err.value)[:40]


# ---- values and dtypes --------------------------------------------------------------------
U8 = np.array([0, 5, 200], dtype=np.uint8)
# guards (they matched before too): pow_bool_int, clamp__int_int_bounds, masked_fill__*,
# all_int8, atan2_int_int, add_float_number_int, pow_int_number_int
CASES = {
    "sign_bool": lambda L: _b(L).sign(),
    "sgn_bool": lambda L: _b(L).sgn(),
    "pow_bool_true": lambda L: _b(L) ** True,
    "pow_bool_false": lambda L: _b(L) ** False,
    "pow_bool_int": lambda L: _b(L) ** 2,
    "clamp__int_int_bounds": lambda L: L.tensor([1, 5, 9]).clamp_(2, 7),
    "masked_fill__bool_value": lambda L: L.tensor([5.0, 2.0]).masked_fill_(_b(L), True),
    "masked_fill__bool_value_int": lambda L: L.tensor([5, 2]).masked_fill_(_b(L), True),
    "all_uint8": lambda L: L.tensor(U8).all(),
    "any_uint8": lambda L: L.tensor(U8).any(),
    "any_uint8_dim": lambda L: L.tensor(U8[None]).any(1, keepdim=True),
    "all_uint8_fn": lambda L: L.all(L.tensor(U8), dim=0),
    "all_int8": lambda L: L.tensor(U8.astype(np.int8)).all(),
    "atan2_int_f16": lambda L: L.atan2(L.tensor([1, 2]), L.tensor([1.0, 2.0],
                                                                  dtype=L.float16)),
    "atan2_int_f16_0d": lambda L: L.atan2(L.tensor([1, 2]), L.tensor(1.0, dtype=L.float16)),
    "atan2_int_int": lambda L: L.atan2(L.tensor([1, 2]), L.tensor([3, 2])),
    "true_divide_number_f16_0d": lambda L: L.true_divide(2.5, L.tensor(1.5, dtype=L.float16)),
    "div_number_f16_0d": lambda L: L.div(2.5, L.tensor(1.5, dtype=L.float16)),
    "sub_number_f16_0d": lambda L: L.sub(2.5, L.tensor(1.5, dtype=L.float16)),
    "add_float_number_int": lambda L: L.add(2.5, L.tensor([1, 2])),
    "pow_int_number_int": lambda L: L.pow(2, L.tensor([1, 2])),
    "median_empty": lambda L: L.tensor([]).median(),
    "median_empty_2d": lambda L: L.zeros(0, 3).median(),
    "median_empty_int32": lambda L: L.tensor([], dtype=L.int32).median(),
    "median_empty_uint8": lambda L: L.tensor([], dtype=L.uint8).median(),
    "nanmedian_empty": lambda L: L.tensor([]).nanmedian(),
    "clamp_uint8_negative_bound": lambda L: L.tensor(U8).clamp(-3, 100),
    "clamp__uint8_negative_bound": lambda L: L.tensor(U8).clamp_(-3, 100),
    "clamp_min_uint8_negative": lambda L: L.tensor(U8).clamp_min(-3),
    "clamp_uint8_bound_minus_255": lambda L: L.tensor(U8).clamp(-255, 255),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_dtypes_match_torch(name):
    _check(CASES[name](gv), CASES[name](torch))


def test_median_of_empty_is_in_the_graph():
    for lib in (torch, gv):
        x = lib.tensor(np.zeros(0), requires_grad=True)
        out = x.median()
        assert out.requires_grad and np.isnan(out.item())
        out.backward()
        assert tuple(x.grad.shape) == (0,)


# ---- extended fuzz: linalg on integer and 0 x 0 matrices, einsum, repeat_interleave -------
def _grad_pairs(fn, *arrays):
    """(gv output, torch output, gv grads, torch grads) of fn on float64 leaves."""
    res = []
    for lib in (gv, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = fn(lib, *ts)
        w = lib.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1))[:out.numel()]
                       .reshape(tuple(out.shape)))
        (out * w).sum().backward()
        res.append((out, [t.grad for t in ts]))
    return res


GRAD_CASES = {
    "matrix_power_0": (lambda L, a: L.linalg.matrix_power(a, 0),
                       [np.array([[1.0, np.inf], [2.0, 3.0]])]),
    "matrix_power_0_batched": (lambda L, a: L.linalg.matrix_power(a, 0), [np.ones((2, 3, 3))]),
    "einsum_diagonal": (lambda L, a: L.einsum("ii->i", a), [np.arange(9.0).reshape(3, 3)]),
    "einsum_trace": (lambda L, a: L.einsum("ii", a), [np.arange(9.0).reshape(3, 3)]),
    "einsum_diag_sum": (lambda L, a: L.einsum("iij->j", a), [np.arange(12.0).reshape(2, 2, 3)]),
    "einsum_diag_product": (lambda L, a, b: L.einsum("iij,jk->ik", a, b),
                            [np.arange(18.0).reshape(3, 3, 2), np.arange(8.0).reshape(2, 4)]),
    "einsum_outer_diag": (lambda L, a: L.einsum("iji->ij", a), [np.arange(12.0).reshape(2, 3, 2)]),
    "einsum_ellipsis_diag": (lambda L, a: L.einsum("...ii->...i", a),
                             [np.arange(18.0).reshape(2, 3, 3)]),
    "einsum_0d": (lambda L, a: L.einsum("", a), [np.array(2.0)]),
    "einsum_0d_pair": (lambda L, a, b: L.einsum(",->", a, b), [np.array(2.0), np.array(3.0)]),
    "einsum_vec_0d": (lambda L, a, b: L.einsum("i,->i", a, b), [np.arange(3.0), np.array(3.0)]),
    "einsum_zero_size": (lambda L, a, b: L.einsum("ab,bc->", a, b),
                         [np.zeros((0, 3)), np.ones((3, 2))]),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_values_and_gradients_match_torch(name):
    fn, arrays = GRAD_CASES[name]
    (g_out, g_grads), (t_out, t_grads) = _grad_pairs(fn, *arrays)
    assert g_out.requires_grad
    _check(g_out, t_out)
    for g, t in zip(g_grads, t_grads):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)


EXT_CASES = {
    "matrix_power_int": lambda L: L.linalg.matrix_power(L.arange(4).reshape(2, 2), 3),
    "matrix_power_int_0": lambda L: L.linalg.matrix_power(L.arange(4).reshape(2, 2), 0),
    "pinv_0x0": lambda L: L.linalg.pinv(L.zeros(0, 0)),
    "pinv_0x3": lambda L: L.linalg.pinv(L.zeros(0, 3)),
    "matrix_rank_0x0": lambda L: L.linalg.matrix_rank(L.zeros(0, 0)),
    "matrix_rank_batched_0x0": lambda L: L.linalg.matrix_rank(L.zeros(2, 0, 0)),
    "cond_0x0": lambda L: L.linalg.cond(L.zeros(0, 0)),
    "cond_batched_0x0": lambda L: L.linalg.cond(L.zeros(2, 0, 0)),
    "cholesky_ex_0x0_L": lambda L: L.linalg.cholesky_ex(L.zeros(0, 0))[0],
    "cholesky_ex_0x0_info": lambda L: L.linalg.cholesky_ex(L.zeros(0, 0))[1],
    "repeat_interleave_repeats_only": lambda L: L.repeat_interleave(L.tensor([2, 0, 1])),
    "repeat_interleave_int32_repeats": lambda L: L.ones(2, 3).repeat_interleave(
        L.tensor([1, 2, 0], dtype=L.int32), dim=1),
}


@pytest.mark.parametrize("name", sorted(EXT_CASES))
def test_extended_values_match_torch(name):
    _check(EXT_CASES[name](gv), EXT_CASES[name](torch))


EXT_RAISES = {
    "matrix_power_int_negative": lambda L: L.linalg.matrix_power(L.arange(4).reshape(2, 2), -1),
    "einsum_int_with_float": lambda L: L.einsum("i,i", L.arange(3), L.ones(3, dtype=L.float64)),
    "einsum_f32_with_f64": lambda L: L.einsum("i,i", L.ones(3), L.ones(3, dtype=L.float64)),
    "repeat_interleave_2d_repeats": lambda L: L.ones(2, 3).repeat_interleave(
        L.tensor([[1, 2, 0]]), dim=1),
    "repeat_interleave_float_repeats": lambda L: L.ones(2, 3).repeat_interleave(
        L.tensor([1.0, 2.0, 0.0]), dim=1),
    "repeat_interleave_negative": lambda L: L.ones(2, 3).repeat_interleave(
        L.tensor([1, -1, 2]), dim=1),
    "repeat_interleave_wrong_size": lambda L: L.ones(2, 3).repeat_interleave(
        L.tensor([1, 2]), dim=1),
    "repeat_interleave_2d_repeats_only": lambda L: L.repeat_interleave(L.tensor([[1, 2]])),
}


@pytest.mark.parametrize("name", sorted(EXT_RAISES))
def test_extended_raises_where_torch_raises(name):
    with pytest.raises((RuntimeError, NotImplementedError)) as t_err:
        EXT_RAISES[name](torch)
    with pytest.raises(GradvizError) as g_err:
        EXT_RAISES[name](gv)
    assert str(t_err.value).split("\n")[0][:30] == str(g_err.value)[:30]


def test_einsum_diagonal_second_derivatives_match_torch():
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal((3, 3, 2)), rng.standard_normal((2, 4))
    grads = []
    for lib in (gv, torch):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        y = lib.einsum("iij,jk->ik", a, b).tanh().sum()
        da, db = lib.autograd.grad(y, (a, b), create_graph=True)
        ((da ** 2).sum() + (db * b).sum()).backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for g, t in zip(*grads):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)
