"""Op table rows for gv.fft (FFT, RFFT, IRFFT) and gv.stft, against torch.fft / torch.stft.

Cases cover even and odd lengths, ``n``/``s`` that pad or cut the input, every ``norm``, real
inputs of the complex transforms, and half spectra of any length for irfft (torch's
gradient doubles the bins whose mirror image lies outside the half spectrum).
"""
import torch
from hypothesis import strategies as st
from op_table import Case, OpRow, X, Z, fixed

import gradviz as gv
from gradviz.engine import ops as O

NORMS = st.sampled_from([None, "backward", "ortho", "forward"])
SHAPES = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)


@st.composite
def one_dim(draw, spec=Z, min_len=1):
    """One input, a ``dim``, an ``n`` (None, or one that pads or cuts) and a ``norm``."""
    shape = list(draw(SHAPES))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    shape[dim] = max(shape[dim], min_len)
    kw = {"dim": dim, "norm": draw(NORMS)}
    n = draw(st.one_of(st.none(), st.integers(1, 9)))
    if n is not None:
        kw["n"] = n
    return Case([spec(tuple(shape))], kw)


@st.composite
def n_dims(draw, spec=Z, two=False):
    """One input of 2-3 dims, ``dim`` (or None), ``s`` (or None) and a ``norm``."""
    shape = draw(st.lists(st.integers(1, 5), min_size=2, max_size=3).map(tuple))
    kw = {"norm": draw(NORMS)}
    nd = len(shape)
    if two:
        dims = (-2, -1)
    else:
        dims = draw(st.one_of(st.none(), st.permutations(range(nd)).flatmap(
            lambda p: st.integers(1, nd).map(lambda k: tuple(p[:k])))))
        if dims is not None:
            kw["dim"] = dims
    if draw(st.booleans()):
        k = len(dims) if dims is not None else draw(st.integers(1, nd))
        kw["s"] = tuple(draw(st.lists(st.sampled_from([-1, 1, 2, 3, 4, 5, 6]), min_size=k,
                                      max_size=k)))
    return Case([spec(shape)], kw)


def _both(name):
    return getattr(gv.fft, name), getattr(torch.fft, name)


def _row(name, cls, cases, **kw):
    return OpRow(f"fft_{name}" if not name.startswith("fft") else name, (cls,),
                 *_both(name), cases, **kw)


def _abs_stft(lib, **kw):
    """The audio-loss idiom: |stft(x)| with a learnable window."""
    return lambda x, w: lib.stft(x, window=w, return_complex=True, **kw).abs()


def _stft_cases():
    return fixed(Case([X((20,)), X((8,), "pos")], {"n_fft": 8, "hop_length": 3}),
                 Case([X((2, 17)), X((7,), "pos")], {"n_fft": 8, "hop_length": 2,
                                                      "win_length": 7}),
                 Case([X((19,)), X((6,), "pos")], {"n_fft": 6, "center": False,
                                                    "normalized": True}),
                 Case([X((2, 12)), X((5,), "pos")], {"n_fft": 5, "hop_length": 2,
                                                      "pad_mode": "constant",
                                                      "onesided": False}))


ROWS = [
    _row("fft", O.FFT, st.one_of(one_dim(Z), one_dim(X))),
    _row("ifft", O.FFT, one_dim(Z)),
    _row("fft2", O.FFT, n_dims(Z, two=True)),
    _row("ifft2", O.FFT, n_dims(Z, two=True)),
    _row("fftn", O.FFT, st.one_of(n_dims(Z), n_dims(X))),
    _row("ifftn", O.FFT, n_dims(Z)),
    _row("rfft", O.RFFT, one_dim(X)),
    _row("rfft2", O.RFFT, n_dims(X, two=True)),
    _row("rfftn", O.RFFT, n_dims(X)),
    # the default n = 2 (bins - 1) needs two bins
    _row("irfft", O.IRFFT, st.one_of(one_dim(Z, min_len=2), one_dim(X, min_len=2))),
    _row("irfft2", O.IRFFT, n_dims(Z, two=True).filter(
        lambda c: "s" in c.kw and c.kw["s"][-1] != -1 or c.args[0].shape[-1] > 1)),
    _row("irfftn", O.IRFFT, n_dims(Z).filter(
        lambda c: "s" in c.kw and c.kw["s"][-1] != -1 or (
            c.args[0].shape[c.kw["dim"][-1] if "dim" in c.kw else -1] > 1))),
    OpRow("fft_shifts", (O.Cat, O.Getitem),
          lambda z: (gv.fft.fftshift(z), gv.fft.ifftshift(z, dim=-1),
                     gv.fft.fftshift(z, dim=(0,))),
          lambda z: (torch.fft.fftshift(z), torch.fft.ifftshift(z, dim=-1),
                     torch.fft.fftshift(z, dim=(0,))),
          fixed(Case([Z((5, 4))]), Case([Z((3, 1, 2))]), Case([Z((2, 3, 5))]))),
    OpRow("fft_stft_abs", (O.Getitem, O.Mul, O.Abs),
          lambda x, w, **k: _abs_stft(gv, **k)(x, w),
          lambda x, w, **k: _abs_stft(torch, **k)(x, w), _stft_cases()),
]
