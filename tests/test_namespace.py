"""torch's top-level namespace pieces: finfo/iinfo, promotion, legacy constructors, dtype
inference, normal/logspace/tri indices, gv.trace(x), backends, print options, amp."""
import warnings

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError, ShapeError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _tname(d):
    return str(d).split(".")[-1]


@pytest.fixture
def default_dtype():
    """Restore both libraries' default dtypes and print options after a test."""
    yield
    gv.set_default_dtype(gv.float32)
    torch.set_default_dtype(torch.float32)
    gv.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


# ---- 1. finfo, iinfo, constants -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_torch(name):
    g, t = gv.finfo(getattr(gv, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(g, attr) == getattr(t, attr), attr
    assert repr(g) == repr(t)


def test_finfo_default_and_errors(default_dtype):
    assert gv.finfo().dtype == "float32"
    gv.set_default_dtype(gv.float64)
    assert gv.finfo().eps == torch.finfo(torch.float64).eps
    with pytest.raises(TypeError):
        gv.finfo(gv.int32)
    with pytest.raises(TypeError):
        gv.iinfo(gv.float32)
    with pytest.raises(TypeError):
        gv.iinfo(gv.bool)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    g, t = gv.iinfo(getattr(gv, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(g, attr) == getattr(t, attr), attr
    assert repr(g) == repr(t)


def test_constants():
    assert gv.inf == torch.inf and gv.pi == torch.pi and gv.e == torch.e
    assert np.isnan(gv.nan) and gv.newaxis is None is torch.newaxis
    assert gv.zeros(2, 3)[:, gv.newaxis].shape == (2, 1, 3)


# ---- 2. promotion -------------------------------------------------------------------------------
def test_promote_types_and_can_cast_all_pairs():
    for a in DTYPES:
        for b in DTYPES:
            ga, gb, ta, tb = getattr(gv, a if a != "bool" else "bool"), getattr(gv, b), \
                getattr(torch, a), getattr(torch, b)
            assert gv.promote_types(ga, gb).name == _tname(torch.promote_types(ta, tb)), (a, b)
            assert gv.can_cast(ga, gb) == torch.can_cast(ta, tb), (a, b)
    with pytest.raises(TypeError):
        gv.promote_types(gv.float32, "a")
    with pytest.raises(TypeError):
        gv.can_cast(1, gv.float32)


def test_result_type_matches_torch(default_dtype):
    def both(dt, shape):
        return gv.zeros(shape, dtype=getattr(gv, dt)), torch.zeros(shape, dtype=getattr(torch, dt))
    for defd in ("float32", "float64"):
        gv.set_default_dtype(getattr(gv, defd))
        torch.set_default_dtype(getattr(torch, defd))
        for a in DTYPES:
            for b in DTYPES:
                for sa, sb in (((2,), ()), ((), (2,)), ((2,), (2,)), ((), ())):
                    (ga, ta), (gb, tb) = both(a, sa), both(b, sb)
                    assert gv.result_type(ga, gb).name == _tname(torch.result_type(ta, tb))
            for num in (True, 3, 2.5, np.float64(2.5), np.int32(2)):
                ga, ta = both(a, (2,))
                assert gv.result_type(ga, num).name == _tname(torch.result_type(ta, num)), \
                    (a, num)
                assert gv.result_type(num, ga).name == _tname(torch.result_type(num, ta))
        for x, y in ((2, 2.5), (2, True), (2, 3)):
            assert gv.result_type(x, y).name == _tname(torch.result_type(x, y))


def test_binary_ops_promote_uint8_with_int8():
    """Tensors of the same category promote with promote_types (uint8 + int8 is int16)."""
    out = gv.tensor([1], dtype=gv.uint8) + gv.tensor([1], dtype=gv.int8)
    ref = torch.tensor([1], dtype=torch.uint8) + torch.tensor([1], dtype=torch.int8)
    assert out.dtype.name == _tname(ref.dtype)


# ---- 3. legacy constructors and gv.Tensor -------------------------------------------------------
@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "BoolTensor", "ByteTensor", "HalfTensor", "ShortTensor",
                                  "CharTensor"])
def test_legacy_constructors(name):
    g, t = getattr(gv, name), getattr(torch, name)
    for args in ((2, 3), ([1, 2],), ([1.5, 0.0],), ((2,),), (gv.Size([2, 3]),), ()):
        targs = tuple(torch.Size(a) if isinstance(a, gv.Size) else a for a in args)
        out, ref = g(*args), t(*targs)
        assert out.shape == tuple(ref.shape) and out.dtype.name == _tname(ref.dtype), args
        if args and not isinstance(args[0], (int, gv.Size)):
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert isinstance(gv.zeros(2, dtype=g.dtype), g)
    assert isinstance(torch.zeros(2, dtype=t.dtype), t)
    other = gv.int8 if g.dtype is not gv.int8 else gv.int16
    assert not isinstance(gv.zeros(2, dtype=other), g)
    with pytest.raises(TypeError):
        g(2.5)


def test_tensor_constructor_sizes_and_data():
    for args, kw in (((2, 3), {}), ((5,), {}), ((), {"size": (2, 3)}), ((0,), {}), ((), {}),
                     (([1, 2],), {}), (((2, 3),), {}), ((np.array([1, 2]),), {}),
                     ((np.int64(3),), {}), ((gv.Size([2, 3]),), {})):
        targs = tuple(torch.Size(a) if isinstance(a, gv.Size) else a for a in args)
        out, ref = gv.Tensor(*args, **kw), torch.Tensor(*targs, **kw)
        assert out.shape == tuple(ref.shape) and out.dtype is gv.float32, (args, kw)
        if args and not isinstance(args[0], (int, np.integer, gv.Size)):
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert np.all(gv.Tensor(2, 3).numpy() == 0)
    kept = gv.Tensor([1, 2], dtype=gv.float64, requires_grad=True)
    assert kept.dtype is gv.float64 and kept.requires_grad
    assert gv.Tensor(data=[1.0]).tolist() == [1.0]
    with pytest.raises(TypeError):
        gv.Tensor(2.5)
    with pytest.raises(TypeError):
        torch.Tensor(2.5)
    with pytest.raises(RuntimeError):
        gv.Tensor(-1)
    with pytest.raises(TypeError):
        gv.Tensor(2, size=(2,))


# ---- 4. gv.tensor dtype inference ---------------------------------------------------------------
INFER_CASES = [
    [np.float64(0.1), 0.2], [np.float32(1)], np.float32(1), np.float64(1), np.float16(1),
    [np.float16(1), 2.0], [np.float16(1), np.float64(2.0)], [np.float32(1), np.float64(2.0)],
    [np.int32(1), 2], [np.int32(1)], np.int32(1), np.int8(1), np.uint8(1),
    [np.int16(1), np.int8(2)], [np.uint8(1), np.int8(2)], [np.int32(1), 2.0],
    [np.int32(1), np.float16(2.0)], [np.bool_(True), False], np.bool_(True), [True, 1],
    np.array(1.0), np.array(1.0, np.float32), [np.array([1.0], np.float32)],
    [[np.float32(1)], [2.0]], [1, 2.0], [np.float64(1), 3], 3, 3.0, True, [], [[]],
    [gv.tensor(1.0, dtype=gv.float64)],
]


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_tensor_dtype_inference_matches_torch(default, default_dtype):
    gv.set_default_dtype(getattr(gv, default))
    torch.set_default_dtype(getattr(torch, default))
    for case in INFER_CASES:
        tcase = [torch.tensor(1.0, dtype=torch.float64)] if isinstance(case, list) and case \
            and isinstance(case[0], gv.Tensor) else case
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # torch: lists of ndarrays are slow
            ref = torch.tensor(tcase)
        out = gv.tensor(case)
        assert out.dtype.name == _tname(ref.dtype), case
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert gv.tensor([np.float64(0.1), 0.2]).numpy()[0] == 0.1   # no float32 rounding
    assert gv.tensor(range(3)).dtype is gv.int64


# ---- 5. normal, logspace, tril/triu_indices -----------------------------------------------------
def test_normal_forms_shapes_dtypes():
    cases = [((gv.zeros(3), gv.ones(2, 3)), (torch.zeros(3), torch.ones(2, 3))),
             ((gv.zeros(3), 2.0), (torch.zeros(3), 2.0)),
             ((2.0, gv.ones(3, dtype=gv.float64)), (2.0, torch.ones(3, dtype=torch.float64))),
             ((gv.zeros(3), gv.ones(3, dtype=gv.float64)),
              (torch.zeros(3), torch.ones(3, dtype=torch.float64))),
             ((gv.tensor(1.0), gv.tensor(2.0)), (torch.tensor(1.0), torch.tensor(2.0)))]
    for gargs, targs in cases:
        out, ref = gv.normal(*gargs), torch.normal(*targs)
        assert out.shape == tuple(ref.shape) and out.dtype.name == _tname(ref.dtype)
    out, ref = gv.normal(0.0, 1.0, size=(2,)), torch.normal(0.0, 1.0, size=(2,))
    assert out.shape == (2,) and out.dtype.name == _tname(ref.dtype)
    out = gv.normal(0.0, 1.0, (2,), dtype=gv.float64, requires_grad=True)
    assert out.dtype is gv.float64 and out.requires_grad
    out = gv.normal(gv.zeros(3), gv.ones(3), generator=np.random.default_rng(0))
    assert out.shape == (3,)


def test_normal_statistics_and_seed():
    gv.manual_seed(0)
    a = gv.normal(gv.full((20000,), 3.0), gv.full((20000,), 2.0))
    assert abs(a.mean().item() - 3.0) < 0.05 and abs(a.std().item() - 2.0) < 0.05
    b = gv.normal(-1.0, 0.5, size=(20000,))
    assert abs(b.mean().item() + 1.0) < 0.02 and abs(b.std().item() - 0.5) < 0.02
    gv.manual_seed(1)
    x = gv.normal(0.0, 1.0, (4,))
    gv.manual_seed(1)
    assert x.tolist() == gv.normal(0.0, 1.0, (4,)).tolist()


def test_normal_gradient_is_zero_as_torch():
    m, s = gv.zeros(3, requires_grad=True), gv.ones(2, 3, requires_grad=True)
    tm, ts = torch.zeros(3, requires_grad=True), torch.ones(2, 3, requires_grad=True)
    gv.normal(m, s).sum().backward()
    torch.normal(tm, ts).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), tm.grad.numpy())
    np.testing.assert_array_equal(s.grad.numpy(), ts.grad.numpy())


