"""The global random generator behind rand/randn/dropout/shuffling (``gv.manual_seed``)."""
import numpy as np

_initial = int(np.random.SeedSequence().entropy % (2 ** 63))
_gen = np.random.default_rng(_initial)


def manual_seed(seed):
    """Seed every random draw gradviz makes (as torch.manual_seed); returns the default
    Generator (as torch)."""
    global _gen, _initial
    _initial = int(seed)
    _gen = np.random.default_rng(_initial)
    from . import backend
    if backend._cupy is not None:  # device draws (dropout on cuda) follow the same seed
        backend._cupy.random.seed(int(seed) % 2 ** 32)
    return default_generator


def initial_seed():
    """The seed the default generator was last seeded with."""
    return _initial


class Generator:
    """torch.Generator: a random stream of its own (``Generator().manual_seed(42)``) for the
    ``generator=`` argument of rand/randn/randperm/random_split/DataLoader/...; draws on the
    host (device draws use the GPU's generator). Anything a NumPy Generator offers it
    offers too (``uniform``, ``permutation`` ...)."""

    def __init__(self, device="cpu"):
        from .backend import as_device
        self.device = as_device(device)
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        """Restart the stream from ``seed``; returns the generator (chainable, as torch)."""
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def initial_seed(self):
        """The seed this stream started from."""
        return self._seed

    def get_state(self):
        """The stream's state as a uint8 tensor (for ``set_state``)."""
        return _state_tensor(self._rng)

    def set_state(self, state):
        """Continue from a state ``get_state`` gave."""
        self._rng = _rng_from(state)
        return self

    def __getattr__(self, name):   # the NumPy Generator's draws
        return getattr(self.__dict__["_rng"] if "_rng" in self.__dict__ else _gen, name)


class _DefaultGenerator(Generator):
    """``gv.default_generator``: the stream behind every draw given no generator."""

    def __init__(self):   # noqa: D107 - the module's stream is its state
        from .backend import as_device
        self.device = as_device("cpu")

    @property
    def _rng(self):
        return _gen

    def manual_seed(self, seed):
        manual_seed(seed)
        return self

    def initial_seed(self):
        return _initial

    def set_state(self, state):
        set_rng_state(state)
        return self

    def __getattr__(self, name):
        return getattr(_gen, name)


default_generator = _DefaultGenerator()


def _state_tensor(rng):
    import json
    from .tensor import Tensor
    raw = json.dumps(rng.bit_generator.state).encode()
    return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())


def _rng_from(state):
    import json
    from ..errors import ArgumentError
    arr = state._data if hasattr(state, "_data") else np.asarray(state)
    try:
        st = json.loads(bytes(np.asarray(arr, dtype=np.uint8).tobytes()).decode())
        rng = np.random.default_rng()
        rng.bit_generator.state = st
    except (ValueError, TypeError, KeyError) as exc:
        raise ArgumentError(f"not a generator state from get_state/get_rng_state: {exc}") \
            from None
    return rng


def get_rng_state():
    """The default generator's state (a uint8 tensor), as torch.get_rng_state."""
    return _state_tensor(_gen)


def set_rng_state(state):
    """Continue the default generator from a ``get_rng_state`` state."""
    global _gen
    _gen = _rng_from(state)


# set while ``gv.func.vmap(..., randomness="error")`` runs: the error a random draw raises
REFUSE = [None]


def generator(gen=None):
    """The NumPy Generator to draw from: ``gen``'s (a gv.Generator or a NumPy Generator)
    when given, else the default one."""
    if REFUSE[0] is not None:
        raise REFUSE[0]
    if gen is None:
        return _gen
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    from ..errors import ArgumentError
    raise ArgumentError(f"generator must be a gv.Generator, not {type(gen).__name__}")


def draws(like, kind, shape, *params, gen=None):
    """``kind`` draws (a NumPy Generator / ``cupy.random`` method: random, standard_normal,
    standard_gamma, poisson...) of ``shape`` where the array ``like`` lives: gv's generator
    on the host, CuPy's (seeded by ``manual_seed``) on a device, so nothing is uploaded;
    a given ``gen`` draws on the host (moved to ``like``'s device)."""
    if REFUSE[0] is not None:
        raise REFUSE[0]
    if type(like) is np.ndarray or gen is not None:
        return _on(like, np.asarray(getattr(generator(gen), kind)(*params, size=tuple(shape))))
    from .backend import xp_of
    return getattr(xp_of(like).random, kind)(*params, size=tuple(shape))


def _on(like, arr):
    if type(like) is np.ndarray:
        return arr
    from .backend import device_of, move
    return move(arr, device_of(like))


def seed():
    """Reseed from fresh entropy; returns the seed used."""
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s
