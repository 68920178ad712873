"""``gv.fft`` (torch.fft) and ``gv.stft``: discrete Fourier transforms with gradients.

The transforms are three ops (gradviz/engine/ops/fft.py): FFT (complex to complex, forward
or inverse), RFFT (real to half spectrum) and IRFFT (half spectrum to real). ``stft`` is
built from existing ops (reflect padding and framing by indexing, a window product, rfft),
so its gradient comes from theirs; so are hfft/ihfft (irfft/rfft with a conjugate).
"""
import warnings

import numpy as np

from .engine import ops as O
from .engine.dtypes import get_default_dtype
from .engine.tensor import Tensor
from .errors import GradvizError

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn",
           "ifftn", "rfftn", "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]


def _plan(x, s, dim, half_input=False):
    """(sizes, axes) of an n-dimensional transform, as torch reads ``s`` and ``dim``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a Tensor, got {type(x).__name__}")
    nd = x.ndim
    if dim is None:
        axes = list(range(nd - len(s), nd)) if s is not None else list(range(nd))
    else:
        axes = [dim] if isinstance(dim, int) else list(dim)
    if not axes or any(not -nd <= a < nd for a in axes):
        raise GradvizError(f"Dimension out of range (dims {axes} of a {nd}-d tensor)")
    axes = [a % nd for a in axes]
    if len(set(axes)) != len(axes):
        raise GradvizError(f"FFT dims must be unique, got {axes}")
    default = [x.shape[a] for a in axes]
    if half_input:   # irfft: the last axis holds n//2 + 1 bins of an n-point signal
        default[-1] = 2 * (default[-1] - 1)
    if s is None:
        sizes = default
    else:
        if len(s) != len(axes):
            raise GradvizError(f"When given, dim and shape arguments must have the same length "
                               f"(got s={tuple(s)}, dim={tuple(axes)})")
        sizes = [d if n == -1 else int(n) for n, d in zip(s, default)]
    if any(n < 1 for n in sizes):
        raise GradvizError(f"Invalid number of data points ({min(sizes)}) specified")
    return tuple(sizes), tuple(axes)


def _norm(norm):
    norm = "backward" if norm is None else norm
    if norm not in ("backward", "ortho", "forward"):
        raise GradvizError(f"Invalid normalization mode: {norm!r}")
    return norm


def _float(x):
    """Integer and bool inputs transform as the default float dtype, as torch."""
    return x.to(get_default_dtype()) if x.dtype.kind in "biu" else x


def _c2c(x, s, dim, norm, inverse):
    x = _float(x)
    s, axes = _plan(x, s, dim)
    return O.FFT.apply(x, s=s, axes=axes, norm=_norm(norm), inverse=inverse)


def _r2c(x, s, dim, norm):
    x = _float(x)
    s, axes = _plan(x, s, dim)
    return O.RFFT.apply(x, s=s, axes=axes, norm=_norm(norm))


def _c2r(x, s, dim, norm):
    x = _float(x)
    s, axes = _plan(x, s, dim, half_input=True)
    return O.IRFFT.apply(x, s=s, axes=axes, norm=_norm(norm))


def _one(n):
    return None if n is None else (n,)


def fft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """1-D discrete Fourier transform along ``dim`` (``n``: cut or zero-pad to n first)."""
    return _c2c(input, _one(n), (dim,), norm, False)


def ifft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """1-D inverse discrete Fourier transform along ``dim``."""
    return _c2c(input, _one(n), (dim,), norm, True)


def rfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """FFT of a real signal: the n//2 + 1 non-negative frequency bins."""
    return _r2c(input, _one(n), (dim,), norm)


def irfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """Inverse of rfft: a real signal of length ``n`` (default 2 * (bins - 1))."""
    return _c2r(input, _one(n), (dim,), norm)


_DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def hfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """FFT of a Hermitian-symmetric signal given by its first half: a real spectrum of
    length ``n`` (default 2 * (len - 1)); irfft of the conjugate, scaled as the forward
    transform (torch.fft.hfft)."""
    x = _float(input)
    return irfft(x.conj() if x.is_complex() else x, n, dim, _DUAL_NORM[_norm(norm)])


def ihfft(input, n=None, dim=-1, norm=None):  # noqa: A002
    """Inverse of hfft: the half spectrum of a real signal, conjugated and scaled as the
    inverse transform (torch.fft.ihfft)."""
    return rfft(input, n, dim, _DUAL_NORM[_norm(norm)]).conj()