def test_normal_errors():
    for g, t in ((lambda: gv.normal(gv.zeros(3), -gv.ones(3)),
                  lambda: torch.normal(torch.zeros(3), -torch.ones(3))),
                 (lambda: gv.normal(0.0, -1.0, (2,)), lambda: torch.normal(0.0, -1.0, (2,))),
                 (lambda: gv.normal(gv.zeros(3, dtype=gv.int64), 1.0),
                  lambda: torch.normal(torch.zeros(3, dtype=torch.long), 1.0))):
        with pytest.raises(RuntimeError):
            t()
        with pytest.raises(RuntimeError):
            g()
    with pytest.raises(TypeError):
        gv.normal(0.0, 1.0)
    with pytest.raises(TypeError):
        gv.normal(gv.zeros(3), gv.ones(3), size=(3,))
    with pytest.raises(ShapeError):
        gv.normal(gv.zeros(4), gv.ones(3))


def test_logspace_matches_torch(default_dtype):
    for args, kw in (((0, 2, 5), {}), ((-1.0, 1.0, 4), {"base": 2.0}), ((0, 3, 4), {}),
                     ((1, 0, 3), {"dtype": "float64"})):
        tkw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()}
        out, ref = gv.logspace(*args, **kw), torch.logspace(*args, **tkw)
        assert out.dtype.name == _tname(ref.dtype)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


