"""The engine on ``device="cuda"``: every op-table row and the layers, against the CPU results.

Two devices run these tests:
- ``cuda``: real CuPy on an NVIDIA GPU; skipped (with the reason) where there is none, as in CI.
- ``fake``: tests/fake_cupy.py, a FAKE CuPy made of marked NumPy arrays. It is no GPU: it only
  proves the device-generic paths never drop to plain NumPy, mix host arrays into device ops
  or call ``numpy.`` functions on device data.
Device errors (no CuPy, no GPU, mixed devices) are checked here too, GPU or not.
"""
import base64
import importlib
import os
from pathlib import Path

import fake_cupy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_table import T, X, Z, draw, input_dtype

import gradviz as gv
from gradviz.engine import backend
from gradviz.engine.ops import fused
from gradviz.errors import DeviceError

MODULES = sorted(p.stem for p in Path(__file__).parent.glob("op_table*.py"))
ROWS = [row for m in MODULES for row in importlib.import_module(m).ROWS]
EXAMPLES = int(os.environ.get("GV_CUDA_EXAMPLES", "3"))
TOL = {"float32": (1e-5, 1e-3), "float64": (1e-9, 1e-7)}   # device vs CPU (GPU libm differs)
RANDOM_ROWS = {"dropout"}                                   # device RNG ≠ host RNG: placement only
CPU_OUT_ROWS = {"to_device_cpu"}                            # rows whose result is meant for the CPU
HOST_ROWS = {"batch_norm_eval": "the row builds its running stats on the CPU (torch refuses too)"}
NO_GPU = "no NVIDIA GPU with CuPy here (" + ("" if gv.cuda.is_available() else
                                             backend._cupy_error or "") + ")"
DEVICES = [pytest.param("fake", id="fake-cupy"),
           pytest.param("cuda", id="cuda", marks=pytest.mark.skipif(
               not gv.cuda.is_available(), reason=NO_GPU))]


@pytest.fixture(params=DEVICES)
def dev(request, monkeypatch):
    """'cuda', backed by the real GPU or by the fake CuPy."""
    if request.param == "fake":
        fake_cupy.install(monkeypatch)
    return "cuda"


def on_device(t):
    """A tensor whose data is a device array (never a plain ndarray)."""
    return t.device.type == "cuda" and type(t._data) is not np.ndarray


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _run(row, case, raw, dt, device):
    """Forward and backward on ``device``; host copies of outputs and input grads."""
    args, xs = [], []
    for spec, val in raw:
        if isinstance(spec, (X, Z)):
            t = gv.tensor(val.astype(input_dtype(spec, dt)), device=device,
                          requires_grad=row.grad)
            xs.append(t)
        elif isinstance(spec, T):
            t = gv.tensor(np.array(val), device=device)
        else:
            t = val
        args.append(t)
    outs = _outputs(row.gv(*args, **case.kw))
    live = [o for o in outs if o.requires_grad]
    if live:
        rng = np.random.default_rng(1)
        seeds = [gv.tensor(_seed(rng, o).astype(o._data.dtype), device=device) for o in live]
        gv.autograd.backward(live, seeds)
    placed = [(o, "cpu" if row.name in CPU_OUT_ROWS else device) for o in outs]
    for t, where in placed + [(x.grad, device) for x in xs if x.grad is not None]:
        assert t.device.type == where, f"{row.name}: result on {t.device}"
        if where != "cpu":
            assert on_device(t), f"{row.name}: result data is {type(t._data).__name__}"
    host = [o.detach().cpu().numpy() for o in outs]
    grads = [None if x.grad is None else x.grad.cpu().numpy() for x in xs]
    return host, grads


