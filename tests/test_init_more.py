"""nn.init's dirac_, eye_, sparse_ and torch's deprecated aliases, against torch.nn.init; and
the initialisers on a (fake) CUDA device."""
import math
import re

import numpy as np
import pytest
import torch
from test_cuda import dev  # noqa: F401 - the (fake) CUDA device fixture

import gradviz as gv
from gradviz.nn import init


@pytest.mark.parametrize("shape, groups", [((6, 4, 3), 1), ((6, 4, 3, 5), 2), ((4, 6, 3, 3, 3), 2),
                                           ((8, 2, 3, 4), 4), ((3, 5, 2, 2), 3)])
def test_dirac_matches_torch(shape, groups):
    ref = torch.nn.init.dirac_(torch.empty(shape), groups)
    got = init.dirac_(gv.empty(*shape), groups)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    if groups == 1:   # the identity of a convolution, as the docs promise
        x = gv.randn(1, shape[1], *(7,) * (len(shape) - 2))
        conv = getattr(gv.nn.functional, f"conv{len(shape) - 2}d")
        out = conv(x, got, padding=tuple(k // 2 for k in shape[2:])).numpy()
        n = min(shape[:2])
        np.testing.assert_allclose(out[0, :n], x.numpy()[0, :n], atol=1e-6)


def test_eye_matches_torch():
    for shape in ((3, 5), (4, 2), (3, 3)):
        np.testing.assert_array_equal(init.eye_(gv.empty(*shape)).numpy(),
                                      torch.nn.init.eye_(torch.empty(shape)).numpy())


def test_sparse_zeros_per_column_and_std():
    gv.manual_seed(0)
    w = init.sparse_(gv.empty(200, 30), sparsity=0.3, std=0.5)
    values = w.numpy()
    assert ((values == 0).sum(axis=0) == math.ceil(0.3 * 200)).all()
    assert abs(values[values != 0].std() - 0.5) < 0.05
    gen = np.random.default_rng(1)
    a = init.sparse_(gv.empty(5, 4), 0.5, generator=gen).numpy()
    b = init.sparse_(gv.empty(5, 4), 0.5, generator=np.random.default_rng(1)).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fn, shape, args", [
    ("dirac_", (3, 4), ()), ("dirac_", (3, 4, 2, 2, 2, 2), ()), ("dirac_", (6, 4, 3), (4,)),
    ("eye_", (3, 4, 5), ()), ("sparse_", (3,), (0.1,)), ("sparse_", (2, 3, 4), (0.1,)),
    ("orthogonal_", (3,), ()), ("xavier_uniform_", (3,), ()),
    ("kaiming_normal_", (3, 4), (0, "fan_mid")), ("calculate_gain", "selu2", ()),
])
def test_errors_match_torch(fn, shape, args):
    def call(lib):
        target = shape if isinstance(shape, str) else lib.empty(shape)
        return getattr(lib.nn.init, fn)(target, *args)
    with pytest.raises(Exception) as ref:
        call(torch)
    with pytest.raises(type(ref.value), match=re.escape(str(ref.value))) as got:
        call(gv)
    assert isinstance(got.value, gv.GradvizError)


def test_every_torch_init_name_is_here():
    assert set(torch.nn.init.__all__) <= set(init.__all__)
    assert all(callable(getattr(init, name)) for name in init.__all__)


@pytest.mark.parametrize("old, args", [("uniform", (-1, 1)), ("normal", (0, 2)),
                                       ("constant", (0.5,)), ("eye", ()), ("dirac", ()),
                                       ("xavier_uniform", ()), ("xavier_normal", ()),
                                       ("kaiming_uniform", ()), ("kaiming_normal", ()),
                                       ("orthogonal", ()), ("sparse", (0.5,))])
def test_deprecated_aliases_warn_as_torch_and_fill_alike(old, args):
    shape = (4, 4, 3) if old == "dirac" else (4, 6)
    with pytest.warns(FutureWarning) as ref:
        getattr(torch.nn.init, old)(torch.empty(shape), *args)
    gv.manual_seed(3)
    with pytest.warns(FutureWarning, match=re.escape(str(ref[0].message))):
        via_alias = getattr(init, old)(gv.empty(*shape), *args).numpy()
    gv.manual_seed(3)
    np.testing.assert_array_equal(via_alias,
                                  getattr(init, old + "_")(gv.empty(*shape), *args).numpy())
    assert getattr(init, old).__name__ == old


def test_initialisers_on_cuda(dev):
    conv = gv.empty(4, 2, 3, 3, device=dev)
    init.dirac_(conv, 2)
    np.testing.assert_array_equal(conv.cpu().numpy(),
                                  torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), 2).numpy())
    mat = gv.empty(6, 5, device=dev)
    init.sparse_(mat, 0.5)
    assert ((mat.cpu().numpy() == 0).sum(axis=0) == 3).all()
    init.eye_(mat)
    np.testing.assert_array_equal(mat.cpu().numpy(), np.eye(6, 5))
    for t in (conv, mat):
        assert t.device.type == "cuda" and type(t._data) is not np.ndarray