def fft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """2-D discrete Fourier transform over ``dim``."""
    return _c2c(input, s, dim, norm, False)


def ifft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """2-D inverse discrete Fourier transform over ``dim``."""
    return _c2c(input, s, dim, norm, True)


def rfft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """2-D FFT of a real signal (half spectrum along the last of ``dim``)."""
    return _r2c(input, s, dim, norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None):  # noqa: A002
    """Inverse of rfft2: a real signal."""
    return _c2r(input, s, dim, norm)


def fftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """N-D discrete Fourier transform (all dims, or the last len(s), by default)."""
    return _c2c(input, s, dim, norm, False)


def ifftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """N-D inverse discrete Fourier transform."""
    return _c2c(input, s, dim, norm, True)


def rfftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """N-D FFT of a real signal (half spectrum along the last of ``dim``)."""
    return _r2c(input, s, dim, norm)


def irfftn(input, s=None, dim=None, norm=None):  # noqa: A002
    """Inverse of rfftn: a real signal."""
    return _c2r(input, s, dim, norm)


def _freq_tensor(values, dtype, device, requires_grad):
    from .engine.creation import tensor
    dtype = get_default_dtype() if dtype is None else dtype
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, **_):
    """The sample frequencies of an n-point fft: [0, 1, ..., -1] / (d n)."""
    return _freq_tensor(np.fft.fftfreq(n, d), dtype, device, requires_grad)


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, **_):
    """The sample frequencies of an n-point rfft: [0, 1, ..., n // 2] / (d n)."""
    return _freq_tensor(np.fft.rfftfreq(n, d), dtype, device, requires_grad)


def _roll_dims(x, dim, shift_of):
    from .engine.functional import cat
    dims = range(x.ndim) if dim is None else ([dim] if isinstance(dim, int) else dim)
    out = x
    for d in dims:
        d %= x.ndim
        n = out.shape[d]
        k = shift_of(n) % n if n else 0
        if k:   # roll by k: the last k entries come first (slices and cat: complex-safe)
            lead = (slice(None),) * d
            out = cat([out[lead + (slice(n - k, None),)], out[lead + (slice(0, n - k),)]], d)
    return x.clone() if out is x else out   # a new tensor, as torch.roll