def test_tril_triu_indices_match_torch():
    for row, col, off in ((3, 3, 0), (4, 3, 1), (3, 5, -1), (0, 2, 0), (3, 3, 5), (3, 3, -5)):
        for name in ("tril_indices", "triu_indices"):
            out, ref = getattr(gv, name)(row, col, off), getattr(torch, name)(row, col, off)
            assert out.dtype is gv.int64 and out.shape == tuple(ref.shape), (name, row, col)
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert gv.tril_indices(3, 3, dtype=gv.int32).dtype is gv.int32


# ---- 6. gv.trace: the events package and torch.trace --------------------------------------------
def test_trace_module_is_callable_and_still_records():
    m = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    x, tx = gv.tensor(m, requires_grad=True), torch.tensor(m, requires_grad=True)
    out, ref = gv.trace(x), torch.trace(tx)
    assert out.item() == ref.item()
    out.backward()
    ref.backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    with pytest.raises(TypeError):
        gv.trace([[1.0]])
    with gv.trace.record() as rec:
        (gv.ones(2, requires_grad=True) * 2).sum().backward()
    assert rec.events


# ---- 7. backends, matmul precision, compile, printing -------------------------------------------
def test_backends_store_settings():
    cudnn = gv.backends.cudnn
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled, cudnn.allow_tf32) == (
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,
        torch.backends.cudnn.enabled, torch.backends.cudnn.allow_tf32)
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        gv.backends.cuda.matmul.allow_tf32 = True
        assert cudnn.benchmark and cudnn.deterministic and gv.backends.cuda.matmul.allow_tf32
    finally:
        cudnn.benchmark, cudnn.deterministic = False, False
        gv.backends.cuda.matmul.allow_tf32 = False
    assert gv.backends.mps.is_available() is False


