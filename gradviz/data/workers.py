"""DataLoader's workers, emulated in this process (gradviz sends nothing to other
processes): WorkerInfo and get_worker_info(), the workers' seeds as torch's, and the fetchers
that turn sampler entries or a stream into batches (see ``DataLoader``)."""
import copy
import dataclasses
import random
import threading

import numpy as np

from ..engine import random as _random
from .dataset import IterableDataset, fast_batch


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns while an (emulated) DataLoader worker runs, with
    torch's fields and repr: ``id`` (0 to num_workers - 1), ``num_workers``, ``seed``
    (base_seed + id) and ``dataset`` (this worker's copy of the dataset); ``rng`` and
    ``worker_method`` as torch's process workers have them."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_CURRENT = threading.local()   # the running worker's WorkerInfo, per thread


def get_worker_info():
    """The running DataLoader worker's WorkerInfo (``id``, ``num_workers``, ``seed``,
    ``dataset``) while a worker's code runs (the dataset's ``__getitem__``/``__iter__``,
    ``collate_fn``, ``worker_init_fn``), None elsewhere, as torch's."""
    return getattr(_CURRENT, "info", None)


_MASK32 = 0xFFFFFFFF


def _numpy_worker_seed(base_seed, worker_id):
    """The four 32-bit words torch seeds NumPy's global RNG with in worker ``worker_id``
    (its ``_generate_state``: NumPy SeedSequence's hash of the worker id and base seed)."""
    hash_a = 0x43B0D7E5

    def hash_(value):
        nonlocal hash_a
        value = (value ^ hash_a) & _MASK32
        hash_a = (hash_a * 0x931E8875) & _MASK32
        value = (value * hash_a) & _MASK32
        return (value ^ (value >> 16)) & _MASK32

    def mix(x, y):
        value = (0xCA01F9DD * x - 0x4973F715 * y) & _MASK32
        return (value ^ (value >> 16)) & _MASK32

    pool = [hash_(v) for v in (worker_id, base_seed & _MASK32, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash_(pool[src]))
    hash_b, state = 0x8B51F9DD, []
    for value in pool:
        value = (value ^ hash_b) & _MASK32
        hash_b = (hash_b * 0x58F38DED) & _MASK32
        value = (value * hash_b) & _MASK32
        state.append((value ^ (value >> 16)) & _MASK32)
    return state


def _worker_copy(dataset):
    """A worker's own dataset: a shallow copy, so what a worker sets on it (a shard range in
    ``worker_init_fn``, an iterator's position) stays its own while the data it holds is
    shared, not duplicated per worker; the dataset itself where it cannot be copied."""
    try:
        return copy.copy(dataset)
    except (TypeError, AttributeError, copy.Error):
        return dataset


def _map_fetcher(ds, loader):
    """The function taking one batch-sampler entry (a sampler index when not batching) of a
    map-style ``ds`` to its batch, as torch's fetcher: ``__getitems__`` where there is one,
    the dataset's ``_get_batch`` standing in for default_collate where it may."""
    collate = loader.collate_fn
    if loader.batch_sampler is None:
        return lambda i: collate(ds[i])
    fast = fast_batch(ds) if loader._default_collate else None
    if fast:
        return lambda idx: fast(idx if isinstance(idx, np.ndarray)
                                else np.asarray(list(idx), dtype=np.int64))
    many = getattr(ds, "__getitems__", None)

    def fetch(idx):
        if isinstance(idx, np.ndarray):
            idx = idx.tolist()
        return collate(many(idx) if many else [ds[i] for i in idx])
    return fetch


def _stream_fetcher(ds, loader):
    """The function giving the next batch of an IterableDataset ``ds`` (StopIteration at its
    end), as torch's fetcher: a short last batch unless ``drop_last``, then the end."""
    items, collate = iter(ds), loader.collate_fn
    if loader.batch_size is None:
        return lambda _: collate(next(items))
    size, drop_last, ended = loader.batch_size, loader.drop_last, [False]

    def fetch(_):
        if ended[0]:
            raise StopIteration
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) == size:
                break
        else:
            ended[0] = True
        if not batch or (drop_last and len(batch) < size):
            raise StopIteration
        return collate(batch)
    return fetch


class _Worker:
    """One emulated torch worker: its dataset copy, its WorkerInfo, and its random states
    (gradviz's default generator seeded with ``seed``, Python's ``random`` seeded with
    ``seed``, NumPy's global RNG seeded as torch seeds it), swapped in while its code runs."""

    def __init__(self, loader, worker_id, base_seed):
        seed = base_seed + worker_id
        self.dataset = _worker_copy(loader.dataset)
        self.info = WorkerInfo(worker_id, loader.num_workers, seed, self.dataset)
        np_state = np.random.RandomState(_numpy_worker_seed(base_seed, worker_id)).get_state()
        self._state = (np.random.default_rng(seed), seed, random.Random(seed).getstate(),
                       np_state)
        self._error = self._fetch = None
        try:
            if loader.worker_init_fn is not None:
                self.run(loader.worker_init_fn, worker_id)
            self.resume(loader)
        except Exception as exc:  # noqa: BLE001 - torch raises it at the worker's first batch
            self._error = exc

    def resume(self, loader):
        """Start a pass: a new fetcher (an IterableDataset is iterated afresh), as torch's
        worker does at each epoch."""
        kind = _stream_fetcher if isinstance(self.dataset, IterableDataset) else _map_fetcher
        self._fetch = self.run(kind, self.dataset, loader)

    def run(self, fn, *args):
        """``fn(*args)`` as this worker: get_worker_info() is its info and the random states
        are its own (the caller's are put back after)."""
        main = (_random._gen, _random._initial, random.getstate(), np.random.get_state(),
                getattr(_CURRENT, "info", None))
        _random._gen, _random._initial = self._state[0], self._state[1]
        random.setstate(self._state[2])
        np.random.set_state(self._state[3])
        _CURRENT.info = self.info
        try:
            return fn(*args)
        finally:
            self._state = (_random._gen, _random._initial, random.getstate(),
                           np.random.get_state())
            _random._gen, _random._initial = main[0], main[1]
            random.setstate(main[2])
            np.random.set_state(main[3])
            _CURRENT.info = main[4]

    def batch(self, index):
        """The batch for ``index``; an error of the worker's start is raised here, once."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self.run(self._fetch, index)