def _seed(rng, out):
    s = rng.standard_normal(out.shape)
    return np.asarray(s + 1j * rng.standard_normal(out.shape)) if out.is_complex() else s


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_op_on_cuda_matches_cpu(row, dev):
    if row.name in HOST_ROWS:
        pytest.skip(HOST_ROWS[row.name])
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=row.cases, seed=st.integers(0, 2 ** 31))
    def check(case, seed):
        rng = np.random.default_rng(seed)
        raw = [(a, draw(rng, a)) for a in case.args]
        for dt in row.dtypes:
            got, dgot = _run(row, case, raw, dt, dev)
            if row.name in RANDOM_ROWS:
                continue
            want, dwant = _run(row, case, raw, dt, "cpu")
            for i, (g, w) in enumerate(zip(got + dgot, want + dwant)):
                assert (g is None) == (w is None), f"{row.name}: grad {i} presence differs"
                if g is not None:
                    assert g.dtype == w.dtype and g.shape == w.shape, f"{row.name}: result {i}"
                    np.testing.assert_allclose(g, w, *TOL.get(dt, (0, 0))[::-1], equal_nan=True,
                                               err_msg=f"{row.name} result {i} ({dt})")

    check()


# ---- errors that need no GPU --------------------------------------------------------------------
def test_cuda_request_without_gpu_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", "ModuleNotFoundError: No module named 'cupy'")
    assert not gv.cuda.is_available() and gv.cuda.device_count() == 0
    gv.cuda.synchronize()  # a no-op, as torch without a GPU would not be asked
    for make in (lambda: gv.zeros(2, device="cuda"), lambda: gv.tensor([1.0]).cuda(),
                 lambda: gv.tensor([1.0]).to("cuda:0"), lambda: gv.nn.Linear(2, 2).cuda(),
                 lambda: gv.randn(3, device=gv.device("cuda"))):
        with pytest.raises(DeviceError, match=r"CuPy and an NVIDIA GPU.*gradviz\[gpu\].*"
                                              r"No module named 'cupy'"):
            make()
    assert gv.ones(2, device="cpu").sum().item() == 2.0  # everything else works


def test_unknown_device_is_a_clear_error():
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        gv.zeros(1, device="tpu")


def test_mixing_devices_in_one_op_raises_torchs_error(monkeypatch):
    fake_cupy.install(monkeypatch)
    a, b = gv.ones(3), gv.ones(3, device="cuda")
    for op in (lambda: a + b, lambda: b * a, lambda: gv.cat([b, a]), lambda: a @ b):
        with pytest.raises(DeviceError, match="Expected all tensors to be on the same device, "
                                              "but found at least two devices, cpu and cuda:0"):
            op()


def test_cuda_namespace_with_a_device(dev):
    assert gv.cuda.is_available() and gv.cuda.device_count() >= 1
    gv.cuda.synchronize()


def test_the_fake_refuses_what_cupy_refuses(monkeypatch):
    cp = fake_cupy.install(monkeypatch)
    a = cp.asarray(np.ones(3, dtype=np.float32))
    z = cp.asarray(np.ones(3, dtype=np.complex64))
    assert type(a + 1) is cp.ndarray and type(cp.exp(a)) is cp.ndarray and a.sum().ndim == 0
    cp.add.at(a, cp.asarray([0, 0]), 1.0)
    np.maximum.at(a, cp.asarray([1]), 5.0)   # CuPy 13+ has add/maximum/minimum.at
    assert a.get().tolist() == [3.0, 5.0, 1.0]
    for bad in (lambda: a + np.ones(3), lambda: np.concatenate([a, a]),
                lambda: np.multiply.at(a, [0], 2.0), lambda: cp.add.at(z, cp.asarray([0]), 1j),
                lambda: cp.stack([a, np.ones(3)]),
                lambda: cp.indices((2, 2), sparse=True), lambda: cp.exp(a, where=a > 0),
                lambda: cp.clip(a, min=0)):   # keywords CuPy 13's signatures lack
        with pytest.raises(TypeError, match="fake cupy"):
            bad()
    import cupyx.scipy.special   # noqa: PLC0415 - the fake's, installed above
    with pytest.raises(AttributeError, match="fake cupy: polygamma"):
        cupyx.scipy.special.polygamma(1, a)
    for missing in (lambda: cp.astype, lambda: cp.put_along_axis, lambda: a.resize,
                    lambda: a.setflags):       # NumPy 2 has these, CuPy 13 does not
        with pytest.raises(AttributeError, match="fake cupy: not in every CuPy"):
            missing()
    assert callable(cp.take_along_axis) and callable(a.get) and a.device.id == 0