def test_float32_matmul_precision():
    try:
        assert gv.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
        for p in ("high", "medium", "highest"):
            gv.set_float32_matmul_precision(p)
            torch.set_float32_matmul_precision(p)
            assert gv.get_float32_matmul_precision() == p
            assert gv.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
        with pytest.warns(UserWarning):
            gv.set_float32_matmul_precision("fast")
        assert gv.get_float32_matmul_precision() == "highest"
    finally:
        gv.set_float32_matmul_precision("highest")
        torch.set_float32_matmul_precision("highest")


def test_compile_returns_its_argument():
    model = gv.nn.Linear(2, 2)
    assert gv.compile(model) is model
    assert gv.compile(model, mode="max-autotune") is model

    @gv.compile
    def f(x):
        return x * 2

    @gv.compile(fullgraph=True)
    def g(x):
        return x + 1
    assert f(gv.tensor(2.0)).item() == 4.0 and g(gv.tensor(2.0)).item() == 3.0
    with pytest.raises(TypeError):
        gv.compile(3)


PRINT_VALUES = [[1.0, 10000.0], [1.0, 1e9], [1.5, 1e4], [0.0, 1.5], [np.inf, 1.5, np.nan],
                [1e-5, 1.0], 3.14159, [[1.123456, 2.0], [3.0, 4.0]], [1.0, -2.0], [-1e-3, 5.0],
                [1, 2, 300]]


@pytest.mark.parametrize("opts", [{}, {"precision": 2}, {"precision": 6}, {"sci_mode": True},
                                  {"sci_mode": False}, {"profile": "short"}])
def test_printoptions_format_values_as_torch(opts, default_dtype):
    gv.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    for v in PRINT_VALUES:
        assert repr(gv.tensor(v)) == repr(torch.tensor(v)), (opts, v)


def _numbers(text):
    return [tok for tok in text.replace("[", " ").replace("]", " ").replace(",", " ")
            .replace("(", " ").replace(")", " ").split() if tok[0].isdigit() or tok[0] == "-"]


def test_printoptions_threshold_edgeitems_linewidth(default_dtype):
    values = list(np.arange(50.0) / 7)
    for opts in ({"threshold": 5}, {"threshold": 5, "edgeitems": 1}, {"profile": "full"},
                 {"threshold": 10, "edgeitems": 2}):
        gv.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        for v in (values, [[float(i + j) / 3 for i in range(20)] for j in range(9)]):
            g, t = repr(gv.tensor(v)), repr(torch.tensor(v))
            assert _numbers(g) == _numbers(t), opts
            assert ("..." in g) == ("..." in t)
    gv.set_printoptions(profile="default", linewidth=40)
    assert max(len(line) for line in repr(gv.tensor(values)).splitlines()) <= 40
    gv.set_printoptions(profile="default")
    assert "..." not in repr(gv.tensor(values))
    with pytest.raises(GradvizError):
        gv.set_printoptions(profile="long")