def fftshift(input, dim=None):  # noqa: A002
    """Move the zero frequency to the centre (roll by n // 2 along each of ``dim``)."""
    return _roll_dims(input, dim, lambda n: n // 2)


def ifftshift(input, dim=None):  # noqa: A002
    """Undo fftshift (roll by -(n // 2))."""
    return _roll_dims(input, dim, lambda n: -(n // 2))


def stft(input, n_fft, hop_length=None, win_length=None, window=None,  # noqa: A002
         center=True, pad_mode="reflect", normalized=False, onesided=None,
         return_complex=None):
    """Short-time Fourier transform (torch.stft): (freq, frames), batched for a 2-D input.
    ``return_complex`` must be given for a real input, as torch asks; False (torch's old
    real (..., 2) format) warns that it is deprecated, as torch does."""
    from .engine.tensor_complex import view_as_real
    from .nn.functional import pad
    x = input
    return_complex = _stft_return_complex(x, window, return_complex)
    if x.ndim not in (1, 2):
        raise GradvizError(f"stft: expected a 1D or 2D tensor, got {x.ndim}D")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if n_fft <= 0 or hop <= 0 or not 0 < win <= n_fft:
        raise GradvizError(f"stft: expected 0 < n_fft, 0 < hop_length and 0 < win_length <= "
                           f"n_fft, got n_fft={n_fft}, hop_length={hop}, win_length={win}")
    if center:   # torch pads a (1, batch, time) view
        shape = x.shape
        x = pad(x.reshape((1,) * (3 - x.ndim) + tuple(shape)), (n_fft // 2, n_fft // 2),
                mode=pad_mode)
        x = x.reshape(tuple(shape[:-1]) + (x.shape[-1],))
    length = x.shape[-1]
    if length < n_fft:
        raise GradvizError(f"stft: expected 0 < n_fft <= {length} (the padded input's "
                           f"length), got n_fft={n_fft}")
    n_frames = 1 + (length - n_fft) // hop
    frames = x[..., np.arange(n_frames)[:, None] * hop + np.arange(n_fft)]
    if window is None:   # torch: a rectangular window of win_length
        from .engine.creation import ones
        window = ones(win, dtype=frames.real.dtype, device=x.device)
    if window.ndim != 1 or window.shape[0] != win:
        raise GradvizError(f"stft: expected a 1D window tensor of size equal to "
                           f"win_length={win}, but got window with size {list(window.shape)}")
    left = (n_fft - win) // 2
    if win < n_fft:   # centred in the frame
        window = pad(window, (left, n_fft - win - left))
    frames = frames * window
    complex_in = x.is_complex() or (window is not None and window.is_complex())
    if onesided is None:
        onesided = not complex_in
    if onesided and complex_in:
        raise GradvizError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = rfft(frames, norm=norm) if onesided else fft(frames, norm=norm)
    spec = spec.transpose(-1, -2)
    return spec if return_complex else view_as_real(spec)


def _stft_return_complex(x, window, return_complex):
    """torch's rules for stft's return_complex: required for real inputs, False deprecated."""
    if return_complex is None:
        if not (x.is_complex() or (window is not None and window.is_complex())):
            raise GradvizError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in a "
                               "future PyTorch release.")
        return True
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch "
                      "release, stft will return complex tensors for all inputs, and "
                      "return_complex=False will raise an error. Note: you can still call "
                      "torch.view_as_real on the complex output to recover the old return "
                      "format.", UserWarning, stacklevel=3)
    return bool(return_complex)


def istft(input, n_fft, hop_length=None, win_length=None, window=None,  # noqa: A002
          center=True, normalized=False, onesided=None, length=None, return_complex=False):
    """Inverse of stft (torch.istft): inverse transforms of the frames, windowed,
    overlap-added and divided by the summed squared window."""
    from .engine.creation import ones, tensor, zeros
    from .nn.functional import pad
    spec = input
    if spec.ndim not in (2, 3) or not spec.is_complex():
        raise GradvizError(f"istft: expected a 2D or 3D complex tensor, got a {spec.ndim}D "
                           f"{spec.dtype} tensor")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    onesided = spec.shape[-2] != n_fft if onesided is None else onesided
    if window is None:
        window = ones(win, dtype=spec.real.dtype, device=spec.device)
    if window.ndim != 1 or window.shape[0] != win or not 0 < win <= n_fft:
        raise GradvizError(f"istft: expected a 1D window of win_length={win} <= n_fft={n_fft}"
                           f", got {list(window.shape)}")
    if win < n_fft:
        left = (n_fft - win) // 2
        window = pad(window, (left, n_fft - win - left))
    batched = spec.ndim == 3
    frames = spec.transpose(-1, -2)   # (..., frames, freq)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = ifft(frames, n=n_fft, norm=norm)
    else:
        if not onesided:
            frames = frames[..., :n_fft // 2 + 1]
        frames = irfft(frames, n=n_fft, norm=norm)
    frames = frames * window
    n_frames = frames.shape[-2]
    total = n_fft + hop * (n_frames - 1)
    idx = tensor((np.arange(n_frames)[:, None] * hop + np.arange(n_fft)).reshape(-1),
                 device=spec.device)
    lead = tuple(frames.shape[:-2])
    y = zeros(*lead, total, dtype=frames.dtype, device=spec.device).index_add(
        -1, idx, frames.reshape(lead + (-1,)))
    envelope = zeros(total, dtype=window.dtype, device=spec.device).index_add(
        0, idx, (window * window).expand(n_frames, n_fft).reshape(-1))
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else start + length
    end = min(end, total)
    y, envelope = y[..., start:end], envelope[start:end]
    if float(envelope.abs().min().detach().cpu().numpy()) < 1e-11:
        raise GradvizError("istft: window overlap add min: the window's squares sum to 0 "
                           "somewhere (pick a window and hop_length that overlap)")
    y = y / envelope
    if length is not None and y.shape[-1] < length:
        import warnings
        warnings.warn("The length of signal is shorter than the length parameter. Result is "
                      "being padded with zeros in the tail. Please check your center and "
                      "hop_length settings.", UserWarning, stacklevel=2)
        y = pad(y, (0, length - y.shape[-1]))
    return y if batched else y.reshape(y.shape[-1:])