# ---- layers, training steps, data ----------------------------------------------------------
nn = gv.nn
LAYERS = [
    (lambda: nn.Linear(5, 3), (4, 5)),
    (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    (lambda: nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2), (2, 4, 6, 5)),
    (lambda: nn.Conv3d(2, 3, 2), (1, 2, 4, 5, 3)),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), (2, 4, 4, 5)),
    (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    (lambda: nn.AvgPool2d(2), (2, 3, 6, 6)), (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 6)),
    (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)), (lambda: nn.LayerNorm(4), (2, 3, 4)),
    (lambda: nn.GELU(), (3, 4)), (lambda: nn.SiLU(), (3, 4)), (lambda: nn.Softplus(), (3, 4)),
    (lambda: nn.LSTM(4, 5, num_layers=2, batch_first=True), (2, 3, 4)),
    (lambda: nn.GRU(4, 5, bidirectional=True), (3, 2, 4)),
    (lambda: nn.RNN(4, 5), (3, 2, 4)),
    (lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), (3, 2, 8)),
    (lambda: _SelfDecoder(), (3, 2, 8)),
    (lambda: nn.LSTMCell(4, 5), (2, 4)), (lambda: nn.GRUCell(4, 5), (2, 4)),
    (lambda: nn.GroupNorm(2, 4), (2, 4, 3)), (lambda: nn.PReLU(3), (2, 3, 4)),
    (lambda: nn.ReflectionPad2d(1), (1, 2, 3, 3)), (lambda: nn.Mish(), (3, 4)),
    (lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), (1, 2, 3, 4)),
    (lambda: nn.Upsample(size=(5, 3)), (1, 2, 3, 4)),
]


