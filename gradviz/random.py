"""``gv.random`` as ``torch.random``: the default generator's seed and state, and
``fork_rng`` to draw inside a block without moving the outer stream."""
import contextlib

from .engine.random import (Generator, default_generator, get_rng_state, initial_seed,
                            manual_seed, seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, device_type=None):
    """Restore the default generator's state when the block ends, so draws inside it leave
    the stream outside unchanged (as torch's). Device streams (CuPy's) are not forked: they
    keep going, as torch's are when no CUDA device is in use."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
