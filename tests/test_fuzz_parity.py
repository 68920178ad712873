"""Parity with torch for cases a differential fuzzer found (one parametrized row each)."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError


def _gv(x):
    return gv.tensor(np.array(x))


def _check(got, want):
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(got.detach().numpy(), dtype=np.float64),
                               want.detach().numpy().astype(np.float64), rtol=1e-3,
                               equal_nan=True)


U8 = np.array([0, 3, 200], dtype=np.uint8)
F16_0D = np.array(1.5, dtype=np.float16)
CASES = {
    "rdiv_f16_0d": (lambda L, x: 2.5 / x, F16_0D),
    "rfloordiv_f16_0d": (lambda L, x: 2.5 // x, F16_0D),
    "rmod_f16_0d": (lambda L, x: -0.5 % x, F16_0D),
    "u8_times_neg_int": (lambda L, x: x * -3, U8),
    "u8_plus_big_int": (lambda L, x: x + 300, U8),
    "u8_gt_neg_int": (lambda L, x: x > -3, U8),
    "int_pow_negative_tensor": (lambda L, x: x ** L.tensor([-1, -2, -1, -3, -1]),
                                np.array([-2, -1, 0, 1, 2])),
    "unary_plus": (lambda L, x: +x, np.array([1.5, -2.0])),
    "prod_u8": (lambda L, x: x.prod(), np.array([2, 3], dtype=np.uint8)),
    "cumsum_u8": (lambda L, x: x.cumsum(0), np.array([200, 100], dtype=np.uint8)),
    "cumprod_u8": (lambda L, x: x.cumprod(0), np.array([20, 100], dtype=np.uint8)),
    "cumsum_bool_0d": (lambda L, x: x.cumsum(0), np.array(True)),
    "softmax_0d": (lambda L, x: x.softmax(0), np.array(2.0)),
    "log_softmax_0d": (lambda L, x: x.log_softmax(-1), np.array(2.0)),
    "index_int_slice_tensor": (lambda L, x: x[0, :, L.tensor([1, 2])],
                               np.arange(60.).reshape(3, 4, 5)),
    "index_none_int_ellipsis_tensor": (lambda L, x: x[None, 0, ..., L.tensor([1, 2])],
                                       np.arange(60.).reshape(3, 4, 5)),
    "cat_legacy_empty": (lambda L, x: L.cat([L.zeros(0, dtype=L.float64), x], 1),
                         np.ones((2, 3))),
    "cat_all_legacy_empty_dim1": (lambda L, x: L.cat([x, x], 1), np.zeros(0)),
    "pow_inplace_f32_f64": (lambda L, x: x.clone().pow_(L.tensor([2.0, 3.0],
                                                                 dtype=L.float64)),
                            np.array([1.5, 2.0], dtype=np.float32)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_dtypes_match_torch(name):
    fn, x = CASES[name]
    _check(fn(gv, _gv(x)), fn(torch, torch.tensor(x)))


RAISES = {
    "sub_bool_int": lambda L: L.tensor([True, False]) - 1,
    "rsub_float_bool": lambda L: 2.5 - L.tensor([True, False]),
    "sub_int_bool_tensor": lambda L: L.tensor([1, 2]) - L.tensor([True, False]),
    "var_int": lambda L: L.tensor([1, 2, 3]).var(),
    "std_int": lambda L: L.tensor([1, 2, 3]).std(),
    "unary_plus_bool": lambda L: +L.tensor([True]),
}


@pytest.mark.parametrize("name", sorted(RAISES))
def test_raises_where_torch_raises(name):
    with pytest.raises(RuntimeError):
        RAISES[name](torch)
    with pytest.raises(GradvizError):
        RAISES[name](gv)


def _grads(lib, fn, *arrays):
    ts = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = fn(lib, *ts)
    (out * lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))).sum() \
        .backward()
    return [t.grad for t in ts]


GRADS = {
    # torch: d(x^p)/dp = x^p log(x), nan for x < 0 (gv gave 0)
    "pow_exponent_negative_base": (lambda L, x, p: x ** p,
                                   [np.array([-2.0, 0.0, 1.5]), np.array([2.0, 2.0, 0.5])]),
    "var_one_element": (lambda L, x: x.var(0), [np.array([3.0])]),
    "prod_empty": (lambda L, x: x.prod(1), [np.zeros((2, 0))]),
    "prod_empty_all": (lambda L, x: x.prod().reshape(1), [np.zeros((0, 3))]),
    "prod_0d_dim": (lambda L, x: x.prod(0).reshape(1), [np.array(2.0)]),
    "softmax_0d": (lambda L, x: x.softmax(0).reshape(1), [np.array(2.0)]),
    "index_int_slice_tensor": (lambda L, x: x[0, :, L.tensor([1, 1])],
                               [np.arange(24.).reshape(2, 3, 4)]),
}


@pytest.mark.parametrize("name", sorted(GRADS))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_gradients_match_torch(name):
    fn, arrays = GRADS[name]
    for g, t in zip(_grads(gv, fn, *arrays), _grads(torch, fn, *arrays)):
        np.testing.assert_allclose(g.numpy(), t.numpy(), equal_nan=True)