# ---- 8. amp -------------------------------------------------------------------------------------
def _scaler_run(lib, steps):
    """Train one weight with a GradScaler; returns the per-step record."""
    w = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = (gv.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
              if lib is gv else torch.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2))
    record = []
    for i, x in enumerate(steps):
        opt.zero_grad()
        loss = (w * lib.tensor(x)).sum()
        scaler.scale(loss).backward()
        if i % 2:
            scaler.unscale_(opt)   # explicit unscale (gradient clipping's place), then step
            record.append(w.grad.tolist())
        ret = scaler.step(opt)
        scaler.update()
        record.append((scaler.get_scale(), scaler.state_dict(), w.tolist(), ret))
    return record


def test_grad_scaler_matches_torch_step_by_step():
    steps = [[1.0, 2.0, 3.0], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [float("inf"), 1.0, 1.0],
             [1.0, float("nan"), 1.0], [2.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1.0, 2.0, 1.0]]
    got, want = _scaler_run(gv, steps), _scaler_run(torch, steps)
    for g, t in zip(got, want):
        if isinstance(g, list):
            np.testing.assert_array_equal(np.array(g), np.array(t))
        else:
            assert g[0] == t[0] and g[1] == t[1] and g[3] == t[3]
            np.testing.assert_array_equal(np.array(g[2]), np.array(t[2]))


def test_grad_scaler_errors_state_and_disabled():
    w = gv.tensor([1.0], requires_grad=True)
    opt = gv.optim.SGD([w], lr=0.1)
    scaler = gv.amp.GradScaler("cpu")
    assert scaler.get_scale() == 65536.0 and scaler.is_enabled()
    with pytest.raises(RuntimeError):
        scaler.step(opt)   # no scale() yet
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError):
        scaler.step(opt)
    scaler.update()
    other = gv.amp.GradScaler("cpu", init_scale=2.0)
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict()
    one = gv.ones(1)
    assert scaler.scale([one, (one,)])[1][0].item() == 65536.0
    with pytest.raises(RuntimeError):
        gv.amp.GradScaler("cpu", growth_factor=1.0)
    off = gv.amp.GradScaler("cpu", enabled=False)
    loss = w.sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    w.grad = None
    loss.backward()
    off.step(opt)
    off.update()
    assert w.item() != 1.0
    if not gv.cuda.is_available():
        with pytest.warns(UserWarning):
            assert not gv.amp.GradScaler("cuda").is_enabled()


def test_autocast_state_and_values():
    x = gv.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert not gv.is_autocast_enabled("cpu")
    with gv.autocast("cpu") as ac:
        assert gv.is_autocast_enabled("cpu") and ac.device == "cpu"
        assert (x @ x).dtype is gv.float32
        with gv.autocast("cpu", enabled=False):
            assert not gv.is_autocast_enabled("cpu")
        assert gv.is_autocast_enabled("cpu")
    assert not gv.is_autocast_enabled("cpu") and not gv.is_autocast_enabled()

    @gv.autocast("cpu", dtype=gv.float16)
    def f():
        return gv.is_autocast_enabled("cpu")
    assert f() and not gv.is_autocast_enabled("cpu")
    with pytest.raises(ValueError):
        gv.autocast(3)
    with pytest.raises(RuntimeError):
        gv.autocast("foo")
    with pytest.warns(UserWarning):
        assert not gv.autocast("cpu", dtype=gv.float32)._enabled
    assert gv.amp.autocast is gv.autocast


# ---- 9. data_ptr --------------------------------------------------------------------------------
def test_data_ptr():
    x = gv.arange(6.0).reshape(2, 3)
    tx = torch.arange(6.0).reshape(2, 3)
    assert x.data_ptr() == x.numpy().ctypes.data
    assert x[1].data_ptr() - x.data_ptr() == tx[1].data_ptr() - tx.data_ptr()
    assert x[:, 1:].data_ptr() - x.data_ptr() == tx[:, 1:].data_ptr() - tx.data_ptr()
    assert x.view(6).data_ptr() == x.data_ptr()
    assert x.clone().data_ptr() != x.data_ptr()
