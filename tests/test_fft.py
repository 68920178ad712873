"""gv.fft and gv.stft against torch.fft / torch.stft: values, dtypes, gradients (also by
float64 finite differences over real and imaginary parts), errors. Op-level rows with random
cases are in tests/op_table_fft.py."""
import warnings

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError


def _np(t):
    return t.detach().resolve_conj().numpy() if isinstance(t, torch.Tensor) else \
        t.detach().numpy()


def _pair(arr):
    return (gv.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True))


def _seed(shape, rng, complex_):
    s = rng.standard_normal(shape)
    return s + 1j * rng.standard_normal(shape) if complex_ else s


def _fd_grad(f, arr, seed, eps=1e-6):
    """dL/dRe + i dL/dIm of L = Re<seed, f(arr)>, coordinate by coordinate (torch's grad)."""
    def loss(a):
        with gv.no_grad():
            return float(np.real(np.sum(f(gv.tensor(a)).numpy() * np.conj(seed))))
    grad = np.zeros(arr.shape, dtype=arr.dtype)
    steps = (1.0, 1j) if arr.dtype.kind == "c" else (1.0,)
    for i in np.ndindex(arr.shape):
        for step in steps:
            hi, lo = arr.copy(), arr.copy()
            hi[i] += eps * step
            lo[i] -= eps * step
            grad[i] += step * (loss(hi) - loss(lo)) / (2 * eps)
    return grad


def _check(gv_f, th_f, arr, rng):
    g, t = _pair(arr)
    og, ot = gv_f(g), th_f(t)
    assert og.dtype.name == str(ot.dtype).replace("torch.", "")
    np.testing.assert_allclose(_np(og), _np(ot), atol=1e-10, rtol=1e-10)
    seed = _seed(ot.shape, rng, ot.is_complex())
    ot.backward(torch.tensor(seed))
    og.backward(gv.tensor(seed))
    np.testing.assert_allclose(g.grad.numpy(), _np(t.grad), atol=1e-10, rtol=1e-10)
    np.testing.assert_allclose(g.grad.numpy(), _fd_grad(gv_f, arr, seed), atol=1e-6)


@pytest.mark.parametrize("m", [3, 4, 5])
@pytest.mark.parametrize("n", [None, 4, 5, 7, 8, 2, 1])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_irfft_halved_spectrum_gradient_matches_torch_and_finite_differences(m, n, norm):
    rng = np.random.default_rng(m * 100 + (n or 0))
    z = rng.standard_normal((2, m)) + 1j * rng.standard_normal((2, m))
    _check(lambda x: gv.fft.irfft(x, n=n, norm=norm),
           lambda x: torch.fft.irfft(x, n=n, norm=norm), z, rng)


@pytest.mark.parametrize("length", [5, 6])
@pytest.mark.parametrize("n", [None, 3, 4, 9, 10])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_rfft_gradient_matches_torch_and_finite_differences(length, n, norm):
    rng = np.random.default_rng(length + 10 * (n or 0))
    _check(lambda x: gv.fft.rfft(x, n=n, norm=norm),
           lambda x: torch.fft.rfft(x, n=n, norm=norm), rng.standard_normal((length, 2)).T,
           rng)


@pytest.mark.parametrize("n", [None, 4, 7, 8])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_hfft_and_ihfft_match_torch_and_finite_differences(n, norm):
    rng = np.random.default_rng(n or 0)
    z = rng.standard_normal((2, 5)) + 1j * rng.standard_normal((2, 5))
    _check(lambda x: gv.fft.hfft(x, n=n, norm=norm),
           lambda x: torch.fft.hfft(x, n=n, norm=norm), z, rng)
    _check(lambda x: gv.fft.ihfft(x, n=n, dim=0, norm=norm),
           lambda x: torch.fft.ihfft(x, n=n, dim=0, norm=norm).resolve_conj(),
           rng.standard_normal((6, 2)), rng)
    r = gv.tensor(rng.standard_normal(8))   # the pair inverts each other, as torch's
    np.testing.assert_allclose(gv.fft.hfft(gv.fft.ihfft(r, norm=norm), n=8, norm=norm).numpy(),
                               r.numpy(), atol=1e-12)


@pytest.mark.parametrize("name,kw", [("fft", {"n": 3}), ("ifft", {"n": 7, "dim": 0}),
                                     ("fft2", {"s": (2, 5)}), ("ifftn", {"dim": (0, 1)}),
                                     ("rfft2", {"s": (3, 5)}), ("irfftn", {"s": (4, 5)}),
                                     ("irfft2", {"norm": "ortho"}), ("rfftn", {})])