class _SelfDecoder(nn.Module):
    """A decoder layer attending to its own input as memory (one input, as LAYERS need)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0)

    def forward(self, x):
        return self.layer(x, x * 0.5)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("make, shape", LAYERS, ids=lambda v: type(v()).__name__
                         if callable(v) else str(v))
def test_layer_on_cuda_matches_cpu(make, shape, dev):
    gv.manual_seed(0)
    cpu, gpu = make(), make()
    gpu.load_state_dict(cpu.state_dict())
    assert gpu.to(dev) is gpu
    params = list(gpu.parameters()) + list(gpu.buffers())
    assert all(on_device(p) for p in params)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xc, xg = gv.tensor(x, requires_grad=True), gv.tensor(x, device=dev, requires_grad=True)
    oc, og = _first(cpu(xc)), _first(gpu(xg))
    assert on_device(og)
    seed = np.random.default_rng(1).standard_normal(tuple(oc.shape)).astype(np.float32)
    oc.backward(gv.tensor(seed))
    og.backward(gv.tensor(seed, device=dev))
    np.testing.assert_allclose(og.detach().cpu().numpy(), oc.detach().numpy(), 1e-4, 1e-5)
    np.testing.assert_allclose(xg.grad.cpu().numpy(), xc.grad.numpy(), 1e-3, 1e-5)
    for (name, pc), pg in zip(cpu.named_parameters(), gpu.parameters()):
        assert on_device(pg.grad), name
        np.testing.assert_allclose(pg.grad.cpu().numpy(), pc.grad.numpy(), 1e-3, 1e-5,
                                   err_msg=name)
    for (name, bc), bg in zip(cpu.named_buffers(), gpu.buffers()):
        np.testing.assert_allclose(bg.cpu().numpy(), bc.numpy(), 1e-4, 1e-6, err_msg=name)


# On CuPy these run as one fused update kernel a parameter (gradviz/engine/ops/fused.py), and
# on the fake through its host ElementwiseKernel: both against the NumPy updates.
OPTIMIZERS = [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
              ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
              ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
              ("Adam", {"lr": 0.01}), ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
              ("Adam", {"lr": 0.01, "betas": (0.3, 0.9), "maximize": True}),
              ("Adam", {"lr": 0.01, "amsgrad": True}), ("AdamW", {"lr": 0.01}),
              ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
              ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True})]


@pytest.mark.parametrize("opt, kw", OPTIMIZERS, ids=lambda v: v if isinstance(v, str) else
                         "-".join(f"{k}={v}" for k, v in v.items()))
def test_training_steps_on_cuda_match_cpu(opt, kw, dev):
    gv.manual_seed(0)
    models = [nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(4 * 4 * 4, 3)) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    models[1].to(dev)
    rng = np.random.default_rng(0)
    data = gv.data.TensorDataset(gv.tensor(rng.standard_normal((16, 1, 8, 8)).astype(np.float32)),
                                 gv.tensor(rng.integers(0, 3, 16)))
    for model, device in zip(models, ("cpu", dev)):
        optim = getattr(gv.optim, opt)(model.parameters(), **kw)
        for xb, yb in gv.data.DataLoader(data, batch_size=8):
            xb, yb = xb.to(device), yb.to(device)
            loss = nn.functional.cross_entropy(model(xb), yb)
            optim.zero_grad()
            loss.backward()
            optim.step()
        assert loss.device.type == device.split(":")[0]
    for (name, pc), pg in zip(models[0].named_parameters(), models[1].parameters()):
        assert on_device(pg), name
        np.testing.assert_allclose(pg.detach().cpu().numpy(), pc.detach().numpy(), 1e-4, 1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("opt, kw, kernel", [
    ("SGD", {"lr": 0.1}, "sgd"), ("SGD", {"lr": 0.1, "momentum": 0.9}, "sgd_momentum"),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, "sgd_nesterov"),
    ("Adam", {}, "adam"), ("AdamW", {"betas": (0.3, 0.9)}, "adam_lerp_high"),
    ("RMSprop", {}, "rmsprop")])
def test_optimizer_steps_are_one_fused_kernel_a_parameter(opt, kw, kernel, monkeypatch):
    calls = _count_kernels(monkeypatch)
    model = nn.Linear(3, 2).to("cuda")
    optim = getattr(gv.optim, opt)(model.parameters(), **kw)
    for _ in range(2):   # SGD's momentum buffer is a copy of the first gradient
        calls.clear()
        optim.zero_grad()
        model(gv.ones(4, 3, device="cuda")).sum().backward()
        optim.step()
    assert calls == ["gradviz_" + kernel] * 2     # weight and bias: one launch each


def _count_kernels(monkeypatch):
    """The fake CuPy installed; the names of the ElementwiseKernels run, in order."""
    cp = fake_cupy.install(monkeypatch)
    calls = []

    class Counting(cp.ElementwiseKernel):
        def __call__(self, *args):
            calls.append(self.name)
            return super().__call__(*args)
    monkeypatch.setattr(cp, "ElementwiseKernel", Counting)
    return calls


@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool_is_one_fused_kernel_a_window_offset(padding, monkeypatch):
    calls = _count_kernels(monkeypatch)
    x = gv.randn(2, 3, 6, 6, device="cuda", requires_grad=True)
    y = nn.functional.max_pool2d(x, 3, 2, padding)
    assert calls == ["gradviz_maxpool_take"] * (9 - (padding == 0))   # the 1st offset starts
    calls.clear()
    y.backward(gv.ones_like(y))
    assert calls == ["gradviz_maxpool_route"] * 9


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_ties_and_nan_on_cuda_match_cpu(dtype, dev):
    """The fused running max keeps the first of equal maxima and lets NaN win, as the CPU."""
    a = np.random.default_rng(1).integers(0, 3, (2, 2, 7, 7)).astype(dtype)   # many ties
    a[0, 0, 1, 1] = a[1, 1, 4, 4] = np.nan
    res = []
    for device in ("cpu", dev):
        x = gv.tensor(a, device=device, requires_grad=True)
        y, idx = nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)
        y.backward(gv.arange(y.numel(), dtype=y.dtype, device=device).reshape(y.shape))
        res.append([t.detach().cpu().numpy() for t in (y, idx, x.grad)])
    for c, g in zip(*res):
        np.testing.assert_array_equal(g, c)


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_a_training_step_waits_for_the_gpu_once(opt, monkeypatch):
    """No op, loss or update reads a device value back (each read waits for the GPU),
    except cross_entropy's one check that the targets are classes (torch asserts that on
    the device)."""
    fake_cupy.install(monkeypatch)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3), nn.GELU()).to("cuda")
    optim = getattr(gv.optim, opt)(model.parameters(), lr=0.01)
    x, y = gv.randn(8, 1, 8, 8, device="cuda"), gv.tensor([0, 1, 2, 0, 1, 2, 0, 1], device="cuda")
    for _ in range(2):
        fake_cupy.SYNCS.clear()
        optim.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optim.step()
    assert fake_cupy.SYNCS == {"__bool__": 1}


def test_fused_updates_are_for_float32_and_float64_arrays_of_one_dtype(monkeypatch):
    cp = fake_cupy.install(monkeypatch)
    a32, a64 = cp.zeros(3, dtype="float32"), cp.zeros(3)
    assert fused.elementwise(cp, "sgd", a32, a32) is not None
    assert fused.elementwise(cp, "sgd", a64, a64) is not None
    assert fused.elementwise(cp, "sgd", a32, a64) is None      # a mix: the plain update
    assert fused.elementwise(cp, "sgd", *[cp.zeros(3, dtype="float16")] * 2) is None
    assert fused.elementwise(np, "sgd", np.zeros(3), np.zeros(3)) is None   # never on the CPU


def test_creation_and_moves_on_cuda(dev):
    for t in (gv.zeros(2, 3, device=dev), gv.ones(2, device="cuda:0"), gv.empty(2, device=dev),
              gv.full((2,), 3.0, device=dev), gv.rand(2, device=dev), gv.randn(2, device=dev),
              gv.randint(0, 5, (3,), device=dev), gv.randperm(4, device=dev),
              gv.arange(5, device=dev), gv.linspace(0, 1, 5, device=dev), gv.eye(3, device=dev),
              gv.tensor([1.0, 2.0], device=gv.device("cuda")),
              gv.zeros_like(gv.ones(2), device=dev), gv.ones(2).cuda(), gv.ones(2).to(dev)):
        assert on_device(t) and str(t.device) == "cuda:0" and t.is_cuda
    x = gv.arange(4.0, device=dev, requires_grad=True)
    back = x.cpu()
    assert back.device.type == "cpu" and type(back._data) is np.ndarray
    (back * 2).sum().backward()
    assert on_device(x.grad) and x.grad.cpu().tolist() == [2.0] * 4
    assert gv.zeros_like(x).device == x.device and "device='cuda:0'" in repr(x)
    with pytest.raises(gv.errors.GradvizError, match="numpy"):
        x.detach().numpy()


@pytest.mark.parametrize("shape, huge", [((), False), ((5,), False), ((3, 40), False),
                                         ((2, 3, 50, 70), False), ((20000,), False),
                                         ((3, 40), True), ((20000,), True)])
def test_event_summaries_of_device_tensors_match_cpu(shape, huge, dev):
    from gradviz.trace import summary
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    if huge:   # squares and sums past the largest double: scaled on the device too
        x = x.astype(np.float64) * 1e307
    if x.size > 4:
        x.reshape(-1)[:3] = [np.nan, np.inf, 0.0]
    d = gv.tensor(x, device=dev)._data
    got = summary.stats(d), summary.preview(d)
    want = summary.stats(x), summary.preview(x)
    assert got[0].keys() == want[0].keys() and got[1].keys() == want[1].keys()
    if huge:
        unit = x[np.isfinite(x)] / 1e307
        assert got[0]["std"] == pytest.approx(unit.std() * 1e307, rel=1e-9)
    for k, w in want[0].items():
        assert got[0][k] == pytest.approx(w, rel=1e-6, abs=1e-9) if isinstance(w, float) \
            else got[0][k] == w, k
    assert got[1].get("values") == want[1].get("values")
    assert got[1].get("hist", {}).get("counts") == want[1].get("hist", {}).get("counts")
    thumbs = [p.get("thumb8") for p in (got[1], want[1])]   # quantised on the host, as on the CPU
    assert (thumbs[0] is None) == (thumbs[1] is None) == (len(shape) < 2 or x.size <= 64)
    if thumbs[0] is not None:
        assert thumbs[0].keys() == thumbs[1].keys()
        assert thumbs[0]["lo"] == pytest.approx(thumbs[1]["lo"], rel=1e-9)
        assert thumbs[0]["hi"] == pytest.approx(thumbs[1]["hi"], rel=1e-9)
        q = [np.frombuffer(base64.b64decode(t["b64"]), np.uint8).astype(int) for t in thumbs]
        assert np.abs(q[0] - q[1]).max() <= 1   # a block mean on a rounding boundary
        assert thumbs[0].get("nonfinite") == thumbs[1].get("nonfinite")


def test_traced_run_on_device_records_device_events(dev):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to(dev)
    with gv.trace.record() as rec:
        model(gv.randn(3, 4, device=dev)).sum().backward()
    ops = [e for e in rec.events if e["type"] == "op"]
    assert ops and all(e["device"] == "cuda:0" for e in ops)
    assert any(e["type"] == "grad" for e in rec.events)


def test_attention_masks_are_made_on_the_device(dev):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 4, 8)).astype(np.float32) for _ in range(3))
    mask = np.triu(np.ones((4, 4), bool), 1)
    mha = nn.MultiheadAttention(8, 2)
    outs = []
    for device in ("cpu", dev):
        mha.to(device)
        a, b, c = (gv.tensor(x, device=device) for x in (q, k, v))
        sdpa = nn.functional.scaled_dot_product_attention(a, b, c, is_causal=True)
        out, w = mha(a.transpose(0, 1), b.transpose(0, 1), c.transpose(0, 1),
                     attn_mask=gv.tensor(mask, device=device))
        outs.append([t.detach().cpu().numpy() for t in (sdpa, out, w)])
        if device != "cpu":
            assert on_device(sdpa) and on_device(out) and on_device(w)
    for got, want in zip(outs[1], outs[0]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_random_fills_and_sampling_stay_on_the_device(dev):
    gv.manual_seed(0)
    for t in (gv.zeros(5, device=dev).normal_(), gv.empty(5, device=dev).uniform_(-1, 1),
              gv.zeros(5, device=dev).bernoulli_(0.5), gv.full((4,), 0.5, device=dev).bernoulli(),
              gv.tensor([0.2, 0.8], device=dev).multinomial(3, replacement=True),
              gv.ones(3, device=dev).exp_(), gv.ones(2, 3, device=dev).tril()):
        assert on_device(t), t


def test_composed_losses_run_on_the_device(dev):
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal((4, 5)).astype(np.float32) for _ in range(3))
    sign = np.array([1.0, -1.0, 1.0, -1.0], dtype=np.float32)
    var = rng.uniform(0.2, 2.0, (4, 5)).astype(np.float32)
    calls = [lambda d: nn.TripletMarginLoss(swap=True)(*d(x, y, z)),
             lambda d: nn.CosineEmbeddingLoss(0.2)(*d(x, y, sign)),
             lambda d: nn.GaussianNLLLoss(full=True)(*d(x, y, var)),
             lambda d: nn.PoissonNLLLoss(full=True)(*d(x, np.abs(y) * 3)),
             lambda d: nn.MultiLabelSoftMarginLoss()(*d(x, (y > 0).astype(np.float32)))]
    for call in calls:
        vals = []
        for device in ("cpu", dev):
            out = call(lambda *arrs: [gv.tensor(a, device=device) for a in arrs])
            assert device == "cpu" or on_device(out)
            vals.append(out.cpu().item())
        assert vals[0] == pytest.approx(vals[1], rel=1e-5)


def test_in_place_ops_in_a_graph_stay_on_the_device_and_match_cpu(dev):
    def run(device):
        x = gv.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], device=device, requires_grad=True)
        w = gv.tensor([0.5, -1.0, 2.0], device=device, requires_grad=True)
        y = x * 2
        y[0].mul_(w)                 # a view: the base is rewritten (IndexPut)
        y.relu_()
        buf = gv.zeros(2, 3, device=device)
        buf[1] = y[1] * w
        total = gv.zeros((), device=device)
        total += (y * buf).sum() + y.sum()
        total.backward()
        return y, total, x.grad, w.grad
    got, want = run(dev), run("cpu")
    assert all(on_device(t) for t in got)
    for g, c in zip(got, want):
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", ["det", "slogdet", "cholesky", "eigh", "svdvals"])
def test_double_backward_on_the_device_matches_cpu(op, dev):
    """Constants a backward formula makes under create_graph (eye, zeros) are made on the
    node's device: a Hessian-vector product on cuda works and matches the CPU."""
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    fns = {"det": lambda m: gv.linalg.det(m),
           "slogdet": lambda m: gv.linalg.slogdet(m)[1],
           "cholesky": lambda m: gv.linalg.cholesky(m).sum(),
           "eigh": lambda m: (gv.linalg.eigh(m)[0] ** 2).sum(),
           "svdvals": lambda m: (gv.linalg.svdvals(m) ** 3).sum()}

    def hvp(device):
        x = gv.tensor(a, dtype=gv.float64, device=device, requires_grad=True)
        (g,) = gv.autograd.grad(fns[op](x), x, create_graph=True)
        (h,) = gv.autograd.grad((g * g).sum(), x)
        assert h.device.type == device
        return h.cpu().numpy()
    np.testing.assert_allclose(hvp(dev), hvp("cpu"), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_float_max_at_as_ordered_ints_is_exact_and_lets_nan_win(reduce, dtype):
    """The device path of scatter_reduce amax/amin (CuPy 14's float64 maximum.at rounds values
    to float32 and lets no NaN win: seen on an H200), run here with NumPy's int ufunc.at."""
    from gradviz.engine.ops.index_more import _float_extreme_at
    rng = np.random.default_rng(0)
    out = (rng.standard_normal(6) * 1e30).astype(dtype)
    out[:3] = [np.nan, -0.0, np.inf]
    vals = rng.standard_normal(40).astype(dtype) + np.float64(1e-12).astype(dtype)
    vals[:4] = [np.nan, np.inf, -np.inf, 0.0]
    idx = rng.integers(0, 6, 40)
    want, got = out.copy(), out.copy()
    (np.maximum if reduce == "amax" else np.minimum).at(want, idx, vals)
    _float_extreme_at(np, reduce, got, (idx,), vals)
    assert got.dtype == want.dtype and np.isnan(got[idx[0]])
    np.testing.assert_array_equal(got, want)
