"""``gv.cuda``: is a GPU (through CuPy) available, and synchronisation."""
from .engine.backend import cuda_available, cupy


def is_available():
    """True when CuPy imports and sees an NVIDIA GPU."""
    return cuda_available()


def is_bf16_supported(including_emulation=True):
    """torch.cuda.is_bf16_supported: always False, gradviz has no bfloat16 tensors (scripts
    that pick ``bfloat16 if is_bf16_supported() else float16`` take float16)."""
    return False


def device_count():
    """Number of visible GPUs (0 without CuPy)."""
    if not cuda_available():
        return 0
    return cupy().cuda.runtime.getDeviceCount()


def synchronize():
    """Wait for all queued GPU work (a no-op without a GPU)."""
    if cuda_available():
        cupy().cuda.Device().synchronize()


def current_device():
    """Index of the current GPU."""
    return cupy().cuda.Device().id


def get_device_name(device=None):
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    from .engine.backend import as_device
    idx = as_device(device or "cuda").index
    name = cupy().cuda.runtime.getDeviceProperties(idx)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed):
    """Seed the GPU's generator (CuPy's); without a GPU nothing to seed (torch ignores it
    too). ``gv.manual_seed`` seeds every generator, the GPU's included."""
    if cuda_available():
        cupy().random.seed(int(seed) % 2 ** 32)


manual_seed_all = manual_seed   # one GPU generator here


class _Amp:
    """``gv.cuda.amp``: torch's older spelling of ``gv.amp`` with device 'cuda'."""

    @staticmethod
    def GradScaler(*args, **kwargs):   # noqa: N802 - torch's name
        """``gv.amp.GradScaler('cuda', ...)``."""
        from .amp import GradScaler
        return GradScaler("cuda", *args, **kwargs)

    @staticmethod
    def autocast(enabled=True, dtype=None, cache_enabled=True):
        """``gv.amp.autocast('cuda', ...)``."""
        from .amp import autocast
        return autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


amp = _Amp()
