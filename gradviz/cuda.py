"""``gv.cuda``: is a GPU (through CuPy) available, and synchronisation."""
from .engine.backend import cuda_available, cupy


def is_available():
    """True when CuPy imports and sees an NVIDIA GPU."""
    return cuda_available()


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