def test_nd_transforms_match_torch_and_finite_differences(name, kw):
    rng = np.random.default_rng(7)
    arr = rng.standard_normal((3, 4))
    if not name.startswith("rfft"):
        arr = arr + 1j * rng.standard_normal((3, 4))
    _check(lambda x: getattr(gv.fft, name)(x, **kw),
           lambda x: getattr(torch.fft, name)(x, **kw), arr, rng)


@pytest.mark.parametrize("name,dtype,want", [("fft", "float32", "complex64"),
                                              ("fft", "float64", "complex128"),
                                              ("rfft", "float32", "complex64"),
                                              ("irfft", "complex64", "float32"),
                                              ("irfft", "float32", "float32"),
                                              ("ifft", "int64", "complex64")])
def test_output_dtypes_are_torchs(name, dtype, want):
    arr = np.arange(6).astype(dtype)
    out = getattr(gv.fft, name)(gv.tensor(arr))
    ref = getattr(torch.fft, name)(torch.tensor(arr))
    assert out.dtype.name == want == str(ref.dtype).replace("torch.", "")
    np.testing.assert_allclose(_np(out), _np(ref), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [1, 6, 7])
@pytest.mark.parametrize("d", [1.0, 0.25])
def test_frequencies_match_torch(n, d):
    for name in ("fftfreq", "rfftfreq"):
        out, ref = getattr(gv.fft, name)(n, d), getattr(torch.fft, name)(n, d)
        assert out.dtype == gv.float32 and tuple(out.shape) == tuple(ref.shape)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    out = gv.fft.fftfreq(n, d, dtype=gv.float64)
    np.testing.assert_allclose(out.numpy(), torch.fft.fftfreq(n, d, dtype=torch.float64))


@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1)])
def test_shifts_match_torch_and_return_new_tensors(dim):
    arr = np.arange(15.0).reshape(3, 5)
    for name in ("fftshift", "ifftshift"):
        out = getattr(gv.fft, name)(gv.tensor(arr), dim=dim)
        np.testing.assert_array_equal(out.numpy(),
                                      getattr(torch.fft, name)(torch.tensor(arr), dim=dim))
    x = gv.ones(1, 1)
    assert gv.fft.fftshift(x) is not x


def test_transform_errors_are_clear():
    z = gv.tensor(np.ones(4) + 1j)
    with pytest.raises(GradvizError, match="real input"):
        gv.fft.rfft(z)
    with pytest.raises(GradvizError, match="normalization"):
        gv.fft.fft(z, norm="twice")
    with pytest.raises(GradvizError, match="data points"):
        gv.fft.fft(z, n=0)
    with pytest.raises(GradvizError, match="out of range"):
        gv.fft.fft(z, dim=1)


STFT_CASES = [dict(n_fft=8, hop_length=2), dict(n_fft=8, win_length=5),
              dict(n_fft=7, hop_length=3, center=False), dict(n_fft=6, normalized=True),
              dict(n_fft=8, pad_mode="constant", onesided=False),
              dict(n_fft=5, hop_length=1, pad_mode="replicate")]


@pytest.mark.parametrize("kw", STFT_CASES)
@pytest.mark.parametrize("shape", [(23,), (2, 16)])
def test_stft_magnitude_values_and_gradients_match_torch(kw, shape):
    rng = np.random.default_rng(len(shape))
    arr = rng.standard_normal(shape)
    win = np.hanning(kw.get("win_length", kw["n_fft"]) + 2)[1:-1]
    (g, t), (gw, tw) = _pair(arr), _pair(win)
    og = gv.stft(g, window=gw, return_complex=True, **kw)
    ot = torch.stft(t, window=tw, return_complex=True, **kw)
    np.testing.assert_allclose(_np(og), _np(ot), atol=1e-10)
    seed = rng.standard_normal(ot.shape)
    og.abs().backward(gv.tensor(seed))
    ot.abs().backward(torch.tensor(seed))
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), atol=1e-10)
    fd = _fd_grad(lambda x: gv.stft(x, window=gv.tensor(win), return_complex=True, **kw).abs(),
                  arr, seed)
    np.testing.assert_allclose(g.grad.numpy(), fd, atol=1e-6)


