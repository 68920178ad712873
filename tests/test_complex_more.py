"""More complex support, against torch: sgn at 0 and on real tensors, sign's refusal, the
in-place forms of the newer complex ops, and the matrix products that refuse a complex
operand with one of another dtype (op-level values and gradients: op_table_complex.py)."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError

# (name, shapes, call): every route to a matrix product, each rank pattern torch tells apart
PRODUCTS = [
    ("matmul_1d_1d", ((3,), (3,)), lambda lib, a, b: a @ b),
    ("matmul_1d_2d", ((3,), (3, 2)), lambda lib, a, b: a @ b),
    ("matmul_2d_1d", ((2, 3), (3,)), lambda lib, a, b: a @ b),
    ("matmul_2d_2d", ((2, 3), (3, 2)), lambda lib, a, b: a @ b),
    ("matmul_3d_2d", ((2, 2, 3), (3, 2)), lambda lib, a, b: a.matmul(b)),
    ("matmul_2d_3d", ((2, 3), (2, 3, 2)), lambda lib, a, b: lib.matmul(a, b)),
    ("matmul_3d_1d", ((2, 2, 3), (3,)), lambda lib, a, b: lib.matmul(a, b)),
    ("matmul_4d_3d", ((1, 2, 3), (4, 1, 3, 2)), lambda lib, a, b: a @ b),
    ("mm", ((2, 3), (3, 2)), lambda lib, a, b: lib.mm(a, b)),
    ("mm_method", ((2, 3), (3, 2)), lambda lib, a, b: a.mm(b)),
    ("bmm", ((2, 2, 3), (2, 3, 2)), lambda lib, a, b: lib.bmm(a, b)),
    ("bmm_method", ((2, 2, 3), (2, 3, 2)), lambda lib, a, b: a.bmm(b)),
    ("mv", ((2, 3), (3,)), lambda lib, a, b: lib.mv(a, b)),
    ("dot", ((3,), (3,)), lambda lib, a, b: lib.dot(a, b)),
    ("vdot", ((3,), (3,)), lambda lib, a, b: a.vdot(b)),
]
DTYPE_PAIRS = [("complex64", "float32"), ("float32", "complex64"), ("complex128", "float64"),
               ("complex64", "float64"), ("complex128", "complex64"), ("complex64", "int64"),
               ("int32", "complex128"), ("float16", "complex64"), ("complex64", "bool"),
               ("uint8", "complex64")]


def _pair(lib, shapes, dtypes):
    new = gv.from_numpy if lib is gv else torch.from_numpy
    return [new(np.ones(s, dtype=d)) for s, d in zip(shapes, dtypes)]


def _error(lib, call, shapes, dtypes):
    try:
        call(lib, *_pair(lib, shapes, dtypes))
    except RuntimeError as e:
        return type(e), str(e)
    return None, None


@pytest.mark.parametrize("dtypes", DTYPE_PAIRS, ids="-".join)
@pytest.mark.parametrize("name,shapes,call", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_product_of_complex_and_other_dtype_raises_torchs_error(name, shapes, call, dtypes):
    """gradviz promoted ``complex @ real`` silently; torch refuses every such product."""
    t_type, t_msg = _error(torch, call, shapes, dtypes)
    g_type, g_msg = _error(gv, call, shapes, dtypes)
    assert t_type is RuntimeError, f"torch did not refuse {name} {dtypes}"
    assert g_type is not None and issubclass(g_type, GradvizError), f"{name} {dtypes}: no error"
    assert g_msg == t_msg


def test_products_of_one_complex_dtype_still_match_torch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    b = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    for dt in (np.complex64, np.complex128):
        x, y = a.astype(dt), b.astype(dt)
        got = gv.from_numpy(x) @ gv.from_numpy(y)
        want = torch.from_numpy(x) @ torch.from_numpy(y)
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)


def test_sgn_at_zero_is_zero_with_a_zero_gradient_as_torch():
    """z / |z| is undefined at 0: torch gives 0, and a zero gradient there."""
    z = np.array([0j, 3 - 4j, 0j, -1 + 1j])
    seed = np.array([1 + 2j, -0.5 + 1j, 2 - 1j, 0.25 + 0.5j])
    got = []
    for lib in (gv, torch):
        t = lib.tensor(z, requires_grad=True)
        out = t.sgn()
        out.backward(lib.tensor(seed))
        got.append((out.detach().numpy(), t.grad.numpy()))
    for g, w in zip(*got):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    assert got[0][1][0] == 0 and got[0][1][2] == 0


@pytest.mark.parametrize("values", [[-2.0, 0.0, 3.5], [-2, 0, 7], [True, False]])
def test_sgn_of_real_tensors_is_sign_as_torch(values):
    got, want = gv.sgn(gv.tensor(values)), torch.sgn(torch.tensor(values))
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_sign_of_complex_points_to_sgn_as_torch():
    with pytest.raises(GradvizError, match="sgn"):
        gv.tensor([1 + 1j]).sign()
    with pytest.raises(RuntimeError, match="sgn"):
        torch.tensor([1 + 1j]).sign()


@pytest.mark.parametrize("name", ["sgn", "exp2", "asin", "acos", "atan", "asinh", "acosh",
                                  "atanh", "log1p", "expm1"])
def test_in_place_forms_of_complex_ops_match_torch(name):
    z = np.array([0.3 + 0.4j, -0.5 + 0.7j, 0.6 - 0.2j], np.complex64)
    got = getattr(gv.from_numpy(z.copy()), name + "_")()
    want = getattr(torch.from_numpy(z.copy()), name + "_")()
    assert got.dtype is gv.complex64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
