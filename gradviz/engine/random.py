"""The global random generator behind rand/randn/dropout/shuffling (``gv.manual_seed``)."""
import numpy as np

_gen = np.random.default_rng()


def manual_seed(seed):
    """Seed every random draw gradviz makes (as torch.manual_seed)."""
    global _gen
    _gen = np.random.default_rng(int(seed))
    from . import backend
    if backend._cupy is not None:  # device draws (dropout on cuda) follow the same seed
        backend._cupy.random.seed(int(seed) % 2 ** 32)
    return _gen


def generator():
    """The current NumPy Generator."""
    return _gen


def seed():
    """Reseed from fresh entropy; returns the seed used."""
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s