def test_stft_defaults_method_and_real_view_match_torch():
    arr = np.random.default_rng(3).standard_normal(40).astype(np.float32)
    g, t = gv.tensor(arr), torch.tensor(arr)
    ref = torch.stft(t, 16, window=torch.ones(16), return_complex=True)   # torch's default
    np.testing.assert_allclose(gv.stft(g, 16, return_complex=True).numpy(), ref.numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(g.stft(16, 4, return_complex=True).numpy(), ref.numpy(),
                               atol=1e-5)
    assert g.stft(16, return_complex=True).dtype == gv.complex64
    assert gv.stft(g * (1 + 0j), 16).is_complex()   # complex input: complex by default
    for lib, x in ((torch, t), (gv, g)):   # the old real (..., 2) format: deprecated, as torch
        with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
            real = lib.stft(x, 16, window=lib.ones(16), return_complex=False)
        np.testing.assert_allclose(np.asarray(real), torch.view_as_real(ref).numpy(), atol=1e-5)


def test_stft_of_a_real_input_needs_return_complex_as_torch():
    for lib in (torch, gv):
        with pytest.raises(RuntimeError, match="requires the return_complex parameter"):
            lib.stft(lib.ones(40), 16)


def test_stft_errors_are_clear():
    x = gv.ones(10)
    with pytest.raises(GradvizError, match="1D or 2D"):
        gv.stft(gv.ones(1, 2, 10), 4, return_complex=True)
    with pytest.raises(GradvizError, match="window"):
        gv.stft(x, 4, window=gv.ones(3), return_complex=True)
    with pytest.raises(GradvizError, match="onesided"):
        gv.stft(x * (1 + 1j), 4, onesided=True)
    with pytest.raises(GradvizError, match="n_fft"):
        gv.stft(x, 16, center=False, return_complex=True)


ISTFT_CASES = [dict(n_fft=8, hop_length=2), dict(n_fft=8, hop_length=2, win_length=6),
               dict(n_fft=6, hop_length=2, normalized=True, length=20),
               dict(n_fft=8, hop_length=2, onesided=False), dict(n_fft=8, hop_length=3,
                                                                  length=30),
               dict(n_fft=8, hop_length=2, return_complex=True, onesided=False)]


@pytest.mark.parametrize("kw", ISTFT_CASES)
@pytest.mark.parametrize("batch", [(), (2,)])
def test_istft_values_and_gradients_match_torch(kw, batch):
    rng = np.random.default_rng(5)
    n_fft = kw["n_fft"]
    fwd = {k: kw[k] for k in ("n_fft", "hop_length", "win_length", "normalized", "onesided")
           if k in kw}
    win = np.hanning(kw.get("win_length", n_fft) + 2)[1:-1]
    spec = torch.stft(torch.tensor(rng.standard_normal(batch + (24,))),
                      window=torch.tensor(win), return_complex=True, **fwd)
    spec = _np(spec) + 0.01 * rng.standard_normal(spec.shape)   # not exactly a spectrogram
    (g, t), (gw, tw) = _pair(spec), _pair(win)
    if kw.get("length", 0) > 28:   # more than the frames cover: both pad, and warn
        with pytest.warns(UserWarning, match="padded with zeros"):
            og = gv.istft(g, window=gw, **kw)
        with warnings.catch_warnings():   # torch warns once a process
            warnings.simplefilter("ignore", UserWarning)
            ot = torch.istft(t, window=tw, **kw)
    else:
        og, ot = gv.istft(g, window=gw, **kw), torch.istft(t, window=tw, **kw)
    assert og.dtype.name == str(ot.dtype).replace("torch.", "")
    np.testing.assert_allclose(_np(og), _np(ot), atol=1e-10)
    seed = _seed(ot.shape, rng, ot.is_complex())
    og.backward(gv.tensor(seed))
    ot.backward(torch.tensor(seed))
    np.testing.assert_allclose(g.grad.numpy(), _np(t.grad), atol=1e-10)
    np.testing.assert_allclose(gw.grad.numpy(), _np(tw.grad), atol=1e-10)
    if not batch:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fd = _fd_grad(lambda z: gv.istft(z, window=gv.tensor(win), **kw), spec, seed)
        np.testing.assert_allclose(g.grad.numpy(), fd, atol=1e-6)


def test_istft_inverts_stft():
    x = gv.tensor(np.random.default_rng(2).standard_normal((2, 40)))
    w = gv.tensor(np.hanning(18)[1:-1])
    spec = gv.stft(x, 16, 4, window=w, return_complex=True)
    np.testing.assert_allclose(spec.istft(16, 4, window=w, length=40).numpy(), x.numpy(),
                               atol=1e-10)
