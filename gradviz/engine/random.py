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


# set while ``gv.func.vmap(..., randomness="error")`` runs: the error a random draw raises
REFUSE = [None]


def generator():
    """The current NumPy Generator."""
    if REFUSE[0] is not None:
        raise REFUSE[0]
    return _gen


def draws(like, kind, shape, *params):
    """``kind`` draws (a NumPy Generator / ``cupy.random`` method: random, standard_normal,
    standard_gamma, poisson...) of ``shape`` where the array ``like`` lives: gv's generator
    on the host, CuPy's (seeded by ``manual_seed``) on a device, so nothing is uploaded."""
    if REFUSE[0] is not None:
        raise REFUSE[0]
    if type(like) is np.ndarray:
        return np.asarray(getattr(_gen, kind)(*params, size=tuple(shape)))
    from .backend import xp_of
    return getattr(xp_of(like).random, kind)(*params, size=tuple(shape))


def seed():
    """Reseed from fresh entropy; returns the seed used."""
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s
