"""Tensor basics against torch: creation, dtypes and promotion, memory sharing, conversion,
in-place rules, assignment, printing and the cuda error."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError, DeviceError, GradvizError


def tname(t):
    """torch dtype name without the ``torch.`` prefix."""
    return str(t).replace("torch.", "")


# ---- creation -----------------------------------------------------------------------------
@pytest.mark.parametrize("data", [[1, 2], [1.0, 2.0], [True, False], [1, 2.5], 3, 2.5, True,
                                  [[1, 2], [3, 4]], np.array([1.0], dtype=np.float64),
                                  np.array([1, 2], dtype=np.int32), [], np.float32(2.0)])
def test_tensor_infers_dtype_and_shape_like_torch(data):
    g, t = gv.tensor(data), torch.tensor(data)
    assert g.dtype.name == tname(t.dtype)
    assert tuple(g.shape) == tuple(t.shape)
    assert g.tolist() == t.tolist()


@pytest.mark.parametrize("name,args,kw", [
    ("zeros", (2, 3), {}), ("zeros", ((2, 3),), {"dtype": "int64"}), ("ones", (4,), {}),
    ("ones", ((),), {"dtype": "float64"}), ("empty", (2, 2), {}), ("eye", (3,), {}),
    ("eye", (2, 3), {"dtype": "int32"}), ("arange", (5,), {}), ("arange", (1, 2, 0.25), {}),
    ("arange", (0.0, 3), {}), ("arange", (2, 8, 3), {"dtype": "float64"}),
    ("linspace", (0, 1, 5), {}), ("linspace", (-1, 1, 3), {"dtype": "float64"}),
    ("full", ((2,), 1.5), {}), ("full", ((2, 2), 7), {}), ("full", ((1,), True), {}),
])
def test_creation_functions_match_torch(name, args, kw):
    gkw = {k: getattr(gv, v) for k, v in kw.items()}
    tkw = {k: getattr(torch, v) for k, v in kw.items()}
    g, t = getattr(gv, name)(*args, **gkw), getattr(torch, name)(*args, **tkw)
    assert g.dtype.name == tname(t.dtype) and tuple(g.shape) == tuple(t.shape)
    if name != "empty":
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)


def test_random_creation_shapes_dtypes_and_seed():
    gv.manual_seed(3)
    a = [gv.rand(2, 3), gv.randn(4), gv.randint(0, 5, (3, 2)), gv.randint(7, (2,))]
    gv.manual_seed(3)
    b = [gv.rand(2, 3), gv.randn(4), gv.randint(0, 5, (3, 2)), gv.randint(7, (2,))]
    assert [x.dtype for x in a] == [gv.float32, gv.float32, gv.int64, gv.int64]
    for x, y in zip(a, b):
        assert np.array_equal(x.numpy(), y.numpy())
    assert 0 <= a[0].numpy().min() and a[0].numpy().max() < 1
    assert a[2].numpy().max() < 5 and a[3].numpy().max() < 7
    assert gv.randn(2, dtype=gv.float64).dtype == gv.float64
    assert gv.rand(3, requires_grad=True).requires_grad


def test_like_functions_keep_shape_and_dtype():
    x = gv.tensor([[1, 2, 3]], dtype=gv.int32)
    for f in (gv.zeros_like, gv.ones_like):
        y = f(x)
        assert y.shape == x.shape and y.dtype == gv.int32
    assert gv.randn_like(gv.zeros(2, 2)).dtype == gv.float32
    assert gv.full_like(x, 7).tolist() == [[7, 7, 7]]
    assert gv.ones_like(x, dtype=gv.float64).dtype == gv.float64


def test_dtype_aliases_and_default():
    assert gv.float is gv.float32 and gv.double is gv.float64 and gv.long is gv.int64
    assert gv.get_default_dtype() is gv.float32
    assert gv.tensor([1.0]).to(gv.double).dtype == gv.float64
    x = gv.tensor([1.7, -2.2])
    assert x.long().tolist() == torch.tensor([1.7, -2.2]).long().tolist()
    assert x.int().dtype == gv.int32 and x.bool().tolist() == [True, True]
    assert x.double().float().dtype == gv.float32 and x.half().dtype == gv.float16


# ---- promotion ----------------------------------------------------------------------------
_DT = ["bool", "int32", "int64", "float16", "float32", "float64"]


def _operands():
    out = []
    for name in _DT:
        val = [1, 0] if name == "bool" else [1, 2]
        out.append((f"{name}[2]", gv.tensor(val, dtype=getattr(gv, name)),
                    torch.tensor(val, dtype=getattr(torch, name))))
        out.append((f"{name}()", gv.tensor(val[0], dtype=getattr(gv, name)),
                    torch.tensor(val[0], dtype=getattr(torch, name))))
    for s in (True, 3, 2.5):
        out.append((repr(s), s, s))
    return out


_OPS = _operands()


@pytest.mark.parametrize("i", range(len(_OPS)), ids=[o[0] for o in _OPS])
def test_promotion_matches_torch_result_type(i):
    la, ga, ta = _OPS[i]
    for lb, gb, tb in _OPS:
        if not (isinstance(ga, gv.Tensor) or isinstance(gb, gv.Tensor)):
            continue
        want = tname(torch.result_type(ta, tb))
        for op in ("add", "mul"):
            if op == "add" and want == "bool":
                continue
            got = (ga + gb) if op == "add" else (ga * gb)
            assert got.dtype.name == want, f"{la} {op} {lb}: {got.dtype} != torch {want}"


def test_division_of_integers_gives_default_float():
    assert (gv.tensor([1, 2]) / 2).dtype == gv.float32
    assert (gv.tensor([1, 2]) / gv.tensor([2, 4])).tolist() == [0.5, 0.5]
    assert (gv.tensor([7, -7]) // 2).tolist() == (torch.tensor([7, -7]) // 2).tolist()


# ---- memory sharing and conversion ---------------------------------------------------------
def test_from_numpy_shares_memory_both_ways():
    arr = np.arange(4.0)
    t = gv.from_numpy(arr)
    assert t.dtype == gv.float64
    arr[0] = 10
    assert t[0].item() == 10
    t.add_(1)
    assert arr.tolist() == [11, 2, 3, 4]
    assert t.numpy() is arr or np.shares_memory(t.numpy(), arr)
    with pytest.raises(GradvizError):
        gv.from_numpy([1, 2])


def test_numpy_item_tolist_detach_clone():
    x = gv.tensor([[1.5, 2.0]], requires_grad=True)
    with pytest.raises(GradvizError, match="detach"):
        x.numpy()
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.numpy(), x._data)
    assert x.tolist() == [[1.5, 2.0]] and x[0, 1].item() == 2.0
    assert isinstance(gv.tensor(3).item(), int) and isinstance(x.sum().item(), float)
    with pytest.raises(GradvizError):
        x.item()
    c = x.clone()
    assert c.grad_fn is not None and not np.shares_memory(c._data, x._data)
    c.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0]]
    assert float(gv.tensor(2.5)) == 2.5 and int(gv.tensor(3)) == 3


def test_attributes():
    x = gv.zeros(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 == x.dim() and x.numel() == 6 and len(x) == 2
    assert x.device == gv.device("cpu") and str(x.device) == "cpu" and x.layout is gv.strided
    assert x.is_leaf and x.grad is None and x.grad_fn is None and x.requires_grad
    assert x.T.shape == (3, 2)
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name == "MulBackward0"
    assert y.data.requires_grad is False and y.data.is_leaf
    assert repr(x.shape) == "gradviz.Size([2, 3])"


def test_contiguous_and_type_conversions():
    x = gv.arange(6).reshape(2, 3).T
    c = x.contiguous()
    assert c._data.flags.c_contiguous and c.tolist() == x.tolist()
    assert gv.ones(2).contiguous() is not None
    assert x.float().dtype == gv.float32 and x.to(gv.float64).dtype == gv.float64
    assert x.to("cpu") is x and x.cpu() is x


# ---- in place ------------------------------------------------------------------------------
def test_inplace_ops_on_plain_tensors():
    x = gv.zeros(3)
    x.add_(1).mul_(3)
    assert x.tolist() == [3, 3, 3]
    x.add_(gv.ones(3), alpha=2)
    assert x.tolist() == [5, 5, 5]
    x.fill_(2.5)
    assert x.tolist() == [2.5] * 3
    x.copy_(gv.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1, 2, 3]
    x.zero_()
    assert x.tolist() == [0, 0, 0]
    x += 1
    x *= 4
    assert x.tolist() == [4, 4, 4]


def test_inplace_on_leaf_that_requires_grad_raises_like_torch():
    for op in (lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(),
               lambda t: t.fill_(1), lambda t: t.copy_(gv.ones(2))):
        x = gv.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op(x)
    x = gv.ones(2, requires_grad=True)
    with pytest.raises(BackwardError):
        x += 1
    with gv.no_grad():  # what optimizers do
        x.add_(1)
        x -= 0.5
    assert x.tolist() == [1.5, 1.5] and x.requires_grad and x.is_leaf


def test_setitem():
    x = gv.zeros(2, 3)
    x[0] = 1.0
    x[:, 1] = gv.tensor([5.0, 6.0])
    x[x > 5] = -1.0
    t = torch.zeros(2, 3)
    t[0] = 1.0
    t[:, 1] = torch.tensor([5.0, 6.0])
    t[t > 5] = -1.0
    assert x.tolist() == t.tolist()
    w = gv.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        w[0] = 1.0


# ---- printing ------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [[1.5, 2.0], [1.0, 2.0, 3.0], 3.14159, [1e-5, 1.0],
                                  [1e10, 1.0], [float("nan"), 1.5, float("-inf")],
                                  [[1.0, -2.5], [3.25, 4.0]], [1, 2, 30], [True, False], 7,
                                  [-0.5, 100.0]])
def test_repr_matches_torch(data):
    assert repr(gv.tensor(data)) == repr(torch.tensor(data))


def test_repr_extras():
    assert repr(gv.tensor([1.5], dtype=gv.float64)) == "tensor([1.5000], dtype=gradviz.float64)"
    assert repr(gv.tensor([1.5], requires_grad=True)) == "tensor([1.5000], requires_grad=True)"
    y = gv.tensor([1.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert "..." in repr(gv.zeros(5000))


# ---- devices ---------------------------------------------------------------------------------
@pytest.mark.skipif(gv.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("make", [lambda: gv.zeros(2, device="cuda"),
                                  lambda: gv.tensor([1.0], device="cuda:0"),
                                  lambda: gv.ones(2).cuda(), lambda: gv.ones(2).to("cuda"),
                                  lambda: gv.randn(2, device=gv.device("cuda"))])
def test_cuda_without_gpu_raises_a_clear_error(make):
    with pytest.raises(DeviceError, match="CuPy") as info:
        make()
    assert "GPU" in str(info.value)
    assert not gv.cuda.is_available() and gv.cuda.device_count() == 0


def test_device_objects():
    assert gv.device("cuda:1").index == 1 and gv.device("cpu") == "cpu"
    with pytest.raises(DeviceError):
        gv.device("tpu")

